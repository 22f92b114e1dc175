/*
 * tls.c: GnuTLS sessions for client connections and towards origins.
 *
 * Server sessions (an https listener's clients) have no bufferevent
 * filter: the owner's sockread reads ciphertext into a buffer and calls
 * tls_conn_recv(), whose pull function takes from that buffer; the
 * handshake runs there, then every complete record is decrypted into
 * the owner's input. tls_conn_send() encrypts plaintext corked, and the
 * push function writes the records straight to the socket when nothing
 * is queued, else queues them on the owner's socket bufferevent.
 *
 * Client sessions (towards origins) work the same way: the owner's
 * sockread decrypts through tls_conn_recv() and tls_conn_send() writes.
 * The client speaks first: its first tls_conn_send(), once the socket is
 * connected, sends the ClientHello and keeps the plaintext, and
 * tls_conn_recv() runs the handshake on the server's answer; the owner
 * sends what it kept once tls_conn_established(). So there is one
 * record-reading loop, tls_conn_recv()'s, for both kinds of session.
 *
 * SNI: one credentials object per certificate per listener; the
 * post-ClientHello hook picks it by name (exact SAN, then wildcard SAN,
 * then the listener's default). GnuTLS refuses a ClientHello whose server
 * name is not a DNS name ("under_score.test", "127.0.0.1:8443" as Go's
 * hey sends it) before any callback runs, where nginx and HAProxy serve
 * their default certificate. So each server session registers its own
 * handler for the server_name extension, which GnuTLS then consults
 * before its internal one: tls_sni_recv() keeps the first host name, and
 * a name that is not a host name gets the default certificate (logged,
 * counted as tls_sni_fallback). GnuTLS refuses to override server_name by
 * its id (0, "cannot be overridden"), but keeps session extension ids in
 * 16 bits after that check: registering id 0x10000 is how the handler is
 * installed (checked at start; sessions work without it, with GnuTLS's
 * own refusal).
 *
 * Session tickets: each tls_server encrypts them with its own key, derived
 * from the process-wide master key and its client-authentication policy
 * (mode and client CA), so a ticket issued where no client certificate
 * was asked for never resumes where one is required.
 */
#include "tls.h"

#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "acme_chal.h"
#include "check.h"
#include "log.h"
#include "stats.h"
#include "x509.h"

#define TLS_CONN_MAGIC  0x544c5343u /* "TLSC" */
#define TLS_READ_CHUNK  (16 * 1024 + 256)
#define TLS_WRITE_BATCH (64 * 1024)
#define TLS_TICKET_SECS 3600
#define TLS_SNI_EXT_ID  0x10000 /* server_name (0), see the top */

/* clang-format off */
const char tls_priority_server[] =
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:"
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:"
	"+ECDHE-ECDSA:+ECDHE-RSA:"
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
	"+SIGN-ALL:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:+COMP-NULL:+CTYPE-X509:"
	"%SERVER_PRECEDENCE";
const char tls_priority_client[] =
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:"
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:"
	"+ECDHE-ECDSA:+ECDHE-RSA:"
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
	"+SIGN-ALL:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:+COMP-NULL:+CTYPE-X509";
/* clang-format on */

static const gnutls_datum_t tls_alpn_http11 = {
	(unsigned char *)(uintptr_t) "http/1.1", 8
};
/* Servers also speak "acme-tls/1" (RFC 8737): a client offering only
 * that gets the ACME challenge certificate of its server name, if any
 * (acme_chal.c), and the connection ends after the handshake.
 */
static const gnutls_datum_t tls_alpn_server[] = {
	{ (unsigned char *)(uintptr_t) "http/1.1", 8 },
	{ (unsigned char *)(uintptr_t) "acme-tls/1", 10 },
};

static struct {
	pthread_once_t once;
	int ok;
	gnutls_priority_t server, client;
	gnutls_datum_t ticket_key;
	bool tickets;
	bool own_sni; /* tls_sni_recv() can be registered */
	_Atomic int64_t sni_log_sec;
} tls_g = { .once = PTHREAD_ONCE_INIT };

enum tls_flag {
	TLS_F_SERVER = 1u << 0,
	TLS_F_HS_DONE = 1u << 1,
	TLS_F_FAILED = 1u << 2,
	TLS_F_EOF = 1u << 3,     /* close_notify seen */
	TLS_F_BYE = 1u << 7,     /* close_notify sent */
	TLS_F_SNI = 1u << 8,     /* sni[] holds the client's name */
	TLS_F_SNI_ODD = 1u << 9, /* ...which is not a host name */
};

