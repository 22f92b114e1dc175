"""UDP listeners: datagrams keep their sizes and bytes, sessions are kept
apart per client, and an idle session ends."""

import random
import socket
import time

import pytest

from l4util import UdpEcho


@pytest.fixture
def udp_origin():
    o = UdpEcho()
    yield o
    o.close()


def udp_setup(gh, origin, route_cols=None, listener_cols=None, workers=1):
    gh.add_listener("u", protocol="udp", **(listener_cols or {}))
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "u", "o", **(route_cols or {}))
    gh.start(workers=workers)
    return gh.ports["u"]


def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


def payload(i, size):
    stamp = b"%d:" % i
    return (stamp * (size // len(stamp) + 1))[:size]


def test_10000_datagrams_sizes_kept_two_sessions_apart(gh, udp_origin):
    port = udp_setup(gh, udp_origin)
    rnd = random.Random(7)
    a, b = client(), client()
    sizes = {a: [], b: []}
    # Lock-step per client, interleaved between the two, with sizes from
    # 1 byte to just under 64 KiB: each answer must be our own datagram,
    # whole, with nothing merged or split.
    for i in range(5000):
        for s in (a, b):
            n = rnd.choice((1, 2, 17, 512, 1400, 1472, 1500, 4096, 9000,
                            rnd.randint(1, 65000)))
            tag = (0 if s is a else 1, i)
            data = payload(tag[0] * 100000 + i, n)
            s.sendto(data, ("127.0.0.1", port))
            got, src = s.recvfrom(65536)
            assert src == ("127.0.0.1", port)
            assert len(got) == n and got == data
            sizes[s].append(n)
    # The origin saw exactly two peers (one per client session), each with
    # that client's datagrams, in order.
    with udp_origin.lock:
        seen = dict(udp_origin.seen)
    assert len(seen) == 2
    assert sorted(seen.values()) == sorted([sizes[a], sizes[b]])
    a.close()
    b.close()


def test_idle_session_ends_and_a_new_one_starts(gh, udp_origin):
    port = udp_setup(gh, udp_origin, route_cols={"idle_timeout_ms": 300})
    s = client()
    s.sendto(b"one", ("127.0.0.1", port))
    assert s.recvfrom(100)[0] == b"one"
    time.sleep(0.8)
    s.sendto(b"two", ("127.0.0.1", port))
    assert s.recvfrom(100)[0] == b"two"
    # Two sessions, so two origin-side sockets (ports) for one client.
    with udp_origin.lock:
        assert len(udp_origin.seen) == 2
    s.close()


def test_session_limit(gh, udp_origin):
    port = udp_setup(gh, udp_origin, listener_cols={"max_connections": 1})
    a, b = client(), client()
    a.sendto(b"a", ("127.0.0.1", port))
    assert a.recvfrom(10)[0] == b"a"
    b.settimeout(0.5)
    b.sendto(b"b", ("127.0.0.1", port))
    with pytest.raises(socket.timeout):
        b.recvfrom(10)
    # The first client's session goes on.
    a.sendto(b"a2", ("127.0.0.1", port))
    assert a.recvfrom(10)[0] == b"a2"


def test_live_route_change_new_sessions_only(gh, udp_origin):
    other = UdpEcho()
    try:
        port = udp_setup(gh, udp_origin)
        a = client()
        a.sendto(b"x", ("127.0.0.1", port))
        assert a.recvfrom(10)[0] == b"x"
        oid = gh.add_origin("o2", [(other.host, other.port)])
        gh.sql("UPDATE routes SET origin_id = ? WHERE name = 'r'", (oid,))
        gh.reload()
        b = client()
        b.sendto(b"y", ("127.0.0.1", port))
        assert b.recvfrom(10)[0] == b"y"
        a.sendto(b"z", ("127.0.0.1", port))
        assert a.recvfrom(10)[0] == b"z"
        with udp_origin.lock:
            assert sum(len(v) for v in udp_origin.seen.values()) == 2
        with other.lock:
            assert sum(len(v) for v in other.seen.values()) == 1
    finally:
        other.close()


def test_removed_listener_ends_its_sessions(gh, udp_origin):
    port = udp_setup(gh, udp_origin)
    a = client()
    a.sendto(b"x", ("127.0.0.1", port))
    assert a.recvfrom(10)[0] == b"x"
    gh.sql("DELETE FROM routes")
    gh.sql("DELETE FROM listeners WHERE name = 'u'")
    gh.reload()
    a.settimeout(0.5)
    a.sendto(b"y", ("127.0.0.1", port))
    with pytest.raises((socket.timeout, ConnectionRefusedError)):
        a.recvfrom(10)
    with udp_origin.lock:
        assert sum(len(v) for v in udp_origin.seen.values()) == 1


def test_many_clients_two_workers(gh, udp_origin):
    """With two workers each client's datagrams land on one worker's
    socket (the kernel hashes the address), so each client still has one
    session and gets exactly its own answers."""
    port = udp_setup(gh, udp_origin, workers=2)
    clients = [client() for _ in range(16)]
    for rnd in range(20):
        for i, s in enumerate(clients):
            data = payload(i * 1000 + rnd, 100 + i)
            s.sendto(data, ("127.0.0.1", port))
            assert s.recvfrom(65536)[0] == data
    with udp_origin.lock:
        seen = dict(udp_origin.seen)
    assert len(seen) == 16
    assert sorted(len(v) for v in seen.values()) == [20] * 16
    for s in clients:
        s.close()
