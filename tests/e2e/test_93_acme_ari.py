"""ACME Renewal Information (RFC 9773) end to end. Debian's pebble (2.4)
offers no renewalInfo, so a small HTTPS proxy in front of it (ARIProxy,
with pebble's own directory certificate) adds "renewalInfo" to the
directory and answers it with the window the test sets; every other
request goes through to pebble unchanged. The daemon asks for the window
of the certificate it was issued (the identifier is the issuer's key id
and the serial, checked against openssl's view of the certificate),
renews at a moment inside the window when it comes, and after the new
certificate keeps the new window and a renewal time inside it; the
renewal's order names the certificate it replaces (and, when the CA says
that one was already replaced, orders again without). A window
that ends before it starts is refused, counted (acme_ari_failed) and
leaves the renewal at two thirds of the lifetime, asked again in an
hour."""

import base64
import http.client
import json
import re
import ssl
import subprocess
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from acmeutil import Pebble, add_account, free_port, wait_acme
from apiclient import start_api
from backends import Origin


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


class ARIProxy:
    """HTTPS on loopback in front of <pebble>: /dir gains renewalInfo,
    /ari/<id> answers the windows in self.windows (one per request, the
    last one repeated), the rest is forwarded."""

    def __init__(self, pebble):
        self.pebble = pebble
        self.asked = []
        self.orders = []
        self.refuse_replaces = False
        self.windows = []
        # Set to an Event: the first renewalInfo answer waits for it (at
        # most 25 s, below the daemon's 30 s), so the first certificate
        # stays as it is until the test has seen it.
        self.hold = None
        self.port = free_port()
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self, status, headers, body):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if self.command == "POST" and body:
                    # A newOrder's payload: kept for "replaces".
                    jws = json.loads(body)
                    if jws.get("payload"):
                        pl = jws["payload"]
                        pl = json.loads(base64.urlsafe_b64decode(pl + "=" * (-len(pl) % 4)))
                        if "identifiers" in pl:
                            proxy.orders.append(pl)
                            if "replaces" in pl and proxy.refuse_replaces:
                                self.already_replaced()
                                return
                if self.command == "GET" and self.path.startswith("/ari/"):
                    proxy.asked.append(self.path[5:])
                    if proxy.hold is not None and len(proxy.asked) == 1:
                        proxy.hold.wait(25)
                    w = proxy.windows[min(len(proxy.asked), len(proxy.windows)) - 1]
                    doc = {"suggestedWindow": {"start": rfc3339(w[0]), "end": rfc3339(w[1])}}
                    # Retry-After with the good windows only: after a bad
                    # one the client's own delay (1 h) shows.
                    hdrs = [("Content-Type", "application/json")]
                    if w[1] > w[0]:
                        hdrs.append(("Retry-After", "21600"))
                    self.answer(200, hdrs, json.dumps(doc).encode())
                    return
                ctx = ssl.create_default_context(cafile=proxy.pebble.ca.cert)
                c = http.client.HTTPSConnection("127.0.0.1", proxy.pebble.port, context=ctx,
                                                timeout=30)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("content-type", "host", "accept")}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                out = [(k, v) for k, v in r.getheaders()
                       if k.lower() not in ("content-length", "transfer-encoding",
                                            "connection", "date")]
                if self.command == "GET" and self.path == "/dir":
                    d = json.loads(data)
                    d["renewalInfo"] = "https://127.0.0.1:%d/ari/" % proxy.port
                    data = json.dumps(d).encode()
                c.close()
                self.answer(r.status, out, data)

            def already_replaced(self):
                # The CA's refusal, with a fresh nonce from pebble.
                ctx = ssl.create_default_context(cafile=proxy.pebble.ca.cert)
                c = http.client.HTTPSConnection("127.0.0.1", proxy.pebble.port, context=ctx,
                                                timeout=30)
                c.request("HEAD", "/nonce-plz")
                nonce = c.getresponse().getheader("Replay-Nonce")
                c.close()
                doc = {"type": "urn:ietf:params:acme:error:alreadyReplaced",
                       "detail": "the certificate was already replaced", "status": 409}
                self.answer(409, [("Content-Type", "application/problem+json"),
                                  ("Replay-Nonce", nonce)], json.dumps(doc).encode())

            do_GET = do_POST = do_HEAD = handle_any

        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pebble.leaf.cert, pebble.leaf.key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    @property
    def directory(self):
        return "https://127.0.0.1:%d/dir" % self.port

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ari_id(pem):
    """RFC 9773's identifier of <pem>, from openssl's own reading."""
    p = subprocess.run(["openssl", "x509", "-noout", "-serial", "-ext",
                        "authorityKeyIdentifier"], input=pem, capture_output=True,
                       text=True, check=True)
    serial = re.search(r"serial=([0-9A-F]+)", p.stdout).group(1)
    keyid = re.search(r"(?:keyid:)?((?:[0-9A-F]{2}:)+[0-9A-F]{2})", p.stdout.split("\n", 1)[1])
    s = bytes.fromhex(serial if len(serial) % 2 == 0 else "0" + serial)
    if s[0] & 0x80:
        s = b"\0" + s
    return b64url(bytes.fromhex(keyid.group(1).replace(":", ""))) + "." + b64url(s)


def wait_until_asked(proxy, n, timeout=30):
    """Polls until the daemon asked for <n> renewal windows."""
    deadline = time.monotonic() + timeout
    while len(proxy.asked) < n:
        assert time.monotonic() < deadline, proxy.asked
        time.sleep(0.05)


