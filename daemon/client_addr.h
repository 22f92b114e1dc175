/*
 * client_addr.h: the address a request comes from, behind trusted proxies.
 *
 * A listener's trusted_proxies (CIDR blocks) names the CDNs and load
 * balancers in front of it. When the connection's peer (or the address a
 * PROXY protocol header named) is one of them, the client is the
 * right-most X-Forwarded-For entry that is not; entries left of it were
 * written by the client and are not believed. Without trusted proxies, or
 * from a peer that is not one, the client is the peer and every
 * X-Forwarded-For it sent is ignored. Access lists, rate limits, the
 * access log and the X-Forwarded-For sent to the origin use the result.
 * client_addr_resolve() is a pure function of the head and the peer.
 */
#ifndef GH_CLIENT_ADDR_H
#define GH_CLIENT_ADDR_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "http_msg.h"

struct client_addr {
	struct sockaddr_storage sa; /* the client: port 0 when from XFF */
	char text[INET6_ADDRSTRLEN];
	bool from_xff; /* taken from X-Forwarded-For, not the peer */
	/* X-Forwarded-For kept for the origin: from header <xff_hdr> (an
	 * index into the head's headers), byte <xff_off> of its value, to
	 * the end of the last X-Forwarded-For; xff_hdr -1: none kept.
	 */
	int xff_hdr;
	size_t xff_off;
};

/* Resolves the client of the request <m> from peer <peer> (text
 * <peer_text>) on listener <l> into <out>. Never fails: anything it
 * cannot read ends the walk at the last address it trusted.
 */
void client_addr_resolve(const struct cfg_listener *l, const struct http_msg *m,
    const struct sockaddr_storage *peer, const char *peer_text,
    struct client_addr *out);

/* Parses one X-Forwarded-For element ("192.0.2.1", "192.0.2.1:80",
 * "2001:db8::1", "[2001:db8::1]:443") into <sa>. 0 or -1.
 */
int client_addr_parse(struct str v, struct sockaddr_storage *sa);

struct store;
/* The compile's part (cfg_compile() calls it after the listeners): reads
 * every listener's trusted_proxies into the snapshot <c>. 0, or -1 with
 * <e> naming the listener and element.
 */
int client_addr_compile(struct store *st, struct cfg *c, struct err *e);

#endif
