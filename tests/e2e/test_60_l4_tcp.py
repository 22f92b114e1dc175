"""TCP listeners: bytes through intact both ways, half-close in both
directions, server fallback, connection limit, source matching, idle
timeout, and live route changes that leave open connections alone."""

import hashlib
import socket
import time

import pytest

from backends import closed_port, gen_bytes
from conftest import wait_until
from l4util import TcpServer, echo, generator, hash_sink, read_all

MIB = 1 << 20


@pytest.fixture
def servers():
    made = []

    def make(handler):
        s = TcpServer(handler)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def tcp_setup(gh, srv, route_cols=None, listener_cols=None, start=True, workers=1):
    gh.add_listener("t", protocol="tcp", **(listener_cols or {}))
    gh.add_origin("o", [(srv.host, srv.port)])
    gh.add_route("r", "t", "o", **(route_cols or {}))
    if start:
        gh.start(workers=workers)
    return gh.ports.get("t")


def connect(port, timeout=30):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def send_hashed(port, n):
    """Sends n bytes, half-closes, returns (sent_hash, answer)."""
    s = connect(port)
    h = hashlib.sha256()
    block = gen_bytes(MIB)
    left = n
    while left > 0:
        chunk = block[:min(left, len(block))]
        s.sendall(chunk)
        h.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    answer = read_all(s).decode()
    s.close()
    return h.hexdigest(), answer


@pytest.mark.parametrize("mode", ["splice", "copy"])
def test_100mib_upload_intact_and_client_half_close(gh, servers, mode):
    if mode == "copy":
        gh.extra_env["GATEHOUSED_L4_COPY"] = "1"
    srv = servers(hash_sink)
    port = tcp_setup(gh, srv)
    # The origin answers only after it saw our EOF: the half-close went
    # through, and its answer still reaches our half-closed socket.
    want, answer = send_hashed(port, 100 * MIB)
    assert answer == "%s %d\n" % (want, 100 * MIB)
    assert srv.accepted == 1


@pytest.mark.parametrize("mode", ["splice", "copy"])
def test_100mib_download_intact_and_origin_half_close(gh, servers, mode):
    if mode == "copy":
        gh.extra_env["GATEHOUSED_L4_COPY"] = "1"
    srv = servers(generator(100 * MIB))
    port = tcp_setup(gh, srv)
    s = connect(port)
    got = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break  # the origin's FIN came through
        got.update(b)
        n += len(b)
    assert n == 100 * MIB
    assert got.hexdigest() == hashlib.sha256(gen_bytes(100 * MIB)).hexdigest()
    # Our side is still open for writing: the origin reads after its
    # own shutdown.
    s.sendall(b"still here")
    s.shutdown(socket.SHUT_WR)
    wait_until(lambda: srv.late == b"still here", what="late bytes at the origin")
    s.close()


def test_echo_many_small_writes(gh, servers):
    srv = servers(echo)
    port = tcp_setup(gh, srv)
    s = connect(port)
    for i in range(200):
        msg = b"m%05d" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(64)
        assert got == msg
    s.close()


def test_next_server_when_one_refuses(gh, servers):
    srv = servers(echo)
    gh.add_listener("t", protocol="tcp")
    gh.add_origin("o", [("127.0.0.1", closed_port()), (srv.host, srv.port)])
    gh.add_route("r", "t", "o")
    gh.start()
    for _ in range(4):
        s = connect(gh.ports["t"])
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
        s.close()
    assert srv.accepted == 4


def test_no_server_answers_closes_client(gh):
    gh.add_listener("t", protocol="tcp")
    gh.add_origin("o", [("127.0.0.1", closed_port())])
    gh.add_route("r", "t", "o")
    gh.start()
    s = connect(gh.ports["t"], timeout=5)
    assert s.recv(10) == b""
    s.close()


def test_connection_limit(gh, servers):
    srv = servers(echo)
    port = tcp_setup(gh, srv, listener_cols={"max_connections": 2})
    a, b = connect(port), connect(port)
    for s in (a, b):
        s.sendall(b"x")
        assert s.recv(1) == b"x"
    c = connect(port, timeout=5)
    assert c.recv(1) == b""  # refused: closed at once
    c.close()
    a.close()
    # A slot is free again once a connection ended.
    def third_works():
        d = connect(port, timeout=5)
        try:
            d.sendall(b"y")
            return d.recv(1) == b"y"
        except OSError:
            return False
        finally:
            d.close()
    wait_until(third_works, what="a free slot")
    b.close()


def test_sources_choose_the_route(gh, servers):
    inside, other = servers(echo), servers(hash_sink)
    gh.add_listener("t", protocol="tcp")
    gh.add_origin("in", [(inside.host, inside.port)])
    gh.add_origin("any", [(other.host, other.port)])
    gh.add_route("local", "t", "in", sources='["127.0.0.0/8", "::1"]')
    gh.add_route("rest", "t", "any")
    gh.add_route("never", "t", "in", sources='["10.0.0.0/8"]', priority=5)
    gh.start()
    s = connect(gh.ports["t"])
    s.sendall(b"hi")
    assert s.recv(2) == b"hi"
    s.close()
    assert inside.accepted == 1 and other.accepted == 0


