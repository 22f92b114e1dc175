# tests/e2e: pytest suites against the real daemon (GATEHOUSED is set by
# AM_TESTS_ENVIRONMENT in tests/local.mk). Each file is one automake test;
# tap_pytest.py runs it with /usr/bin/python3 -m pytest and prints one TAP
# line per test case, so the TAP driver counts cases, not files.
E2E_TESTS = \
	tests/e2e/test_10_boot.py \
	tests/e2e/test_11_notify.py \
	tests/e2e/test_12_schema_upgrade.py \
	tests/e2e/test_20_proxy_basic.py \
	tests/e2e/test_21_bodies.py \
	tests/e2e/test_22_strict.py \
	tests/e2e/test_23_headers.py \
	tests/e2e/test_24_upgrade.py \
	tests/e2e/test_25_errors.py \
	tests/e2e/test_26_health.py \
	tests/e2e/test_27_targets.py \
	tests/e2e/test_28_paths_hosts.py \
	tests/e2e/test_30_reload.py \
	tests/e2e/test_31_access_log.py \
	tests/e2e/test_80_trusted_proxies.py \
	tests/e2e/test_81_access_lists.py \
	tests/e2e/test_82_rate_limits.py \
	tests/e2e/test_83_route_actions.py \
	tests/e2e/test_84_header_rules.py \
	tests/e2e/test_85_maintenance.py \
	tests/e2e/test_86_error_pages.py \
	tests/e2e/test_95_compress.py \
	tests/e2e/test_96_compress_memory.py \
	tests/e2e/test_97_forward_auth.py tests/e2e/test_98_forward_auth_failures.py
# Admin API suites (test_5x_*.py) are listed here by their authors.
E2E_API_TESTS = tests/e2e/test_50_api_quickstart.py tests/e2e/test_51_api_validation.py \
	tests/e2e/test_52_api_auth.py tests/e2e/test_53_api_revisions.py \
	tests/e2e/test_54_api_crash.py tests/e2e/test_55_api_load.py \
	tests/e2e/test_56_api_longlived.py tests/e2e/test_57_api_tls.py \
	tests/e2e/test_58_api_fields.py \
	tests/e2e/test_59_api_backup.py \
	tests/e2e/test_59_api_big_config.py \
	tests/e2e/test_59_api_revision_store.py \
	tests/e2e/test_59_api_paging.py \
	tests/e2e/test_59_api_https_cert.py \
	tests/e2e/test_59_api_logs.py \
	tests/e2e/test_70_api_sessions.py \
	tests/e2e/test_71_admin_flood.py \
	tests/e2e/test_73_keys_at_rest.py \
	tests/e2e/test_74_incremental_compile.py \
	tests/e2e/test_76_route_listeners.py
# The dashboard's history and per-listener unmatched counts (issue 14).
E2E_API_TESTS += tests/e2e/test_78_stats_history.py
# A whole site, its certificate too, in one PATCH /config (issue 14).
E2E_API_TESTS += tests/e2e/test_79_config_certificates.py
E2E_HELPERS = tests/e2e/conftest.py tests/e2e/backends.py tests/e2e/tap_pytest.py \
	tests/e2e/apiclient.py tests/e2e/authsvc.py
E2E_TESTS += tests/e2e/test_60_l4_tcp.py tests/e2e/test_61_l4_udp.py tests/e2e/test_62_l4_passthrough.py tests/e2e/test_63_proxy_protocol.py tests/e2e/test_64_l4_config.py tests/e2e/test_65_l4_shared_port.py tests/e2e/test_66_l4_api.py
E2E_HELPERS += tests/e2e/l4util.py
EXTRA_DIST += tests/bench/l4.sh tests/bench/l4load.py

# TLS suites (test_35..39) and their helper.
E2E_TESTS += tests/e2e/test_35_tls_sni.py tests/e2e/test_36_tls_origin.py tests/e2e/test_37_tls_client_auth.py tests/e2e/test_38_tls_scan.py tests/e2e/test_39_tls_api.py tests/e2e/test_40_tls_clients.py tests/e2e/test_41_publish_order.py tests/e2e/test_42_accept.py
E2E_HELPERS += tests/e2e/tlsutil.py
# TLS client connections read through sockread.c.
E2E_TESTS += tests/e2e/test_72_tls_read.py
# What a keep-alive connection reuses: the origin's lazy response timer,
# the worker's read blocks.
E2E_TESTS += tests/e2e/test_75_keepalive_reuse.py
# TLS origin connections read through sockread.c.
E2E_TESTS += tests/e2e/test_44_origin_tls_read.py tests/e2e/test_45_fwdauth_tls.py
# The accept path (accept.c): max_connections, counters per worker.
E2E_TESTS += tests/e2e/test_46_max_connections.py tests/e2e/test_47_worker_counters.py
E2E_TESTS += tests/e2e/test_43_conn_addr.py
# Balancing and resilience (issue 13).
EXTRA_DIST += tests/bench/balance.sh tests/bench/balance_cost.c \
	tests/bench/balance_cost.py tests/bench/balance_wrk.sh
E2E_TESTS += tests/e2e/test_87_balance.py tests/e2e/test_88_drain.py \
	tests/e2e/test_89_resilience.py tests/e2e/test_67_retry_status.py \
	tests/e2e/test_68_sticky_signed.py tests/e2e/test_69_l4_hash.py
TESTS += $(E2E_TESTS) $(E2E_API_TESTS)
TEST_EXTENSIONS = .py
PY_LOG_DRIVER = $(LOG_DRIVER)
PY_LOG_COMPILER = /usr/bin/python3 $(top_srcdir)/tests/e2e/tap_pytest.py
EXTRA_DIST += tests/e2e/local.mk $(E2E_TESTS) $(E2E_API_TESTS) $(E2E_HELPERS)

# The rest of the test tooling ships in the tarball too.
EXTRA_DIST += tests/bench/run.sh tests/bench/report.py tests/bench/lib.sh .ci/run \
	scripts/install-deps.sh scripts/start.sh doc/testing.md doc/performance.md
# Configuration-scale benches (issue 9).
EXTRA_DIST += tests/bench/routes.sh tests/bench/route_cost.c tests/bench/config.sh \
	tests/bench/config.py
EXTRA_DIST += tests/bench/syscalls.sh tests/bench/idle.sh tests/bench/idle.py tests/bench/cpu_cost.py
EXTRA_DIST += tests/bench/segments.sh tests/bench/segsnap.py tests/bench/origin_cost.sh
# Issue 10's Done-when lines in one run, one table.
EXTRA_DIST += tests/bench/dataplane.sh tests/bench/dataplane.py

# ACME suites (test_90..92) against Debian's pebble, and their helper.
E2E_TESTS += tests/e2e/test_90_acme_http01.py tests/e2e/test_91_acme_alpn_renew.py \
	tests/e2e/test_92_acme_restart.py
# ARI (RFC 9773): a proxy in front of pebble offers renewalInfo.
E2E_TESTS += tests/e2e/test_93_acme_ari.py
# A new site with an ACME certificate as one PATCH /config.
E2E_TESTS += tests/e2e/test_99_config_acme.py
# Live state (health, in flight, ejections) of 20,000 servers (idtab.c).
E2E_TESTS += tests/e2e/test_94_live_state_20k.py
E2E_HELPERS += tests/e2e/acmeutil.py
EXTRA_DIST += tests/bench/benchlib.py tests/bench/compress_cost.py tests/bench/policy.sh \
	tests/bench/policy_cost.py tests/bench/tls.sh
