-- 0036_forward_auth.sql: a route's forward auth (the Authelia, Authentik,
-- oauth2-proxy convention): a subrequest to the origin forward_auth_origin_id
-- at forward_auth_path decides each request; forward_auth_copy_headers
-- (a JSON array of header names) are copied from its 2xx answer to the
-- request sent on. All three NULL: none.
ALTER TABLE routes ADD COLUMN forward_auth_origin_id INTEGER REFERENCES origins(id) ON DELETE RESTRICT;
ALTER TABLE routes ADD COLUMN forward_auth_path TEXT
	CHECK (forward_auth_path IS NULL OR substr(forward_auth_path, 1, 1) = '/');
ALTER TABLE routes ADD COLUMN forward_auth_copy_headers TEXT
	CHECK (forward_auth_copy_headers IS NULL OR (json_valid(forward_auth_copy_headers) AND json_type(forward_auth_copy_headers) = 'array'));
CREATE INDEX routes_forward_auth_origin ON routes(forward_auth_origin_id);
