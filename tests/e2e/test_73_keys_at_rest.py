"""Private keys at rest (issue 16): every key in the database is sealed
with a key-encryption key kept outside it; the database file (and its WAL)
holds no PEM key; TLS is served with those keys after a restart and after
gatehoused --rotate-kek; a database copied without its KEK yields no key
material; keys stored in plain text before are sealed on start; a backup
restores on a machine with another KEK."""

import base64
import os
import shutil
import sqlite3
import subprocess

import pytest

from apiclient import restart_api, start_api, wait_port
from conftest import BINARY
from tlsutil import make_leaf, peer_cn

PASS = "a backup passphrase of some length"


@pytest.fixture
def api(gh):
    return start_api(gh)


def db_files(gh):
    return [p for p in (gh.db_path, gh.db_path + "-wal", gh.db_path + "-shm") if os.path.exists(p)]


def strings_has(path, needle):
    p = subprocess.run(["strings", "-n", "6", path], capture_output=True, timeout=60)
    return needle.encode() in p.stdout


def no_key_material(gh, pems=()):
    for f in db_files(gh):
        assert not strings_has(f, "PRIVATE KEY"), f
        data = open(f, "rb").read()
        for pem in pems:
            body = "".join(pem.strip().splitlines()[1:-1])
            der = base64.b64decode(body)
            assert body[:40].encode() not in data, f
            assert der[:32] not in data, f


def https_listener(api, gh, origin, cert):
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]})
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": cert})
    api.ok("POST", "/routes", {"name": "app", "listener": "tls", "origin": "web"})
    return wait_port(api, gh, "tls")


def served_fingerprint(port):
    """The certificate served after a full handshake (which needs the key)."""
    return peer_cn(port, "site.test")


def test_keys_sealed_and_served_after_restart(api, gh, origin, tmp_path):
    pair = make_leaf(str(tmp_path), "site.test", dns=["site.test"])
    api.ok("POST", "/certificates", {"name": "site", "certificate": pair.cert_pem,
                                     "private_key": pair.key_pem})
    api.ok("POST", "/certificates/self-signed", {"name": "lab", "names": ["lab.test"]}, status=201)
    port = https_listener(api, gh, origin, "site")
    before = served_fingerprint(port)
    kek = os.path.join(gh.dir, "kek")
    assert os.stat(kek).st_mode & 0o777 == 0o400
    rows = gh.sql("SELECT private_key_pem FROM certificates WHERE private_key_pem IS NOT NULL")
    assert len(rows) == 2 and all(bytes(k)[:4] == b"GHK1" for (k,) in rows)
    no_key_material(gh, [pair.key_pem])
    gh.stop()
    gh.proc = None
    no_key_material(gh, [pair.key_pem])
    restart_api(gh, api)
    port = wait_port(api, gh, "tls")
    assert served_fingerprint(port) == before


def test_rotate_kek_keeps_serving(api, gh, origin, tmp_path):
    pair = make_leaf(str(tmp_path), "site.test", dns=["site.test"])
    api.ok("POST", "/certificates", {"name": "site", "certificate": pair.cert_pem,
                                     "private_key": pair.key_pem})
    port = https_listener(api, gh, origin, "site")
    before = served_fingerprint(port)
    gh.stop()
    gh.proc = None
    kek = os.path.join(gh.dir, "kek")
    old_kek = open(kek).read()
    old_rows = gh.sql("SELECT private_key_pem FROM certificates")
    p = subprocess.run([BINARY, "--db", gh.db_path, "--kek", kek, "--rotate-kek"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # the certificate's key and the sticky cookie secret (balance_secret.c)
    assert "2 private keys and secrets sealed with a new key" in p.stderr
    assert open(kek).read() != old_kek
    assert os.stat(kek).st_mode & 0o777 == 0o400
    assert gh.sql("SELECT private_key_pem FROM certificates") != old_rows
    no_key_material(gh, [pair.key_pem])
    restart_api(gh, api)
    assert served_fingerprint(wait_port(api, gh, "tls")) == before


def test_copy_without_kek_yields_nothing(api, gh, origin, tmp_path):
    pair = make_leaf(str(tmp_path), "site.test", dns=["site.test"])
    api.ok("POST", "/certificates", {"name": "site", "certificate": pair.cert_pem,
                                     "private_key": pair.key_pem})
    https_listener(api, gh, origin, "site")
    gh.stop()
    gh.proc = None
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for f in db_files(gh):
        shutil.copy(f, stolen / os.path.basename(f))
    db = str(stolen / "gatehouse.db")
    with sqlite3.connect(db) as c:
        keys = [bytes(k) for (k,) in c.execute("SELECT private_key_pem FROM certificates")]
    assert keys and all(b"PRIVATE KEY" not in k for k in keys)
    for f in os.listdir(stolen):
        assert not strings_has(str(stolen / f), "PRIVATE KEY")
    # Started with another KEK, the daemon names the problem and serves nothing.
    p = subprocess.run([BINARY, "--db", db, "--kek", str(stolen / "other-kek"),
                        "--admin-listen", "off", "--workers", "1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "sealed under another key-encryption key" in p.stderr


def test_plain_keys_are_sealed_on_start(gh, origin, tmp_path):
    pair = make_leaf(str(tmp_path), "site.test", dns=["site.test"])
    gh.create_db()
    # As an older gatehoused stored it: plain PEM.
    gh.sql("INSERT INTO certificates (name, kind, certificate_pem, private_key_pem)"
           " VALUES ('site', 'leaf', ?, ?)", (pair.cert_pem, pair.key_pem.encode()))
    gh.add_listener("tls", protocol="https", default_certificate_id=gh._id("certificates", "site"))
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "tls", "o")
    assert any(strings_has(f, "PRIVATE KEY") for f in db_files(gh))
    gh.start()
    assert gh.log_has(r"sealed 1 private key with the key-encryption key")
    port = gh.ports["tls"]
    assert served_fingerprint(port)
    no_key_material(gh, [pair.key_pem])


def test_backup_restores_under_another_kek(api, gh, origin, tmp_path):
    pair = make_leaf(str(tmp_path), "site.test", dns=["site.test"])
    api.ok("POST", "/certificates", {"name": "site", "certificate": pair.cert_pem,
                                     "private_key": pair.key_pem})
    port = https_listener(api, gh, origin, "site")
    before = served_fingerprint(port)
    r = api.post("/backup", {"passphrase": PASS})
    assert r.status_code == 200, r.text
    blob = r.content
    assert b"PRIVATE KEY" not in blob  # the backup is encrypted
    gh.stop()
    gh.proc = None
    # Another machine: a fresh database and another KEK.
    other = tmp_path / "other"
    other.mkdir()
    bfile = other / "state.ghbackup"
    bfile.write_bytes(blob)
    db = str(other / "gatehouse.db")
    env = dict(os.environ, GATEHOUSE_BACKUP_PASSPHRASE=PASS)
    p = subprocess.run([BINARY, "--db", db, "--kek", str(other / "kek"), "--restore", str(bfile)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert open(str(other / "kek")).read() != open(os.path.join(gh.dir, "kek")).read()
    for f in os.listdir(other):
        if f.startswith("gatehouse.db"):
            assert not strings_has(str(other / f), "PRIVATE KEY"), f
    gh.db_path = db
    gh.start(args=["--admin-listen", "127.0.0.1:0", "--kek", str(other / "kek")])
    assert served_fingerprint(gh.ports["tls"]) == before
