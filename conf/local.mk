# conf
# The bundled configuration, installed as $(sysconfdir)/vkd/vkd.ini. The
# copy in the tree keeps its control socket in /tmp so that `tools/dev run`
# works without root; the installed copy uses /run/vkd, which the systemd
# unit creates (RuntimeDirectory=vkd).
vkdconfdir = $(sysconfdir)/vkd
vkdconf_DATA = conf/vkd.ini.installed
EXTRA_DIST += conf/vkd.ini
CLEANFILES += conf/vkd.ini.installed

conf/vkd.ini.installed: $(top_srcdir)/conf/vkd.ini Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && \
	sed -e 's|^control = /tmp/vkd.sock$$|control = /run/vkd/vkd.sock|' \
		-e 's|^opt.root = ../examples/site$$|opt.root = $(pkgdatadir)/site|' \
		$(top_srcdir)/conf/vkd.ini >$@.tmp && mv $@.tmp $@

# Installed under its real name, and never over a file the admin edited.
install-data-hook: install-vkd-conf
install-vkd-conf:
	@if [ -f "$(DESTDIR)$(vkdconfdir)/vkd.ini" ]; then \
		echo "keeping $(DESTDIR)$(vkdconfdir)/vkd.ini"; \
		rm -f "$(DESTDIR)$(vkdconfdir)/vkd.ini.installed"; \
	else \
		mv "$(DESTDIR)$(vkdconfdir)/vkd.ini.installed" "$(DESTDIR)$(vkdconfdir)/vkd.ini"; \
	fi
# Removed only as installed: an edited one is the admin's, and stays.
uninstall-hook: uninstall-vkd-conf
uninstall-vkd-conf:
	@f="$(DESTDIR)$(vkdconfdir)/vkd.ini"; \
	if [ -f "$$f" ] && [ -f conf/vkd.ini.installed ] && \
	   ! cmp -s "$$f" conf/vkd.ini.installed; then \
		echo "keeping $$f: it was edited"; \
	else \
		rm -f "$$f"; \
	fi
.PHONY: install-vkd-conf uninstall-vkd-conf
