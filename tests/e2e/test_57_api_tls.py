"""The admin listener off loopback serves HTTPS only, with a self-signed
certificate generated on first start next to the database and kept across
restarts; session cookies are Secure there."""

import json
import os
import socket

import requests

from apiclient import ADMIN_RE, admin_password


def test_non_loopback_admin_is_https_only(gh):
    gh.start(args=["--admin-listen", "0.0.0.0:0"])
    m = gh.wait_for(ADMIN_RE)
    assert m.group(1) == "https"
    port = int(m.group(3))
    cert = os.path.join(gh.dir, "admin-cert.pem")
    key = os.path.join(gh.dir, "admin-key.pem")
    assert os.stat(key).st_mode & 0o777 == 0o600
    base = "https://127.0.0.1:%d/api/v1" % port
    r = requests.get(base + "/healthz", verify=cert, timeout=10)
    assert r.json() == {"status": "ok"}
    r = requests.post(base + "/session", verify=cert, timeout=10,
                      headers={"Content-Type": "application/json"},
                      data=json.dumps({"username": "admin", "password": admin_password(gh)}))
    assert r.status_code == 200
    sc = r.headers["Set-Cookie"]
    assert "Secure" in sc and "HttpOnly" in sc and "SameSite=Strict" in sc
    # Plain HTTP gets no HTTP answer.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    s.close()
    assert not data.startswith(b"HTTP/")
    with open(cert) as f:
        first = f.read()
    gh.stop()
    gh.start(args=["--admin-listen", "0.0.0.0:0"])
    m = gh.wait_for(ADMIN_RE)
    with open(cert) as f:
        assert f.read() == first
    r = requests.get("https://127.0.0.1:%s/api/v1/healthz" % m.group(3), verify=cert, timeout=10)
    assert r.status_code == 200


def test_configured_certificate_on_loopback(gh, tmp_path):
    # Generate a pair with the daemon itself, then hand it over explicitly.
    gh.start(args=["--admin-listen", "0.0.0.0:0"])
    gh.wait_for(ADMIN_RE)
    gh.stop()
    cert = str(tmp_path / "mycert.pem")
    key = str(tmp_path / "mykey.pem")
    os.rename(os.path.join(gh.dir, "admin-cert.pem"), cert)
    os.rename(os.path.join(gh.dir, "admin-key.pem"), key)
    gh.start(args=["--admin-listen", "127.0.0.1:0", "--admin-cert", cert, "--admin-key", key])
    m = gh.wait_for(ADMIN_RE)
    assert m.group(1) == "https"
    r = requests.get("https://127.0.0.1:%s/api/v1/healthz" % m.group(3), verify=cert, timeout=10)
    assert r.status_code == 200
    assert not os.path.exists(os.path.join(gh.dir, "admin-cert.pem"))
