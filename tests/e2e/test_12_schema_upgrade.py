"""Upgrades: a database made by the first schema version (only
schema/0001_init.sql applied, built here from the committed migration) opens,
migrates to the current version on start, keeps its rows and serves them;
a backup of it restores into a current appliance (the image is migrated
before it replaces anything)."""

import glob
import os
import sqlite3
import subprocess

from apiclient import admin_base, admin_password, login, start_api, wait_port
from conftest import BINARY, curl

SCHEMA = os.path.join(os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__),
                                                                "..", "..")), "schema")
PASS = "upgrade test passphrase"


def make_v1(path, origin):
    """The first release's database with one listener, origin and route."""
    with open(os.path.join(SCHEMA, "0001_init.sql")) as f:
        init = f.read()
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(init)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO listeners (name, address, port) VALUES ('l', '127.0.0.1', 0)")
    db.execute("INSERT INTO origins (name) VALUES ('o')")
    db.execute("INSERT INTO servers (origin_id, address, port) VALUES (1, ?, ?)",
               (origin.host, origin.port))
    db.execute("INSERT INTO routes (name, listener_id, origin_id, hosts)"
               " VALUES ('r', 1, 1, '[\"app.test\"]')")
    db.execute("INSERT INTO revisions (actor, summary) VALUES ('v1', 'made by release 1')")
    db.close()


def latest_version():
    return len(glob.glob(os.path.join(SCHEMA, "[0-9][0-9][0-9][0-9]_*.sql")))


def test_v1_database_migrates_and_serves(gh, origin):
    make_v1(gh.db_path, origin)
    gh.start(args=["--admin-listen", "127.0.0.1:0"])
    assert gh.log_has(r"applied migration 0002_")
    with sqlite3.connect(gh.db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    r = gh.curl("/up", host="app.test")
    assert r.status == 200, r
    base = admin_base(gh)
    api, _ = login(base, "admin", admin_password(gh))
    assert [x["name"] for x in api.get("/routes").json()] == ["r"]
    revs = api.get("/revisions").json()
    revs = revs["items"] if isinstance(revs, dict) else revs
    assert [x["summary"] for x in revs] == ["made by release 1"]
    api.ok("PATCH", "/routes/r", {"match": {"hosts": ["v2.test"]}})
    assert gh.curl("/x", host="v2.test").status == 200
    # a second start has nothing left to migrate
    gh.stop()
    gh.start(args=["--admin-listen", "127.0.0.1:0"])
    assert not gh.log_has(r"applied migration")


def test_v1_backup_restores_into_current(gh, origin, tmp_path):
    api = start_api(gh)
    with sqlite3.connect(gh.db_path) as db:
        admin_hash = db.execute("SELECT password_hash FROM users WHERE name = 'admin'"
                                ).fetchone()[0]
    v1 = str(tmp_path / "v1.db")
    make_v1(v1, origin)
    with sqlite3.connect(v1) as db:  # the same admin password as gh's
        db.execute("INSERT INTO users (name, password_hash) VALUES ('admin', ?)",
                   (admin_hash,))
    out = str(tmp_path / "v1.ghbackup")
    env = dict(os.environ, GATEHOUSE_BACKUP_PASSPHRASE=PASS)
    p = subprocess.run([BINARY, "--db", v1, "--kek", gh.kek_path, "--backup", out], env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(v1) as db:  # --backup reads, never migrates
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    with open(out, "rb") as f:
        r = api.req("POST", "/restore", raw=f.read(), ctype="application/octet-stream",
                    headers={"X-Backup-Passphrase": PASS})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 2  # above the backup's revision 1 and ours (none)
    api, _ = login(api.base, "admin", admin_password(gh))
    assert [x["name"] for x in api.get("/routes").json()] == ["r"]
    port = wait_port(api, gh, "l")
    assert curl(port, "/x", "app.test").status == 200
