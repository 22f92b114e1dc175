/*
 * fuzz_route_match.c: route_sort() + route_index_listener() +
 * route_match() over random listeners.
 *
 * Input: byte 0 picks the number of routes (1..32); then 4 bytes per route
 * (priority, host set, path prefix, methods) choosing from small
 * dictionaries so that routes overlap; then one byte for the request
 * method; the rest is "<Host value>\n<path>". Checked: the sorted order
 * obeys the ordering rules pairwise, and route_match() (through the host
 * index) returns exactly the first route in that order that a slow,
 * separately written linear matcher accepts (or NULL when none does).
 */
#include <ctype.h>
#include <string.h>

#include "arena.h"
#include "fuzz.h"
#include "route.h"

#define FZ_MAXR 32
#define FZ_MAXH 3

/* clang-format off */
static const char *const fz_hosts[] = {
	"a.example", "b.example", "*.example", "*.a.example", "::1",
	"127.0.0.1", "x.a.example", "example", "*.b", "a-1.b",
	"*.0.1", "A.example", "*.x.a.example", "*example", "a.b",
	"*.", "..example", "*..example",
};
static const char *const fz_prefixes[] = {
	"/", "/a", "/a/", "/ab", "/a/b", "/api", "/api/v1/", "/%20",
};
/* clang-format on */

#define FZ_NHOSTS    (sizeof(fz_hosts) / sizeof(fz_hosts[0]))
#define FZ_NPREFIXES (sizeof(fz_prefixes) / sizeof(fz_prefixes[0]))

struct fz {
	struct cfg_listener l;
	struct cfg_route routes[FZ_MAXR];
	struct cfg_host hosts[FZ_MAXR][FZ_MAXH];
	const struct cfg_route *order[FZ_MAXR];
};

/* The slow reference: Host value -> lowercased name, or "" if invalid. */
static size_t
fz_ref_host(const char *raw, size_t n, char *out)
{
	size_t b = 0, e = n, i, end;
	const char *port;
	bool br;

	while (b < e && (raw[b] == ' ' || raw[b] == '\t'))
		b++;
	while (e > b && (raw[e - 1] == ' ' || raw[e - 1] == '\t'))
		e--;
	if (b == e)
		return 0;
	br = raw[b] == '[';
	if (br) {
		for (end = b + 1; end < e && raw[end] != ']'; end++)
			;
		if (end == e)
			return 0;
		port = raw + end + 1;
		b++;
	} else {
		for (end = b; end < e && raw[end] != ':'; end++)
			;
		port = raw + end;
	}
	/* What follows the name: nothing, or ':' and digits. */
	if (port < raw + e) {
		if (*port != ':')
			return 0;
		for (i = 1; port + i < raw + e; i++)
			if (!isdigit((unsigned char)port[i]))
				return 0;
	}
	if (!br && end > b && raw[end - 1] == '.')
		end--;
	if (end == b || end - b > ROUTE_HOST_MAX)
		return 0;
	for (i = 0; i < end - b; i++) {
		unsigned char c = (unsigned char)raw[b + i];
		bool ok = br ? (isxdigit(c) || c == ':' || c == '.')
		             : (isalnum(c) || c == '-' || c == '.' || c == '_');

		if (!ok || c >= 0x80)
			return 0;
		out[i] = (char)tolower(c);
	}
	return end - b;
}

static bool
fz_ref_accepts(const struct cfg_route *r, const char *host, size_t hlen,
    const char *path, size_t plen, unsigned method)
{
	size_t i;

	if (r->methods != 0 && !(r->methods & method))
		return false;
	if (plen < strlen(r->path_prefix) ||
	    strncmp(path, r->path_prefix, strlen(r->path_prefix)) != 0)
		return false;
	if (r->nhosts == 0)
		return true;
	for (i = 0; i < r->nhosts; i++) {
		const struct cfg_host *h = &r->hosts[i];

		if (h->kind == CFG_HOST_EXACT && hlen == h->len &&
		    memcmp(host, h->name, hlen) == 0)
			return true;
		/* "*.example": one or more bytes, then ".example". */
		if (h->kind == CFG_HOST_WILDCARD && hlen >= h->len + 1 &&
		    memcmp(host + hlen - h->len, h->name, h->len) == 0)
			return true;
	}
	return false;
}