struct tls_entry {
	gnutls_certificate_credentials_t cred;
	char **names; /* lowercase DNS SANs; "*.x" for wildcards */
	size_t nnames;
};

struct tls_server {
	struct tls_entry *ents;
	size_t n, def;
	enum tls_client_auth auth;
	unsigned char ticket[64]; /* the session ticket key of the policy */
	gnutls_datum_t ticket_key;
};

struct tls_client {
	gnutls_certificate_credentials_t cred;
	bool verify;
	char *sni;
	uint64_t key;
};

struct tls_conn {
	unsigned magic;
	unsigned flags; /* TLS_F_* */
	gnutls_session_t s;
	int fd; /* the socket, written to directly while <uout> is empty */
	/* ciphertext in, during tls_conn_recv(): what the sockread kept (or
	 * NULL), then <span>
	 */
	struct evbuffer *uin;
	const char *span;
	size_t nspan;
	/* ciphertext the socket did not take yet: the owner's queue */
	struct evbuffer *uout;
	const struct tls_server *ts; /* servers */
	char label[128];
	char *verify_name;
	char sni[256];
	char subject[512];
	char fp[65];
};

static int tls_sni_recv(gnutls_session_t s, const unsigned char *d, size_t n);
static int tls_sni_send(gnutls_session_t s, gnutls_buffer_t b);

static int
tls_sni_register(gnutls_session_t s)
{
	return gnutls_session_ext_register(s, "server_name", TLS_SNI_EXT_ID,
	    GNUTLS_EXT_MANDATORY, tls_sni_recv, tls_sni_send, NULL, NULL, NULL,
	    GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
	        GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO | GNUTLS_EXT_FLAG_EE);
}

static void
tls_global_init(void)
{
	const char *errpos = NULL;
	gnutls_session_t s;

	if (gnutls_priority_init2(&tls_g.server, tls_priority_server, &errpos,
	        0) < 0 ||
	    gnutls_priority_init2(&tls_g.client, tls_priority_client, &errpos,
	        0) < 0) {
		log_warnx("tls: priority string refused at \"%s\"",
		    errpos != NULL ? errpos : "?");
		return;
	}
	/* Session tickets are on unless GATEHOUSE_TLS_TICKETS=off (for
	 * benchmarks of full handshakes, or a policy without resumption).
	 */
	tls_g.tickets = getenv("GATEHOUSE_TLS_TICKETS") == NULL ||
	    strcmp(getenv("GATEHOUSE_TLS_TICKETS"), "off") != 0;
	if (gnutls_session_ticket_key_generate(&tls_g.ticket_key) < 0) {
		log_warnx("tls: cannot generate the session ticket key");
		return;
	}
	if (gnutls_init(&s, GNUTLS_SERVER) == 0) {
		tls_g.own_sni = tls_sni_register(s) == 0;
		gnutls_deinit(s);
	}
	if (!tls_g.own_sni)
		log_warnx("tls: this GnuTLS does not let us read the server "
		          "name: clients sending names that are not host names "
		          "will be refused");
	tls_g.ok = 1;
}

static int
tls_ready(struct err *e)
{
	pthread_once(&tls_g.once, tls_global_init);
	if (!tls_g.ok)
		return err_set(e, "", "TLS library initialization failed");
	return 0;
}

/* ---- credentials ---- */

static void
entry_fini(struct tls_entry *en)
{
	size_t i;

	if (en->cred != NULL)
		gnutls_certificate_free_credentials(en->cred);
	for (i = 0; i < en->nnames; i++)
		free(en->names[i]);
	free(en->names);
}

void
tls_server_free(void *arg)
{
	struct tls_server *ts = arg;
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->n; i++)
		entry_fini(&ts->ents[i]);
	free(ts->ents);
	free(ts);
}

static gnutls_datum_t
datum_of(const char *s)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)s,
		(unsigned)strlen(s) };

	return d;
}

/* During the handshake, when a client sent certificates: they must chain
 * to the listener's client CA. A client that sent none passes here;
 * GNUTLS_CERT_REQUIRE refuses it where client_auth is "required".
 */
