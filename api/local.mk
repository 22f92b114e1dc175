# api/: the admin REST API, linked into gatehoused.
API_SOURCES = api/api.c api/api.h api/api_int.h api/json.c api/json.h \
	api/api_auth.c api/api_users.c api/api_config.c api/api_apply.c \
	api/api_res.c api/api_revisions.c api/api_system.c api/api_static.c \
	api/api_sync.c
API_SOURCES += api/api_certs.c
API_SOURCES += api/api_backup.c
# OpenAPI schemas of the configuration kinds, from their field tables.
API_SOURCES += api/api_schema.c
API_SOURCES += api/json_delta.c api/rev_store.c api/api_list.c
API_SOURCES += api/api_throttle.c api/api_passwd.c api/api_conns.c
API_SOURCES += api/api_logs.c
API_SOURCES += api/api_history.c
# Certificates a configuration patch adds (one site, one revision).
API_SOURCES += api/api_config_certs.c
# ACME accounts, requests and metrics, and the ACME thread's store side.
API_SOURCES += api/api_acme_accounts.c api/api_acme_certs.c \
	api/api_acme_metrics.c api/acme_db.c
# Storing a certificate: uploads, self-signed and ACME alike.
API_SOURCES += api/cert_store.c
# The daemon's compression setting (GET, PUT /settings/compression).
API_SOURCES += api/api_compress.c
API_SOURCES += api/api_access.c api/api_explain.c
nodist_gatehoused_SOURCES = api/openapi_json.c
EXTRA_DIST += api/openapi.json api/embed.sh
BUILT_SOURCES += api/openapi_json.c
CLEANFILES += api/openapi_json.c
api/openapi_json.c: $(top_srcdir)/api/openapi.json $(top_srcdir)/api/embed.sh
	@$(MKDIR_P) api
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/api/embed.sh $@ $(top_srcdir)/api/openapi.json
API_SOURCES += api/api_servers.c
API_SOURCES += api/api_balance.c
