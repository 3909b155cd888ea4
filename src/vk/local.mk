# libvk: the framework apps link against. Built as a convenience library of
# PIC objects linked into vkd with -export-dynamic, so that modules resolve
# vk_* from the daemon that loads them (as nginx modules do).
noinst_LTLIBRARIES += src/vk/libvk.la
src_vk_libvk_la_SOURCES = \
	src/vk/vk_heap.c \
	src/vk/vk_vectoring.c \
	src/vk/vk_state.c \
	src/vk/vk_future.c \
	src/vk/vk_socket.c \
	src/vk/vk_proc.c \
	src/vk/vk_poll.c \
	src/vk/vk_kern.c \
	src/vk/vk_parse.c
src_vk_libvk_la_LIBADD = $(EV_LIBS)

pkginclude_HEADERS += \
	src/vk/vk.h \
	src/vk/vk_app.h \
	src/vk/vk_heap.h \
	src/vk/vk_vectoring.h \
	src/vk/vk_state.h \
	src/vk/vk_state_s.h \
	src/vk/vk_future.h \
	src/vk/vk_socket.h \
	src/vk/vk_proc.h \
	src/vk/vk_poll.h \
	src/vk/vk_kern.h \
	src/vk/vk_parse.h

pkgconfig_DATA += src/vk/libvk.pc
EXTRA_DIST += src/vk/libvk.pc.in

include src/vk/http.mk
