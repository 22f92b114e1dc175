-- 0029_route_listeners.sql: a route serves one or several listeners.
-- routes.listener_id stays: it is the first of the route's listeners (the
-- API's "listener"); route_listeners lists all of them, in order, the
-- first included. A listener a route uses cannot be deleted.
CREATE TABLE route_listeners (
	route_id INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
	listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE RESTRICT,
	position INTEGER NOT NULL CHECK (position >= 0),
	PRIMARY KEY (route_id, listener_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX route_listeners_listener ON route_listeners(listener_id);
INSERT INTO route_listeners (route_id, listener_id, position)
	SELECT id, listener_id, 0 FROM routes;
