/*
 * proxy_proto.h: the PROXY protocol (HAProxy's proxy-protocol.txt),
 * versions 1 (text) and 2 (binary), for TCP over IPv4 and IPv6.
 *
 * proxy_proto_encode() writes the header gatehoused sends first on an
 * origin connection, so the origin learns the real client address.
 * proxy_proto_decode() reads one from a client connection on a listener
 * that trusts the peer to send it (a load balancer in front of us). Both
 * are pure functions: no allocation, no I/O.
 */
#ifndef GH_PROXY_PROTO_H
#define GH_PROXY_PROTO_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_PROTO_V1_MAX  107        /* longest v1 line, CRLF included */
#define PROXY_PROTO_V2_MAX  (16 + 536) /* longest v2 header we accept */
#define PROXY_PROTO_ENC_MAX 108        /* longest header encode writes */

enum proxy_proto_status {
	PROXY_PROTO_OK = 0,
	PROXY_PROTO_MORE = 1, /* a prefix of a valid header */
	PROXY_PROTO_BAD = -1, /* not a PROXY header, or malformed */
};

struct proxy_proto_info {
	unsigned version; /* 1 or 2 */
	size_t len;       /* header bytes to consume */
	bool local;       /* no address: v2 LOCAL, v1 UNKNOWN, AF_UNSPEC */
	struct sockaddr_storage src, dst; /* when !local */
	socklen_t srclen, dstlen;
	const char *error; /* static text when BAD */
};

/* Writes a version <version> (1 or 2) header for a TCP connection from
 * <src> to <dst> into <out> (PROXY_PROTO_ENC_MAX bytes at least). Mixed
 * families, or families other than AF_INET/AF_INET6, are sent as
 * "UNKNOWN" (v1) or LOCAL (v2). Returns the header length. Thread: any.
 */
size_t proxy_proto_encode(unsigned version, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *out);

/* Parses the header at the start of the <len> bytes in <buf>: OK with
 * <pi> filled (pi->len bytes belong to it), MORE, or BAD with pi->error.
 * Either version is accepted. Thread: any.
 */
enum proxy_proto_status proxy_proto_decode(const uint8_t *buf, size_t len,
    struct proxy_proto_info *pi);

#endif
