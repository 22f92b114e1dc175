"""The certificate API: uploads (leaf with key, CA without) are checked
and described, never return the key (nor does GET /config or a revision
diff); every bad upload is a 422 naming the problem and stores nothing;
self-signed generation; certificates replaced through the API serve new
handshakes while an open keep-alive connection keeps working; deleting a
certificate in use is a 409; /posture lists routes sending plaintext off
the host."""

import socket
import ssl

import pytest

from apiclient import problem_fields, start_api, wait_port
from tlsutil import make_ca, make_leaf, peer_cn


@pytest.fixture
def api(gh):
    return start_api(gh)


def names(api):
    return [c["name"] for c in api.get("/certificates").json()]


def upload(api, name, pair, key=True):
    body = {"name": name, "certificate": pair.cert_pem}
    if key:
        body["private_key"] = pair.key_pem
    return api.post("/certificates", body)


def test_upload_describe_never_key(api, gh, tmp_path):
    ca = make_ca(tmp_path)
    leaf = make_leaf(tmp_path, "site.test", ca, dns=["site.test", "*.site.test"],
                     ips=["127.0.0.1"])
    r = upload(api, "site", leaf)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["name"] == "site" and c["kind"] == "leaf"
    assert c["subject"] == "CN=site.test"
    assert c["issuer"] == "CN=Test CA"
    assert c["sans"] == ["site.test", "*.site.test", "127.0.0.1"]
    assert c["key_type"] == "ECDSA-P256"
    assert len(c["fingerprint_sha256"]) == 64
    assert c["expired"] is False and c["used_by"] == []
    assert c["not_before"].endswith("Z") and c["not_after"] > c["not_before"]
    r = upload(api, "ca", ca, key=False)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "ca" and r.json()["is_ca"] is True
    key_marker = leaf.key_pem.splitlines()[1]
    for path in ("/certificates", "/certificates/site", "/config", "/revisions",
                 "/revisions/%d/diff" % api.revision(), "/revisions/%d" % api.revision()):
        text = api.get(path).text
        assert "PRIVATE KEY" not in text and key_marker not in text, path
    assert api.post("/certificates", {"name": "site", "certificate": leaf.cert_pem,
                                      "private_key": leaf.key_pem}).status_code == 409


def test_expired_accepted_with_warning(api, tmp_path):
    old = make_leaf(tmp_path, "old.test", None, dns=["old.test"], days=-1)
    r = upload(api, "old", old)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["expired"] is True
    assert c["not_after"] == "2020-02-01T00:00:00Z"
    assert c["warning"] == "the certificate expired on 2020-02-01T00:00:00Z"


BAD = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"


def test_bad_uploads_422_nothing_stored(api, gh, tmp_path):
    ca = make_ca(tmp_path)
    a = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    b = make_leaf(tmp_path, "b.test", ca, dns=["b.test"])
    small = make_leaf(tmp_path, "small.test", None, dns=["small.test"], key_type="rsa",
                      bits=1024)
    p224 = make_leaf(tmp_path, "p224.test", None, dns=["p224.test"], key_type="secp224r1")
    rev = api.revision()
    cases = [
        ({"name": "x", "certificate": "hello", "private_key": a.key_pem},
         "certificate", "not PEM"),
        ({"name": "x", "certificate": BAD, "private_key": a.key_pem},
         "certificate", "not a valid PEM chain"),
        ({"name": "x", "certificate": a.cert_pem, "private_key": "nope"},
         "private_key", "not PEM"),
        ({"name": "x", "certificate": a.cert_pem,
          "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
         "private_key", "not a valid PEM private key"),
        ({"name": "x", "certificate": a.cert_pem, "private_key": b.key_pem},
         "private_key", "does not match the certificate"),
        ({"name": "x", "certificate": small.cert_pem, "private_key": small.key_pem},
         "certificate", "too small"),
        ({"name": "x", "certificate": p224.cert_pem, "private_key": p224.key_pem},
         "certificate", "not supported"),
        ({"name": "x", "certificate": a.cert_pem * 150, "private_key": a.key_pem},
         "certificate", "more than the limit"),
        ({"name": "x", "certificate": b.cert_pem + a.cert_pem, "private_key": b.key_pem},
         "certificate", "out of order"),
        ({"name": "", "certificate": a.cert_pem, "private_key": a.key_pem}, "name", "must be"),
        ({"name": "x", "private_key": a.key_pem}, "certificate", "required"),
        ({"name": "x", "certificate": a.cert_pem, "extra": 1}, "extra", "unknown"),
    ]
    for body, field, text in cases:
        r = api.post("/certificates", body)
        assert r.status_code == 422, (field, r.text)
        errs = dict(problem_fields(r))
        assert field in errs, (field, r.text)
        assert text in errs[field], (field, errs)
    assert names(api) == []
    assert api.revision() == rev
    r = api.post("/certificates/self-signed", {"name": "g", "names": ["g.test"],
                                               "key_type": "dsa"})
    assert r.status_code == 422 and "key_type" in dict(problem_fields(r))
    r = api.post("/certificates/self-signed", {"name": "g", "names": ["bad name"]})
    assert r.status_code == 422 and "names" in dict(problem_fields(r))
    assert names(api) == []


def test_self_signed_key_types(api):
    for kt, want in (("ecdsa-p256", "ECDSA-P256"), ("ecdsa-p384", "ECDSA-P384"),
                     ("rsa-2048", "RSA-2048"), ("ed25519", "Ed25519")):
        r = api.post("/certificates/self-signed",
                     {"name": "ss-" + kt, "names": ["a.test", "*.a.test", "10.0.0.1"],
                      "days": 30, "key_type": kt})
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["key_type"] == want
        assert c["sans"] == ["a.test", "*.a.test", "10.0.0.1"]
        assert c["subject"] == "CN=a.test" and c["issuer"] == "CN=a.test"
    r = api.post("/certificates/self-signed", {"name": "lab", "names": ["lab.test"]})
    assert r.status_code == 201


def https_setup(api, gh, origin, tmp_path):
    ca = make_ca(tmp_path)
    a = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    b = make_leaf(tmp_path, "b.test", ca, dns=["b.test"])
    assert upload(api, "a", a).status_code == 201
    assert upload(api, "b", b).status_code == 201
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "a"}, status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "tls", "origin": "web"}, status=201)
    return ca, wait_port(api, gh, "tls")