static int
tls_verify_client(gnutls_session_t s)
{
	unsigned n = 0, status = 0;

	if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

static int
entry_init(struct tls_entry *en, const struct tls_cert_src *src,
    enum tls_client_auth auth, const char *ca_pem, struct err *e)
{
	struct x509_info *info;
	gnutls_datum_t c, k, ca;
	size_t i, j;
	int r;

	if ((info = calloc(1, sizeof(*info))) == NULL)
		return err_set(e, "", "out of memory");
	if (src->key_pem == NULL || src->key_pem[0] == '\0') {
		free(info);
		return err_set(e, "", "certificate \"%s\" has no private key",
		    src->name);
	}
	if (x509_check(src->cert_pem, src->key_pem, info, e) != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		free(info);
		return err_set(e, "", "certificate \"%s\": %s", src->name, msg);
	}
	if ((en->names = calloc(info->nsans + 1, sizeof(*en->names))) == NULL) {
		free(info);
		return err_set(e, "", "out of memory");
	}
	for (i = 0; i < info->nsans; i++) {
		if ((en->names[en->nnames] = strdup(info->sans[i])) == NULL)
			break;
		for (j = 0; en->names[en->nnames][j] != '\0'; j++)
			en->names[en->nnames][j] = (char)
			    tolower((unsigned char)en->names[en->nnames][j]);
		en->nnames++;
	}
	free(info);
	if ((r = gnutls_certificate_allocate_credentials(&en->cred)) < 0)
		return err_set(e, "", "%s", gnutls_strerror(r));
	c = datum_of(src->cert_pem);
	k = datum_of(src->key_pem);
	if ((r = gnutls_certificate_set_x509_key_mem2(en->cred, &c, &k,
	         GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
		return err_set(e, "", "certificate \"%s\": %s", src->name,
		    gnutls_strerror(r));
	if (auth != TLS_CLIENT_AUTH_NONE) {
		gnutls_certificate_set_verify_function(en->cred,
		    tls_verify_client);
		ca = datum_of(ca_pem);
		if ((r = gnutls_certificate_set_x509_trust_mem(en->cred, &ca,
		         GNUTLS_X509_FMT_PEM)) <= 0)
			return err_set(e, "", "client CA: %s",
			    r < 0 ? gnutls_strerror(r) : "no certificate");
	}
	return 0;
}

/* The ticket key of <ts>'s client-auth policy: HMAC-SHA512 keyed by the
 * master key over the mode and the client CA. Listeners with the same
 * policy share it (a ticket resumes on any of them), and it survives
 * snapshot swaps as the master key does.
 */
static int
tls_ticket_key(struct tls_server *ts, const char *ca_pem, struct err *e)
{
	static const char *const mode[] = { "none", "optional", "required" };
	gnutls_hmac_hd_t h;

	ASSERT(tls_g.ticket_key.size > 0);
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA512, tls_g.ticket_key.data,
	        tls_g.ticket_key.size) < 0)
		return err_set(e, "", "cannot derive the session ticket key");
	if (gnutls_hmac(h, mode[ts->auth], strlen(mode[ts->auth]) + 1) < 0 ||
	    (ts->auth != TLS_CLIENT_AUTH_NONE && ca_pem != NULL &&
	        gnutls_hmac(h, ca_pem, strlen(ca_pem)) < 0)) {
		gnutls_hmac_deinit(h, NULL);
		return err_set(e, "", "cannot derive the session ticket key");
	}
	gnutls_hmac_deinit(h, ts->ticket);
	ts->ticket_key.data = ts->ticket;
	ts->ticket_key.size = sizeof(ts->ticket);
	return 0;
}

struct tls_server *
tls_server_new(const struct tls_cert_src *certs, size_t n, size_t def,
    enum tls_client_auth auth, const char *client_ca_pem, struct err *e)
{
	struct tls_server *ts;
	size_t i;

	if (tls_ready(e) != 0)
		return NULL;
	if (n == 0 || def >= n) {
		err_set(e, "", "no default certificate");
		return NULL;
	}
	if (auth != TLS_CLIENT_AUTH_NONE && client_ca_pem == NULL) {
		err_set(e, "", "client_auth needs a client CA");
		return NULL;
	}
	if ((ts = calloc(1, sizeof(*ts))) == NULL ||
	    (ts->ents = calloc(n, sizeof(*ts->ents))) == NULL) {
		free(ts);
		err_set(e, "", "out of memory");
		return NULL;
	}
	ts->n = n;
	ts->def = def;
	ts->auth = auth;
	if (tls_ticket_key(ts, client_ca_pem, e) != 0) {
		tls_server_free(ts);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (entry_init(&ts->ents[i], &certs[i], auth, client_ca_pem,
		        e) != 0) {
			tls_server_free(ts);
			return NULL;
		}
	return ts;
}

void
tls_client_free(void *arg)
{
	struct tls_client *tc = arg;

	if (tc == NULL)
		return;
	if (tc->cred != NULL)
		gnutls_certificate_free_credentials(tc->cred);
	free(tc->sni);
	free(tc);
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	if (s == NULL)
		s = "\x01";
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= 0xff;
	return h * 0x100000001b3ull;
}

struct tls_client *
tls_client_new(const char *ca_pem, bool verify, const char *sni,
    const char *cert_pem, const char *key_pem, struct err *e)
{
	struct tls_client *tc;
	gnutls_datum_t d, k;
	int r;

	if (tls_ready(e) != 0)
		return NULL;
	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		err_set(e, "", "out of memory");
		return NULL;
	}
	tc->verify = verify;
	if (sni != NULL && sni[0] != '\0' && (tc->sni = strdup(sni)) == NULL)
		goto oom;
	if ((r = gnutls_certificate_allocate_credentials(&tc->cred)) < 0)
		goto lib;
	if (ca_pem != NULL) {
		d = datum_of(ca_pem);
		r = gnutls_certificate_set_x509_trust_mem(tc->cred, &d,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			err_set(e, "tls.ca", "%s",
			    r < 0 ? gnutls_strerror(r) : "no CA certificate");
			goto fail;
		}
	} else if (verify &&
	    (r = gnutls_certificate_set_x509_system_trust(tc->cred)) < 0) {
		err_set(e, "tls.ca", "system trust store: %s",
		    gnutls_strerror(r));
		goto fail;
	}
	if (cert_pem != NULL && key_pem != NULL) {
		d = datum_of(cert_pem);
		k = datum_of(key_pem);
		if ((r = gnutls_certificate_set_x509_key_mem2(tc->cred, &d, &k,
		         GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
			err_set(e, "tls.client_certificate", "%s",
			    gnutls_strerror(r));
			goto fail;
		}
	}
	tc->key =
	    fnv1a(fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ull, ca_pem), tc->sni),
	              cert_pem),
	        verify ? "v" : "n");
	return tc;
oom:
	err_set(e, "", "out of memory");
	goto fail;
lib:
	err_set(e, "", "%s", gnutls_strerror(r));
fail:
	tls_client_free(tc);
	return NULL;
}

uint64_t
tls_client_key(const struct tls_client *tc)
{
	return tc != NULL ? tc->key : 0;
}

/* ---- transport: GnuTLS <-> the socket, the sockread, the queue ---- */

static ssize_t
tls_push(gnutls_transport_ptr_t p, const giovec_t *iov, int n)
{
	struct tls_conn *t = p;
	ssize_t total = 0, w = 0;
	size_t skip, len;
	int i, fd;

	/* A session with nothing queued writes the records straight
	 * to the socket (the corked head and body in one writev): queued
	 * behind a bufferevent they would cost adding POLLOUT, a wake-up and
	 * removing it again for every answer. What the kernel does not take
	 * is queued, and the owner's bufferevent writes it.
	 */
	if ((fd = t->fd) != -1 && evbuffer_get_length(t->uout) == 0) {
		w = writev(fd, (const struct iovec *)iov, n);
		if (w < 0)
			w = 0; /* EAGAIN, or an error the bufferevent reports */
	}
	for (i = 0; i < n; i++) {
		skip = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
		w -= (ssize_t)skip;
		len = iov[i].iov_len - skip;
		if (len > 0 &&
		    evbuffer_add(t->uout, (const char *)iov[i].iov_base + skip,
		        len) != 0) {
			gnutls_transport_set_errno(t->s, ENOMEM);
			return -1;
		}
		total += (ssize_t)iov[i].iov_len;
	}
	return total;
}

static ssize_t
tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct tls_conn *t = p;
	int n = t->uin != NULL ? evbuffer_remove(t->uin, buf, len) : 0;

	if (n > 0)
		return n;
	if (t->nspan > 0) {
		n = (int)(len < t->nspan ? len : t->nspan);
		memcpy(buf, t->span, (size_t)n);
		t->span += n;
		t->nspan -= (size_t)n;
		return n;
	}
	gnutls_transport_set_errno(t->s, EAGAIN);
	return -1;
}

