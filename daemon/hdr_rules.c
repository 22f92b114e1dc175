/*
 * hdr_rules.c: header rules (hdr_rules.h).
 */
#include "hdr_rules.h"

#include <sys/random.h>

#include <stdint.h>
#include <string.h>

bool
hdr_rules_drops(const struct hdr_rules *r, struct str name)
{
	size_t i;

	for (i = 0; i < r->ndrop; i++)
		if (str_caseeq(r->drop[i].name, name))
			return true;
	return false;
}

static size_t
put(char *buf, size_t cap, size_t n, const char *p, size_t len)
{
	if (len > 0 && n + len <= cap)
		memcpy(buf + n, p, len);
	return n + len;
}

size_t
hdr_rules_write(const struct hdr_rules *r, const struct tmpl_ctx *x, char *buf,
    size_t cap)
{
	const struct hdr_rule *h;
	size_t i, n = 0;

	for (i = 0; i < r->nput; i++) {
		h = &r->put[i];
		n = put(buf, cap, n, h->name.p, h->name.len);
		n = put(buf, cap, n, ": ", 2);
		if (h->vars)
			n += tmpl_expand(h->value, x, n < cap ? buf + n : NULL,
			    n < cap ? cap - n : 0);
		else
			n = put(buf, cap, n, h->value, strlen(h->value));
		n = put(buf, cap, n, "\r\n", 2);
	}
	return n;
}

bool
hdr_rules_request_id_ok(struct str v)
{
	size_t i;

	if (v.len == 0 || v.len > 200)
		return false;
	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] <= 0x20 ||
		    (unsigned char)v.p[i] >= 0x7f)
			return false;
	return true;
}

/* xorshift64* per thread, seeded from getrandom(2) once: ids need to be
 * unique, not secret.
 */
static _Thread_local uint64_t rid_state;

void
hdr_rules_request_id_new(char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v;
	int i, j;

	if (rid_state == 0 &&
	    (getrandom(&rid_state, sizeof(rid_state), 0) !=
	            (ssize_t)sizeof(rid_state) ||
	        rid_state == 0))
		rid_state = (uint64_t)(uintptr_t)out | 1;
	for (j = 0; j < 2; j++) {
		rid_state ^= rid_state >> 12;
		rid_state ^= rid_state << 25;
		rid_state ^= rid_state >> 27;
		v = rid_state * UINT64_C(2685821657736338717);
		for (i = 0; i < 16; i++)
			out[j * 16 + i] = hex[(v >> (60 - 4 * i)) & 15];
	}
	out[32] = '\0';
}
