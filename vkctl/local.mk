# vkctl: the control CLI. It reads the socket's path from the same
# configuration file as vkd, by vkd's rule (libvk's vk_addr.c), but only that key,
# and the daemon's JSON replies with jansson.
sbin_PROGRAMS += vkctl/vkctl
vkctl_vkctl_SOURCES = vkctl/vkctl.c vkctl/vkctl_config.c vkctl/vkctl_config.h \
	src/vk/vk_addr.c src/vk/vk_addr.h src/vk/vk_parse.c src/vk/vk_parse.h \
	src/vkd/vkd_control.h
vkctl_vkctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd
vkctl_vkctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS)
vkctl_vkctl_LDADD = $(INIH_LIBS) $(JANSSON_LIBS)
