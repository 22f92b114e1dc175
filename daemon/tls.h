/*
 * tls.h: TLS on libevent bufferevents (tls.c is the only user of GnuTLS
 * sessions).
 *
 * A TLS connection is a bufferevent filter over the socket bufferevent:
 * callers keep reading and writing plaintext on the bufferevent they get
 * back, and the handshake runs non-blocking inside the event loop. The
 * credentials (struct tls_server per https listener, struct tls_client per
 * TLS origin) are built at snapshot compile time and freed with the
 * snapshot's arena; a connection must hold a reference to the snapshot
 * whose credentials it uses for as long as it lives.
 *
 * Protocol posture, the same everywhere: TLS 1.2 and 1.3 only, AEAD
 * ciphers only (AES-GCM, ChaCha20-Poly1305), ECDHE key exchange only;
 * ALPN "http/1.1"; session tickets whose keys GnuTLS rotates from a
 * process-wide master key (so resumption survives snapshot swaps).
 */
#ifndef GH_TLS_H
#define GH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bufferevent;
struct tls_server;
struct tls_client;
struct tls_conn;

enum tls_client_auth {
	TLS_CLIENT_AUTH_NONE = 0,
	TLS_CLIENT_AUTH_OPTIONAL,
	TLS_CLIENT_AUTH_REQUIRED,
};

/* One certificate offered by a listener. */
struct tls_cert_src {
	const char *name;     /* the store's name, for errors */
	const char *cert_pem; /* chain, leaf first */
	const char *key_pem;
};

/* The priority strings, for docs and tests. */
extern const char tls_priority_server[];
extern const char tls_priority_client[];

/* Builds the credentials of one https listener: every certificate of
 * <certs> is a candidate for SNI (by its DNS SANs, exact names before
 * wildcards), <certs>[<def>] answers clients without SNI or with an
 * unknown name. With <auth> other than NONE, client certificates are
 * requested (or required) and verified against <client_ca_pem>. NULL with
 * <e> (field "" and a message naming the certificate) on failure.
 * Thread: any.
 */
struct tls_server *tls_server_new(const struct tls_cert_src *certs, size_t n,
    size_t def, enum tls_client_auth auth, const char *client_ca_pem,
    struct err *e);
/* Frees what tls_server_new() built (void * for arena_cleanup_add()). */
void tls_server_free(void *ts);

/* Builds the credentials towards one origin: trust <ca_pem> (NULL: the
 * system trust store) and verify unless !<verify>; present <sni> (NULL:
 * none) and <cert_pem>/<key_pem> (NULL: no client certificate). NULL with
 * <e> on failure.
 */
struct tls_client *tls_client_new(const char *ca_pem, bool verify,
    const char *sni, const char *cert_pem, const char *key_pem, struct err *e);
void tls_client_free(void *tc);
/* A digest of the settings: pooled origin connections are reused only
 * by an origin whose key is the same.
 */
uint64_t tls_client_key(const struct tls_client *tc);

/* Wraps the socket bufferevent <under> for a TLS server session. The
 * result owns <under> (freeing it frees both); on failure (NULL) <under>
 * has been freed. <peer> names the client in debug logs. <*out> is the
 * session, valid while the result is.
 */
struct bufferevent *tls_server_wrap(struct bufferevent *under,
    const struct tls_server *ts, const char *peer, struct tls_conn **out);

/* Wraps <under> (connecting or connected to an origin server) for a TLS
 * client session. <verify_name> is checked against the certificate when
 * the settings verify (the SNI name, else the server's address); <label>
 * ("origin web server 127.0.0.1:8443") prefixes the log line of a failed
 * verification. Ownership of <under> as for tls_server_wrap().
 */
struct bufferevent *tls_client_wrap(struct bufferevent *under,
    const struct tls_client *tc, const char *verify_name, const char *label);

/* After the handshake: the verified client certificate's subject DN and
 * SHA-256 fingerprint (lowercase hex), or NULL. NULL-safe.
 */
const char *tls_conn_peer_subject(const struct tls_conn *t);
const char *tls_conn_peer_fingerprint(const struct tls_conn *t);

/* Ciphertext not yet written to the socket. When it is not 0, the
 * bufferevent's write callback runs once more when it reaches 0 (so a
 * closing connection can wait for it). NULL-safe (0).
 */
size_t tls_conn_unsent(struct tls_conn *t);

/* Ends our side of the session with a close_notify alert, once, after the
 * handshake and unless it failed; the alert joins the unsent ciphertext
 * (tls_conn_unsent()). Call when all plaintext has been written. Never
 * blocks. NULL-safe.
 */
void tls_conn_close_notify(struct tls_conn *t);

#endif
