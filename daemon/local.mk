# daemon/: libcore.a (everything but main.c) and gatehoused.
noinst_LIBRARIES += libcore.a

# Shared basics.
CORE_BASE_SOURCES = daemon/arena.c daemon/arena.h daemon/check.h daemon/schema.h \
	daemon/err.c daemon/err.h daemon/log.c daemon/log.h daemon/str.h \
	daemon/log_ring.c daemon/log_ring.h

# HTTP/1 parsing glue (the only llhttp.h user) and message heads.
CORE_HTTP_SOURCES = daemon/http1.c daemon/http1.h daemon/http_msg.c daemon/http_msg.h \
	daemon/target.c daemon/target.h daemon/rewrite.c daemon/rewrite.h
# Request paths and Host values reduced to one meaning (pure functions).
CORE_HTTP_SOURCES += daemon/normalize.c daemon/normalize.h
# Expect, Host, path and route checks of a request head.
CORE_HTTP_SOURCES += daemon/reqcheck.c daemon/reqcheck.h

# The store (the only sqlite3.h user), snapshot compile, route matching.
CORE_STORE_SOURCES = daemon/store.c daemon/store.h daemon/cfg.c daemon/cfg.h \
	daemon/cfg_compile.c daemon/cfg_incr.c daemon/cfg_rseq.c daemon/cfg_rseq.h \
	daemon/route.c daemon/route.h
# The configuration's kinds and fields, declared once, and its value types.
CORE_STORE_SOURCES += daemon/cfg_field.c daemon/cfg_field.h \
	daemon/cfg_value.c daemon/cfg_value.h daemon/smap.c daemon/smap.h \
	daemon/cfg_route_ref.c daemon/cfg_route_ref.h

# Snapshots, workers, listeners, connections, proxying.
CORE_NET_SOURCES = daemon/access.c daemon/access.h daemon/ratelimit.c daemon/ratelimit.h daemon/access_log.c daemon/access_log.h daemon/balance.c \
	daemon/balance.h daemon/client_addr.c daemon/client_addr.h daemon/conn.c daemon/req.c daemon/req.h \
	daemon/conn.h daemon/listener.c daemon/listener.h daemon/privdrop.c \
	daemon/privdrop.h daemon/proxy.c daemon/proxy.h daemon/publish.h \
	daemon/stats.c daemon/stats.h daemon/stats_tbl.h daemon/upstream.c \
	daemon/upstream.h daemon/worker.c daemon/worker.h
# Server choice: algorithms, request keys, live per-server state (issue 13).
CORE_NET_SOURCES += daemon/balance_key.c daemon/balance_queue.c \
	daemon/balance_passive.c daemon/balance_retry.c daemon/server_live.c \
	daemon/server_live.h daemon/cfg_balance.c daemon/balance_secret.c

# Per-id state shared by threads, growing, read without a lock.
CORE_NET_SOURCES += daemon/idtab.c daemon/idtab.h

# Forward auth: a subrequest to an auth service decides a request.
CORE_NET_SOURCES += daemon/fwdauth.c daemon/fwdauth.h

# The listener types and the one accept path.
CORE_NET_SOURCES += daemon/accept.c daemon/accept.h

# Reading plain sockets: one readv per readiness, no FIONREAD.
CORE_NET_SOURCES += daemon/sockread.c daemon/sockread.h daemon/clock.h

# Per-minute counts of the last 24 hours, for the dashboard (issue 14).
CORE_NET_SOURCES += daemon/history.c daemon/history.h

# Self-signed admin certificate and SHA-256 (GnuTLS), for the admin API.
CORE_X509_SOURCES = daemon/x509.c daemon/x509.h
# Sealed backup files (PBKDF2-SHA256 + AES-256-GCM).
CORE_X509_SOURCES += daemon/backup.c daemon/backup.h
# Private keys sealed at rest with a key-encryption key (AES-256-GCM).
CORE_X509_SOURCES += daemon/kek.c daemon/kek.h

# Layer 4: TCP/UDP proxying, TLS passthrough by SNI, PROXY protocol.
CORE_L4_SOURCES = daemon/clienthello.c daemon/clienthello.h \
	daemon/proxy_proto.c daemon/proxy_proto.h daemon/l4_route.c \
	daemon/l4_route.h daemon/l4.c daemon/l4.h daemon/udp.c daemon/udp.h

libcore_a_SOURCES = $(CORE_BASE_SOURCES) $(CORE_HTTP_SOURCES) \
	$(CORE_STORE_SOURCES) $(CORE_NET_SOURCES) $(CORE_X509_SOURCES)
libcore_a_SOURCES += $(CORE_L4_SOURCES)
# TLS on bufferevents (the only GnuTLS session user) and snapshot TLS.
CORE_TLS_SOURCES = daemon/tls.c daemon/tls.h daemon/cfg_tls.c
libcore_a_SOURCES += $(CORE_TLS_SOURCES)

# Active health checks of origin servers.
CORE_HEALTH_SOURCES = daemon/health.c daemon/health.h daemon/cfg_health.c
libcore_a_SOURCES += $(CORE_HEALTH_SOURCES)
nodist_libcore_a_SOURCES = schema/schema.c
libcore_a_CPPFLAGS = $(AM_CPPFLAGS) $(LLHTTP_CFLAGS)

sbin_PROGRAMS += gatehoused
gatehoused_SOURCES = daemon/main.c $(API_SOURCES)
gatehoused_CPPFLAGS = $(AM_CPPFLAGS) $(WEBUI_CPPFLAGS)
gatehoused_LDADD = libcore.a $(LLHTTP_LDADD) $(CORE_LIBS)

# systemd service notifications (sd_notify without libsystemd).
libcore_a_SOURCES += daemon/notify.c daemon/notify.h

# ACME: the client thread (libcurl), challenge answers (workers) and
# their crypto; its store side is api/acme_db.c.
libcore_a_SOURCES += daemon/acme.c daemon/acme.h daemon/acme_http.c \
	daemon/acme_http.h daemon/acme_chal.c daemon/acme_chal.h \
	daemon/acme_crypto.c daemon/acme_crypto.h \
	daemon/acme_ari.c daemon/acme_ari.h

# Route policies: templates, their compile, a route's own answers.
libcore_a_SOURCES += daemon/tmpl.c daemon/tmpl.h daemon/cfg_policy.c \
	daemon/respond.c daemon/respond.h daemon/hdr_rules.c \
	daemon/hdr_rules.h

# Response compression: Accept-Encoding, the decision, the stream
# (compress.c), one shim per library (zlib, libbrotlienc), the compile.
libcore_a_SOURCES += daemon/compress.c daemon/compress.h \
	daemon/compress_gzip.c daemon/compress_br.c daemon/cfg_compress.c \
	daemon/compress_settings.c
