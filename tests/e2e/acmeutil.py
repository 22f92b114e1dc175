"""acmeutil.py: Debian's pebble (a test ACME CA) on loopback for the ACME
suites (test_9x). Each Pebble gets its own TLS certificate for its
directory (made with certtool, trusted by the daemon through the
account's "directory_ca", never by turning verification off), its own
pebble-challtestsrv as DNS server (every name resolves to 127.0.0.1), and
points its validation at the daemon's listeners: http-01 at <http_port>,
tls-alpn-01 at <tls_port>. PEBBLE_VA_ALWAYS_VALID is never set: every
challenge is really validated against the daemon."""

import json
import os
import socket
import ssl
import subprocess
import time
import urllib.request

from tlsutil import make_ca, make_leaf


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_tcp(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on 127.0.0.1:%d" % port)


class Pebble:
    def __init__(self, d, http_port, tls_port, validity=None):
        self.dir = str(d)
        self.validity = validity  # seconds a certificate is valid
        os.makedirs(self.dir, exist_ok=True)
        self.ca = make_ca(self.dir, "Pebble Directory CA")
        self.leaf = make_leaf(self.dir, "pebble-directory", self.ca,
                              dns=["localhost"], ips=["127.0.0.1"])
        self.port = free_port()
        self.mgmt = free_port()
        self.dns = free_port(socket.SOCK_DGRAM)
        self.chal_mgmt = free_port()
        self.http_port, self.tls_port = http_port, tls_port
        self.proc = self.chal = None
        self.start_dns()
        self.start()

    @property
    def directory(self):
        return "https://127.0.0.1:%d/dir" % self.port

    @property
    def directory_ca(self):
        return self.ca.cert_pem

    def start_dns(self):
        log = open(os.path.join(self.dir, "challtestsrv.log"), "ab")
        self.chal = subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
             "-dns01", "127.0.0.1:%d" % self.dns, "-http01", "", "-https01", "",
             "-tlsalpn01", "", "-management", "127.0.0.1:%d" % self.chal_mgmt],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_tcp(self.chal_mgmt)

    def start(self):
        assert self.proc is None
        cfg = {"pebble": {
            "listenAddress": "127.0.0.1:%d" % self.port,
            "managementListenAddress": "127.0.0.1:%d" % self.mgmt,
            "certificate": self.leaf.cert, "privateKey": self.leaf.key,
            "httpPort": self.http_port, "tlsPort": self.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}
        if self.validity:
            cfg["pebble"]["certificateValidityPeriod"] = self.validity
        path = os.path.join(self.dir, "pebble.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0",
                   PEBBLE_AUTHZREUSE="0")
        env.pop("PEBBLE_VA_ALWAYS_VALID", None)
        log = open(os.path.join(self.dir, "pebble.log"), "ab")
        self.proc = subprocess.Popen(
            ["pebble", "-config", path, "-dnsserver", "127.0.0.1:%d" % self.dns],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=self.dir)
        wait_tcp(self.port)
        wait_tcp(self.mgmt)
        self._root = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def close(self):
        self.stop()
        if self.chal is not None:
            self.chal.terminate()
            try:
                self.chal.wait(10)
            except subprocess.TimeoutExpired:
                self.chal.kill()
                self.chal.wait()
            self.chal = None

    def log(self):
        with open(os.path.join(self.dir, "pebble.log"), errors="replace") as f:
            return f.read()

    def root_file(self):
        """Pebble's issuing root (made at its start), as a PEM file: what a
        client trusts to verify the certificates it issues."""
        ctx = ssl.create_default_context(cafile=self.ca.cert)
        with urllib.request.urlopen("https://127.0.0.1:%d/roots/0" % self.mgmt,
                                    context=ctx, timeout=10) as r:
            pem = r.read().decode()
        path = os.path.join(self.dir, "pebble-root-%d.pem" % self.mgmt)
        with open(path, "w") as f:
            f.write(pem)
        return path


def add_account(api, pebble, name="pebble"):
    r = api.post("/acme_accounts", {"name": name, "directory": pebble.directory,
                                    "email": "ops@example.test", "terms_agreed": True,
                                    "directory_ca": pebble.directory_ca})
    assert r.status_code == 201, r.text
    return r.json()


def wait_acme(api, cert, statuses, timeout=60, pred=None):
    """Polls /certificates/<cert> until acme.status is one of <statuses>
    (and <pred>(cert) holds); returns the certificate object."""
    deadline = time.monotonic() + timeout
    c = None
    while time.monotonic() < deadline:
        c = api.get("/certificates/" + cert).json()
        if c.get("acme", {}).get("status") in statuses and (pred is None or pred(c)):
            return c
        time.sleep(0.2)
    raise AssertionError("certificate %s never reached %s: %s" % (cert, statuses, c))
