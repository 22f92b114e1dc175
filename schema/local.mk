# schema/: numbered SQL migrations, embedded into schema/schema.c.
SCHEMA_SQL = schema/0001_init.sql schema/0002_tokens.sql schema/0003_tls.sql
SCHEMA_SQL += schema/0004_l4.sql
SCHEMA_SQL += schema/0005_health.sql
SCHEMA_SQL += schema/0006_revision_deltas.sql
SCHEMA_SQL += schema/0007_health_method.sql
SCHEMA_SQL += schema/0008_token_owner.sql
SCHEMA_SQL += schema/0010_path_normalization.sql
SCHEMA_SQL += schema/0015_trusted_proxies.sql
SCHEMA_SQL += schema/0016_access_lists.sql
SCHEMA_SQL += schema/0017_route_actions.sql
SCHEMA_SQL += schema/0018_header_rules.sql
SCHEMA_SQL += schema/0021_acme.sql
SCHEMA_SQL += schema/0025_rate_limits.sql
SCHEMA_SQL += schema/0026_balance.sql
SCHEMA_SQL += schema/0027_resilience.sql
SCHEMA_SQL += schema/0028_error_pages.sql
SCHEMA_SQL += schema/0029_route_listeners.sql
SCHEMA_SQL += schema/0038_secrets.sql
SCHEMA_SQL += schema/0030_revision_head.sql
SCHEMA_SQL += schema/0035_compress.sql
SCHEMA_SQL += schema/0033_acme_ari.sql
SCHEMA_SQL += schema/0036_forward_auth.sql
SCHEMA_SQL += schema/0037_listener_error_pages.sql
SCHEMA_SQL += schema/0040_compress_settings.sql
EXTRA_DIST += $(SCHEMA_SQL) schema/embed.sh schema/README.md
BUILT_SOURCES += schema/schema.c
CLEANFILES += schema/schema.c
schema/schema.c: $(SCHEMA_SQL) $(top_srcdir)/schema/embed.sh
	@$(MKDIR_P) schema
	$(AM_V_GEN)cd $(top_srcdir) && $(SHELL) schema/embed.sh $(abs_top_builddir)/$@ $(SCHEMA_SQL)
