/*
 * proxy_proto.c: PROXY protocol v1/v2 headers, written and read.
 *
 * Decoding is strict where the specification is: v1 is one line of at
 * most 107 bytes with single spaces, decimal ports without leading zeros
 * and addresses inet_pton() accepts; v2 has the 12-byte signature,
 * version 2, command LOCAL or PROXY and an address block at least as long
 * as its family needs. TLVs after the addresses are skipped (the length
 * covers them). Anything else is BAD, and the caller closes the
 * connection: a listener that expects the header never guesses.
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

static const uint8_t pp2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a,
	0x51, 0x55, 0x49, 0x54, 0x0a };

static size_t
pp_v1(const struct sockaddr *src, const struct sockaddr *dst, uint8_t *out)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int n;

	if (src->sa_family != dst->sa_family ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6)) {
		memcpy(out, "PROXY UNKNOWN\r\n", 15);
		return 15;
	}
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &d->sin_addr, b, sizeof(b));
		n = snprintf((char *)out, PROXY_PROTO_ENC_MAX,
		    "PROXY TCP4 %s %s %u %u\r\n", a, b, ntohs(s->sin_port),
		    ntohs(d->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		inet_ntop(AF_INET6, &d->sin6_addr, b, sizeof(b));
		n = snprintf((char *)out, PROXY_PROTO_ENC_MAX,
		    "PROXY TCP6 %s %s %u %u\r\n", a, b, ntohs(s->sin6_port),
		    ntohs(d->sin6_port));
	}
	return n > 0 ? (size_t)n : 0;
}

static size_t
pp_v2(const struct sockaddr *src, const struct sockaddr *dst, uint8_t *out)
{
	size_t alen;

	memcpy(out, pp2_sig, sizeof(pp2_sig));
	if (src->sa_family != dst->sa_family ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6)) {
		out[12] = 0x20; /* version 2, LOCAL */
		out[13] = 0x00; /* AF_UNSPEC */
		out[14] = out[15] = 0;
		return 16;
	}
	out[12] = 0x21; /* version 2, PROXY */
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		out[13] = 0x11; /* TCP over IPv4 */
		memcpy(out + 16, &s->sin_addr, 4);
		memcpy(out + 20, &d->sin_addr, 4);
		memcpy(out + 24, &s->sin_port, 2);
		memcpy(out + 26, &d->sin_port, 2);
		alen = 12;
	} else {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		out[13] = 0x21; /* TCP over IPv6 */
		memcpy(out + 16, &s->sin6_addr, 16);
		memcpy(out + 32, &d->sin6_addr, 16);
		memcpy(out + 48, &s->sin6_port, 2);
		memcpy(out + 50, &d->sin6_port, 2);
		alen = 36;
	}
	out[14] = 0;
	out[15] = (uint8_t)alen;
	return 16 + alen;
}

size_t
proxy_proto_encode(unsigned version, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *out)
{
	return version == 1 ? pp_v1(src, dst, out) : pp_v2(src, dst, out);
}

static enum proxy_proto_status
pp_bad(struct proxy_proto_info *pi, const char *why)
{
	pi->error = why;
	return PROXY_PROTO_BAD;
}

/* A decimal port, 0..65535, no sign, no leading zero. */
static int
pp_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
pp_v1_addr(int family, const char *a, const char *p,
    struct sockaddr_storage *ss, socklen_t *len)
{
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (pp_port(p, &port) == -1)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, a, &s->sin_addr) != 1)
			return -1;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, a, &s->sin6_addr) != 1)
			return -1;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		*len = sizeof(*s);
	}
	return 0;
}

