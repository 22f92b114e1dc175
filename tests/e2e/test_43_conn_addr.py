"""The client connection's address (issue 10: struct conn keeps one compact
peer address): with a PROXY header on an http listener that also limits
connections per client, the count is taken for the address the header
names (issue 12: the real client, not the proxy) and given back to it when
the connection ends; IPv6 header addresses reach the origin whole."""

import json
import socket
import time

from backends import Origin, parse_responses
from conftest import wait_until
from l4util import read_all

REQ = b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n"


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def ask(s, hdr=b""):
    try:
        s.sendall(hdr + REQ)
        return s.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def test_per_client_count_follows_the_proxy_header(gh):
    """max_connections_per_client counts the client a PROXY header names,
    not the proxy that sent it (issue 12: the real client where known)."""
    o = Origin("a")
    try:
        gh.add_listener("l", proxy_protocol_from='["127.0.0.0/8"]',
                        max_connections_per_client=1)
        gh.add_origin("o", [(o.host, o.port)])
        gh.add_route("r", "l", "o", hosts=["app.test"])
        gh.start()
        port = gh.ports["l"]
        for i in range(3):
            hdr = b"PROXY TCP4 192.0.2.%d 127.0.0.1 6000 80\r\n" % (i + 1)
            a = connect(port)
            got = ask(a, hdr)
            assert got.startswith(b"HTTP/1.1 200"), got
            # The slot is 192.0.2.x's: a second connection from it is
            # refused, one from another client (same proxy) gets in.
            b = connect(port)
            assert ask(b, hdr) == b""
            b.close()
            d = connect(port)
            got = ask(d, b"PROXY TCP4 198.51.100.%d 127.0.0.1 6001 80\r\n" % (i + 1))
            assert got.startswith(b"HTTP/1.1 200"), got
            d.close()
            a.close()
            # Given back to 192.0.2.x when its connection ends.
            deadline = time.monotonic() + 5
            while True:
                c = connect(port)
                got = ask(c, hdr)
                c.close()
                if got.startswith(b"HTTP/1.1 200"):
                    break
                assert time.monotonic() < deadline, "the slot was not given back"
                time.sleep(0.05)
    finally:
        o.close()


def test_ipv6_header_address_reaches_the_origin(gh):
    o = Origin("a")
    try:
        gh.add_listener("l", proxy_protocol_from='["127.0.0.0/8"]')
        gh.add_origin("o", [(o.host, o.port)])
        gh.add_route("r", "l", "o", hosts=["app.test"])
        gh.start()
        s = connect(gh.ports["l"])
        s.sendall(b"PROXY TCP6 2001:db8::1234:5678 ::1 6000 80\r\n"
                  b"GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        resps = parse_responses(read_all(s))
        s.close()
        assert resps[0].status == 200
        doc = json.loads(resps[0].body)
        xff = [v for k, v in doc["headers"] if k.lower() == "x-forwarded-for"]
        assert xff == ["2001:db8::1234:5678"]
        wait_until(lambda: len(o.requests) == 1, what="one request")
    finally:
        o.close()
