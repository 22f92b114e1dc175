"""conftest.py: fixtures that run the real gatehoused against Python origins.

The daemon binary comes from $GATEHOUSED (set by `make check`), else
../../build/gatehoused. Each test gets a temp dir with its own database;
rows are written with Python's sqlite3 (foreign keys on) before start()
or followed by reload() (SIGHUP, then wait for the next "config generation"
line). Listeners always use port 0; the real port is read from the
"listener NAME listening on ADDR:PORT" line.

On teardown the daemon gets SIGTERM and must exit 0, and the test fails if
its stderr holds a [crit] line it did not expect or a sanitizer report.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest

from backends import Origin

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR", os.path.normpath(os.path.join(HERE, "..", "..")))
BINARY = os.environ.get("GATEHOUSED") or os.path.join(TOP_SRCDIR, "build", "gatehoused")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer",
                   "AddressSanitizer:DEADLYSIGNAL", "LeakSanitizer has encountered")

LISTEN_RE = re.compile(r"\[info\] listener (\S+) listening on (\S+):(\d+)\s*$")
GEN_RE = re.compile(r"\[info\] config generation (\d+) \(revision (\d+)\) active")


def wait_until(pred, timeout=5, what="condition"):
    """Polls <pred> until it is true; fails the test after <timeout> s."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail("timeout waiting for " + what)
        time.sleep(0.02)


class CurlResult:
    def __init__(self, status, headers, body, stderr, rc):
        self.status = status
        self.headers = headers  # final response: list of (name, value)
        self.body = body
        self.stderr = stderr
        self.rc = rc

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<curl rc=%d status=%s %r>" % (self.rc, self.status, self.stderr[-200:])


def parse_header_dump(text):
    """Returns the header list of the last response in a curl -D dump."""
    blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    if not blocks:
        return []
    out = []
    for line in blocks[-1].splitlines()[1:]:
        k, _, v = line.partition(":")
        out.append((k.strip(), v.strip()))
    return out


def curl(port, path="/", host=None, args=(), timeout=10, data_file=None):
    """Runs the real curl against 127.0.0.1:<port><path>."""
    with tempfile.TemporaryDirectory() as td:
        hfile = os.path.join(td, "h")
        bfile = os.path.join(td, "b")
        cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", hfile,
               "-o", bfile, "-w", "%{http_code}"]
        if host is not None:
            cmd += ["-H", "Host: " + host]
        if data_file is not None:
            cmd += ["--data-binary", "@" + data_file]
        cmd += list(args)
        cmd.append("http://127.0.0.1:%d%s" % (port, path))
        p = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
        headers = []
        if os.path.exists(hfile):
            with open(hfile, encoding="latin-1") as f:
                headers = parse_header_dump(f.read())
        body = b""
        if os.path.exists(bfile):
            with open(bfile, "rb") as f:
                body = f.read()
        code = p.stdout.decode().strip()
        status = int(code) if code.isdigit() else 0
        return CurlResult(status, headers, body, p.stderr.decode(), p.returncode)


