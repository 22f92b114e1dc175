/*
 * client_addr.c: the client behind trusted proxies (client_addr.h).
 */
#include "client_addr.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "l4_route.h"
#include "store.h"

/* Longest X-Forwarded-For element read: "[v6 literal]:65535". */
#define CA_ELEM_MAX (INET6_ADDRSTRLEN + 8)

int
client_addr_parse(struct str v, struct sockaddr_storage *sa)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)sa;
	char buf[CA_ELEM_MAX + 1];
	const char *colon, *close;
	size_t n = v.len;

	if (n == 0 || n > CA_ELEM_MAX)
		return -1;
	if (v.p[0] == '[') {
		if ((close = memchr(v.p, ']', v.len)) == NULL)
			return -1;
		/* "[v6]" or "[v6]:port" */
		if ((size_t)(close - v.p) + 1 < v.len && close[1] != ':')
			return -1;
		n = (size_t)(close - v.p) - 1;
		memcpy(buf, v.p + 1, n);
	} else {
		colon = memchr(v.p, ':', v.len);
		/* One colon: "v4:port"; more: a bare v6 literal. */
		if (colon != NULL &&
		    memchr(colon + 1, ':', v.len - (size_t)(colon - v.p) - 1) ==
		        NULL)
			n = (size_t)(colon - v.p);
		memcpy(buf, v.p, n);
	}
	buf[n] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static void
ca_text(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)len);
	else
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)len);
}

static bool
ca_trusted(const struct cfg_listener *l, const struct sockaddr_storage *sa)
{
	return l4_cidr_any(l->trusted_proxies, l->ntrusted_proxies,
	    (const struct sockaddr *)sa);
}

void
client_addr_resolve(const struct cfg_listener *l, const struct http_msg *m,
    const struct sockaddr_storage *peer, const char *peer_text,
    struct client_addr *out)
{
	struct sockaddr_storage sa;
	struct str v, el;
	size_t i, pos, j;
	size_t n = strnlen(peer_text, sizeof(out->text) - 1);

	out->sa = *peer;
	/* A copy, not snprintf("%s"): once per request, ten times cheaper. */
	memcpy(out->text, peer_text, n);
	out->text[n] = '\0';
	out->from_xff = false;
	out->xff_hdr = -1;
	out->xff_off = 0;
	if (l == NULL || l->ntrusted_proxies == 0 || !ca_trusted(l, peer))
		return;
	/* Right to left over every X-Forwarded-For, the last one last. */
	for (i = m->nhdrs; i-- > 0;) {
		if (!str_caseeq_cstr(http_msg_hname(m, i), "x-forwarded-for"))
			continue;
		v = http_msg_hvalue(m, i);
		pos = v.len;
		for (;;) {
			for (j = pos; j > 0 && v.p[j - 1] != ','; j--)
				;
			el = str_trim(str_make(v.p + j, pos - j));
			if (el.len > 0) {
				if (client_addr_parse(el, &sa) != 0)
					return; /* the last trusted one stays */
				out->sa = sa;
				ca_text(&sa, out->text, sizeof(out->text));
				out->from_xff = true;
				out->xff_hdr = (int)i;
				out->xff_off = (size_t)(el.p - v.p);
				if (!ca_trusted(l, &sa))
					return;
			}
			if (j == 0)
				break;
			pos = j - 1;
		}
	}
}

/* ---- compile ---- */

static struct cfg_listener *
ca_listener(struct cfg *c, int64_t id)
{
	return (struct cfg_listener *)(uintptr_t)cfg_listener_by_id(c, id);
}

int
client_addr_compile(struct store *st, struct cfg *c, struct err *e)
{
	static const char sql[] =
	    "SELECT t.id, j.key, j.type, j.value, "
	    "json_array_length(t.trusted_proxies), "
	    "instr(t.trusted_proxies, '\\u0000') "
	    "FROM listeners t, json_each(t.trusted_proxies) j "
	    "WHERE t.trusted_proxies <> '[]' ORDER BY t.id, j.key";
	struct store_stmt *s;
	enum store_step_result r = STORE_ERROR;
	struct cfg_listener *l;
	size_t room;
	char path[160];
	int rc = 0;

	if ((s = store_prepare(st, sql, e)) == NULL)
		return -1;
	while (rc == 0 && (r = store_step(s, e)) == STORE_ROW) {
		if ((l = ca_listener(c, store_col_int64(s, 0))) == NULL) {
			rc =
			    err_set(e, "", "listeners changed while compiling");
			break;
		}
		snprintf(path, sizeof(path),
		    "listeners[%s].trusted_proxies[%lld]", l->name,
		    (long long)store_col_int64(s, 1));
		if (l->proto != CFG_PROTO_HTTP && l->proto != CFG_PROTO_HTTPS) {
			snprintf(path, sizeof(path),
			    "listeners[%s].trusted_proxies", l->name);
			rc = err_set(e, path,
			    "must be empty: X-Forwarded-For is read on http and "
			    "https listeners only");
			break;
		}
		if (l->trusted_proxies == NULL) {
			room = (size_t)store_col_int64(s, 4);
			l->trusted_proxies = arena_calloc(c->arena,
			    room > 0 ? room : 1, sizeof(*l->trusted_proxies));
			if (l->trusted_proxies == NULL) {
				rc = err_set(e, "",
				    "out of memory while "
				    "compiling the configuration");
				break;
			}
			l->trusted_room = room;
		}
		if (store_col_int64(s, 5) > 0 ||
		    strcmp(store_col_text(s, 2), "text") != 0 ||
		    l->ntrusted_proxies == l->trusted_room ||
		    cfg_cidr_parse(store_col_text(s, 3),
		        &l->trusted_proxies[l->ntrusted_proxies]) == -1) {
			rc = err_set(e, path,
			    "\"%.64s\" is not an address or "
			    "CIDR block",
			    store_col_text(s, 3));
			break;
		}
		l->ntrusted_proxies++;
	}
	if (rc == 0 && r != STORE_DONE)
		rc = -1;
	store_finalize(s);
	return rc;
}
