# conf
# The bundled configuration, installed as $(sysconfdir)/vkd/vkd.ini.
# (dist_ already puts it in the tarball; EXTRA_DIST says so for readers.)
vkdconfdir = $(sysconfdir)/vkd
dist_vkdconf_DATA = conf/vkd.ini
EXTRA_DIST += conf/vkd.ini
