# dist/: what an installed appliance needs besides the binary and the web UI
# (webui/local.mk): the systemd unit, the man page, the state directory.
# The unit's directory: --with-systemdsystemunitdir (the Debian package
# passes /lib/systemd/system); by default under the prefix, so that
# make distcheck installs nothing outside it.
dist_man_MANS = dist/gatehoused.8
systemdsystemunit_DATA = dist/gatehouse.service
CLEANFILES += dist/gatehouse.service
EXTRA_DIST += dist/gatehouse.service.in dist/local.mk
dist/gatehouse.service: $(top_srcdir)/dist/gatehouse.service.in Makefile
	@$(MKDIR_P) dist
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' $(top_srcdir)/dist/gatehouse.service.in >$@

# State: the database, its admin password and admin certificate. The
# daemon's default --db is /var/lib/gatehouse/gatehouse.db (configure
# --localstatedir=/var, as the package does, makes the two agree); under
# systemd StateDirectory= creates it with the right owner.
gatehousestatedir = $(localstatedir)/lib/gatehouse
install-data-local:
	$(MKDIR_P) $(DESTDIR)$(gatehousestatedir)
uninstall-local:
	-rmdir $(DESTDIR)$(gatehousestatedir) 2>/dev/null

# systemd-analyze security over the unit (exposure <= 2.0).
TESTS += tests/dist/unit-security.sh
EXTRA_DIST += tests/dist/unit-security.sh

# The package and image scripts and the license ship in the tarball too.
EXTRA_DIST += LICENSE scripts/build-package.sh
EXTRA_DIST += scripts/build-image.sh dist/image/20-dhcp.network \
	dist/image/console-banner dist/image/gatehouse-console.service \
	tests/vm/boot-test.sh tests/vm/boot_test.py
dist_doc_DATA += doc/appliance.md
