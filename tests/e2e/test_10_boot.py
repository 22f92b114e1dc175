"""Boot, database handling, signals and privilege drop."""

import hashlib
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import tempfile
import threading
import time

import pytest

from conftest import Gatehouse, curl, wait_until

TABLES = {"listeners", "origins", "servers", "routes", "certificates", "users", "revisions"}


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tables(path):
    c = sqlite3.connect(path)
    try:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = c.execute("PRAGMA user_version").fetchone()[0]
    finally:
        c.close()
    return names, version


def expect_refusal(gh):
    """Starts gh on a bad database; asserts it exits non-zero, quickly."""
    gh.allow_crit = True
    gh.expect_exit = "failure"
    gh.start(wait_ready=False)
    try:
        rc = gh.proc.wait(15)
    except Exception:
        pytest.fail("gatehoused kept running on a bad database:\n" + gh.log_tail())
    gh.reader.join(5)
    assert rc != 0
    assert not gh.log_has(r"gatehoused ready")
    return rc


def test_first_start_creates_db(gh):
    assert not os.path.exists(gh.db_path)
    gh.start()
    assert gh.generation() is not None, "no 'config generation' line at boot"
    names, version = tables(gh.db_path)
    assert TABLES <= names
    assert version >= 1
    # A second start on the now existing file works and keeps the version.
    assert gh.stop() == 0
    gh.start()
    assert tables(gh.db_path)[1] == version


def test_refuses_non_sqlite_file(gh):
    with open(gh.db_path, "wb") as f:
        f.write(b"this is not a database\n" * 200)
    before = file_hash(gh.db_path)
    expect_refusal(gh)
    assert file_hash(gh.db_path) == before


def checkpointed_db(gh):
    gh.create_db()
    c = sqlite3.connect(gh.db_path)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(gh.db_path + suffix):
            os.unlink(gh.db_path + suffix)


def test_refuses_corrupt_db(gh):
    checkpointed_db(gh)
    size = os.path.getsize(gh.db_path)
    c = sqlite3.connect(gh.db_path)
    page = c.execute("PRAGMA page_size").fetchone()[0]
    c.close()
    assert size >= 3 * page
    # Smash the b-tree pages after the schema page: the header stays valid,
    # so only a real integrity check notices.
    with open(gh.db_path, "r+b") as f:
        for p in range(1, size // page):
            f.seek(p * page)
            f.write(b"\xa5" * 64)
    before = file_hash(gh.db_path)
    expect_refusal(gh)
    assert file_hash(gh.db_path) == before


def test_refuses_newer_schema(gh):
    checkpointed_db(gh)
    c = sqlite3.connect(gh.db_path)
    c.execute("PRAGMA user_version = 999")
    c.close()
    before = file_hash(gh.db_path)
    expect_refusal(gh)
    assert file_hash(gh.db_path) == before
    assert gh.log_has(r"999|newer|schema")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero(gh, sig):
    gh.start()
    assert gh.stop(sig) == 0


def test_sigterm_lets_inflight_finish(gh, origin):
    port = gh.simple(origin)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=curl(port, "/_slow?ms=1500", "app.test")))
    t.start()
    wait_until(lambda: "/_slow" in origin.paths(), what="the slow request at the origin")
    gh.proc.send_signal(signal.SIGTERM)
    time.sleep(0.4)
    # No longer accepting: a new connection is refused (or closed unanswered).
    with pytest.raises(OSError):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
        if not s.recv(100):
            raise ConnectionResetError("closed unanswered")
    t.join(10)
    assert result["r"].status == 200, result["r"]
    assert gh.proc.wait(10) == 0


def test_shutdown_timeout_bounds_drain(gh, origin):
    port = gh.simple(origin, args=["--shutdown-timeout-ms", "300"])
    result = {}
    t = threading.Thread(target=lambda: result.update(r=curl(port, "/_slow?ms=8000", "app.test")))
    t.start()
    wait_until(lambda: "/_slow" in origin.paths(), what="the slow request at the origin")
    t0 = time.monotonic()
    assert gh.stop() == 0
    assert time.monotonic() - t0 < 4
    t.join(10)
    assert result["r"].status != 200


def service_user():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody'")


@pytest.fixture
def dropdir():
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs root")
    user = service_user()
    d = tempfile.mkdtemp(prefix="gh-drop-")
    os.chmod(d, 0o755)
    os.chown(d, user.pw_uid, user.pw_gid)
    yield d, user
    shutil.rmtree(d, ignore_errors=True)


def free_privileged_port():
    for p in range(1023, 900, -1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    pytest.skip("no free port below 1024")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def test_privilege_drop(dropdir, origin_factory):
    d, user = dropdir
    gh = Gatehouse(d)
    # LeakSanitizer cannot ptrace a process that is no longer dumpable.
    gh.extra_env["ASAN_OPTIONS"] = "detect_leaks=0"
    try:
        gh.start(args=["--user", user.pw_name])
        st = proc_status(gh.pid)
        assert st["CapEff"] == ["0000000000000400"], st["CapEff"]
        # The bounding set keeps CAP_NET_BIND_SERVICE only, in every thread.
        for tid in os.listdir("/proc/%d/task" % gh.pid):
            with open("/proc/%d/task/%s/status" % (gh.pid, tid)) as f:
                bnd = [ln.split()[1] for ln in f if ln.startswith("CapBnd:")]
            assert bnd == ["0000000000000400"], (tid, bnd)
        assert st["Uid"] == [str(user.pw_uid)] * 4
        assert st["Gid"][0] == str(user.pw_gid)
        sb = os.stat(gh.db_path)
        assert sb.st_uid == user.pw_uid
        assert sb.st_mode & 0o077 == 0, oct(sb.st_mode)

        # CAP_NET_BIND_SERVICE is kept: a listener below 1024 added live binds.
        o = origin_factory("a")
        gh.add_listener("low", port=free_privileged_port())
        gh.add_origin("o", [(o.host, o.port)])
        gh.add_route("r", "low", "o", hosts=["app.test"])
        gh.reload()
        gh.wait_for(r"listener low listening on 127\.0\.0\.1:(\d+)")
        r = curl(gh.ports["low"], "/", "app.test")
        assert r.status == 200 and r.header("x-backend") == "a"
    finally:
        gh.finish()