static enum proxy_proto_status
pp_decode_v1(const uint8_t *buf, size_t len, struct proxy_proto_info *pi)
{
	char line[PROXY_PROTO_V1_MAX + 1], *f[7], *save = NULL, *t;
	size_t i, n = 0, end = 0;
	int family;

	for (i = 0; i < len && i < PROXY_PROTO_V1_MAX; i++)
		if (buf[i] == '\n') {
			end = i + 1;
			break;
		}
	if (end == 0)
		return len < PROXY_PROTO_V1_MAX
		    ? PROXY_PROTO_MORE
		    : pp_bad(pi, "PROXY v1 line too long");
	if (end < 2 || buf[end - 2] != '\r')
		return pp_bad(pi, "PROXY v1 line does not end in CRLF");
	for (i = 0; i < end - 2; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return pp_bad(pi, "PROXY v1 line holds a control byte");
	memcpy(line, buf, end - 2);
	line[end - 2] = '\0';
	pi->version = 1;
	pi->len = end;
	if (strstr(line, "  ") != NULL || line[end - 3] == ' ')
		return pp_bad(pi, "PROXY v1 fields must be one space apart");
	for (t = strtok_r(line, " ", &save); t != NULL && n < 7;
	     t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (t != NULL || n < 2 || strcmp(f[0], "PROXY") != 0)
		return pp_bad(pi, "malformed PROXY v1 line");
	if (strcmp(f[1], "UNKNOWN") == 0) {
		pi->local = true; /* the rest of the line is ignored */
		return PROXY_PROTO_OK;
	}
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else
		return pp_bad(pi, "unknown PROXY v1 protocol");
	if (n != 6)
		return pp_bad(pi,
		    "PROXY v1 line needs four addresses and ports");
	if (pp_v1_addr(family, f[2], f[4], &pi->src, &pi->srclen) == -1 ||
	    pp_v1_addr(family, f[3], f[5], &pi->dst, &pi->dstlen) == -1)
		return pp_bad(pi, "bad address or port in PROXY v1 line");
	return PROXY_PROTO_OK;
}

static enum proxy_proto_status
pp_decode_v2(const uint8_t *buf, size_t len, struct proxy_proto_info *pi)
{
	size_t alen;
	uint8_t cmd, fam;

	if (len < 16)
		return PROXY_PROTO_MORE;
	if ((buf[12] >> 4) != 2)
		return pp_bad(pi, "PROXY v2 header with an unknown version");
	cmd = buf[12] & 0x0f;
	if (cmd > 1)
		return pp_bad(pi, "PROXY v2 header with an unknown command");
	fam = buf[13];
	alen = (size_t)buf[14] << 8 | buf[15];
	if (16 + alen > PROXY_PROTO_V2_MAX)
		return pp_bad(pi, "PROXY v2 header too long");
	if (len < 16 + alen)
		return PROXY_PROTO_MORE;
	pi->version = 2;
	pi->len = 16 + alen;
	if (cmd == 0 || fam == 0x00) {
		pi->local = true; /* health checks of the balancer, etc. */
		return PROXY_PROTO_OK;
	}
	if (fam == 0x11 || fam == 0x12) { /* TCP or UDP over IPv4 */
		struct sockaddr_in *s = (struct sockaddr_in *)&pi->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&pi->dst;

		if (alen < 12)
			return pp_bad(pi,
			    "PROXY v2 IPv4 address block too short");
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, buf + 16, 4);
		memcpy(&d->sin_addr, buf + 20, 4);
		memcpy(&s->sin_port, buf + 24, 2);
		memcpy(&d->sin_port, buf + 26, 2);
		pi->srclen = pi->dstlen = sizeof(*s);
		return PROXY_PROTO_OK;
	}
	if (fam == 0x21 || fam == 0x22) { /* TCP or UDP over IPv6 */
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&pi->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&pi->dst;

		if (alen < 36)
			return pp_bad(pi,
			    "PROXY v2 IPv6 address block too short");
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, buf + 16, 16);
		memcpy(&d->sin6_addr, buf + 32, 16);
		memcpy(&s->sin6_port, buf + 48, 2);
		memcpy(&d->sin6_port, buf + 50, 2);
		pi->srclen = pi->dstlen = sizeof(*s);
		return PROXY_PROTO_OK;
	}
	/* AF_UNIX and unknown families: the connection is accepted, the
	 * address is not usable.
	 */
	pi->local = true;
	return PROXY_PROTO_OK;
}

enum proxy_proto_status
proxy_proto_decode(const uint8_t *buf, size_t len, struct proxy_proto_info *pi)
{
	static const char v1[6] = "PROXY ";
	size_t n;

	memset(pi, 0, sizeof(*pi));
	if (len == 0)
		return PROXY_PROTO_MORE;
	if (buf[0] == pp2_sig[0]) {
		n = len < sizeof(pp2_sig) ? len : sizeof(pp2_sig);
		if (memcmp(buf, pp2_sig, n) != 0)
			return pp_bad(pi, "not a PROXY protocol header");
		return pp_decode_v2(buf, len, pi);
	}
	n = len < sizeof(v1) ? len : sizeof(v1);
	if (memcmp(buf, v1, n) != 0)
		return pp_bad(pi, "not a PROXY protocol header");
	if (len < sizeof(v1))
		return PROXY_PROTO_MORE;
	return pp_decode_v1(buf, len, pi);
}
