/*
 * cfg_value.h: one validator per configuration value type.
 *
 * The admin API (when it checks a request) and cfg_compile() (when it
 * reads rows) both call these, so they cannot disagree about what a name,
 * a host name or a CIDR block is. Each check returns 0, or -1 with a
 * message for the user in <msg> ("\"a..b\" is not a host name"); the
 * caller adds the field path.
 */
#ifndef GH_CFG_VALUE_H
#define GH_CFG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum cv_type {
	CV_ANY = 0,      /* any string */
	CV_NAME,         /* object name: [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
	CV_USER_NAME,    /* user or token name: CV_NAME and '@' */
	CV_ADDRESS,      /* numeric IPv4 or IPv6 literal */
	CV_HOST,         /* Host match: name, "*.suffix", IPv6 literal */
	CV_HOST_HEADER,  /* Host header value: name or IP literal */
	CV_SERVER_NAME,  /* TLS server name: a DNS name */
	CV_SNI_PATTERN,  /* TLS server name match: name or "*.suffix" */
	CV_CIDR,         /* "10.0.0.0/8", "2001:db8::/32", or one address */
	CV_PATH_PREFIX,  /* "/api": no spaces, controls, '?' or '#' */
	CV_REQUEST_PATH, /* "/healthz?x=1": no spaces or controls */
	CV_REALM,        /* basic auth realm: printable ASCII but '"', '\\' */
	CV_CRYPT_HASH,   /* "$argon2id$...", crypt(3) "$2b$", "$6$", "$y$" */
	CV_RATE_KEY,     /* client_ip, route, header:NAME */
	CV_LINE,         /* one line of text: no control characters */
	CV_TEMPLATE,     /* CV_LINE with {variables} (tmpl.h) */
	CV_HEADER_NAME,  /* an HTTP field name (RFC 9110 token) */
	CV_HEADER_SETTABLE, /* CV_HEADER_NAME the proxy does not own */
	CV_HASH_KEY,        /* client_ip, header:NAME, cookie:NAME, path */
	CV_ERROR_STATUS,    /* "400" to "599" */
	CV_MEDIA_RANGE,     /* "text/html", or a whole type: "text/" "*" */
	CV__TYPES,
};

#define CV_NAME_MAX 64
#define CV_PATH_MAX 1024
#define CV_HOST_MAX 253

/* Checks <v> as a value of <type>. 0, or -1 with <msg> filled. */
int cv_check(enum cv_type type, const char *v, char *msg, size_t len);

/* The JSON Schema "pattern" of <type> for the OpenAPI document, or NULL
 * when the type has none that says it exactly.
 */
const char *cv_pattern(enum cv_type type);
/* Words for the OpenAPI description: "a host name or *.suffix". */
const char *cv_describe(enum cv_type type);

/* "app.example" style DNS name of LDH labels, <len> bytes. */
bool cv_is_dns_name(const char *p, size_t len);

#endif