def test_replace_through_api_live(api, gh, origin, tmp_path):
    ca, port = https_setup(api, gh, origin, tmp_path)
    assert peer_cn(port, "a.test", ca.cert, check=True) == "a.test"
    assert peer_cn(port, "b.test", ca.cert, check=True) == "b.test"
    assert api.get("/certificates/a").json()["used_by"] == ["listeners/tls"]
    s = ssl.create_default_context(cafile=ca.cert).wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="b.test")
    s.sendall(b"GET /1 HTTP/1.1\r\nHost: b.test\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    new = make_leaf(tmp_path, "b2.test", ca, dns=["b.test"])
    r = api.put("/certificates/b", {"certificate": new.cert_pem, "private_key": new.key_pem})
    assert r.status_code == 200, r.text
    assert r.headers["X-Config-Revision"]
    assert peer_cn(port, "b.test", ca.cert, check=True) == "b2.test"
    s.sendall(b"GET /2 HTTP/1.1\r\nHost: b.test\r\n\r\n")
    data = b""
    while b"/2" not in data:
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    assert b"HTTP/1.1 200" in data
    s.close()
    # a bad replacement changes nothing
    r = api.put("/certificates/b", {"certificate": new.cert_pem, "private_key": "x"})
    assert r.status_code == 422
    assert peer_cn(port, "b.test", ca.cert, check=True) == "b2.test"


def test_delete_in_use_409(api, gh, origin, tmp_path):
    https_setup(api, gh, origin, tmp_path)
    r = api.delete("/certificates/a")
    assert r.status_code == 409 and "listeners/tls" in r.text
    assert api.delete("/certificates/b").status_code == 204
    assert api.get("/certificates/b").status_code == 404
    assert names(api) == ["a"]


def test_posture(api, gh, origin, tmp_path):
    ca = make_ca(tmp_path)
    assert upload(api, "origin-ca", ca, key=False).status_code == 201
    api.ok("POST", "/certificates/self-signed", {"name": "front", "names": ["f.test"]},
           status=201)
    api.ok("POST", "/origins", {"name": "local", "servers": [{"address": "127.0.0.1",
                                                              "port": origin.port}]}, status=201)
    api.ok("POST", "/origins", {"name": "remote", "servers": [{"address": "192.0.2.10",
                                                               "port": 80}]}, status=201)
    api.ok("POST", "/origins", {"name": "remote-tls", "servers": [{"address": "192.0.2.11",
                                                                   "port": 443}],
                                "tls": {"enabled": True, "ca": "origin-ca",
                                        "sni": "r.test"}}, status=201)
    api.ok("POST", "/listeners", {"name": "pub", "address": "127.0.0.1", "port": 0,
                                  "protocol": "http"}, status=201)
    api.ok("POST", "/listeners", {"name": "sec", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "front"},
           status=201)
    for name, lst, org in (("p-local", "pub", "local"), ("p-remote", "pub", "remote"),
                           ("s-remote", "sec", "remote"), ("s-tls", "sec", "remote-tls")):
        api.ok("POST", "/routes", {"name": name, "listener": lst, "origin": org,
                                   "match": {"hosts": [name + ".test"]}}, status=201)
    doc = api.get("/posture").json()
    assert doc["plaintext_off_host"] == ["p-remote", "s-remote"]
    by = {p["route"]: p for p in doc["routes"]}
    assert by["p-local"]["client_to_proxy"] == "plaintext"
    assert by["p-local"]["cleartext_leaves_host"] is False
    assert by["s-remote"]["client_encrypted"] is True
    assert by["s-remote"]["origin_encrypted"] is False
    assert by["s-remote"]["plaintext_servers_off_host"] == ["192.0.2.10"]
    assert by["s-tls"]["proxy_to_origin"] == "encrypted"
    assert by["s-tls"]["origin_verified"] is True
    assert by["s-tls"]["cleartext_leaves_host"] is False