static int
tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct tls_conn *t = p;

	return (t->uin != NULL && evbuffer_get_length(t->uin) > 0) ||
	    t->nspan > 0;
}

/* ---- SNI ---- */

static bool
name_match(const char *pat, const char *name, bool wildcard)
{
	const char *dot;

	if (!wildcard)
		return pat[0] != '*' && strcmp(pat, name) == 0;
	if (pat[0] != '*' || pat[1] != '.')
		return false;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && strcmp(dot, pat + 1) == 0;
}

static const struct tls_entry *
tls_select(const struct tls_server *ts, const char *name)
{
	size_t i, j;
	int pass;

	if (name != NULL && name[0] != '\0')
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < ts->n; i++)
				for (j = 0; j < ts->ents[i].nnames; j++)
					if (name_match(ts->ents[i].names[j],
					        name, pass == 1))
						return &ts->ents[i];
	return &ts->ents[ts->def];
}

/* A host name: dot-separated labels of letters, digits and '-', the last
 * one not all digits (an IPv4 literal). <name> is lowercase.
 */
static bool
sni_is_host(const char *name)
{
	const char *p, *label = name;
	bool digits = true;

	if (name[0] == '\0')
		return false;
	for (p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label)
				return false; /* empty label */
			if (*p == '\0')
				return !digits;
			label = p + 1;
			digits = true;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		        *p == '-'))
			return false;
		if (*p < '0' || *p > '9')
			digits = false;
	}
}

