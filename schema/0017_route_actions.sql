-- 0017_route_actions.sql: routes that answer by themselves (a redirect or
-- a fixed response) and need no origin, and the path prefix rewrite.
--
-- routes.origin_id loses its NOT NULL: the constraint is dropped by editing
-- the table's stored definition (SQLite's documented way for a change that
-- leaves the stored rows valid as they are), so the table keeps every
-- column other migrations added.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
	'origin_id INTEGER NOT NULL REFERENCES origins(id) ON DELETE RESTRICT',
	'origin_id INTEGER REFERENCES origins(id) ON DELETE RESTRICT')
	WHERE type = 'table' AND name = 'routes';
PRAGMA writable_schema = RESET;
ALTER TABLE routes ADD COLUMN redirect_to TEXT
	CHECK (redirect_to IS NULL OR length(redirect_to) BETWEEN 1 AND 2048);
ALTER TABLE routes ADD COLUMN redirect_status INTEGER
	CHECK (redirect_status IS NULL OR redirect_status BETWEEN 301 AND 308);
ALTER TABLE routes ADD COLUMN redirect_drop_query INTEGER
	CHECK (redirect_drop_query IS NULL OR redirect_drop_query IN (0, 1));
ALTER TABLE routes ADD COLUMN respond_status INTEGER
	CHECK (respond_status IS NULL OR respond_status BETWEEN 200 AND 599);
ALTER TABLE routes ADD COLUMN respond_content_type TEXT;
ALTER TABLE routes ADD COLUMN respond_body TEXT;
ALTER TABLE routes ADD COLUMN rewrite_replace_prefix TEXT
	CHECK (rewrite_replace_prefix IS NULL OR substr(rewrite_replace_prefix, 1, 1) = '/');