def test_no_route_closes(gh, servers):
    srv = servers(echo)
    tcp_setup(gh, srv, route_cols={"sources": '["192.0.2.0/24"]'})
    s = connect(gh.ports["t"], timeout=5)
    assert s.recv(1) == b""
    assert srv.accepted == 0


def test_idle_timeout(gh, servers):
    srv = servers(echo)
    port = tcp_setup(gh, srv, route_cols={"idle_timeout_ms": 400})
    s = connect(port, timeout=10)
    # Traffic keeps it open past the timeout ...
    for _ in range(4):
        time.sleep(0.2)
        s.sendall(b"k")
        assert s.recv(1) == b"k"
    t0 = time.monotonic()
    # ... silence ends it.
    assert s.recv(1) == b""
    assert 0.3 < time.monotonic() - t0 < 3


def test_live_change_keeps_open_connection(gh, servers):
    a, b = servers(echo), servers(hash_sink)
    port = tcp_setup(gh, a)
    old = connect(port)
    old.sendall(b"1")
    assert old.recv(1) == b"1"
    oid = gh.add_origin("o2", [(b.host, b.port)])
    gh.sql("UPDATE routes SET origin_id = ? WHERE name = 'r'", (oid,))
    gh.reload()
    # New connections reach the new origin ...
    want, answer = send_hashed(port, 1000)
    assert answer == "%s 1000\n" % want
    # ... the old one still talks to the old origin.
    old.sendall(b"2")
    assert old.recv(1) == b"2"
    old.close()
    # Removing the listener stops accepting; its connection lives on.
    c = connect(port)
    c.sendall(b"z")
    wait_until(lambda: b.accepted == 2, what="second connection at the origin")
    gh.sql("DELETE FROM routes")
    gh.sql("DELETE FROM listeners WHERE name = 't'")
    gh.reload()
    c.sendall(b"w")
    c.shutdown(socket.SHUT_WR)
    assert read_all(c).decode() == "%s 2\n" % hashlib.sha256(b"zw").hexdigest()
    c.close()
    with pytest.raises(OSError):
        connect(port, timeout=2).recv(1)


def test_counters_per_listener_and_route(gh, servers):
    from apiclient import start_api
    srv = servers(hash_sink)
    gh.add_listener("t", protocol="tcp", max_connections=1)
    gh.add_origin("o", [(srv.host, srv.port)])
    gh.add_route("r", "t", "o")
    api = start_api(gh)
    port = gh.ports["t"]
    want, answer = send_hashed(port, 3000)
    assert answer == "%s 3000\n" % want
    # One more held open, and one refused by max_connections.
    held = connect(port)
    held.sendall(b"x")
    wait_until(lambda: srv.accepted == 2, what="second connection")
    refused = connect(port, timeout=5)
    assert refused.recv(1) == b""
    held.shutdown(socket.SHUT_WR)
    answer += read_all(held).decode()
    held.close()

    def stats():
        doc = api.get("/stats").json()
        lst = {o["name"]: o for o in doc["listeners"]}
        rts = {o["name"]: o for o in doc["routes"]}
        return doc["global"], lst.get("t"), rts.get("r")

    wait_until(lambda: stats()[1] is not None and stats()[1]["active"] == 0,
               what="connections closed")
    g, lst, rt = stats()
    assert g["l4_accepted"] == 3 and g["l4_limit"] == 1
    assert lst["requests"] == 2 and lst["errors"] == 1
    assert lst["bytes_in"] == 3001 and lst["bytes_out"] == len(answer)
    assert rt["requests"] == 2 and rt["active"] == 0
    assert rt["bytes_in"] == 3001 and rt["bytes_out"] == len(answer)
    assert g["l4_splice"] == 2


def test_sigterm_lets_open_connections_finish(gh, servers):
    import signal
    srv = servers(echo)
    port = tcp_setup(gh, srv)
    s = connect(port)
    s.sendall(b"a")
    assert s.recv(1) == b"a"
    gh.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # Draining: no new connections, the open one still works ...
    assert gh.proc.poll() is None
    s.sendall(b"b")
    assert s.recv(1) == b"b"
    # ... and once it ends the daemon exits cleanly.
    s.close()
    assert gh.proc.wait(10) == 0


def test_two_workers_parallel_uploads(gh, servers):
    import threading
    srv = servers(hash_sink)
    port = tcp_setup(gh, srv, workers=2, listener_cols={"max_connections": 6})
    results = []

    def one(n):
        results.append((n,) + send_hashed(port, n))
    threads = [threading.Thread(target=one, args=(MIB * (i + 1),)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    for n, want, answer in results:
        assert answer == "%s %d\n" % (want, n)


def test_idle_connections_hold_no_pipes(gh, servers):
    """A direction holds a pipe only while bytes move: idle connections cost
    their two sockets, not four more pipe descriptors."""
    import os
    srv = servers(echo)
    port = tcp_setup(gh, srv)

    def nfds():
        return len(os.listdir("/proc/%d/fd" % gh.pid))
    base = nfds()
    conns = []
    for i in range(20):
        s = connect(port)
        s.sendall(b"%02d" % i)
        assert s.recv(2) == b"%02d" % i
        conns.append(s)
    wait_until(lambda: srv.accepted == 20, what="20 origin connections")
    grown = nfds() - base
    assert 40 <= grown <= 48, grown  # 2 sockets each, a pooled pipe or two
    for s in conns:
        s.close()
