# src/vkd: the daemon. libvk is linked in as PIC objects and exported
# (-export-dynamic) so that the modules it dlopens resolve vk_* from it.
# Its objects are linked whole, not through the convenience archive: from
# an archive the linker would take only what vkd itself calls, and a module
# would miss the rest (vk_http_*, vk_future_*, ...).
sbin_PROGRAMS += src/vkd/vkd
src_vkd_vkd_SOURCES = \
	src/vkd/vkd_main.c \
	src/vkd/vkd_access.c src/vkd/vkd_access.h \
	src/vkd/vkd_apps.c src/vkd/vkd_apps.h \
	src/vkd/vkd_chan.c src/vkd/vkd_chan.h \
	src/vkd/vkd_check.c src/vkd/vkd_check.h \
	src/vkd/vkd_config.c src/vkd/vkd_config.h \
	src/vkd/vkd_control.c src/vkd/vkd_control.h \
	src/vkd/vkd_counters.c src/vkd/vkd_counters.h \
	src/vkd/vkd_listen.c src/vkd/vkd_listen.h \
	src/vkd/vkd_io.c src/vkd/vkd_io.h \
	src/vkd/vkd_log.c src/vkd/vkd_log.h \
	src/vkd/vkd_master.c src/vkd/vkd_master.h \
	src/vkd/vkd_mesh.c src/vkd/vkd_mesh.h \
	src/vkd/vkd_module.c src/vkd/vkd_module.h \
	src/vkd/vkd_notify.c src/vkd/vkd_notify.h \
	src/vkd/vkd_path.c src/vkd/vkd_path.h \
	src/vkd/vkd_ps.c src/vkd/vkd_ps.h \
	src/vkd/vkd_query.c src/vkd/vkd_query.h \
	src/vkd/vkd_spell.c src/vkd/vkd_spell.h \
	src/vkd/vkd_user.c src/vkd/vkd_user.h \
	src/vkd/vkd_worker.c src/vkd/vkd_worker.h
# Hidden by default too: -export-dynamic then exports libvk's API only.
src_vkd_vkd_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(SYSTEMD_CFLAGS) -fvisibility=hidden
src_vkd_vkd_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
src_vkd_vkd_LDADD = $(src_vk_libvk_la_OBJECTS) $(EV_LIBS) $(CARES_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(DL_LIBS)
