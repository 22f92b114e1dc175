-- 0001_init.sql: the first schema. Never edit once released; add 0002_*.sql.
-- Every object has a stable INTEGER PRIMARY KEY: runtime state (health,
-- counters, pools) is keyed by it. Names are unique and user-chosen.

CREATE TABLE certificates (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	certificate_pem TEXT NOT NULL,
	private_key_pem BLOB,              -- NULL for a CA certificate
	created_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE listeners (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	address TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
	protocol TEXT NOT NULL DEFAULT 'http'
		CHECK (protocol IN ('http', 'https', 'tcp', 'udp', 'tls-passthrough')),
	header_timeout_ms INTEGER CHECK (header_timeout_ms > 0),
	keepalive_timeout_ms INTEGER CHECK (keepalive_timeout_ms >= 0),
	trust_forwarded INTEGER NOT NULL DEFAULT 0 CHECK (trust_forwarded IN (0, 1)),
	default_certificate_id INTEGER REFERENCES certificates(id) ON DELETE RESTRICT
) STRICT;

CREATE TABLE origins (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	balance TEXT NOT NULL DEFAULT 'round_robin' CHECK (balance IN ('round_robin'))
) STRICT;

CREATE TABLE servers (
	id INTEGER PRIMARY KEY,
	origin_id INTEGER NOT NULL REFERENCES origins(id) ON DELETE CASCADE,
	address TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	weight INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
	position INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX servers_origin ON servers(origin_id, position);

CREATE TABLE routes (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE RESTRICT,
	origin_id INTEGER NOT NULL REFERENCES origins(id) ON DELETE RESTRICT,
	priority INTEGER NOT NULL DEFAULT 0,
	hosts TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(hosts) AND json_type(hosts) = 'array'),
	path_prefix TEXT NOT NULL DEFAULT '/' CHECK (substr(path_prefix, 1, 1) = '/'),
	methods TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(methods) AND json_type(methods) = 'array'),
	forwarded INTEGER NOT NULL DEFAULT 0 CHECK (forwarded IN (0, 1)),
	max_body_bytes INTEGER CHECK (max_body_bytes >= 0),
	connect_timeout_ms INTEGER CHECK (connect_timeout_ms > 0),
	response_timeout_ms INTEGER CHECK (response_timeout_ms > 0),
	idle_timeout_ms INTEGER CHECK (idle_timeout_ms > 0)
) STRICT;
CREATE INDEX routes_listener ON routes(listener_id);
CREATE INDEX routes_origin ON routes(origin_id);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	password_hash TEXT NOT NULL,       -- argon2id encoded string
	role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'viewer')),
	created_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE revisions (
	id INTEGER PRIMARY KEY,            -- the revision number
	created_at INTEGER NOT NULL DEFAULT (unixepoch()),
	actor TEXT NOT NULL,
	client TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config))
) STRICT;