/* The client's server_name extension (RFC 6066 3): a list of (type,
 * name); the first host_name (type 0) is kept. A malformed list is the
 * same as none: the default certificate answers.
 */
static int
tls_sni_recv(gnutls_session_t s, const unsigned char *d, size_t n)
{
	struct tls_conn *t = gnutls_session_get_ptr(s);
	size_t list, off, len, i;

	if (t == NULL || n < 2 || (list = (size_t)d[0] << 8 | d[1]) != n - 2)
		return 0;
	for (off = 2; off + 3 <= n; off += 3 + len) {
		len = (size_t)d[off + 1] << 8 | d[off + 2];
		if (off + 3 + len > n)
			return 0;
		if (d[off] != 0 || (t->flags & TLS_F_SNI))
			continue;
		if (len == 0 || len >= sizeof(t->sni)) {
			t->flags |= TLS_F_SNI | TLS_F_SNI_ODD;
			snprintf(t->sni, sizeof(t->sni), "(%zu bytes)", len);
			continue;
		}
		for (i = 0; i < len; i++) {
			unsigned char c = d[off + 3 + i];

			t->sni[i] = (c < 0x20 || c >= 0x7f || c == '"')
			    ? '?'
			    : (char)tolower(c);
		}
		t->sni[len] = '\0';
		t->flags |= TLS_F_SNI;
		if (!sni_is_host(t->sni))
			t->flags |= TLS_F_SNI_ODD;
	}
	return 0;
}

/* No acknowledgement: RFC 6066 lets the server omit it (and resumption
 * would have to carry the name).
 */
static int
tls_sni_send(gnutls_session_t s, gnutls_buffer_t b)
{
	return 0;
}

static void
tls_sni_fallback(struct tls_conn *t)
{
	struct timespec now;
	int64_t last;

	stats_inc(STAT_TLS_SNI_FALLBACK);
	/* One line a second at most: any client can send these. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	last = atomic_load_explicit(&tls_g.sni_log_sec, memory_order_relaxed);
	if (last == (int64_t)now.tv_sec ||
	    !atomic_compare_exchange_strong(&tls_g.sni_log_sec, &last,
	        (int64_t)now.tv_sec))
		return;
	log_info("tls: client %s: server name \"%s\" is not a host name; "
	         "default certificate",
	    t->label, t->sni);
}

/* The TLS-ALPN-01 challenge credentials when the client chose
 * "acme-tls/1", else NULL.
 */
static void *
tls_acme_cred(gnutls_session_t s)
{
	gnutls_datum_t p = { NULL, 0 };
	char name[256];
	size_t len = sizeof(name) - 1;
	unsigned type;

	struct tls_conn *t = gnutls_session_get_ptr(s);

	if (gnutls_alpn_get_selected_protocol(s, &p) < 0 || p.size != 10 ||
	    memcmp(p.data, "acme-tls/1", 10) != 0)
		return NULL;
	if (tls_g.own_sni)
		return (t->flags & (TLS_F_SNI | TLS_F_SNI_ODD)) == TLS_F_SNI
		    ? acme_chal_alpn_cred(t->sni)
		    : NULL;
	if (gnutls_server_name_get(s, name, &len, &type, 0) < 0 ||
	    type != GNUTLS_NAME_DNS)
		return NULL;
	name[len < sizeof(name) ? len : sizeof(name) - 1] = '\0';
	return acme_chal_alpn_cred(name);
}

static int
tls_client_hello_cb(gnutls_session_t s)
{
	struct tls_conn *t = gnutls_session_get_ptr(s);
	char name[256];
	size_t len = sizeof(name) - 1, i;
	unsigned type;
	const struct tls_entry *en;
	void *acme;

	if ((acme = tls_acme_cred(s)) != NULL)
		return gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, acme);
	if (tls_g.own_sni) {
		if (t->flags & TLS_F_SNI_ODD)
			tls_sni_fallback(t);
		en = tls_select(t->ts,
		    (t->flags & (TLS_F_SNI | TLS_F_SNI_ODD)) == TLS_F_SNI
		        ? t->sni
		        : NULL);
		return gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
		    en->cred);
	}
	if (gnutls_server_name_get(s, name, &len, &type, 0) < 0 ||
	    type != GNUTLS_NAME_DNS)
		len = 0;
	name[len < sizeof(name) ? len : sizeof(name) - 1] = '\0';
	for (i = 0; name[i] != '\0'; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	en = tls_select(t->ts, name);
	return gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, en->cred);
}

