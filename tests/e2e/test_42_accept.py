"""Accepting when descriptors run out: with the daemon's descriptor limit
lowered (prlimit --nofile) and exhausted by held connections, the accept
loop pauses instead of spinning (CPU time and log lines stay bounded,
accept_paused counts the pauses) and serves again once descriptors are
given back."""

import os
import socket
import subprocess
import time

from conftest import curl, wait_until


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accept_lines(gh):
    with gh.cond:
        return sum(1 for line in gh.lines if "accept on listener" in line)


def test_emfile_pauses_and_recovers(gh, origin):
    port = gh.simple(origin)
    assert curl(port, "/", "app.test").status == 200
    nfd = len(os.listdir("/proc/%d/fd" % gh.pid))
    subprocess.run(["prlimit", "--pid", str(gh.pid), "--nofile=%d:" % (nfd + 4)],
                   check=True)
    held = []
    for _ in range(12):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.append(s)
    gh.wait_for(r"accept on listener .*Too many open files", timeout=10)
    t0, c0, l0 = time.monotonic(), cpu_seconds(gh.pid), accept_lines(gh)
    time.sleep(2.0)
    cpu = cpu_seconds(gh.pid) - c0
    lines = accept_lines(gh) - l0
    elapsed = time.monotonic() - t0
    assert cpu < 0.4 * elapsed, "accept loop spins: %.2f s CPU in %.2f s" % (cpu, elapsed)
    assert lines <= 3 * elapsed / 0.5 + 2, "%d accept log lines in %.1f s" % (lines, elapsed)
    assert gh.log_has(r"paused 500 ms")
    # Descriptors come back: the queued connections and new ones are served.
    for s in held:
        s.close()
    subprocess.run(["prlimit", "--pid", str(gh.pid), "--nofile=1024:"], check=True)
    wait_until(lambda: curl(port, "/", "app.test", timeout=3).status == 200, timeout=10,
               what="serving again")
