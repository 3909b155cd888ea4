# libvk: the framework apps link against. Built as a convenience library of
# PIC objects linked into vkd with -export-dynamic, so that modules resolve
# vk_* from the daemon that loads them (as nginx modules do).
#
# Layers, each calling only those below it (doc/DESIGN.md, "libvk"):
#   vk_listener, vk_service, vk_mesh    connections, services, other workers
#   vk_kern        processes' life and dispatch;  vk_watchdog, vk_report, vk_pool
#   vk_fault       the fault handler (vk_watchdog ends processes through it)
#   vk_state, vk_future, vk_socket, vk_channel, vk_pubsub
#                  (vk_handoff: a descriptor handed to a channel)
#                  the coroutine API apps use
#   vk_connect     outbound connections (on vk_socket, vk_poll, vk_resolve,
#                  vk_connpool: idle connections kept by the worker);
#                  vk_forward: two sockets joined
#   vk_poll, vk_chan    descriptors <-> rings over libev; channels' rings
#   vk_resolve     host names, by c-ares on the worker's loop
#   vk_task, vk_post    coroutines as the scheduler sees them; wake-ups
#                  from libev callbacks
#   vk_bus         services, addresses and topics of a worker
#   vk_proc        processes: the ready queue, timers
#   vk_heap, vk_vectoring, vk_log, vk_code, vk_chain     leaves
# vk_http, vk_parse and vk_addr stand alone (no I/O).
noinst_LTLIBRARIES += src/vk/libvk.la
src_vk_libvk_la_SOURCES = \
	src/vk/vk_heap.c \
	src/vk/vk_vectoring.c \
	src/vk/vk_log.c \
	src/vk/vk_code.c \
	src/vk/vk_proc.c \
	src/vk/vk_bus.c \
	src/vk/vk_chain.c \
	src/vk/vk_task.c \
	src/vk/vk_post.c \
	src/vk/vk_resolve.c \
	src/vk/vk_poll.c \
	src/vk/vk_chan.c \
	src/vk/vk_future.c \
	src/vk/vk_state.c \
	src/vk/vk_socket.c \
	src/vk/vk_connect.c \
	src/vk/vk_connpool.c \
	src/vk/vk_forward.c \
	src/vk/vk_channel.c \
	src/vk/vk_handoff.c \
	src/vk/vk_pubsub.c \
	src/vk/vk_pool.c \
	src/vk/vk_fault.c \
	src/vk/vk_watchdog.c \
	src/vk/vk_report.c \
	src/vk/vk_kern.c \
	src/vk/vk_listener.c \
	src/vk/vk_inplace.c \
	src/vk/vk_service.c \
	src/vk/vk_mesh.c \
	src/vk/vk_parse.c \
	src/vk/vk_refused.c \
	src/vk/vk_app.c \
	src/vk/vk_addr.c
src_vk_libvk_la_LIBADD = $(EV_LIBS) $(CARES_LIBS)
# Hidden by default: vkd exports to modules only the API of the installed
# headers, which vk_api.h marks (VK_API_BEGIN/END).
src_vk_libvk_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# The app API: what `make install` puts in $(includedir)/mnvkd.
pkginclude_HEADERS += \
	src/vk/vk.h \
	src/vk/vk_api.h \
	src/vk/vk_app.h \
	src/vk/vk_state.h \
	src/vk/vk_state_s.h \
	src/vk/vk_future.h \
	src/vk/vk_socket.h \
	src/vk/vk_connect.h \
	src/vk/vk_forward.h \
	src/vk/vk_channel.h \
	src/vk/vk_pubsub.h \
	src/vk/vk_parse.h \
	src/vk/vk_addr.h

# Internal to libvk (and vkd, and libvk's tests): never installed. Each
# starts with vk_internal.h, which stops an app that includes it.
noinst_HEADERS += \
	src/vk/vk_internal.h \
	src/vk/vk_refused.h \
	src/vk/vk_log.h \
	src/vk/vk_code.h \
	src/vk/vk_stats.h \
	src/vk/vk_heap.h \
	src/vk/vk_vectoring.h \
	src/vk/vk_proc.h \
	src/vk/vk_bus.h \
	src/vk/vk_chain.h \
	src/vk/vk_list.h \
	src/vk/vk_task.h \
	src/vk/vk_post.h \
	src/vk/vk_resolve.h \
	src/vk/vk_connpool.h \
	src/vk/vk_poll.h \
	src/vk/vk_chan.h \
	src/vk/vk_pubsub_s.h \
	src/vk/vk_socket_s.h \
	src/vk/vk_pool.h \
	src/vk/vk_fault.h \
	src/vk/vk_watchdog.h \
	src/vk/vk_report.h \
	src/vk/vk_kern.h \
	src/vk/vk_listener.h \
	src/vk/vk_inplace.h \
	src/vk/vk_service.h \
	src/vk/vk_handoff.h \
	src/vk/vk_mesh.h

pkgconfig_DATA += src/vk/libvk.pc
EXTRA_DIST += src/vk/libvk.pc.in

include src/vk/http.mk
