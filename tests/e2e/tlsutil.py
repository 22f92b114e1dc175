"""tlsutil.py: TLS material made at test time with certtool (gnutls-bin),
and small TLS clients for the test_3x TLS suites. Nothing here is
committed key material: every key is generated into the test's temp dir."""

import os
import socket
import ssl
import subprocess


def _certtool(*args):
    p = subprocess.run(["certtool"] + list(args), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def _template(path, cn, dns=(), ips=(), ca=False, client=False, days=30):
    if days < 0:  # already expired
        validity = ['activation_date = "2020-01-01 00:00:00 UTC"',
                    'expiration_date = "2020-02-01 00:00:00 UTC"']
    else:
        validity = ["expiration_days = %d" % days]
    lines = ['cn = "%s"' % cn, "serial = %d" % int.from_bytes(os.urandom(6), "big")] + validity
    for d in dns:
        lines.append('dns_name = "%s"' % d)
    for ip in ips:
        lines.append('ip_address = "%s"' % ip)
    if ca:
        lines += ["ca", "cert_signing_key", "crl_signing_key"]
    else:
        lines += ["signing_key", "encryption_key",
                  "tls_www_client" if client else "tls_www_server"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Pair:
    """A certificate and its key, as files and as PEM strings."""

    def __init__(self, cert, key):
        self.cert, self.key = cert, key

    @property
    def cert_pem(self):
        with open(self.cert) as f:
            return f.read()

    @property
    def key_pem(self):
        with open(self.key) as f:
            return f.read()


def keygen(path, key_type="ecdsa", bits=None):
    args = ["--generate-privkey", "--outfile", path, "--no-text"]
    if key_type == "ecdsa":
        args += ["--key-type", "ecdsa", "--curve", "secp256r1"]
    elif key_type == "rsa":
        args += ["--key-type", "rsa", "--bits", str(bits or 2048)]
    elif key_type == "ed25519":
        args += ["--key-type", "ed25519"]
    elif key_type == "secp521r1" or key_type == "secp224r1":
        args += ["--key-type", "ecdsa", "--curve", key_type]
    _certtool(*args)
    return path


def make_ca(d, name="Test CA"):
    base = os.path.join(str(d), name.replace(" ", "_"))
    key = keygen(base + ".key")
    _template(base + ".tmpl", name, ca=True, days=365)
    _certtool("--generate-self-signed", "--load-privkey", key, "--template",
              base + ".tmpl", "--outfile", base + ".pem")
    return Pair(base + ".pem", key)


def make_leaf(d, name, ca=None, dns=(), ips=(), client=False, key_type="ecdsa",
              bits=None, days=30):
    """A leaf for <dns>/<ips>, signed by <ca> (a Pair) or self-signed."""
    base = os.path.join(str(d), name.replace("*", "star").replace(" ", "_"))
    key = keygen(base + ".key", key_type, bits)
    _template(base + ".tmpl", name, dns=dns, ips=ips, client=client, days=days)
    if ca is None:
        _certtool("--generate-self-signed", "--load-privkey", key, "--template",
                  base + ".tmpl", "--outfile", base + ".pem")
    else:
        _certtool("--generate-certificate", "--load-privkey", key,
                  "--load-ca-certificate", ca.cert, "--load-ca-privkey", ca.key,
                  "--template", base + ".tmpl", "--outfile", base + ".pem")
    return Pair(base + ".pem", key)


def add_cert(gh, name, pair=None, cert_pem=None, key_pem=None, kind=None):
    """Stores a certificate row directly (data-plane tests; the API suite
    uploads through /api/v1/certificates)."""
    cert_pem = cert_pem if cert_pem is not None else pair.cert_pem
    if key_pem is None and pair is not None and kind != "ca":
        key_pem = pair.key_pem
    cols = dict(name=name, certificate_pem=cert_pem,
                private_key_pem=key_pem.encode() if key_pem else None,
                kind=kind or ("leaf" if key_pem else "ca"))
    return gh._insert("certificates", cols)


def peer_cn(port, sni, cafile=None, check=False, certfile=None, keyfile=None):
    """Handshakes with 127.0.0.1:<port> sending <sni>; returns the CN of the
    certificate served."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = check
    if cafile:
        ctx.load_verify_locations(cafile)
    if not check:
        ctx.verify_mode = ssl.CERT_NONE
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=sni) as t:
            der = t.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    p = subprocess.run(["certtool", "-i"], input=pem.encode(), capture_output=True,
                       timeout=30)
    for line in p.stdout.decode().splitlines():
        line = line.strip()
        if line.startswith("Subject:"):
            return line.split("CN=", 1)[1].split(",")[0] if "CN=" in line else line
    return None


def https_curl(port, name, path="/", cafile=None, args=(), timeout=10):
    """curl https://<name>:<port><path> resolved to 127.0.0.1; (status, headers
    text, body, stderr)."""
    cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", "-",
           "--resolve", "%s:%d:127.0.0.1" % (name, port), "-w", "\n%{http_code}"]
    if cafile:
        cmd += ["--cacert", cafile]
    cmd += list(args)
    cmd.append("https://%s:%d%s" % (name, port, path))
    p = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
    out = p.stdout.decode("latin-1")
    body, _, code = out.rpartition("\n")
    return (int(code) if code.strip().isdigit() else 0), body, p.stderr.decode()


class TLSOrigin:
    """A TLS-only HTTP/1.1 origin: answers every request 200 with a JSON
    body naming the request's path and headers, keeps connections alive.
    <client_ca> makes it require client certificates signed by it."""

    def __init__(self, pair, client_ca=None):
        import json
        import threading
        self._json = json
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pair.cert, pair.key)
        if client_ca:
            self.ctx.load_verify_locations(client_ca)
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.host, self.port = "127.0.0.1", self.sock.getsockname()[1]
        self.requests = []
        self.handshake_errors = []
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while not self.closing:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, raw):
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshake_errors.append(str(e))
            raw.close()
            return
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                hdrs = [tuple(x.split(": ", 1)) for x in lines[1:]]
                n = 0
                for k, v in hdrs:
                    if k.lower() == "content-length":
                        n = int(v)
                while len(buf) < n:
                    buf += s.recv(65536)
                buf = buf[n:]
                self.requests.append((method, path, hdrs))
                peer = s.getpeercert()
                body = self._json.dumps({"path": path, "headers": hdrs,
                                         "tls": s.version(), "client_cert": bool(peer)}).encode()
                s.sendall(b"HTTP/1.1 200 OK\r\nX-Backend: tls\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except (OSError, ValueError, ssl.SSLError):
            pass
        finally:
            s.close()

    def close(self):
        self.closing = True
        self.sock.close()