/* 0 exact, 1 wildcard, 2 any; *w: longest wildcard suffix. */
static int
fz_class(const struct cfg_route *r, size_t *w)
{
	int c = 2;
	size_t i;

	*w = 0;
	for (i = 0; i < r->nhosts; i++) {
		if (r->hosts[i].kind == CFG_HOST_EXACT)
			c = 0;
		else if (c != 0)
			c = 1;
		if (r->hosts[i].kind == CFG_HOST_WILDCARD &&
		    r->hosts[i].len > *w)
			*w = r->hosts[i].len;
	}
	return c;
}

/* a may precede b in match order. */
static void
fz_check_pair(const struct cfg_route *a, const struct cfg_route *b)
{
	size_t wa, wb;
	int ca, cb;

	FUZZ_CHECK(a->priority >= b->priority);
	if (a->priority != b->priority)
		return;
	ca = fz_class(a, &wa);
	cb = fz_class(b, &wb);
	FUZZ_CHECK(ca <= cb);
	if (ca != cb)
		return;
	if (ca == 1) {
		FUZZ_CHECK(wa >= wb);
		if (wa != wb)
			return;
	}
	FUZZ_CHECK(a->path_prefix_len >= b->path_prefix_len);
	if (a->path_prefix_len != b->path_prefix_len)
		return;
	FUZZ_CHECK(a->methods != 0 || b->methods == 0);
	if ((a->methods != 0) != (b->methods != 0))
		return;
	FUZZ_CHECK(a->id < b->id);
}

static void
fz_route(struct fz *f, size_t i, const uint8_t *p)
{
	struct cfg_route *r = &f->routes[i];
	const char *name;
	size_t j;

	r->id = (int64_t)i + 1;
	r->name = "r";
	r->priority = (int)(p[0] % 5) - 2;
	r->listener = &f->l;
	r->path_prefix = fz_prefixes[p[2] % FZ_NPREFIXES];
	r->path_prefix_len = strlen(r->path_prefix);
	r->methods = p[3] < 128 ? 0 : (1u << (p[3] % 10));
	r->hosts = f->hosts[i];
	r->nhosts = p[1] % (FZ_MAXH + 1);
	for (j = 0; j < r->nhosts; j++) {
		name = fz_hosts[(p[1] / 4 + j * 3) % FZ_NHOSTS];
		if (name[0] == '*') {
			f->hosts[i][j].kind = CFG_HOST_WILDCARD;
			name++;
		} else {
			f->hosts[i][j].kind = CFG_HOST_EXACT;
		}
		f->hosts[i][j].name = name;
		f->hosts[i][j].len = strlen(name);
	}
	f->order[i] = r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	static struct arena *a;
	const struct cfg_route *got, *want = NULL;
	char ref[ROUTE_HOST_MAX + 1];
	const char *req, *nl;
	size_t n, i, rlen, hlen, reflen;
	unsigned method;

	if (size < 1)
		return 0;
	n = (size_t)data[0] % FZ_MAXR + 1;
	if (size < 1 + 4 * n + 1)
		return 0;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < n; i++)
		fz_route(&f, i, data + 1 + 4 * i);
	route_sort(f.order, n);
	for (i = 0; i + 1 < n; i++)
		fz_check_pair(f.order[i], f.order[i + 1]);
	if (a == NULL)
		a = arena_new(4096, 0);
	else
		arena_reset(a);
	FUZZ_CHECK(a != NULL);
	FUZZ_CHECK(cfg_rseq_from(a, &f.l.routes, f.order, n) == 0);
	FUZZ_CHECK(route_index_listener(a, &f.l) == 0);

	method = 1u << (data[1 + 4 * n] % 10);
	req = (const char *)data + 2 + 4 * n;
	rlen = size - 2 - 4 * n;
	nl = memchr(req, '\n', rlen);
	hlen = nl != NULL ? (size_t)(nl - req) : rlen;

	got = route_match(&f.l, str_make(req, hlen),
	    nl != NULL ? str_make(nl + 1, rlen - hlen - 1) : STR_LIT("/"),
	    method);
	reflen = fz_ref_host(req, hlen, ref);
	for (i = 0; i < n && want == NULL; i++) {
		if (nl != NULL ? fz_ref_accepts(f.order[i], ref, reflen, nl + 1,
		                     rlen - hlen - 1, method)
		               : fz_ref_accepts(f.order[i], ref, reflen, "/", 1,
		                     method))
			want = f.order[i];
	}
	FUZZ_CHECK(got == want);
	return 0;
}
