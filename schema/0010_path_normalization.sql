-- 0010_path_normalization.sql: what a listener or a route does with a
-- request path that normalisation (RFC 3986) changes. Routes: NULL takes
-- the listener's.
ALTER TABLE listeners ADD COLUMN path_normalization TEXT NOT NULL
	DEFAULT 'forward_normalized'
	CHECK (path_normalization IN ('forward_normalized', 'forward_as_received', 'reject'));
ALTER TABLE routes ADD COLUMN path_normalization TEXT
	CHECK (path_normalization IS NULL OR
	       path_normalization IN ('forward_normalized', 'forward_as_received', 'reject'));
