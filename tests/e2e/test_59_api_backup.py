"""Backup and restore: POST/GET /backup return the whole state sealed with a
passphrase (AES-256-GCM, PBKDF2-SHA256); POST /restore validates it fully
and applies it live as a new revision. Backup -> wipe -> restore brings back
every listener, route, origin, certificate (its key serves TLS), user, token
and revision; a wrong passphrase, a tampered or foreign file is refused with
nothing changed. gatehoused --backup/--restore do the same offline."""

import glob
import os
import sqlite3
import subprocess

from apiclient import admin_password, login, restart_api, start_api, wait_port
from conftest import BINARY
from tlsutil import https_curl, make_ca, make_leaf, peer_cn

PASS = "correct horse battery staple"
OCTET = {"Content-Type": "application/octet-stream"}


def restore(api, data, passphrase=PASS):
    h = dict(OCTET)
    if passphrase is not None:
        h["X-Backup-Passphrase"] = passphrase
    return api.req("POST", "/restore", raw=data, headers=h, ctype=None)


def take_backup(api, passphrase=PASS):
    r = api.post("/backup", {"passphrase": passphrase})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="gatehouse-')
    assert r.content[:8] == b"GHBACKUP"
    return r.content


def names(api, path):
    r = api.get(path)
    assert r.status_code == 200, r.text
    return sorted(x["name"] for x in r.json())


def build_state(api, gh, origin, tmp_path):
    """Certificate with key, origin, https listener, route, a viewer user and
    a token; returns the CA and the token."""
    ca = make_ca(tmp_path)
    leaf = make_leaf(tmp_path, "a.test", ca, dns=["a.test"])
    api.ok("POST", "/certificates", {"name": "a", "certificate": leaf.cert_pem,
                                     "private_key": leaf.key_pem}, status=201)
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "tls", "address": "127.0.0.1", "port": 0,
                                  "protocol": "https", "default_certificate": "a"}, status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "tls", "origin": "web"}, status=201)
    api.ok("POST", "/users", {"name": "bob", "password": "bob-password-1234", "role": "viewer"},
           status=201)
    tok = api.ok("POST", "/tokens", {"name": "ci", "role": "admin"}, status=201).json()["token"]
    return ca, tok


def state(api):
    revs = api.get("/revisions?limit=1000").json()
    revs = revs["items"] if isinstance(revs, dict) else revs
    return {
        "listeners": names(api, "/listeners"),
        "origins": names(api, "/origins"),
        "routes": names(api, "/routes"),
        "certificates": names(api, "/certificates"),
        "users": names(api, "/users"),
        "tokens": names(api, "/tokens"),
        "revisions": sorted((r["revision"], r["summary"]) for r in revs),
        "config": api.get("/config").json(),
    }


def wipe(gh):
    gh.stop()
    d = os.path.dirname(gh.db_path)
    for f in glob.glob(gh.db_path + "*") + [os.path.join(d, "admin-password")]:
        os.unlink(f)


def test_backup_wipe_restore(gh, origin, tmp_path):
    api = start_api(gh)
    ca, tok = build_state(api, gh, origin, tmp_path)
    before = state(api)
    blob = take_backup(api)
    # GET with the passphrase in a header gives a backup too
    r = api.get("/backup", headers={"X-Backup-Passphrase": PASS})
    assert r.status_code == 200 and r.content[:8] == b"GHBACKUP"
    assert r.content != blob  # fresh salt and nonce

    wipe(gh)
    fresh = restart_api(gh, api)
    fresh, _ = login(fresh.base, "admin", admin_password(gh))
    assert names(fresh, "/listeners") == []
    r = restore(fresh, blob)
    assert r.status_code == 200, r.text
    rev = r.json()["revision"]
    assert rev == max(n for n, _ in before["revisions"]) + 1
    kept = r.json()["previous_state"]
    assert os.path.dirname(kept) == os.path.dirname(gh.db_path)
    with sqlite3.connect(kept) as db:  # the wiped state, kept
        assert db.execute("SELECT count(*) FROM listeners").fetchone()[0] == 0

    # the fresh admin's session is gone with its user row; the backup's token works
    assert fresh.get("/config").status_code == 401
    back = api.with_token(tok)
    after = state(back)
    for k in ("listeners", "origins", "routes", "certificates", "users", "tokens", "config"):
        assert after[k] == before[k], k
    assert after["revisions"][:-1] == before["revisions"]
    assert after["revisions"][-1][0] == rev
    assert after["revisions"][-1][1].startswith("restored from a backup")
    # the restored key serves TLS, and traffic flows through the route
    port = wait_port(back, gh, "tls")
    assert peer_cn(port, "a.test", ca.cert, check=True) == "a.test"
    status, _, err = https_curl(port, "a.test", "/x", cafile=ca.cert)
    assert status == 200, err
    # the restored users can log in
    login(back.base, "bob", "bob-password-1234")


