# systemd: vkd.service, made from vkd.service.in with the install paths.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = systemd/vkd.service
EXTRA_DIST += systemd/vkd.service.in
CLEANFILES += systemd/vkd.service

systemd/vkd.service: $(top_srcdir)/systemd/vkd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(top_srcdir)/systemd/vkd.service.in >$@.tmp && mv $@.tmp $@
