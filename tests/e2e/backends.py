"""backends.py: origin servers and raw clients for the end-to-end tests.

Everything here is plain Debian python3 (sockets and threads, no PyPI).

Origin(name) listens on 127.0.0.1:0 and serves HTTP/1.1 with keep-alive.
Its behaviour is chosen by the request path, so one origin can be the echo
server, the slow server, the chunked server, and so on:

  /_gen?n=N&mode=cl|chunked|close   N bytes of a fixed pattern (gen_bytes)
  /_status?code=C                   status C; no body for 1xx, 204, 304,
                                    else "origin says C" (Content-Length)
  /_slow?ms=M                       wait M ms, then echo
  /_slowbody?ms=M&parts=P           headers at once, then P parts M ms apart
  /_close_mid?n=N                   Content-Length N, sends N/10 bytes, closes
  /_close_mid?mode=chunked          one chunk and part of a second, closes
  /_early                           103 Early Hints, then the echo
  /_hop                             a response carrying hop-by-hop headers
  /_text?n=N&mode=cl|chunked&parts=P&ms=M&ct=T&hdr=K:V|K:V&status=S
                                    N bytes of text (gen_text), Content-Type
                                    T (default text/plain, "-": none), the extra
                                    headers hdr, chunked in P parts M ms
                                    apart (compression tests)
  WebSocket upgrade (any path)      RFC 6455 handshake, then echo frames
  any path with ?_close=1           echo with "Connection: close", then close
  anything else                     echo: JSON {method, path, headers,
                                    body_len, body_sha256, backend}

Every response carries "X-Backend: <name>". The origin records what it
saw: connections accepted (`accepted`), and every parsed request head
(`requests`) so a test can prove that nothing reached it. With
idle_close=S it closes keep-alive connections idle for S seconds.
"""

import base64
import hashlib
import http.client
import http.server
import json
import socket
import struct
import threading
import time
import urllib.parse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B85"


def gen_bytes(n):
    """Returns n deterministic, non-repeating-looking bytes."""
    block = hashlib.sha256(b"gatehouse").digest() * 2048  # 64 KiB
    reps, rest = divmod(n, len(block))
    return block * reps + block[:rest]


def gen_text(n):
    """Returns n bytes of compressible, deterministic text."""
    line = b"".join(b"line %06d: the quick brown fox jumps over the lazy dog\n" % i
                    for i in range(n // 40 + 1))
    return line[:n]


def sha256(b):
    return hashlib.sha256(b).hexdigest()


class BadRequest(Exception):
    pass


class Conn:
    """A buffered reader over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError()
        self.buf += data

    def readline(self, limit=65536):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise BadRequest("line too long")
            self.fill()
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_some(self):
        if not self.buf:
            self.fill()
        out, self.buf = self.buf, b""
        return out


class Request:
    def __init__(self, method, target, version, headers, raw_head):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (name, value), in order
        self.raw_head = raw_head
        u = urllib.parse.urlsplit(target)
        self.path = u.path
        self.query = dict(urllib.parse.parse_qsl(u.query))
        self.body = b""

    def header(self, name):
        """Returns the value of the only/first header named <name>, or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


def read_head(conn):
    lines = []
    raw = b""
    while True:
        line = conn.readline()
        raw += line
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue  # tolerate a leading empty line
            break
        lines.append(line.rstrip(b"\r\n").decode("latin-1"))
    return lines, raw


def read_chunked(conn):
    body = b""
    while True:
        size_line = conn.readline().strip()
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            while conn.readline() not in (b"\r\n", b"\n"):
                pass  # trailers
            return body
        body += conn.read(size)
        conn.read(2)


def read_request(conn):
    lines, raw = read_head(conn)
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k, v.strip()))
    return Request(method, target, version, headers, raw)


