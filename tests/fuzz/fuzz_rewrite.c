/*
 * fuzz_rewrite.c: rewrite_request_head() over random client heads.
 *
 * Input: byte 0 sets the options (bit 0 absolute-form, 1 trust, 2
 * forwarded, 3 https, 4 upgrade, 5 IPv6 peer, 6 client certificate, 7
 * chunked body); the rest is lines "name:value" separated by '\n' (lines
 * that a client parser would refuse are skipped). Checked: the size is the
 * same whatever room is given and nothing is written past it; the head
 * is one request line and "name: value" lines ending in one empty line;
 * exactly one Host and one X-Forwarded-For (ending with the peer); no
 * hop-by-hop header and no header the client's Connection named, except
 * the proxy's own "Upgrade: websocket" and "Connection: upgrade".
 */
#include <string.h>

#include "fuzz.h"
#include "rewrite.h"

#define FZ_MAX 8192

static bool
fz_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool
fz_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f);
}

/* Adds "name:value" to <m> if a client parser would take it. */
static void
fz_header(struct http_msg *m, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	struct http_span ns, vs;
	struct str v;
	int64_t no, vo;
	size_t i;

	if (colon == NULL || colon == p)
		return;
	for (i = 0; i < (size_t)(colon - p); i++)
		if (!fz_tchar((unsigned char)p[i]))
			return;
	v = str_trim(str_make(colon + 1, n - (size_t)(colon - p) - 1));
	for (i = 0; i < v.len; i++)
		if (!fz_vchar((unsigned char)v.p[i]))
			return;
	if ((no = http_msg_append(m, p, (size_t)(colon - p))) < 0 ||
	    (vo = http_msg_append(m, v.p, v.len)) < 0)
		return;
	ns.off = (uint32_t)no;
	ns.len = (uint32_t)(colon - p);
	vs.off = (uint32_t)vo;
	vs.len = (uint32_t)v.len;
	(void)http_msg_add_header(m, ns, vs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[FZ_MAX + 64], out2[FZ_MAX + 64];
	struct str tok[REWRITE_MAX_CONN_TOKENS], line, name;
	struct rewrite_req rq;
	struct http_msg m;
	const char *p, *end, *nl, *eol, *colon;
	size_t n, k, ntok, nhost = 0, nxff = 0;
	uint8_t o;
	int64_t mo;

	if (size < 1 || size > FZ_MAX / 2)
		return 0;
	o = data[0];
	http_msg_init(&m);
	mo = http_msg_append(&m, "GET", 3);
	FUZZ_CHECK(mo >= 0);
	m.method_name.off = (uint32_t)mo;
	m.method_name.len = 3;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		fz_header(&m, p, (size_t)(nl - p));
		p = nl + 1;
	}
	memset(&rq, 0, sizeof(rq));
	rq.m = &m;
	rq.path = STR_LIT("/p");
	rq.query = STR_LIT("?q");
	rq.absolute = (o & 1) != 0;
	rq.authority = rq.absolute ? STR_LIT("a.test:81") : STR_NULL;
	rq.trust = (o & 2) != 0;
	rq.forwarded = (o & 4) != 0;
	rq.https = (o & 8) != 0;
	rq.upgrade = (o & 16) != 0;
	rq.peer_v6 = (o & 32) != 0;
	rq.peer = rq.peer_v6 ? "2001:db8::1" : "192.0.2.1";
	rq.default_host = STR_LIT("10.0.0.1:80");
	if (o & 64) {
		rq.cert_subject = "CN=c";
		rq.cert_fingerprint = "00";
	}
	rq.body = (o & 128) ? REWRITE_BODY_CHUNKED : REWRITE_BODY_NONE;

	n = rewrite_request_head(&rq, out, sizeof(out));
	FUZZ_CHECK(n <= sizeof(out)); /* input is bounded to fit */
	FUZZ_CHECK(rewrite_request_head(&rq, NULL, 0) == n);
	k = n / 2;
	memset(out2, 0x5a, sizeof(out2));
	FUZZ_CHECK(rewrite_request_head(&rq, out2, k) == n);
	FUZZ_CHECK(out2[k] == 0x5a);

	FUZZ_CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
	FUZZ_CHECK(memcmp(out, "GET /p?q HTTP/1.1\r\n", 19) == 0);
	ntok = rewrite_conn_tokens(&m, tok, REWRITE_MAX_CONN_TOKENS);
	p = out + 19;
	end = out + n - 2;
	while (p < end) {
		eol = memchr(p, '\r', (size_t)(end - p));
		FUZZ_CHECK(eol != NULL && eol + 1 < out + n && eol[1] == '\n');
		line = str_make(p, (size_t)(eol - p));
		colon = memchr(line.p, ':', line.len);
		FUZZ_CHECK(colon != NULL && colon > line.p);
		FUZZ_CHECK(memchr(line.p, '\n', line.len) == NULL);
		name = str_make(line.p, (size_t)(colon - line.p));
		if (str_caseeq_cstr(name, "host"))
			nhost++;
		if (str_caseeq_cstr(name, "x-forwarded-for")) {
			struct str peer = str_cstr(rq.peer);

			nxff++;
			FUZZ_CHECK(line.len >= peer.len &&
			    memcmp(line.p + line.len - peer.len, peer.p,
			        peer.len) == 0);
		}
		if (str_caseeq_cstr(line, "Upgrade: websocket") ||
		    str_caseeq_cstr(line, "Connection: upgrade")) {
			FUZZ_CHECK(rq.upgrade);
		} else if (!str_caseeq_cstr(line,
		               "Transfer-Encoding: chunked")) {
			FUZZ_CHECK(!rewrite_is_hop(name));
			FUZZ_CHECK(ntok == REWRITE_MAX_CONN_TOKENS ||
			    !rewrite_in_tokens(name, tok, ntok) ||
			    str_caseeq_cstr(name, "host") ||
			    str_caseeq_cstr(name, "x-forwarded-for") ||
			    str_caseeq_cstr(name, "x-forwarded-proto") ||
			    str_caseeq_cstr(name, "x-forwarded-host") ||
			    str_caseeq_cstr(name, "forwarded") ||
			    str_caseeq_cstr(name, "x-client-cert-subject") ||
			    str_caseeq_cstr(name, "x-client-cert-fingerprint"));
		}
		p = eol + 2;
	}
	FUZZ_CHECK(nhost == 1 ||
	    (!rq.absolute && http_msg_count(&m, "host") > 1));
	FUZZ_CHECK(nxff == 1);
	http_msg_fini(&m);
	return 0;
}
