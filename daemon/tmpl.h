/*
 * tmpl.h: values with {variables}, for redirects and header rules.
 *
 * A template is text of one line in which "{name}" stands for a value of
 * the request: {client_ip}, {host}, {scheme}, {path}, {request_id},
 * {route}, {tls_client_subject}. The configuration check (cfg_value.c,
 * CV_TEMPLATE) refuses any other "{" and any control character, so a
 * template expands to one line; the values put in are cleaned of control
 * characters too (a certificate subject can hold anything).
 */
#ifndef GH_TMPL_H
#define GH_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

enum tmpl_var {
	TMPL_CLIENT_IP = 0,
	TMPL_HOST,
	TMPL_SCHEME,
	TMPL_PATH,
	TMPL_REQUEST_ID,
	TMPL_ROUTE,
	TMPL_TLS_CLIENT_SUBJECT,
	TMPL__VARS,
};

/* The values of one request, by enum tmpl_var. */
struct tmpl_ctx {
	struct str v[TMPL__VARS];
};

/* The variable named by p[0..n) (without braces), or -1. */
int tmpl_var_find(const char *p, size_t n);

/* Checks template <t>: 0, or -1 with a message in <msg>. */
int tmpl_check(const char *t, char *msg, size_t len);

/* Does <t> hold a variable? */
bool tmpl_has_vars(const char *t);

/* Expands <t> into buf[0..cap) and returns the length it needs; a result
 * above <cap> means it did not fit (the bytes written are cut short).
 */
size_t tmpl_expand(const char *t, const struct tmpl_ctx *x, char *buf,
    size_t cap);

#endif