def read_body(conn, req):
    te = req.header("Transfer-Encoding")
    if te is not None and te.lower().endswith("chunked"):
        return read_chunked(conn)
    cl = req.header("Content-Length")
    if cl is not None:
        return conn.read(int(cl))
    return b""


class Origin:
    """An HTTP/1.1 origin server in threads; see the module comment."""

    def __init__(self, name="origin", host="127.0.0.1", idle_close=None):
        self.name = name
        self.idle_close = idle_close  # seconds an idle keep-alive conn lives
        self.lock = threading.Lock()
        self.accepted = 0
        self.requests = []
        self.open_conns = set()
        self.closing = False
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(128)
        self.host, self.port = self.lsock.getsockname()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    # -- bookkeeping --------------------------------------------------
    def reset(self):
        with self.lock:
            self.accepted = 0
            self.requests = []

    def paths(self):
        with self.lock:
            return [r.path for r in self.requests]

    def close(self):
        self.closing = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        with self.lock:
            conns = list(self.open_conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept_loop(self):
        while not self.closing:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.open_conns.add(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        conn = Conn(s)
        try:
            while True:
                if self.idle_close is not None and not conn.buf:
                    s.settimeout(self.idle_close)
                    try:
                        conn.fill()
                    except socket.timeout:
                        break  # idle keep-alive connection closed by us
                    s.settimeout(None)
                req = read_request(conn)
                with self.lock:
                    self.requests.append(req)
                if not self.respond(conn, req):
                    break
                conn_hdr = (req.header("Connection") or "").lower()
                if "close" in conn_hdr or req.version == "HTTP/1.0":
                    break
        except (EOFError, OSError, BadRequest, ValueError):
            pass
        finally:
            with self.lock:
                self.open_conns.discard(s)
            try:
                s.close()
            except OSError:
                pass

    # -- responses ----------------------------------------------------
    def send(self, s, status, headers, body=b"", reason=None):
        reason = reason or {200: "OK", 204: "No Content", 304: "Not Modified",
                            101: "Switching Protocols"}.get(status, "Status")
        head = "HTTP/1.1 %d %s\r\n" % (status, reason)
        head += "X-Backend: %s\r\n" % self.name
        for k, v in headers:
            head += "%s: %s\r\n" % (k, v)
        s.sendall(head.encode("latin-1") + b"\r\n" + body)

    def echo_doc(self, req, body):
        return json.dumps({
            "method": req.method,
            "path": req.target,
            "headers": req.headers,
            "body_len": len(body),
            "body_sha256": sha256(body),
            "backend": self.name,
        }).encode()

    def respond(self, conn, req):
        """Answers one request. Returns False to close the connection."""
        s = conn.sock
        q = req.query
        if (req.header("Upgrade") or "").lower() == "websocket":
            return self.websocket(conn, req)
        if (req.header("Expect") or "").lower() == "100-continue":
            s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = read_body(conn, req)
        head_only = req.method == "HEAD"

        if req.path == "/_gen":
            n = int(q.get("n", "0"))
            mode = q.get("mode", "cl")
            data = gen_bytes(n)
            hdrs = [("Content-Type", "application/octet-stream"),
                    ("X-Body-SHA256", sha256(data))]
            if mode == "chunked":
                self.send(s, 200, hdrs + [("Transfer-Encoding", "chunked")])
                if head_only:
                    return True
                step = 65536
                for i in range(0, n, step):
                    part = data[i:i + step]
                    s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                s.sendall(b"0\r\n\r\n")
                return True
            if mode == "close":
                self.send(s, 200, hdrs + [("Connection", "close")],
                          b"" if head_only else data)
                return False
            self.send(s, 200, hdrs + [("Content-Length", str(n))],
                      b"" if head_only else data)
            return True

        if req.path == "/_status":
            code = int(q.get("code", "204"))
            hdrs = [("ETag", '"v1"')] if code == 304 else []
            if code in (204, 304) or code < 200:
                self.send(s, code, hdrs)
                return True
            page = b"origin says %d" % code  # errors carry a body
            self.send(s, code, hdrs + [("Content-Length", str(len(page)))],
                      b"" if head_only else page)
            return True

        if req.path == "/_slow":
            time.sleep(int(q.get("ms", "1000")) / 1000.0)

        if req.path == "/_slowbody":
            parts = int(q.get("parts", "5"))
            ms = int(q.get("ms", "200"))
            self.send(s, 200, [("Content-Length", str(parts))])
            for _ in range(parts):
                time.sleep(ms / 1000.0)
                s.sendall(b"x")
            return True

        if req.path == "/_close_mid" and q.get("mode") == "chunked":
            self.send(s, 200, [("Transfer-Encoding", "chunked")])
            s.sendall(b"400\r\n" + gen_bytes(1024) + b"\r\n" + b"400\r\n" + gen_bytes(100))
            time.sleep(0.05)
            s.shutdown(socket.SHUT_RDWR)
            return False

        if req.path == "/_close_mid":
            n = int(q.get("n", "100000"))
            self.send(s, 200, [("Content-Length", str(n))],
                      gen_bytes(n)[:n // 10])
            time.sleep(0.05)
            s.shutdown(socket.SHUT_RDWR)
            return False

        if req.path == "/_text":
            n = int(q.get("n", "4096"))
            data = gen_text(n)
            ct = q.get("ct", "text/plain; charset=utf-8")
            hdrs = ([("Content-Type", ct)] if ct != "-" else []) + [
                ("X-Body-SHA256", sha256(data))]
            for kv in filter(None, q.get("hdr", "").split("|")):
                k, _, v = kv.partition(":")
                hdrs.append((k, v))
            status = int(q.get("status", "200"))
            if q.get("mode") == "chunked":
                parts = int(q.get("parts", "4"))
                ms = int(q.get("ms", "0"))
                self.send(s, status, hdrs + [("Transfer-Encoding", "chunked")])
                if head_only:
                    return True
                step = max(1, -(-n // parts))
                for i in range(0, n, step):
                    part = data[i:i + step]
                    s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                    time.sleep(ms / 1000.0)
                s.sendall(b"0\r\n\r\n")
                return True
            self.send(s, status, hdrs + [("Content-Length", str(n))],
                      b"" if head_only else data)
            return True

        if req.path == "/_hop":
            self.send(s, 200, [("Connection", "X-Hop-Private"), ("X-Hop-Private", "1"),
                               ("Keep-Alive", "timeout=1"), ("Proxy-Connection", "x"),
                               ("Upgrade", "h2c"), ("X-End-To-End", "kept"),
                               ("Content-Length", "3")], b"hop")
            return True

        if req.path == "/_early":
            s.sendall(b"HTTP/1.1 103 Early Hints\r\n"
                      b"Link: </style.css>; rel=preload\r\n\r\n")

        doc = self.echo_doc(req, body)
        close = q.get("_close") == "1"
        self.send(s, 200, [("Content-Type", "application/json"),
                           ("Content-Length", str(len(doc)))]
                  + ([("Connection", "close")] if close else []),
                  b"" if head_only else doc)
        return not close

    def websocket(self, conn, req):
        key = req.header("Sec-WebSocket-Key") or ""
        accept = base64.b64encode(
            hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send(conn.sock, 101, [("Upgrade", "websocket"),
                                   ("Connection", "Upgrade"),
                                   ("Sec-WebSocket-Accept", accept)])
        while True:
            opcode, payload = ws_read_frame(conn)
            if opcode == 8:
                conn.sock.sendall(ws_frame(8, payload[:2], mask=False))
                return False
            if opcode == 9:
                conn.sock.sendall(ws_frame(10, payload, mask=False))
                continue
            conn.sock.sendall(ws_frame(opcode, payload, mask=False))


# -- WebSocket framing (RFC 6455) ----------------------------------------

def ws_frame(opcode, payload, mask=True):
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        key = b"\x11\x22\x33\x44"
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def ws_read_frame(conn):
    b0, b1 = conn.read(2)
    opcode = b0 & 0x0F
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", conn.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", conn.read(8))[0]
    key = conn.read(4) if b1 & 0x80 else None
    payload = conn.read(n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return opcode, payload


# -- other origins -------------------------------------------------------

def closed_port():
    """A loopback port nothing listens on (bound then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class StatusOrigin:
    """A small origin on http.server (HTTP/1.1 keep-alive, a thread per
    connection) on 127.0.0.1:0, for tests that need only status codes: every
    GET, HEAD and OPTIONS gets an empty answer with the status status(method,
    path) returns. By default that is `code` (the test may change it) and
    the request is counted in `hits`; a subclass overrides status() to
    answer by path. With a name, every answer carries "X-Backend: <name>"."""

    def __init__(self, name=None, code=200):
        self.name, self.code, self.hits = name, code, 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.send_response(outer.status(self.command, self.path))
                if outer.name is not None:
                    self.send_header("X-Backend", outer.name)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_OPTIONS = do_GET

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def status(self, method, path):
        self.hits += 1
        return self.code

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def status_of(port, host="s.test", timeout=10):
    """One GET / with Host <host> on a new connection to <port>
    -> (status, its X-Backend header or None)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", "/", headers={"Host": host})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("X-Backend")
    finally:
        c.close()


class BlackHole:
    """A listener whose accept queue is full, so new connects hang (SYNs are
    dropped): the way to get a connect timeout on loopback."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(0)
        self.port = self.lsock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.2)

    def close(self):
        for c in self.fillers:
            c.close()
        self.lsock.close()


# -- raw client ------------------------------------------------------------

def raw_exchange(port, data, timeout=5.0, host="127.0.0.1", shut_wr=False):
    """Sends <data> on a fresh connection and returns (bytes received, closed)
    where closed is True when the peer closed before <timeout>."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the peer may refuse early and close: read its answer
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out, False
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
    finally:
        s.close()


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.headers)


def parse_responses(data, head_request=False, complete=True):
    """Splits a byte stream into Response objects (1xx interim responses are
    returned too). With complete=False a truncated last body is kept and
    marked by body=None instead of raising."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise ValueError("truncated head: %r" % data[:200])
        lines = data[:end].decode("latin-1").split("\r\n")
        data = data[end + 4:]
        _, code, *reason = lines[0].split(" ", 2)
        code = int(code)
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k, v.strip()))
        r = Response(code, reason[0] if reason else "", headers, b"")
        out.append(r)
        if 100 <= code < 200 or code in (204, 304) or head_request:
            continue
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        if te and te.lower().endswith("chunked"):
            body = b""
            while True:
                i = data.find(b"\r\n")
                if i < 0:
                    if complete:
                        raise ValueError("truncated chunk")
                    r.body = None
                    return out
                size = int(data[:i].split(b";")[0], 16)
                if len(data) < i + 2 + size + 2:
                    if complete:
                        raise ValueError("truncated chunk")
                    r.body = None
                    return out
                body += data[i + 2:i + 2 + size]
                data = data[i + 2 + size + 2:]
                if size == 0:
                    break
            r.body = body
        elif cl is not None:
            n = int(cl)
            if len(data) < n:
                if complete:
                    raise ValueError("truncated body")
                r.body = None
                return out
            r.body, data = data[:n], data[n:]
        else:
            r.body, data = data, b""
    return out


def ws_handshake(port, host, path="/ws", timeout=5.0):
    """Opens a WebSocket through the proxy; returns (Conn, response head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(b"0123456789abcdef").decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, key)).encode())
    conn = Conn(s)
    lines, _ = read_head(conn)
    want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode())
                            .digest()).decode()
    return conn, lines, want
