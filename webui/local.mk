# webui/: static files served by the admin listener (no build step).
# Installed into $(datadir)/gatehouse/webui; gatehoused serves them with
# --webui-dir DIR. WEBUI_CPPFLAGS carries that directory as GH_WEBUI_DIR
# for a compiled-in default.
webuidir = $(datadir)/gatehouse/webui
dist_webui_DATA = webui/index.html webui/app.css webui/favicon.svg
webuijsdir = $(webuidir)/js
dist_webuijs_DATA = webui/js/app.js webui/js/api.js webui/js/ui.js \
	webui/js/form.js webui/js/chart.js webui/js/posture.js webui/js/list.js
# The dashboard's History panel: per-minute series from /stats/history.
dist_webuijs_DATA += webui/js/history.js
webuipagesdir = $(webuidir)/js/pages
dist_webuipages_DATA = webui/js/pages/account.js webui/js/pages/certificates.js \
	webui/js/pages/config.js webui/js/pages/dashboard.js \
	webui/js/pages/resources.js webui/js/pages/revisions.js \
	webui/js/pages/backup.js webui/js/pages/logs.js \
	webui/js/pages/explain.js
# Automatic certificates (ACME): accounts, requests, a certificate's status.
dist_webuipages_DATA += webui/js/pages/acme.js
# The dashboard's certificates that failed ACME or expire soon.
dist_webuipages_DATA += webui/js/pages/cert_attention.js
dist_webuipages_DATA += webui/js/pages/sites.js
WEBUI_CPPFLAGS = -DGH_WEBUI_DIR='"$(webuidir)"'

# Browser tests: playwright-core (npm, tests/browser/package-lock.json)
# driving Debian's chromium against this build's gatehoused.
EXTRA_DIST += tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/run.sh tests/browser/lib/harness.js \
	tests/browser/test/webui.test.js tests/browser/test/lists.test.js \
	tests/browser/test/logs.test.js
EXTRA_DIST += tests/browser/test/acme.test.js
EXTRA_DIST += tests/browser/test/sites.test.js
# ACME for sites and on the dashboard, against pebble (lib/pebble.js).
EXTRA_DIST += tests/browser/test/acme_site.test.js tests/browser/lib/pebble.js \
	tests/browser/lib/pebble_run.py
EXTRA_DIST += tests/browser/test/history.test.js
browser-check: gatehoused$(EXEEXT)
	GATEHOUSED=$(abs_top_builddir)/gatehoused$(EXEEXT) \
	GATEHOUSE_WEBUI=$(abs_top_srcdir)/webui \
	$(SHELL) $(top_srcdir)/tests/browser/run.sh
.PHONY: browser-check
dist_doc_DATA += doc/webui.md
