#!/usr/bin/env python3
"""tests/bench/compress_cost.py: what response compression costs per
request, in instructions (callgrind: deterministic, no timing, usable on a
busy machine), and what it saves in bytes.

gatehoused runs under valgrind --tool=callgrind with one worker; one client
sends N sequential keep-alive GETs on one connection. Counted per request,
inclusive (callgrind_annotate): upstream_process(), the response path
(parse, head, body, compression), and compress_* plus its codec calls
(with compress_flush(), run from conn_leave() when a body spans reads),
the compression alone. Whole-process totals are not used: under
valgrind a request takes milliseconds, and the daemon's timers then cost
more than a request does. The origin answers
every request with the same page: SIZE bytes of generated HTML (tags,
words and numbers from a fixed seed), text/html, Content-Length. Cases:

  identity   the route without compress
  off-by-ae  compress on, the client sends no Accept-Encoding (the
             decision only, plus Vary)
  gzip, br   compress on, the client accepts that coding only
  s1         compress on, a 100 B answer (below min_bytes: the decision)
  s1-bare    the bare route, the same 100 B answer
  gzip-1, gzip-9, br-0, br-4, br-9, br-11
             the route's gzip_level or br_level set to that (the rows
             above use the defaults, gzip 5 and br 3)

Usage: [CASES="gzip br-11"] tests/bench/compress_cost.py GATEHOUSED [N [SIZE]]
"""
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, fresh_db, origin as bench_origin  # noqa: E402


WORDS = ("gatehouse route origin listener the a of to and compress "
         "response request header stream window budget worker").split()


def page(size):
    rnd = random.Random(7)
    out = ["<!doctype html><html><head><title>report</title></head><body>\n"]
    n = len(out[0])
    while n < size:
        row = '<tr class="r%d"><td>%d</td><td>%s</td><td><a href="/item/%d">%s</a></td></tr>\n' % (
            rnd.randrange(3), rnd.randrange(100000),
            " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(3, 9))),
            rnd.randrange(1000000), rnd.choice(WORDS))
        out.append(row)
        n += len(row)
    return "".join(out).encode()[:size]


def origin(bodies):
    """A keep-alive origin: /small gets 100 B, anything else the page."""
    def answer(head):
        body = bodies["small" if b" /small " in head else "page"]
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return bench_origin(answer)


def setup(binary, work, oport, pport, compress, levels):
    db, kek = fresh_db(binary, work)
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA foreign_keys=ON")
    for t in ("routes", "servers", "origins", "listeners"):
        c.execute("DELETE FROM %s" % t)
    c.execute("INSERT INTO listeners (name, address, port) VALUES ('l', '127.0.0.1', ?)", (pport,))
    c.execute("INSERT INTO origins (name) VALUES ('o')")
    c.execute("INSERT INTO servers (origin_id, address, port) VALUES (1, '127.0.0.1', ?)", (oport,))
    if compress:
        c.execute("INSERT INTO routes (name, listener_id, origin_id, compress_types, compress_min_bytes, "
                  "compress_gzip_level, compress_br_level) "
                  "VALUES ('r', 1, 1, '[\"text/*\",\"application/json\"]', 1024, ?, ?)",
                  (levels.get("gzip"), levels.get("br")))
    else:
        c.execute("INSERT INTO routes (name, listener_id, origin_id) VALUES ('r', 1, 1)")
    c.close()
    return db, kek


def read_response(s, buf):
    """One response from <s> (Content-Length or chunked): (raw body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise SystemExit("not 200: %r" % head[:200])
    low = head.lower()
    if b"transfer-encoding: chunked" in low:
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            line, buf = buf.split(b"\r\n", 1)
            n = int(line, 16)
            while len(buf) < n + 2:
                buf += s.recv(65536)
            body, buf = body + buf[:n], buf[n + 2:]
            if n == 0:
                return head, body, buf
    n = int(low.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(buf) < n:
        buf += s.recv(65536)
    return head, buf[:n], buf[n:]


CASES = {  # name: (route compresses, path, Accept-Encoding or None[, levels])
    "identity": (False, "/page", "gzip, br"),
    "off-by-ae": (True, "/page", None),
    "gzip": (True, "/page", "gzip"),
    "br": (True, "/page", "br"),
    "s1-bare": (False, "/small", "gzip, br"),
    "s1": (True, "/small", "gzip, br"),
    "gzip-1": (True, "/page", "gzip", {"gzip": 1}),
    "gzip-9": (True, "/page", "gzip", {"gzip": 9}),
    "br-0": (True, "/page", "br", {"br": 0}),
    "br-4": (True, "/page", "br", {"br": 4}),
    "br-9": (True, "/page", "br", {"br": 9}),
    "br-11": (True, "/page", "br", {"br": 11}),
}


FUNCS = ("upstream_process", "compress_response_head", "compress_body",
         "compress_flush", "compress_finish")


def inclusive(out):
    """Inclusive instructions of FUNCS in the callgrind file <out>."""
    txt = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                         capture_output=True, text=True, check=True).stdout
    got = dict.fromkeys(FUNCS, 0)
    for line in txt.splitlines():
        m = re.match(r"\s*([\d,]+) .*:(\w+) \[", line)
        if m and m.group(2) in got:
            got[m.group(2)] += int(m.group(1).replace(",", ""))
    return got


def run(binary, work, oport, case, n):
    compress, path, ae = CASES[case][:3]
    levels = CASES[case][3] if len(CASES[case]) > 3 else {}
    pport = free_port()
    db, kek = setup(binary, work, oport, pport, compress, levels)
    out = os.path.join(work, "cg.%s.%d" % (case, n))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          binary, "--db", db, "--kek", kek, "--workers", "1",
                          "--access-log", "off"],
                         stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", pport), timeout=30)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    req = b"GET %s HTTP/1.1\r\nHost: app.test\r\nUser-Agent: bench\r\n" % path.encode()
    if ae is not None:
        req += b"Accept-Encoding: " + ae.encode() + b"\r\n"
    req += b"\r\n"
    buf, wire = b"", 0
    for _ in range(n):
        s.sendall(req)
        head, body, buf = read_response(s, buf)
        wire = len(body)
    s.close()
    p.send_signal(signal.SIGTERM)
    p.wait()
    return inclusive(out), head, wire


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 10240
    bodies = {"page": page(size), "small": b"a" * 100}
    oport = origin(bodies)
    print("page: %d B of HTML; zlib level 6 alone makes it %d B" % (
        size, len(zlib.compress(bodies["page"], 6))))
    print("| case | response path (upstream_process) per request | compression per request | body bytes sent |")
    print("|---|---|---|---|")
    only = os.environ.get("CASES", "").split()
    with tempfile.TemporaryDirectory() as work:
        for case in (only or CASES):
            got, head, wire = run(binary, work, oport, case, n)
            enc = b"content-encoding: " in head.lower()
            z = sum(got[f] for f in FUNCS[1:])
            print("| %s | %.0f | %.0f | %d%s |" % (case, got["upstream_process"] / n, z / n, wire,
                                                   " (encoded)" if enc else ""))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
