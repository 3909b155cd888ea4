# HTTP/1.1 parser and response helpers (no I/O, no allocation).
src_vk_libvk_la_SOURCES += src/vk/vk_http.c
pkginclude_HEADERS += src/vk/vk_http.h
