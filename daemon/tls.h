/*
 * tls.h: TLS for connections (tls.c is the only user of GnuTLS sessions).
 *
 * A session carries no bufferevent filter, on either side: its owner (a
 * client connection of an https listener, a connection to a TLS origin,
 * a TLS health check) reads the socket with sockread.c, whose decoder is
 * tls_conn_recv() (ciphertext in, plaintext out), and writes plaintext
 * with tls_conn_send(), which writes the records straight to the socket
 * or queues them on the owner's bufferevent. The handshake runs
 * non-blocking inside the event loop. The credentials (struct tls_server per
 * https listener, struct tls_client per TLS origin) are built at snapshot
 * compile time and freed with the snapshot's arena; a connection must
 * hold a reference to the snapshot whose credentials it uses for as long
 * as it lives.
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

struct evbuffer;
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

/* A server session on the socket <fd> (the caller's, which it reads and
 * closes). Records go straight to <fd> while <queue> is empty, else to
 * the end of <queue>: the output of the caller's socket bufferevent on
 * <fd>, which writes them once the socket takes them. <peer> names the
 * client in debug logs. NULL: no memory. Freed by tls_conn_free().
 */
struct tls_conn *tls_server_conn_new(const struct tls_server *ts, int fd,
    struct evbuffer *queue, const char *peer);
/* Frees a session of tls_server_conn_new() or tls_client_conn_new().
 * NULL-safe.
 */
void tls_conn_free(struct tls_conn *t);

/* The decoder of the session's sockread (sockread_decode_fn): runs the
 * handshake on the ciphertext of <raw> (NULL: none) then the <np> bytes
 * at <p>, then moves every record they complete, decrypted, to the end
 * of <in>; <*used>: the bytes of <p> it took (GnuTLS pulls a record at a
 * time, the rest waits for the next read). 0, or BEV_EVENT_EOF (the
 * peer's close_notify), or BEV_EVENT_ERROR (a TLS error, counted and
 * logged: for server sessions as tls_handshake_failed,
 * tls_client_cert_refused; for client sessions see
 * tls_client_conn_new()). <in> may have grown either way.
 */
short tls_conn_recv(struct tls_conn *t, struct evbuffer *raw, const char *p,
    size_t np, size_t *used, struct evbuffer *in);

/* Encrypts all of <src> (drained) as records, corked in batches of 64
 * KiB: written to the socket, or queued (see tls_server_conn_new()).
 * Before the handshake is done, a server session drops the bytes, and a
 * client session runs its handshake (the first call sends the
 * ClientHello) and leaves <src> as it is: the caller sends it again once
 * tls_conn_established(). 0, or -1 (a TLS error, counted and logged as
 * by tls_conn_recv(): the session is unusable).
 */
int tls_conn_send(struct tls_conn *t, struct evbuffer *src);

/* A client session towards an origin server on the socket <fd> (the
 * caller's, connecting or connected, which it reads and closes); records
 * are written as for tls_server_conn_new(). The first tls_conn_send()
 * after the socket is connected starts the handshake. <verify_name> is
 * checked against the certificate when <tc> verifies (the SNI name, else
 * the server's address); <label> ("origin web server 127.0.0.1:8443")
 * prefixes the log line of a failure (counted as
 * upstream_tls_verify_failed, upstream_tls_failed). NULL: no memory.
 * Freed by tls_conn_free().
 */
struct tls_conn *tls_client_conn_new(const struct tls_client *tc, int fd,
    struct evbuffer *queue, const char *verify_name, const char *label);

/* Is the handshake done, and the session not failed? */
bool tls_conn_established(const struct tls_conn *t);

/* After the handshake: the verified client certificate's subject DN and
 * SHA-256 fingerprint (lowercase hex), or NULL. NULL-safe.
 */
const char *tls_conn_peer_subject(const struct tls_conn *t);
const char *tls_conn_peer_fingerprint(const struct tls_conn *t);

/* Ends our side of a session with a close_notify alert, once,
 * after the handshake and unless it failed; the alert is written like a
 * record of tls_conn_send(). Call when all plaintext has been written.
 * Never blocks. NULL-safe.
 */
void tls_conn_close_notify(struct tls_conn *t);

#endif
