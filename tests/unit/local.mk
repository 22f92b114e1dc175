# tests/unit: one cmocka program per module, linked against libcore.a.
UNIT_HTTP_TESTS = tests/unit/test_http1 tests/unit/test_http_msg tests/unit/test_target \
	tests/unit/test_normalize tests/unit/test_rewrite tests/unit/test_balance
tests_unit_test_rewrite_SOURCES = tests/unit/test_rewrite.c
tests_unit_test_rewrite_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_rewrite_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_balance_SOURCES = tests/unit/test_balance.c
tests_unit_test_balance_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_balance_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_target_SOURCES = tests/unit/test_target.c
tests_unit_test_target_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_target_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_normalize_SOURCES = tests/unit/test_normalize.c
tests_unit_test_normalize_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_normalize_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_http1_SOURCES = tests/unit/test_http1.c
tests_unit_test_http1_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_http1_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_http_msg_SOURCES = tests/unit/test_http_msg.c
tests_unit_test_http_msg_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_http_msg_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_STORE_TESTS = tests/unit/test_store tests/unit/test_cfg_compile \
	tests/unit/test_route tests/unit/test_cfg_incr
UNIT_NET_TESTS = tests/unit/test_health tests/unit/test_stats
UNIT_NET_TESTS += tests/unit/test_client_addr tests/unit/test_ratelimit
tests_unit_test_ratelimit_SOURCES = tests/unit/test_ratelimit.c
tests_unit_test_ratelimit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ratelimit_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_client_addr_SOURCES = tests/unit/test_client_addr.c
tests_unit_test_client_addr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_client_addr_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_NET_TESTS += tests/unit/test_sockread
UNIT_NET_TESTS += tests/unit/test_idtab
tests_unit_test_idtab_SOURCES = tests/unit/test_idtab.c
tests_unit_test_idtab_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_idtab_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_NET_TESTS += tests/unit/test_access_log
tests_unit_test_access_log_SOURCES = tests/unit/test_access_log.c
tests_unit_test_access_log_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_access_log_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_NET_TESTS += tests/unit/test_history
tests_unit_test_history_SOURCES = tests/unit/test_history.c
tests_unit_test_history_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_history_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_sockread_SOURCES = tests/unit/test_sockread.c
tests_unit_test_sockread_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sockread_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c
tests_unit_test_stats_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_stats_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_API_TESTS = tests/unit/test_api_json tests/unit/test_api_config tests/unit/test_api_openapi \
	tests/unit/test_json_delta
UNIT_TESTS = $(UNIT_HTTP_TESTS) $(UNIT_STORE_TESTS) $(UNIT_NET_TESTS) $(UNIT_API_TESTS)
if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

# Health checks: status parsing, state defaults, settings compile.
tests_unit_test_health_SOURCES = tests/unit/test_health.c
tests_unit_test_health_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_health_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)

# Store, snapshot compile and route matching (tests/unit/test_{store,cfg_compile,route}.c).
UNIT_STORE_CPPFLAGS = $(AM_CPPFLAGS) -DFIXTURES_DIR=\"$(abs_top_srcdir)/tests/unit/fixtures\"
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CPPFLAGS = $(UNIT_STORE_CPPFLAGS)
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_cfg_compile_SOURCES = tests/unit/test_cfg_compile.c
tests_unit_test_cfg_compile_CPPFLAGS = $(UNIT_STORE_CPPFLAGS)
tests_unit_test_cfg_compile_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cfg_compile_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_cfg_incr_SOURCES = tests/unit/test_cfg_incr.c
tests_unit_test_cfg_incr_CPPFLAGS = $(UNIT_STORE_CPPFLAGS)
tests_unit_test_cfg_incr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cfg_incr_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_CPPFLAGS = $(UNIT_STORE_CPPFLAGS)
tests_unit_test_route_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_route_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
EXTRA_DIST += tests/unit/fixtures/base.sql tests/unit/fixtures/order.sql

# Admin API: jansson shim, configuration document, OpenAPI vs dispatch table.
tests_unit_test_api_json_SOURCES = tests/unit/test_api_json.c api/json.c
tests_unit_test_api_json_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_api_json_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_json_delta_SOURCES = tests/unit/test_json_delta.c api/json_delta.c api/json.c
tests_unit_test_json_delta_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_json_delta_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_api_config_SOURCES = tests/unit/test_api_config.c api/api_config.c \
	api/api_sync.c api/api_access.c api/json.c
tests_unit_test_api_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_api_config_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_api_openapi_SOURCES = tests/unit/test_api_openapi.c $(API_SOURCES)
nodist_tests_unit_test_api_openapi_SOURCES = api/openapi_json.c
tests_unit_test_api_openapi_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_api_openapi_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
UNIT_API_TESTS += tests/unit/test_rev_store
tests_unit_test_rev_store_SOURCES = tests/unit/test_rev_store.c $(API_SOURCES)
nodist_tests_unit_test_rev_store_SOURCES = api/openapi_json.c
tests_unit_test_rev_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_rev_store_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)

# Layer 4: ClientHello reader, PROXY protocol codec, L4 route matching.
UNIT_L4_TESTS = tests/unit/test_clienthello tests/unit/test_proxy_proto \
	tests/unit/test_l4_route
tests_unit_test_clienthello_SOURCES = tests/unit/test_clienthello.c
tests_unit_test_clienthello_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_clienthello_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_proxy_proto_SOURCES = tests/unit/test_proxy_proto.c
tests_unit_test_proxy_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_proxy_proto_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_l4_route_SOURCES = tests/unit/test_l4_route.c
tests_unit_test_l4_route_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_l4_route_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_L4_TESTS)
TESTS += $(UNIT_L4_TESTS)
endif

# TLS: the X.509 shim and the GnuTLS bufferevent filter.
UNIT_TLS_TESTS = tests/unit/test_x509 tests/unit/test_tls tests/unit/test_backup
tests_unit_test_backup_SOURCES = tests/unit/test_backup.c
tests_unit_test_backup_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_backup_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_x509_SOURCES = tests/unit/test_x509.c
tests_unit_test_x509_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_x509_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c
tests_unit_test_tls_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_tls_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TLS_TESTS)
TESTS += $(UNIT_TLS_TESTS)
endif

# sd_notify: messages to a datagram socket bound by the test.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_notify
TESTS += tests/unit/test_notify
endif
tests_unit_test_notify_SOURCES = tests/unit/test_notify.c
tests_unit_test_notify_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_notify_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)

# Header rules, templates and their place in the origin's request head.
UNIT_TESTS += tests/unit/test_hdr_rules
tests_unit_test_hdr_rules_SOURCES = tests/unit/test_hdr_rules.c
tests_unit_test_hdr_rules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_hdr_rules_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)

# Response compression: Accept-Encoding, the decision, codec memory.
UNIT_TESTS += tests/unit/test_compress
tests_unit_test_compress_SOURCES = tests/unit/test_compress.c
tests_unit_test_compress_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_compress_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
# ACME Renewal Information (RFC 9773): identifier, window, choice.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_acme_ari
TESTS += tests/unit/test_acme_ari
endif
tests_unit_test_acme_ari_SOURCES = tests/unit/test_acme_ari.c api/json.c
tests_unit_test_acme_ari_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_acme_ari_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
EXTRA_DIST += tests/unit/msg_build.h

# A request's progress states and their transition table (daemon/req.c).
UNIT_TESTS += tests/unit/test_req
tests_unit_test_req_SOURCES = tests/unit/test_req.c
tests_unit_test_req_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_req_LDADD = $(UNIT_LDADD_COMMON) $(CMOCKA_LIBS)
