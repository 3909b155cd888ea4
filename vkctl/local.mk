# vkctl: the control CLI. It reads the socket's path from the same
# configuration file as vkd, by vkd's rule (vkd_path.c), but only that key,
# and the daemon's JSON replies with jansson.
sbin_PROGRAMS += vkctl/vkctl
vkctl_vkctl_SOURCES = vkctl/vkctl.c vkctl/vkctl_config.c vkctl/vkctl_config.h \
	src/vkd/vkd_path.c src/vkd/vkd_path.h src/vkd/vkd_control.h
vkctl_vkctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd
vkctl_vkctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS)
vkctl_vkctl_LDADD = $(INIH_LIBS) $(JANSSON_LIBS)