/* ---- the connection ---- */

static void
tls_conn_destroy(struct tls_conn *t)
{
	CHECK_OBJ(t, TLS_CONN_MAGIC);
	if (t->s != NULL)
		gnutls_deinit(t->s);
	free(t->verify_name);
	t->magic = 0;
	free(t);
}

static void
tls_fail(struct tls_conn *t, int r)
{
	gnutls_datum_t out = { NULL, 0 };
	unsigned status;

	t->flags |= TLS_F_FAILED;
	if (t->flags & TLS_F_SERVER) {
		if (r == GNUTLS_E_NO_CERTIFICATE_FOUND ||
		    r == GNUTLS_E_CERTIFICATE_REQUIRED ||
		    r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ||
		    r == GNUTLS_E_CERTIFICATE_ERROR)
			stats_inc(STAT_TLS_CLIENT_CERT_REFUSED);
		if (!(t->flags & TLS_F_HS_DONE))
			stats_inc(STAT_TLS_HANDSHAKE_FAILED);
		log_debug("tls: client %s: %s", t->label, gnutls_strerror(r));
	} else if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		status = gnutls_session_get_verify_cert_status(t->s);
		(void)gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0);
		stats_inc(STAT_UP_TLS_VERIFY_FAILED);
		log_warnx("%s: TLS certificate verification failed: %s",
		    t->label,
		    out.data != NULL ? (const char *)out.data : "unknown");
		gnutls_free(out.data);
	} else if (!(t->flags & TLS_F_HS_DONE)) {
		stats_inc(STAT_UP_TLS_FAILED);
		log_warnx("%s: TLS handshake failed: %s", t->label,
		    gnutls_strerror(r));
	} else {
		log_debug("%s: TLS: %s", t->label, gnutls_strerror(r));
	}
}

static void
tls_handshake_done(struct tls_conn *t)
{
	const gnutls_datum_t *peers;
	unsigned n = 0;

	t->flags |= TLS_F_HS_DONE;
	if (t->flags & TLS_F_SERVER) {
		stats_inc(STAT_TLS_HANDSHAKES);
		if (gnutls_session_is_resumed(t->s))
			stats_inc(STAT_TLS_RESUMED);
		if (t->ts->auth != TLS_CLIENT_AUTH_NONE &&
		    (peers = gnutls_certificate_get_peers(t->s, &n)) != NULL &&
		    n > 0 &&
		    x509_der_describe(peers[0].data, peers[0].size, t->subject,
		        sizeof(t->subject), t->fp) != 0) {
			t->subject[0] = t->fp[0] = '\0';
		}
		for (char *q = t->subject; *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?'; /* it goes into a header value */
	} else {
		stats_inc(STAT_UP_TLS_HANDSHAKES);
	}
}

/* 0: done, 1: in progress, -1: failed (reported). */
static int
tls_handshake(struct tls_conn *t)
{
	int r;

	for (;;) {
		r = gnutls_handshake(t->s);
		if (r == 0) {
			tls_handshake_done(t);
			return 0;
		}
		if (r == GNUTLS_E_AGAIN)
			return 1;
		if (r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(r))
			continue;
		tls_fail(t, r);
		return -1;
	}
}

static struct tls_conn *
tls_conn_new(unsigned flags, const char *label)
{
	struct tls_conn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->magic = TLS_CONN_MAGIC;
	t->flags = flags;
	t->fd = -1;
	snprintf(t->label, sizeof(t->label), "%s", label);
	if (gnutls_init(&t->s,
	        ((flags & TLS_F_SERVER) ? GNUTLS_SERVER : GNUTLS_CLIENT) |
	            GNUTLS_NONBLOCK) < 0) {
		free(t);
		return NULL;
	}
	gnutls_session_set_ptr(t->s, t);
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_vec_push_function(t->s, tls_push);
	gnutls_transport_set_pull_function(t->s, tls_pull);
	gnutls_transport_set_pull_timeout_function(t->s, tls_pull_timeout);
	gnutls_handshake_set_timeout(t->s, 0);
	if (((flags & TLS_F_SERVER)
	            ? gnutls_alpn_set_protocols(t->s, tls_alpn_server, 2,
	                  GNUTLS_ALPN_SERVER_PRECEDENCE)
	            : gnutls_alpn_set_protocols(t->s, &tls_alpn_http11, 1, 0)) <
	    0) {
		tls_conn_destroy(t);
		return NULL;
	}
	return t;
}

struct tls_conn *
tls_server_conn_new(const struct tls_server *ts, int fd, struct evbuffer *queue,
    const char *peer)
{
	struct tls_conn *t;
	struct err e;

	if (tls_ready(&e) != 0 ||
	    (t = tls_conn_new(TLS_F_SERVER, peer)) == NULL)
		return NULL;
	t->fd = fd;
	t->uout = queue;
	t->ts = ts;
	if (gnutls_priority_set(t->s, tls_g.server) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	        ts->ents[ts->def].cred) < 0 ||
	    (tls_g.own_sni && tls_sni_register(t->s) < 0) ||
	    (tls_g.tickets &&
	        gnutls_session_ticket_enable_server(t->s, &ts->ticket_key) <
	            0)) {
		tls_conn_destroy(t);
		return NULL;
	}
	gnutls_db_set_cache_expiration(t->s, TLS_TICKET_SECS);
	gnutls_handshake_set_post_client_hello_function(t->s,
	    tls_client_hello_cb);
	if (ts->auth != TLS_CLIENT_AUTH_NONE) {
		gnutls_certificate_server_set_request(t->s,
		    ts->auth == TLS_CLIENT_AUTH_REQUIRED ? GNUTLS_CERT_REQUIRE
		                                         : GNUTLS_CERT_REQUEST);
	}
	return t;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t != NULL)
		tls_conn_destroy(t);
}