class Gatehouse:
    """One gatehoused process and its database; see the module comment."""

    def __init__(self, workdir, binary=BINARY):
        self.dir = str(workdir)
        self.binary = binary
        self.db_path = os.path.join(self.dir, "gatehouse.db")
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.ports = {}
        self.allow_crit = False
        self.expect_exit = None  # set when a test stops the daemon itself
        self.extra_env = {}
        self.logfile = os.path.join(self.dir, "gatehoused.stderr")
        self.access_log = os.path.join(self.dir, "access.log")
        self.kek_path = os.path.join(self.dir, "kek")

    # -- database ---------------------------------------------------------
    def create_db(self):
        """Lets the daemon create the database (first start), then stops it."""
        if os.path.exists(self.db_path):
            return
        self.start()
        self.stop()
        self.proc = None
        assert os.path.exists(self.db_path)

    def db(self):
        self.create_db()
        c = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        c.execute("PRAGMA foreign_keys=ON")
        return c

    def sql(self, query, params=()):
        c = self.db()
        try:
            cur = c.execute(query, params)
            rows = cur.fetchall()
            return cur.lastrowid if query.lstrip().upper().startswith("INSERT") else rows
        finally:
            c.close()

    def _id(self, table, name):
        rows = self.sql("SELECT id FROM %s WHERE name = ?" % table, (name,))
        assert rows, "no %s named %s" % (table, name)
        return rows[0][0]

    def add_listener(self, name, address="127.0.0.1", port=0, **cols):
        cols.update(name=name, address=address, port=port)
        return self._insert("listeners", cols)

    def add_origin(self, name, servers=(), **cols):
        cols["name"] = name
        oid = self._insert("origins", cols)
        for pos, srv in enumerate(servers):
            self.add_server(oid, *srv, position=pos)
        return oid

    def add_server(self, origin, address, port, weight=1, position=0):
        if isinstance(origin, str):
            origin = self._id("origins", origin)
        return self._insert("servers", dict(origin_id=origin, address=address,
                                            port=port, weight=weight, position=position))

    def add_route(self, name, listener, origin, hosts=(), path_prefix="/",
                  methods=(), **cols):
        cols.update(name=name, listener_id=self._id("listeners", listener),
                    origin_id=self._id("origins", origin), hosts=json.dumps(list(hosts)),
                    path_prefix=path_prefix, methods=json.dumps(list(methods)))
        return self._insert("routes", cols)

    def _insert(self, table, cols):
        keys = list(cols)
        q = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(keys),
                                                 ", ".join("?" * len(keys)))
        return self.sql(q, [cols[k] for k in keys])

    def simple(self, origin, hosts=("app.test",), listener_cols=None, route_cols=None,
               args=()):
        """Listener "l", origin "o" (one server: <origin>), route "r"; starts.
        Returns the listener's port."""
        self.add_listener("l", **(listener_cols or {}))
        self.add_origin("o", [(origin.host, origin.port)])
        self.add_route("r", "l", "o", hosts=hosts, **(route_cols or {}))
        self.start(args=args)
        return self.ports["l"]

    # -- process ------------------------------------------------------------
    def start(self, args=(), wait_ready=True, access_log=None, workers=1):
        assert self.proc is None or self.proc.poll() is not None
        self.lines = []
        self.ports = {}
        cmd = [self.binary, "--db", self.db_path, "--log-level", "info"]
        if workers:
            cmd += ["--workers", str(workers)]
        cmd += ["--access-log", access_log or self.access_log]
        if "--admin-listen" not in args:
            # Never the default 9080: tests run in parallel.
            cmd += ["--admin-listen", "off"]
        if "--kek" not in args:
            # Never the default /etc/gatehouse/kek.
            cmd += ["--kek", self.kek_path]
        cmd += list(args)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.extra_env)
        self.cmd = cmd
        self.stdout_path = os.path.join(self.dir, "gatehoused.stdout")
        with open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, cwd=self.dir,
                                         stderr=subprocess.PIPE, env=env)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self.reader.start()
        if wait_ready:
            self.wait_for(r"\[info\] gatehoused ready")
        return self

    def _read(self, proc):
        with open(self.logfile, "a", encoding="utf-8", errors="replace") as f:
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                f.write(line + "\n")
                f.flush()
                with self.cond:
                    self.lines.append(line)
                    m = LISTEN_RE.search(line)
                    if m:
                        self.ports[m.group(1)] = int(m.group(3))
                    self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, regex, timeout=10, since=0):
        """Waits for a stderr line matching <regex> at index >= <since>.
        Returns the match; fails the test on timeout or daemon exit."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        self.last_match_index = i
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail("timeout waiting for /%s/; log:\n%s" % (regex, self.log_tail()))
                if self.proc.poll() is not None and not self.reader.is_alive():
                    pytest.fail("gatehoused exited (%s) before /%s/; log:\n%s"
                                % (self.proc.returncode, regex, self.log_tail()))
                self.cond.wait(min(left, 0.2))

    def mark(self):
        with self.cond:
            return len(self.lines)

    def log_tail(self, n=60):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def log_has(self, regex):
        rx = re.compile(regex)
        with self.cond:
            return any(rx.search(line) for line in self.lines)

    def generation(self):
        """(generation, revision) of the newest "config generation" line."""
        with self.cond:
            for line in reversed(self.lines):
                m = GEN_RE.search(line)
                if m:
                    return int(m.group(1)), int(m.group(2))
        return None

    def reload(self, timeout=10):
        """SIGHUP; waits for the next "config generation" line and returns
        (generation, revision)."""
        since = self.mark()
        self.proc.send_signal(signal.SIGHUP)
        m = self.wait_for(GEN_RE.pattern, timeout, since)
        return int(m.group(1)), int(m.group(2))

    def reload_rejected(self, timeout=10):
        """SIGHUP on an invalid config; returns the "config rejected" text."""
        since = self.mark()
        self.proc.send_signal(signal.SIGHUP)
        m = self.wait_for(r"\[warn\] config rejected: (.*)$", timeout, since)
        return m.group(1)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signals the daemon and returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("gatehoused did not exit within %ds of signal %d; log:\n%s"
                        % (timeout, sig, self.log_tail()))
        self.reader.join(5)
        return rc

    def problems(self):
        """[crit] lines (unless allowed) and sanitizer reports in stderr."""
        out = []
        with self.cond:
            for line in self.lines:
                if "[crit]" in line and not self.allow_crit:
                    out.append(line)
                elif any(mk in line for mk in SANITIZER_MARKS):
                    out.append(line)
        return out

    def finish(self):
        """Teardown: SIGTERM, exit 0, no [crit], no sanitizer report."""
        if self.proc is None:
            return
        running = self.proc.poll() is None
        rc = self.stop()
        bad = self.problems()
        assert not bad, "unexpected lines in gatehoused stderr:\n%s\n--- log:\n%s" % (
            "\n".join(bad), self.log_tail())
        if running and self.expect_exit is None:
            assert rc == 0, "gatehoused exited %s after SIGTERM; log:\n%s" % (rc, self.log_tail())

    # -- clients --------------------------------------------------------------
    def curl(self, path="/", host="app.test", listener="l", **kw):
        return curl(self.ports[listener], path, host, **kw)


@pytest.fixture
def gh(tmp_path):
    tmp_path.chmod(0o755)
    g = Gatehouse(tmp_path)
    yield g
    g.finish()


@pytest.fixture
def origin_factory():
    made = []

    def make(name="origin"):
        o = Origin(name)
        made.append(o)
        return o
    yield make
    for o in made:
        o.close()


@pytest.fixture
def origin(origin_factory):
    return origin_factory("a")


def pytest_configure(config):
    if not os.access(BINARY, os.X_OK):
        raise pytest.UsageError("gatehoused not found at %s (set GATEHOUSED)" % BINARY)
