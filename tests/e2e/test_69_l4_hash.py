"""Balance "hash" on L4 listeners hashes the client's address (issue 13).

Clients on distinct loopback addresses (127.0.0.x) open several TCP
connections each, from different source ports: every connection of one
client reaches the same server, and the clients spread over the servers.
Removing a server moves only the clients it had. UDP sessions from one
address (several source ports) also reach one server. round_robin on the
same listener spreads one client's connections.
"""

import socket
import threading

from apiclient import start_api, wait_port
from l4util import TcpServer


def named(name):
    def handler(srv, s, peer):
        s.sendall(name.encode() + b"\n")
        s.recv(1)  # until the client closes
    return handler


def server_of(port, client_ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.bind((client_ip, 0))
        s.connect(("127.0.0.1", port))
        got = b""
        while not got.endswith(b"\n"):
            b = s.recv(64)
            assert b, "closed without a server name"
            got += b
        return got.decode().strip()
    finally:
        s.close()


CLIENTS = ["127.0.0.%d" % i for i in range(10, 40)]


def owners(port, per_client=3):
    got = {}
    for ip in CLIENTS:
        names = {server_of(port, ip) for _ in range(per_client)}
        assert len(names) == 1, (ip, names)  # one client, one server
        got[ip] = names.pop()
    return got


def test_tcp_hash_by_client_address(gh):
    servers = {n: TcpServer(named(n)) for n in ("a", "b", "c", "d", "e")}
    try:
        api = start_api(gh)
        api.ok("POST", "/origins", {"name": "o", "balance": "hash", "servers": [
            {"address": "127.0.0.1", "port": s.port} for s in servers.values()]})
        api.ok("POST", "/listeners", {"name": "t", "address": "127.0.0.1", "port": 0,
                                      "protocol": "tcp"})
        api.ok("POST", "/routes", {"name": "r", "listener": "t", "origin": "o"})
        port = wait_port(api, gh, "t")
        before = owners(port)
        assert len(set(before.values())) >= 3, before  # spread
        # the same clients again: the same servers
        assert owners(port, 1) == before

        # one of five leaves: only its clients move
        gone = before[CLIENTS[0]]
        api.ok("PATCH", "/origins/o", {"servers": [
            {"address": "127.0.0.1", "port": s.port}
            for n, s in servers.items() if n != gone]})
        after = owners(port)
        moved = [ip for ip in CLIENTS if after[ip] != before[ip]]
        assert moved and all(before[ip] == gone for ip in moved), (before, after)
        assert all(after[ip] != gone for ip in CLIENTS)

        # round_robin: one client's connections take turns
        api.ok("PATCH", "/origins/o", {"balance": "round_robin"})
        names = {server_of(port, CLIENTS[0]) for _ in range(8)}
        assert len(names) == 4, names
    finally:
        for s in servers.values():
            s.close()


class UdpNamed:
    """Answers every datagram with its name."""

    def __init__(self, name):
        self.name = name.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                _, peer = self.sock.recvfrom(65536)
                self.sock.sendto(self.name, peer)
            except OSError:
                return

    def close(self):
        self.sock.close()


def udp_server_of(port, ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.bind((ip, 0))  # a new source port: a new session
        s.sendto(b"hello", ("127.0.0.1", port))
        return s.recv(100).decode()
    finally:
        s.close()


def test_udp_hash_by_client_address(gh):
    origins = [UdpNamed(n) for n in ("a", "b", "c")]
    try:
        api = start_api(gh)
        api.ok("POST", "/origins", {"name": "o", "balance": "hash", "servers": [
            {"address": "127.0.0.1", "port": u.port} for u in origins]})
        api.ok("POST", "/listeners", {"name": "u", "address": "127.0.0.1", "port": 0,
                                      "protocol": "udp"})
        api.ok("POST", "/routes", {"name": "r", "listener": "u", "origin": "o"})
        port = wait_port(api, gh, "u")
        got = {}
        for ip in ["127.0.0.%d" % i for i in range(50, 65)]:
            names = {udp_server_of(port, ip) for _ in range(3)}
            assert len(names) == 1, (ip, names)
            got[ip] = names.pop()
        assert len(set(got.values())) >= 2, got
        # round_robin: one client's sessions take turns
        api.ok("PATCH", "/origins/o", {"balance": "round_robin"})
        assert len({udp_server_of(port, "127.0.0.50") for _ in range(6)}) == 3
    finally:
        for u in origins:
            u.close()
