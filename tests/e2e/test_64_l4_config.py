"""Layer 4 configuration checks: each invalid change is refused with the
field path and reason (and the old configuration keeps serving)."""

import socket

import pytest

from l4util import TcpServer, echo

# (SQL making the config invalid, expected "field: message" text)
CASES = [
    ("UPDATE routes SET sni = '[\"db.example\"]' WHERE name = 'r'",
     'routes[r].sni: must be empty: listener "t" is tcp (server names are '
     'matched on tls-passthrough and https listeners)'),
    ("UPDATE routes SET sources = '[\"10.0.0.0/33\"]' WHERE name = 'r'",
     'routes[r].sources[0]: "10.0.0.0/33" is not an address or CIDR block'),
    ("UPDATE routes SET sources = '[42]' WHERE name = 'r'",
     'routes[r].sources[0]: must be a string'),
    ("UPDATE listeners SET proxy_protocol_from = '[\"nope\"]' WHERE name = 't'",
     'listeners[t].proxy_protocol_from[0]: "nope" is not an address or CIDR block'),
    ("UPDATE listeners SET protocol = 'udp', proxy_protocol_from = '[\"127.0.0.1\"]'"
     " WHERE name = 't'",
     'listeners[t].proxy_protocol_from: must be empty: listener "t" is udp (PROXY '
     'headers are read on http, tcp and tls-passthrough listeners)'),
    ("UPDATE origins SET proxy_protocol = 2 WHERE name = 'o'",
     'routes[web].origin: origin "o" sends a PROXY protocol header, which only tcp '
     'and tls-passthrough routes send (listener "h" is http)'),
    ("UPDATE routes SET sources = '[\"127.0.0.1\"]' WHERE name = 'web'",
     'routes[web].sources: must be empty: listener "h" is http (sources are '
     'matched on tcp, udp and tls-passthrough listeners)'),
    ("UPDATE listeners SET protocol = 'tls-passthrough' WHERE name = 't';"
     "UPDATE routes SET sni = '[\"a..b\"]' WHERE name = 'r'",
     'routes[r].sni[0]: "a..b" is not a server name'),
    ("UPDATE listeners SET protocol = 'tls-passthrough' WHERE name = 't';"
     "UPDATE routes SET sni = '[\"a.b\", \"A.B\"]' WHERE name = 'r'",
     'routes[r].sni[1]: "A.B" is listed twice'),
    ("UPDATE listeners SET protocol = 'tls-passthrough' WHERE name = 't';"
     "UPDATE routes SET path_prefix = '/x' WHERE name = 'r'",
     'routes[r].path_prefix: must be left out: listener "t" is tls-passthrough '
     '(match on sni)'),
]


@pytest.mark.parametrize("sql,want", CASES)
def test_invalid_l4_config_is_refused(gh, sql, want):
    srv = TcpServer(echo)
    try:
        gh.add_listener("t", protocol="tcp")
        gh.add_listener("h")
        gh.add_origin("o", [(srv.host, srv.port)])
        gh.add_route("r", "t", "o")
        gh.add_route("web", "h", "o", hosts=["app.test"])
        gh.start()
        port = gh.ports["t"]
        for stmt in sql.split(";"):
            gh.sql(stmt)
        assert gh.reload_rejected() == want
        # The old configuration still serves.
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"ok")
        assert s.recv(2) == b"ok"
        s.close()
    finally:
        srv.close()
