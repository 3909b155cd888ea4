# vkctl: the control CLI. It reads the socket's path from the same
# configuration file as vkd, with vkd's own loader.
sbin_PROGRAMS += vkctl/vkctl
vkctl_vkctl_SOURCES = vkctl/vkctl.c \
	src/vkd/vkd_config.c src/vkd/vkd_config.h src/vkd/vkd_control.h \
	src/vkd/vkd_listen.c src/vkd/vkd_listen.h src/vkd/vkd_path.c src/vkd/vkd_path.h \
	src/vkd/vkd_spell.c src/vkd/vkd_spell.h \
	src/vkd/vkd_user.c src/vkd/vkd_user.h src/vkd/vkd_log.c src/vkd/vkd_log.h \
	src/vkd/vkd_io.c src/vkd/vkd_io.h \
	src/vk/vk_parse.c src/vk/vk_parse.h
vkctl_vkctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd
vkctl_vkctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
vkctl_vkctl_LDADD = $(INIH_LIBS)