def test_refusals_change_nothing(gh, origin, tmp_path):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]}, status=201)
    blob = take_backup(api)
    api.ok("POST", "/origins", {"name": "later", "servers": [{"address": origin.host,
                                                              "port": origin.port}]}, status=201)
    rev = api.revision()
    d = os.path.dirname(gh.db_path)

    def refused(data, status, passphrase=PASS, detail=None):
        r = restore(api, data, passphrase)
        assert r.status_code == status, r.text
        if detail:
            assert detail in r.json()["detail"], r.text
        assert api.revision() == rev
        assert names(api, "/origins") == ["later", "web"]
        assert glob.glob(os.path.join(d, "pre-restore-*")) == []

    refused(blob, 422, "wrong passphrase!", "wrong passphrase or damaged file")
    refused(blob, 400, None, "needs the passphrase")
    refused(blob, 400, "short", "needs the passphrase")
    for i in (60, len(blob) // 2, len(blob) - 1):  # ciphertext, middle, tag
        bad = bytearray(blob)
        bad[i] ^= 0x01
        refused(bytes(bad), 422, detail="wrong passphrase or damaged file")
    bad = bytearray(blob)
    bad[20] ^= 0x01  # the salt: authenticated as associated data
    refused(bytes(bad), 422, detail="wrong passphrase or damaged file")
    bad = bytearray(blob)
    bad[15] ^= 0x01  # iterations
    refused(bytes(bad), 422, detail="wrong passphrase or damaged file")
    refused(blob[:-5], 422)
    refused(b"GHBACKUP" + b"\0" * 100, 422)
    refused(b"not a backup", 422, detail="not a Gatehouse backup file")
    r = api.req("POST", "/restore", raw=blob, headers={"X-Backup-Passphrase": PASS},
                ctype="text/plain")
    assert r.status_code == 415
    # backups need a passphrase and an admin
    assert api.post("/backup", {}).status_code == 400
    assert api.get("/backup").status_code == 400
    assert api.post("/backup", {"passphrase": "x" * 5}).status_code == 400
    assert api.post("/backup", {"passphrase": PASS, "other": 1}).status_code == 400
    viewer = api.with_token(api.ok("POST", "/tokens", {"name": "v", "role": "viewer"},
                                   status=201).json()["token"])
    assert viewer.get("/backup", headers={"X-Backup-Passphrase": PASS}).status_code == 403
    assert restore(viewer, blob).status_code == 403
    # and the good file still restores
    r = restore(api, blob)
    assert r.status_code == 200, r.text
    assert names(api, "/origins") == ["web"]
    assert api.revision() == rev + 1


def cli(args, env_pass=PASS, pass_file=None):
    env = dict(os.environ)
    env.pop("GATEHOUSE_BACKUP_PASSPHRASE", None)
    if env_pass is not None:
        env["GATEHOUSE_BACKUP_PASSPHRASE"] = env_pass
    if pass_file:
        args = list(args) + ["--passphrase-file", pass_file]
    # The key-encryption key next to the database, never /etc's.
    db = args[list(args).index("--db") + 1]
    args = list(args) + ["--kek", os.path.join(os.path.dirname(db), "kek")]
    return subprocess.run([BINARY] + list(args), env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_backup_restore(gh, origin, tmp_path):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "web", "servers": [{"address": origin.host,
                                                            "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0}, status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "l", "origin": "web"}, status=201)
    revs = api.revision()
    gh.stop()
    out = str(tmp_path / "state.ghbackup")
    r = cli(["--db", gh.db_path, "--backup", out], env_pass=None)
    assert r.returncode == 2 and "no passphrase" in r.stderr
    assert not os.path.exists(out)
    r = cli(["--db", gh.db_path, "--backup", out])
    assert r.returncode == 0, r.stderr
    assert open(out, "rb").read(8) == b"GHBACKUP"
    assert os.stat(out).st_mode & 0o077 == 0
    r = cli(["--db", gh.db_path, "--backup", out])  # never overwrites
    assert r.returncode == 1 and "File exists" in r.stderr

    newdb = str(tmp_path / "new" / "gatehouse.db")
    os.makedirs(os.path.dirname(newdb))
    pf = tmp_path / "pass"
    pf.write_text("wrong passphrase\n")
    r = cli(["--db", newdb, "--restore", out], env_pass=None, pass_file=str(pf))
    assert r.returncode == 1 and "wrong passphrase or damaged file" in r.stderr
    assert not os.path.exists(newdb)
    pf.write_text(PASS + "\n")
    r = cli(["--db", newdb, "--restore", out], env_pass=None, pass_file=str(pf))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(newdb) as db:
        assert db.execute("SELECT max(id) FROM revisions").fetchone()[0] == revs + 1
        assert [x[0] for x in db.execute("SELECT name FROM routes")] == ["app"]
    assert glob.glob(os.path.join(os.path.dirname(newdb), "pre-restore-*.db"))


def test_foreign_database_refused(gh, tmp_path):
    """Sealed SQLite files that are not a Gatehouse database are refused:
    unknown tables at version 1 (the migrations fail), and a Gatehouse
    database at the current version with a table dropped."""
    api = start_api(gh)
    rev = api.revision()
    other = str(tmp_path / "other.db")
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE foo (x INTEGER)")
        db.execute("PRAGMA user_version = 1")
    gutted = str(tmp_path / "gutted.db")
    with sqlite3.connect(gh.db_path) as src, sqlite3.connect(gutted) as db:
        src.backup(db)
        db.execute("DROP TABLE tokens")
    for path, detail in ((other, "migration"), (gutted, "not Gatehouse's")):
        out = path + ".ghbackup"
        r = cli(["--db", path, "--backup", out])
        assert r.returncode == 0, r.stderr
        with open(out, "rb") as f:
            r = restore(api, f.read())
        assert r.status_code == 422 and detail in r.json()["detail"], r.text
        assert api.revision() == rev