/* Ciphertext GnuTLS has not pulled yet. */
static size_t
tls_unpulled(const struct tls_conn *t)
{
	return (t->uin != NULL ? evbuffer_get_length(t->uin) : 0) + t->nspan;
}

short
tls_conn_recv(struct tls_conn *t, struct evbuffer *raw, const char *p,
    size_t np, size_t *used, struct evbuffer *in)
{
	char buf[TLS_READ_CHUNK];
	size_t seen = SIZE_MAX, left;
	short end = 0;
	ssize_t n;

	CHECK_OBJ(t, TLS_CONN_MAGIC);
	*used = np;
	if (t->flags & (TLS_F_FAILED | TLS_F_EOF)) {
		if (raw != NULL)
			evbuffer_drain(raw, evbuffer_get_length(raw));
		return (t->flags & TLS_F_FAILED) ? BEV_EVENT_ERROR
		                                 : BEV_EVENT_EOF;
	}
	t->uin = raw;
	t->span = p;
	t->nspan = np;
	if (!(t->flags & TLS_F_HS_DONE)) {
		int r = tls_handshake(t);

		if (r != 0) {
			end = r > 0 ? 0 : BEV_EVENT_ERROR;
			goto out;
		}
	}
	/* Every record <raw> completes. GnuTLS pulls up to a record's worth
	 * at a time and answers AGAIN after a post-handshake message (a TLS
	 * 1.3 KeyUpdate or ticket) too: go on while <raw> shrinks.
	 */
	while (end == 0) {
		/* A stack buffer, then a copy: reserving 16 KiB in <in> for
		 * every small record costs a large allocation each time.
		 */
		n = gnutls_record_recv(t->s, buf, sizeof(buf));
		if (n > 0) {
			if (evbuffer_add(in, buf, (size_t)n) != 0) {
				tls_fail(t, GNUTLS_E_MEMORY_ERROR);
				end = BEV_EVENT_ERROR;
			}
			/* GnuTLS pulls a record's header, then exactly its
			 * body: with nothing left to pull and no plaintext
			 * left in GnuTLS, one more call would only answer
			 * AGAIN (a pull and a few thousand instructions).
			 */
			if (tls_unpulled(t) == 0 &&
			    gnutls_record_check_pending(t->s) == 0)
				break;
			continue;
		}
		if (n == GNUTLS_E_AGAIN) {
			left = tls_unpulled(t);
			if (left > 0 && left < seen) {
				seen = left;
				continue;
			}
			break;
		}
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == 0) {
			t->flags |= TLS_F_EOF; /* close_notify */
			end = BEV_EVENT_EOF;
			break;
		}
		if (n == GNUTLS_E_REHANDSHAKE ||
		    n == GNUTLS_E_GOT_APPLICATION_DATA ||
		    !gnutls_error_is_fatal((int)n))
			continue;
		tls_fail(t, (int)n);
		end = BEV_EVENT_ERROR;
	}
