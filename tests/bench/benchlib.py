"""tests/bench/benchlib.py: what the callgrind bench scripts (policy_cost,
compress_cost, cpu_cost, balance_cost) share: a keep-alive origin in a
thread, a free port, and a fresh gatehoused database.
"""
import os
import signal
import socket
import subprocess
import threading
import time

S1_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 100


def origin(answer=S1_ANSWER, ctx=None):
    """A keep-alive origin on a free loopback port, answering each request
    with <answer>: bytes, or a function of the request head giving them;
    with <ctx> (an ssl.SSLContext), over TLS. -> its port."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def serve(s):
        buf = b""
        if ctx is not None:
            try:
                s = ctx.wrap_socket(s, server_side=True)
            except OSError:
                return
        while True:
            try:
                d = s.recv(65536)
            except OSError:
                return
            if not d:
                return
            buf += d
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                s.sendall(answer(head) if callable(answer) else answer)

    def accept():
        while True:
            s, _ = ls.accept()
            threading.Thread(target=serve, args=(s,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return ls.getsockname()[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def fresh_db(binary, work, *args):
    """<work>/gh.db made by one start of gatehoused (its migrations and
    first-start rows), unless it is there already. -> (db, kek)."""
    db = os.path.join(work, "gh.db")
    kek = os.path.join(work, "kek")
    if not os.path.exists(db):
        p = subprocess.Popen([binary, "--db", db, "--kek", kek] + list(args),
                             stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        p.wait()
    return db, kek
