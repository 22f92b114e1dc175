-- 0003_tls.sql: TLS settings beyond the certificates table of 0001.
-- A certificate is a "leaf" (chain and private key, served by listeners
-- or presented to origins) or a "ca" (no key: verifies origins and
-- client certificates). Private keys never leave the database through
-- the API: every reader selects the columns it shows.
ALTER TABLE certificates ADD COLUMN kind TEXT NOT NULL DEFAULT 'leaf'
	CHECK (kind IN ('leaf', 'ca'));

-- Listeners: client certificates (none | optional | required), verified
-- against a stored CA certificate.
ALTER TABLE listeners ADD COLUMN client_auth TEXT NOT NULL DEFAULT 'none'
	CHECK (client_auth IN ('none', 'optional', 'required'));
ALTER TABLE listeners ADD COLUMN client_ca_id INTEGER
	REFERENCES certificates(id) ON DELETE RESTRICT;

-- Origins: TLS towards the servers. verify is on unless turned off; a
-- NULL tls_ca_id means the system trust store; a NULL tls_sni sends no
-- server name (servers are IP literals) and verifies the address.
ALTER TABLE origins ADD COLUMN tls_enabled INTEGER NOT NULL DEFAULT 0
	CHECK (tls_enabled IN (0, 1));
ALTER TABLE origins ADD COLUMN tls_verify INTEGER NOT NULL DEFAULT 1
	CHECK (tls_verify IN (0, 1));
ALTER TABLE origins ADD COLUMN tls_ca_id INTEGER
	REFERENCES certificates(id) ON DELETE RESTRICT;
ALTER TABLE origins ADD COLUMN tls_sni TEXT;
ALTER TABLE origins ADD COLUMN tls_client_certificate_id INTEGER
	REFERENCES certificates(id) ON DELETE RESTRICT;

-- Routes: redirect plain HTTP to https, and HSTS (max-age seconds; NULL:
-- no header) on https answers.
ALTER TABLE routes ADD COLUMN redirect_https INTEGER NOT NULL DEFAULT 0
	CHECK (redirect_https IN (0, 1));
ALTER TABLE routes ADD COLUMN hsts_max_age INTEGER
	CHECK (hsts_max_age >= 0);
