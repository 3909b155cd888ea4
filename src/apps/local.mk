# Bundled application modules. Each is a libtool module (echo.so, http.so, proxy.so)
# with hidden visibility except its vk_app_descriptor; vk_* symbols are
# resolved from vkd when it loads the module.
APP_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
APP_LDFLAGS = -module -avoid-version -shared

pkglib_LTLIBRARIES += src/apps/echo.la
src_apps_echo_la_SOURCES = src/apps/echo.c
src_apps_echo_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_echo_la_CFLAGS = $(APP_CFLAGS)
src_apps_echo_la_LDFLAGS = $(APP_LDFLAGS)

pkglib_LTLIBRARIES += src/apps/http.la
src_apps_http_la_SOURCES = src/apps/http.c
src_apps_http_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_http_la_CFLAGS = $(APP_CFLAGS)
src_apps_http_la_LDFLAGS = $(APP_LDFLAGS)

pkglib_LTLIBRARIES += src/apps/proxy.la
src_apps_proxy_la_SOURCES = src/apps/proxy.c src/apps/proxy_http.c src/apps/proxy.h \
	src/apps/proxy_answer.c src/apps/proxy_answer.h
src_apps_proxy_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_proxy_la_CFLAGS = $(APP_CFLAGS)
src_apps_proxy_la_LDFLAGS = $(APP_LDFLAGS)

pkglib_LTLIBRARIES += src/apps/chat.la
src_apps_chat_la_SOURCES = src/apps/chat.c
src_apps_chat_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_chat_la_CFLAGS = $(APP_CFLAGS)
src_apps_chat_la_LDFLAGS = $(APP_LDFLAGS)

pkglib_LTLIBRARIES += src/apps/kv.la
src_apps_kv_la_SOURCES = src/apps/kv.c src/apps/kv.h src/apps/kv_config.h src/apps/kv_wire.h \
	src/apps/kv_resp.c src/apps/kv_resp.h \
	src/apps/kv_store.c src/apps/kv_store.h \
	src/apps/kv_shard.c src/apps/kv_shard.h
src_apps_kv_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_kv_la_CFLAGS = $(APP_CFLAGS)
src_apps_kv_la_LDFLAGS = $(APP_LDFLAGS)

pkglib_LTLIBRARIES += src/apps/static.la
src_apps_static_la_SOURCES = src/apps/static.c
src_apps_static_la_CPPFLAGS = $(APP_CPPFLAGS)
src_apps_static_la_CFLAGS = $(APP_CFLAGS)
src_apps_static_la_LDFLAGS = $(APP_LDFLAGS)
