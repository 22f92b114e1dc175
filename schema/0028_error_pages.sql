-- 0028_error_pages.sql: error pages (a kind: pages by status code, as a
-- JSON object of "404" to the page), referenced by routes.
CREATE TABLE error_pages (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	pages TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(pages) AND json_type(pages) = 'object'),
	intercept INTEGER NOT NULL DEFAULT 0 CHECK (intercept IN (0, 1))
) STRICT;
ALTER TABLE routes ADD COLUMN error_pages_id INTEGER REFERENCES error_pages(id) ON DELETE RESTRICT;
CREATE INDEX routes_error_pages ON routes(error_pages_id);
