-- 0037_listener_error_pages.sql: a listener names error pages too, for the
-- answers the proxy makes itself on it (a route's own error_pages win).
ALTER TABLE listeners ADD COLUMN error_pages_id INTEGER REFERENCES error_pages(id) ON DELETE RESTRICT;
CREATE INDEX listeners_error_pages ON listeners(error_pages_id);
