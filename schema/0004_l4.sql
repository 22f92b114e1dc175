-- 0004_l4.sql: Layer 4 (tcp, udp, tls-passthrough) and the PROXY protocol.
-- Lists are JSON arrays of strings, like routes.hosts.

-- Listeners: the most client connections (tcp, tls-passthrough) or UDP
-- sessions open at once across all workers (NULL: no limit), and the
-- client addresses trusted to start a connection with a PROXY protocol
-- header (CIDRs such as "10.0.0.0/8"; empty: nobody, the header is not
-- read). A listener that trusts a CIDR requires the header from it.
ALTER TABLE listeners ADD COLUMN max_connections INTEGER
	CHECK (max_connections > 0);
ALTER TABLE listeners ADD COLUMN proxy_protocol_from TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(proxy_protocol_from) AND json_type(proxy_protocol_from) = 'array');

-- Routes: TLS server names (SNI) a tls-passthrough route accepts, exact or
-- "*.suffix", and client source CIDRs (empty: any source).
ALTER TABLE routes ADD COLUMN sni TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(sni) AND json_type(sni) = 'array');
ALTER TABLE routes ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'
	CHECK (json_valid(sources) AND json_type(sources) = 'array');

-- Origins: PROXY protocol header sent first on every L4 connection to the
-- origin's servers: 0 none, 1 text (v1), 2 binary (v2).
ALTER TABLE origins ADD COLUMN proxy_protocol INTEGER NOT NULL DEFAULT 0
	CHECK (proxy_protocol IN (0, 1, 2));
