/*
 * cfg_value.c: the value types of the configuration (see cfg_value.h).
 */
#include "cfg_value.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "tmpl.h"

#define CV_SHOWN 100 /* longest user value quoted in a message */

bool
cv_is_dns_name(const char *p, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > CV_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		        (p[i] >= 'A' && p[i] <= 'Z') ||
		        (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return false;
		if ((p[i] == '-' && label == 0) || ++label > 63)
			return false;
	}
	return label > 0 && p[len - 1] != '-';
}

static bool
cv_is_v6(const char *p, size_t len)
{
	char v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;

	if (len == 0 || len >= sizeof(v6))
		return false;
	memcpy(v6, p, len);
	v6[len] = '\0';
	return inet_pton(AF_INET6, v6, &a6) == 1;
}

/* A host: "app.example" (a trailing dot allowed), "*.example" when
 * <wild>, or an IPv6 literal with or without brackets.
 */
static bool
cv_is_host(const char *h, bool wild)
{
	size_t len = strlen(h);

	if (len == 0 || len > CV_HOST_MAX + 1)
		return false;
	if (h[0] == '[')
		return len > 2 && h[len - 1] == ']' && cv_is_v6(h + 1, len - 2);
	if (strchr(h, ':') != NULL)
		return cv_is_v6(h, len);
	if (wild && len > 2 && h[0] == '*' && h[1] == '.') {
		h += 2;
		len -= 2;
	}
	if (len > 1 && h[len - 1] == '.')
		len--;
	return cv_is_dns_name(h, len);
}

static int
cv_name(const char *n, const char *extra, char *msg, size_t len)
{
	const char *p;
	bool digits = true;

	if (n[0] == '\0' || strlen(n) > CV_NAME_MAX) {
		snprintf(msg, len, "must be 1 to %d characters", CV_NAME_MAX);
		return -1;
	}
	for (p = n; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') ||
		        (p != n && strchr(extra, *p) != NULL))) {
			snprintf(msg, len,
			    "\"%.64s\": use letters, digits, %s starting with a letter or digit",
			    n,
			    strchr(extra, '@') != NULL ? "'.', '_', '@', '-',"
			                               : "'.', '_', '-',");
			return -1;
		}
		if (*p < '0' || *p > '9')
			digits = false;
	}
	if (digits) {
		snprintf(msg, len, "\"%.64s\" must not be all digits (ids are)",
		    n);
		return -1;
	}
	return 0;
}

static int
cv_path(const char *p, bool prefix, char *msg, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;

	if (p[0] != '/' || strlen(p) > CV_PATH_MAX) {
		snprintf(msg, len,
		    "\"%.*s\" must start with '/' (at most %d characters)",
		    CV_SHOWN, p, CV_PATH_MAX);
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s <= 0x20 || *s == 0x7f || (!prefix && *s > 0x7f) ||
		    (prefix && (*s == '?' || *s == '#'))) {
			snprintf(msg, len, "must not contain %s",
			    prefix
			        ? "whitespace, control characters, '?' or '#'"
			        : "whitespace, control characters or non-ASCII");
			return -1;
		}
	}
	return 0;
}

/* Realms go into a quoted-string of WWW-Authenticate; hashes are the
 * crypt(3) alphabet and the argon2 encoding's.
 */
#define CV_REALM_CHARS                                                    \
	" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`" \
	"abcdefghijklmnopqrstuvwxyz{|}~"
#define CV_TOKEN_CHARS                                                        \
	"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop" \
	"qrstuvwxyz"
#define CV_HASH_CHARS                                                      \
	"$./0123456789=,+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv" \
	"wxyz"
/* Headers the proxy owns: hop-by-hop (RFC 9110 7.6.1), framing, and what
 * rewrite.c sets itself.
 */
static bool
cv_header_owned(const char *v)
{
	static const char *const owned[] = { "connection", "keep-alive",
		"proxy-connection", "te", "trailer", "transfer-encoding",
		"upgrade", "content-length", "host", "proxy-authorization",
		"proxy-authenticate", "forwarded", "x-forwarded-for",
		"x-forwarded-proto", "x-forwarded-host",
		"x-client-cert-subject", "x-client-cert-fingerprint" };
	size_t i;

	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strcasecmp(owned[i], v) == 0)
			return true;
	return false;
}