out:
	/* What GnuTLS did not pull stays with the sockread. */
	*used = np - t->nspan;
	t->uin = NULL;
	t->span = NULL;
	t->nspan = 0;
	return end;
}

int
tls_conn_send(struct tls_conn *t, struct evbuffer *src)
{
	struct evbuffer_iovec v[8];
	size_t len, round;
	ssize_t r;
	int nv, i;

	CHECK_OBJ(t, TLS_CONN_MAGIC);
	if (t->flags & TLS_F_FAILED) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return -1;
	}
	if (!(t->flags & TLS_F_HS_DONE)) {
		if (t->flags & TLS_F_SERVER) {
			evbuffer_drain(src, evbuffer_get_length(src));
			return 0;
		}
		/* A client speaks first; <src> waits for the handshake. */
		if ((r = tls_handshake(t)) != 0)
			return r < 0 ? -1 : 0;
	}
	/* Corked: the pieces of one batch (a head and its body) leave as
	 * full records, in one push. Batches bound the cork buffer. tls_push()
	 * never answers EAGAIN (it queues), so neither do these.
	 */
	while (evbuffer_get_length(src) > 0) {
		gnutls_record_cork(t->s);
		nv = evbuffer_peek(src, TLS_WRITE_BATCH, NULL, v, 8);
		if (nv > 8)
			nv = 8;
		for (i = 0, round = 0; i < nv && round < TLS_WRITE_BATCH; i++) {
			len = v[i].iov_len;
			if (len > TLS_WRITE_BATCH - round)
				len = TLS_WRITE_BATCH - round;
			do
				r = gnutls_record_send(t->s, v[i].iov_base,
				    len);
			while (r == GNUTLS_E_INTERRUPTED);
			if (r < 0) {
				tls_fail(t, (int)r);
				return -1;
			}
			round += (size_t)r;
			if ((size_t)r < len)
				break;
		}
		evbuffer_drain(src, round);
		do
			r = gnutls_record_uncork(t->s, GNUTLS_RECORD_WAIT);
		while (r == GNUTLS_E_INTERRUPTED);
		if (r < 0) {
			tls_fail(t, (int)r);
			return -1;
		}
	}
	return 0;
}

struct tls_conn *
tls_client_conn_new(const struct tls_client *tc, int fd, struct evbuffer *queue,
    const char *verify_name, const char *label)
{
	struct tls_conn *t;
	struct err e;

	if (tls_ready(&e) != 0 || (t = tls_conn_new(0, label)) == NULL)
		return NULL;
	t->fd = fd;
	t->uout = queue;
	if (gnutls_priority_set(t->s, tls_g.client) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, tc->cred) <
	        0 ||
	    (tc->sni != NULL &&
	        gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, tc->sni,
	            strlen(tc->sni)) < 0) ||
	    (tc->verify && verify_name != NULL &&
	        (t->verify_name = strdup(verify_name)) == NULL)) {
		tls_conn_destroy(t);
		return NULL;
	}
	if (tc->verify)
		gnutls_session_set_verify_cert(t->s, t->verify_name, 0);
	return t;
}

bool
tls_conn_established(const struct tls_conn *t)
{
	return (t->flags & (TLS_F_HS_DONE | TLS_F_FAILED)) == TLS_F_HS_DONE;
}

const char *
tls_conn_peer_subject(const struct tls_conn *t)
{
	return t != NULL && t->subject[0] != '\0' ? t->subject : NULL;
}

const char *
tls_conn_peer_fingerprint(const struct tls_conn *t)
{
	return t != NULL && t->fp[0] != '\0' ? t->fp : NULL;
}

void
tls_conn_close_notify(struct tls_conn *t)
{
	if (t == NULL || (t->flags & (TLS_F_BYE | TLS_F_FAILED)) != 0 ||
	    !(t->flags & TLS_F_HS_DONE))
		return;
	t->flags |= TLS_F_BYE;
	/* Never blocks: tls_push() writes what the socket takes and queues
	 * the rest.
	 */
	if (gnutls_bye(t->s, GNUTLS_SHUT_WR) == 0 && (t->flags & TLS_F_SERVER))
		stats_inc(STAT_TLS_CLOSE_NOTIFY);
}
