/*
 * tmpl.c: templates with {variables} (tmpl.h).
 */
#include "tmpl.h"

#include <stdio.h>
#include <string.h>

static const char *const tmpl_names[TMPL__VARS] = {
	[TMPL_CLIENT_IP] = "client_ip",
	[TMPL_HOST] = "host",
	[TMPL_SCHEME] = "scheme",
	[TMPL_PATH] = "path",
	[TMPL_REQUEST_ID] = "request_id",
	[TMPL_ROUTE] = "route",
	[TMPL_TLS_CLIENT_SUBJECT] = "tls_client_subject",
};

int
tmpl_var_find(const char *p, size_t n)
{
	int i;

	for (i = 0; i < TMPL__VARS; i++)
		if (strlen(tmpl_names[i]) == n &&
		    memcmp(tmpl_names[i], p, n) == 0)
			return i;
	return -1;
}

int
tmpl_check(const char *t, char *msg, size_t len)
{
	const unsigned char *p = (const unsigned char *)t;
	const char *end;

	for (; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(msg, len,
			    "must not contain CR, LF or other control "
			    "characters");
			return -1;
		}
		if (*p != '{')
			continue;
		end = strchr((const char *)p, '}');
		if (end == NULL ||
		    tmpl_var_find((const char *)p + 1,
		        (size_t)(end - (const char *)p - 1)) < 0) {
			snprintf(msg, len,
			    "\"%.40s\": unknown variable (known: {client_ip}, "
			    "{host}, {scheme}, {path}, {request_id}, {route}, "
			    "{tls_client_subject})",
			    (const char *)p);
			return -1;
		}
		p = (const unsigned char *)end;
	}
	return 0;
}

bool
tmpl_has_vars(const char *t)
{
	return strchr(t, '{') != NULL;
}

static size_t
tmpl_put(char *buf, size_t cap, size_t n, const char *p, size_t len, bool clean)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (clean && ((ch < 0x20 && ch != '\t') || ch == 0x7f))
			continue;
		if (n < cap)
			buf[n] = (char)ch;
		n++;
	}
	return n;
}

size_t
tmpl_expand(const char *t, const struct tmpl_ctx *x, char *buf, size_t cap)
{
	const char *p = t, *open, *end;
	size_t n = 0;
	int v;

	while ((open = strchr(p, '{')) != NULL &&
	    (end = strchr(open, '}')) != NULL) {
		n = tmpl_put(buf, cap, n, p, (size_t)(open - p), false);
		v = tmpl_var_find(open + 1, (size_t)(end - open - 1));
		if (v >= 0)
			n = tmpl_put(buf, cap, n, x->v[v].p, x->v[v].len, true);
		else
			n = tmpl_put(buf, cap, n, open,
			    (size_t)(end - open + 1), false);
		p = end + 1;
	}
	return tmpl_put(buf, cap, n, p, strlen(p), false);
}
