# src/http: the HTTP server library apps are written against (vk_http(3)).
# It sits on top of libvk (it calls vk.h's API, and vk_inplace.h to run
# handlers in place) and is linked into the same objects, so that vkd
# exports it to the modules it loads as it does libvk.
src_vk_libvk_la_SOURCES += \
	src/http/vk_http_route.c \
	src/http/vk_http_mount.c \
	src/http/vk_http_url.c \
	src/http/vk_http_log.c \
	src/http/vk_http_exchange.c \
	src/http/vk_http_body.c \
	src/http/vk_http_reply.c \
	src/http/vk_http_conn.c \
	src/http/vk_http_app.c \
	src/http/vk_http_static.c

# The API of HTTP apps: vk_http_app.h and what it includes.
pkginclude_HEADERS += \
	src/http/vk_http_app.h \
	src/http/vk_http_route.h \
	src/http/vk_http_url.h \
	src/http/vk_http_exchange.h \
	src/http/vk_http_body.h \
	src/http/vk_http_reply.h \
	src/http/vk_http_static.h

noinst_HEADERS += \
	src/http/vk_http_app_s.h \
	src/http/vk_http_exchange_s.h \
	src/http/vk_http_conn.h \
	src/http/vk_http_log.h \
	src/http/vk_http_mount.h \
	src/http/vk_http_static_s.h