@pytest.fixture
def env(gh, tmp_path):
    gh.extra_env["GATEHOUSE_ACME_RETRY_S"] = "1"
    api = start_api(gh)
    origin = Origin()
    http_port = free_port()
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "plain", "address": "127.0.0.1",
                                  "port": http_port, "protocol": "http"})
    pebble = Pebble(tmp_path / "pebble", http_port, 1)
    proxy = ARIProxy(pebble)
    r = api.post("/acme_accounts", {"name": "ari", "directory": proxy.directory,
                                    "email": "ops@example.test", "terms_agreed": True,
                                    "directory_ca": pebble.directory_ca})
    assert r.status_code == 201, r.text
    yield api, pebble, proxy
    proxy.close()
    pebble.close()
    origin.close()


def test_renews_inside_the_ca_window(env, gh):
    api, pebble, proxy = env
    # The first certificate is valid only until its window is answered
    # (the renewal can follow within a second): the proxy holds that
    # answer until the test has seen it, so a slow poll cannot miss it.
    proxy.hold = threading.Event()
    r = api.post("/certificates/acme", {"name": "site", "names": ["ari.example.test"],
                                        "account": "ari"})
    assert r.status_code == 202, r.text
    first = wait_acme(api, "site", ("valid",), pred=lambda c: c["acme"]["issued"] == 1)
    assert first["acme"]["renewal_window"] is None, first["acme"]
    wait_until_asked(proxy, 1)
    # First window: open now, closing in 4 s (renew within it); then a
    # window far ahead for the certificate that replaces it.
    now = time.time()
    far = (int(now) + 40 * 86400, int(now) + 42 * 86400)
    proxy.windows = [(int(now) - 60, int(now) + 4), far]
    proxy.hold.set()
    gh.wait_for(r"acme: site: renewal due", timeout=30)
    c = wait_acme(api, "site", ("valid",), timeout=60,
                  pred=lambda c: c["acme"]["issued"] == 2 and
                  c["acme"]["renewal_window"] is not None and
                  c["fingerprint_sha256"] != first["fingerprint_sha256"] and
                  len(proxy.asked) >= 2)
    assert pebble.log().count("Issued certificate serial") == 2
    # The daemon named each certificate as RFC 9773 says.
    pem = gh.sql("SELECT certificate_pem FROM certificates WHERE name = 'site'")[0][0]
    assert proxy.asked[-1] == ari_id(pem), (proxy.asked, ari_id(pem))
    assert proxy.asked[0] != proxy.asked[-1]
    # The renewal's order says which certificate it replaces (section 5).
    assert len(proxy.orders) == 2, proxy.orders
    assert "replaces" not in proxy.orders[0]
    assert proxy.orders[1]["replaces"] == proxy.asked[0]
    # The new window is kept and the renewal is at a moment inside it.
    w = c["acme"]["renewal_window"]
    assert (epoch(w["start"]), epoch(w["end"])) == far, w
    assert far[0] <= epoch(c["acme"]["next_renewal"]) < far[1], c["acme"]
    # Asked again after Retry-After (6 h), not before.
    row = gh.sql("SELECT ari_check FROM acme_certs")[0][0]
    assert 6 * 3600 - 120 <= row - time.time() <= 6 * 3600 + 5, row


def test_unusable_window_keeps_two_thirds(env, gh):
    api, pebble, proxy = env
    now = int(time.time())
    proxy.windows = [(now + 86400, now + 3600)]
    before = api.get("/stats").json()["global"]["acme_ari_failed"]
    r = api.post("/certificates/acme", {"name": "site", "names": ["bad-ari.example.test"],
                                        "account": "ari"})
    assert r.status_code == 202, r.text
    wait_acme(api, "site", ("valid",))
    gh.wait_for(r"acme: site: renewalInfo: suggestedWindow ends .* before it starts",
                timeout=30)
    c = api.get("/certificates/site").json()
    assert api.get("/stats").json()["global"]["acme_ari_failed"] == before + 1
    assert c["acme"]["renewal_window"] is None and c["acme"]["status"] == "valid"
    nb, na = epoch(c["not_before"]), epoch(c["not_after"])
    assert abs(epoch(c["acme"]["next_renewal"]) - (nb + (na - nb) * 2 / 3)) <= 1, c
    row = gh.sql("SELECT ari_check FROM acme_certs")[0][0]
    assert 3600 - 120 <= row - time.time() <= 3600 + 5, row
    assert len(proxy.asked) == 1


def test_already_replaced_orders_without_replaces(env, gh):
    api, pebble, proxy = env
    now = int(time.time())
    proxy.windows = [(now - 60, now + 4), (now + 40 * 86400, now + 42 * 86400)]
    proxy.refuse_replaces = True
    r = api.post("/certificates/acme", {"name": "site", "names": ["again.example.test"],
                                        "account": "ari"})
    assert r.status_code == 202, r.text
    wait_acme(api, "site", ("valid",), timeout=60, pred=lambda c: c["acme"]["issued"] == 2)
    gh.wait_for(r"acme: site: the CA says .* was already replaced; ordering without",
                timeout=5)
    assert [("replaces" in o) for o in proxy.orders] == [False, True, False], proxy.orders
    assert pebble.log().count("Issued certificate serial") == 2
