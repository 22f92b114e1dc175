"""l4util.py: Layer 4 peers for the test_6x suites (plain Debian python3).

TcpServer(handler) accepts on 127.0.0.1:0 and runs handler(sock, peer) in a
thread per connection; the handlers below cover the L4 tests:

  hash_sink     reads to EOF, then answers the SHA-256 hex of what it read
                and closes (the client must half-close to get the answer)
  generator(n)  sends n bytes of gen_bytes(), shuts its write side, then
                reads what the client still sends and answers nothing; the
                bytes it got after its own shutdown are kept in .late
  echo          sends back what it reads until EOF
  proxy_reader  parses a PROXY v1/v2 header, answers "<src> <port>\\n" for
                the address it names (or "local\\n"), then echoes

UdpEcho() answers every datagram with the same bytes and records, per
client address it saw, the datagram sizes. TlsServer(name, certdir) is a
TLS origin that presents the certificate certtool made for <name> and
answers "hello from <name>\\n".
"""

import hashlib
import os
import socket
import ssl
import struct
import subprocess
import threading

from backends import gen_bytes


class TcpServer:
    def __init__(self, handler, host="127.0.0.1"):
        self.handler = handler
        self.lock = threading.Lock()
        self.accepted = 0
        self.peers = []
        self.late = b""
        self.closing = False
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(128)
        self.host, self.port = self.lsock.getsockname()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.closing:
            try:
                s, peer = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.peers.append(peer)
            threading.Thread(target=self._run, args=(s, peer), daemon=True).start()

    def _run(self, s, peer):
        try:
            self.handler(self, s, peer)
        except OSError:
            pass
        finally:
            s.close()

    def close(self):
        self.closing = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()


def read_all(s):
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def hash_sink(srv, s, peer):
    h = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    s.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())


def generator(n):
    def handler(srv, s, peer):
        data = gen_bytes(n)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        late = read_all(s)
        with srv.lock:
            srv.late += late
    return handler


def echo(srv, s, peer):
    while True:
        b = s.recv(65536)
        if not b:
            return
        s.sendall(b)


PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def read_proxy_header(s):
    """Reads a PROXY v1 or v2 header from <s>; returns (addr, port) or None
    for LOCAL/UNKNOWN, and any bytes read past it."""
    buf = b""
    while len(buf) < 16:
        b = s.recv(16 - len(buf))
        if not b:
            raise EOFError("no PROXY header")
        buf += b
    if buf.startswith(PP2_SIG):
        ver_cmd, fam, alen = struct.unpack("!BBH", buf[12:16])
        assert ver_cmd >> 4 == 2, "PROXY v2 version"
        body = b""
        while len(body) < alen:
            b = s.recv(alen - len(body))
            if not b:
                raise EOFError("short PROXY v2 header")
            body += b
        if ver_cmd & 0xF == 0:
            return None, b""
        if fam == 0x11:
            src = socket.inet_ntop(socket.AF_INET, body[0:4])
            port = struct.unpack("!H", body[8:10])[0]
        elif fam == 0x21:
            src = socket.inet_ntop(socket.AF_INET6, body[0:16])
            port = struct.unpack("!H", body[32:34])[0]
        else:
            return None, b""
        return (src, port), b""
    assert buf.startswith(b"PROXY "), buf
    while b"\r\n" not in buf:
        b = s.recv(1)
        if not b:
            raise EOFError("short PROXY v1 line")
        buf += b
    line, _, rest = buf.partition(b"\r\n")
    f = line.decode().split(" ")
    if f[1] == "UNKNOWN":
        return None, rest
    assert f[1] in ("TCP4", "TCP6") and len(f) == 6, line
    return (f[2], int(f[4])), rest


def proxy_reader(srv, s, peer):
    who, rest = read_proxy_header(s)
    with srv.lock:
        srv.seen = getattr(srv, "seen", []) + [who]
    s.sendall(b"local\n" if who is None else ("%s %d\n" % who).encode())
    if rest:
        s.sendall(rest)
    echo(srv, s, peer)


class UdpEcho:
    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()
        self.lock = threading.Lock()
        self.seen = {}  # client (addr, port) -> [sizes]
        self.closing = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.closing:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            with self.lock:
                self.seen.setdefault(peer, []).append(len(data))
            try:
                self.sock.sendto(data, peer)
            except OSError:
                pass

    def close(self):
        self.closing = True
        self.sock.close()


def certtool(*args, stdin=None):
    subprocess.run(["certtool"] + list(args), check=True, capture_output=True,
                   input=stdin)


def make_ca(d):
    """A CA in <d>: ca.key, ca.pem."""
    tmpl = os.path.join(d, "ca.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "Gatehouse test CA"\nca\ncert_signing_key\nexpiration_days = 2\n')
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", os.path.join(d, "ca.key"))
    certtool("--generate-self-signed", "--load-privkey", os.path.join(d, "ca.key"),
             "--template", tmpl, "--outfile", os.path.join(d, "ca.pem"))


def make_cert(d, name):
    """<name>.key and <name>.pem in <d>, signed by the CA in <d>."""
    tmpl = os.path.join(d, name + ".tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "%s"\ndns_name = "%s"\ntls_www_server\nexpiration_days = 2\n'
                'signing_key\nencryption_key\n' % (name, name))
    key = os.path.join(d, name + ".key")
    pem = os.path.join(d, name + ".pem")
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    certtool("--generate-certificate", "--load-privkey", key,
             "--load-ca-certificate", os.path.join(d, "ca.pem"),
             "--load-ca-privkey", os.path.join(d, "ca.key"),
             "--template", tmpl, "--outfile", pem)
    return pem, key


class TlsServer(TcpServer):
    """TLS origin for <name>: its own certificate; answers a line."""

    def __init__(self, name, certdir):
        pem, key = make_cert(certdir, name)
        self.name = name
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pem, key)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.snis = []
        self.ctx.sni_callback = self._sni
        super().__init__(TlsServer._serve)

    def _sni(self, sslsock, name, ctx):
        with self.lock:
            self.snis.append(name)

    def _serve(self, s, peer):
        try:
            t = self.ctx.wrap_socket(s, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            line = t.recv(1024)
            t.sendall(b"hello from " + self.name.encode() + b" alpn="
                      + (t.selected_alpn_protocol() or "none").encode()
                      + b" got=" + line)
        finally:
            t.close()


def tls_client_ctx(certdir, alpn=None):
    ctx = ssl.create_default_context(cafile=os.path.join(certdir, "ca.pem"))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def peer_cn(tsock):
    cert = tsock.getpeercert()
    for rdn in cert["subject"]:
        for k, v in rdn:
            if k == "commonName":
                return v
    return None
