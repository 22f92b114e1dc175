"""The client connection's address (issue 10: struct conn keeps one compact
peer address): with a PROXY header on an http listener that also limits
connections per client, the count stays on the address it was taken for
(the socket's peer, at accept) and is given back to that address when the
connection ends, whatever address the header named; IPv6 header addresses
reach the origin whole."""

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


def test_per_client_count_survives_a_proxy_header(gh):
    o = Origin("a")
    try:
        gh.add_listener("l", proxy_protocol_from='["127.0.0.0/8"]',
                        max_connections_per_client=1)
        gh.add_origin("o", [(o.host, o.port)])
        gh.add_route("r", "l", "o", hosts=["app.test"])
        gh.start()
        port = gh.ports["l"]
        for i in range(3):
            a = connect(port)
            got = ask(a, b"PROXY TCP4 192.0.2.%d 127.0.0.1 6000 80\r\n" % (i + 1))
            assert got.startswith(b"HTTP/1.1 200"), got
            # The slot is 127.0.0.1's: a second connection is refused,
            # even with another address in its header.
            b = connect(port)
            assert ask(b, b"PROXY TCP4 198.51.100.7 127.0.0.1 6001 80\r\n") == b""
            b.close()
            a.close()
            # Given back to 127.0.0.1 (not to 192.0.2.x): the next
            # round's first connection gets in.
            deadline = time.monotonic() + 5
            while True:
                c = connect(port)
                got = ask(c, b"PROXY TCP4 203.0.113.9 127.0.0.1 6002 80\r\n")
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