/* "client_ip", "path", "header:NAME" or "cookie:NAME" with NAME an
 * HTTP token (RFC 9110 5.6.2).
 */
static bool
cv_is_hash_key(const char *v)
{
	const char *name;

	if (strcmp(v, "client_ip") == 0 || strcmp(v, "path") == 0)
		return true;
	if (strncmp(v, "header:", 7) == 0)
		name = v + 7;
	else if (strncmp(v, "cookie:", 7) == 0)
		name = v + 7;
	else
		return false;
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) &&
		    strchr("!#$%&'*+-.^_`|~", *name) == NULL)
			return false;
	return true;
}

/* "text/html", or a type, '/' and '*' for all of its subtypes: tokens of
 * RFC 9110, without parameters. "* / *" is refused: compressing every
 * type would compress images and archives too.
 */
static bool
cv_is_media_range(const char *v)
{
	size_t t = strspn(v, CV_TOKEN_CHARS);

	if (t == 0 || v[t] != '/' || memchr(v, '*', t) != NULL)
		return false;
	v += t + 1;
	if (strcmp(v, "*") == 0)
		return true;
	t = strspn(v, CV_TOKEN_CHARS);
	return t > 0 && v[t] == '\0' && strchr(v, '*') == NULL;
}

int
cv_check(enum cv_type type, const char *v, char *msg, size_t len)
{
	unsigned char buf[16];
	struct cfg_cidr c;
	size_t n = strlen(v);
	bool ok = true;

	switch (type) {
	case CV_NAME:
		return cv_name(v, "._-", msg, len);
	case CV_USER_NAME:
		return cv_name(v, "._@-", msg, len);
	case CV_PATH_PREFIX:
		return cv_path(v, true, msg, len);
	case CV_REQUEST_PATH:
		return cv_path(v, false, msg, len);
	case CV_HASH_KEY:
		ok = cv_is_hash_key(v);
		break;
	case CV_ADDRESS:
		ok = inet_pton(AF_INET, v, buf) == 1 ||
		    inet_pton(AF_INET6, v, buf) == 1;
		break;
	case CV_HOST:
		ok = cv_is_host(v, true);
		break;
	case CV_HOST_HEADER:
		ok = cv_is_host(v, false);
		break;
	case CV_SERVER_NAME:
		ok = cv_is_dns_name(v, n > 1 && v[n - 1] == '.' ? n - 1 : n);
		break;
	case CV_SNI_PATTERN:
		ok = n > 2 && v[0] == '*' && v[1] == '.'
		    ? cv_is_dns_name(v + 2, n - 2)
		    : cv_is_dns_name(v, n);
		break;
	case CV_CIDR:
		ok = cfg_cidr_parse(v, &c) == 0;
		break;
	case CV_REALM:
		ok = n > 0 && strspn(v, CV_REALM_CHARS) == n;
		break;
	case CV_RATE_KEY:
		ok = strcmp(v, "client_ip") == 0 || strcmp(v, "route") == 0 ||
		    (strncmp(v, "header:", 7) == 0 && n > 7 &&
		        strspn(v + 7, CV_TOKEN_CHARS) == n - 7);
		break;
	case CV_CRYPT_HASH:
		ok = (strncmp(v, "$argon2id$", 10) == 0 ||
		         strncmp(v, "$2b$", 4) == 0 ||
		         strncmp(v, "$6$", 3) == 0 ||
		         strncmp(v, "$y$", 3) == 0) &&
		    strspn(v, CV_HASH_CHARS) == n;
		break;
	case CV_LINE:
		for (; *v != '\0'; v++)
			if (((unsigned char)*v < 0x20 && *v != '\t') ||
			    *v == 0x7f) {
				snprintf(msg, len,
				    "must not contain CR, LF or other control "
				    "characters");
				return -1;
			}
		return 0;
	case CV_TEMPLATE:
		return tmpl_check(v, msg, len);
	case CV_ERROR_STATUS:
		ok = n == 3 && strspn(v, "0123456789") == 3 && v[0] >= '4' &&
		    v[0] <= '5';
		break;
	case CV_MEDIA_RANGE:
		ok = cv_is_media_range(v);
		break;
	case CV_HEADER_SETTABLE:
		if (cv_header_owned(v)) {
			snprintf(msg, len,
			    "\"%.*s\" cannot be set: hop-by-hop, framing or set "
			    "by the proxy itself",
			    CV_SHOWN, v);
			return -1;
		}
		/* FALLTHROUGH */
	case CV_HEADER_NAME:
		ok = n > 0 &&
		    strspn(v,
		        "!#$%&'*+-.^_`|~0123456789"
		        "abcdefghijklmnopqrstuvwxyz"
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
		break;
	default:
		break;
	}
	if (!ok)
		snprintf(msg, len, "\"%.*s\" is not %s", CV_SHOWN, v,
		    cv_describe(type));
	return ok ? 0 : -1;
}

const char *
cv_describe(enum cv_type type)
{
	switch (type) {
	case CV_NAME:
		return "a name (letters, digits, '.', '_', '-')";
	case CV_USER_NAME:
		return "a name (letters, digits, '.', '_', '@', '-')";
	case CV_ADDRESS:
		return "a numeric IPv4 or IPv6 address";
	case CV_HOST:
		return "a host name";
	case CV_HOST_HEADER:
		return "a host name";
	case CV_SERVER_NAME:
		return "a server name";
	case CV_SNI_PATTERN:
		return "a server name";
	case CV_CIDR:
		return "an address or CIDR block";
	case CV_RATE_KEY:
		return "client_ip, route or header:NAME";
	case CV_REALM:
		return "a realm (printable ASCII, no '\"' or '\\')";
	case CV_CRYPT_HASH:
		return "an argon2id, bcrypt ($2b$), SHA-512 ($6$) or yescrypt "
		       "($y$) hash";
	case CV_PATH_PREFIX:
		return "a path prefix";
	case CV_REQUEST_PATH:
		return "a request path";
	case CV_LINE:
		return "one line of text";
	case CV_TEMPLATE:
		return "one line of text with {variables}";
	case CV_ERROR_STATUS:
		return "a status code from 400 to 599";
	case CV_MEDIA_RANGE:
		return "a media type (\"text/html\") or range (\"text/*\")";
	case CV_HEADER_NAME:
	case CV_HEADER_SETTABLE:
		return "a header name";
	case CV_HASH_KEY:
		return "client_ip, header:NAME, cookie:NAME or path";
	default:
		return "a string";
	}
}

const char *
cv_pattern(enum cv_type type)
{
	switch (type) {
	case CV_NAME:
		return "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
	case CV_USER_NAME:
		return "^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$";
	case CV_PATH_PREFIX:
		return "^/[^\\u0000-\\u0020\\u007f?#]*$";
	case CV_REQUEST_PATH:
		return "^/[\\u0021-\\u007e]*$";
	case CV_HEADER_NAME:
	case CV_HEADER_SETTABLE:
		return "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
	case CV_MEDIA_RANGE:
		return "^[!#$%&'+.^_`|~0-9A-Za-z-]+/"
		       "([!#$%&'+.^_`|~0-9A-Za-z-]+|\\*)$";
	case CV_HASH_KEY:
		return "^(client_ip|path|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"
		       "cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";
	default:
		return NULL;
	}
}

/* "10.0.0.0/8", "2001:db8::/32", or one address (a full-length prefix). */
int
cfg_cidr_parse(const char *s, struct cfg_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long bits = 0, max, i;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL) {
		if (slash[1] == '\0' || strlen(slash + 1) > 3 ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return -1;
		for (bits = 0, i = 1; slash[i] != '\0'; i++) {
			if (slash[i] < '0' || slash[i] > '9')
				return -1;
			bits = bits * 10 + (unsigned long)(slash[i] - '0');
		}
		if (bits > max)
			return -1;
	}
	out->prefix = (unsigned)bits;
	/* Host bits set ("10.1.2.3/8") are cleared, as most tools do. */
	for (i = 0; i < max / 8; i++) {
		if (i * 8 >= bits)
			out->addr[i] = 0;
		else if (i * 8 + 8 > bits)
			out->addr[i] &= (uint8_t)(0xff00u >> (bits - i * 8));
	}
	return 0;
}
