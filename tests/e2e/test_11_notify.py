"""systemd's notification protocol (Type=notify) from the real daemon:
READY=1 once serving, WATCHDOG=1 at half of $WATCHDOG_USEC,
RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
An abstract-namespace socket stands in for systemd's."""

import os
import socket
import time


def listen(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    s.settimeout(20)
    return s


def next_msg(s, want, timeout=20):
    """Returns the first datagram holding <want>, skipping watchdog pings."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = s.recv(4096).decode()
        if want in msg.split("\n"):
            return msg
    raise AssertionError("no %s from gatehoused" % want)


def test_ready_reload_watchdog_stop(gh):
    name = "gh-e2e-notify-%d" % os.getpid()
    s = listen(name)
    gh.extra_env = {"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "400000"}
    gh.start()
    msg = next_msg(s, "READY=1")
    assert "STATUS=serving" in msg
    # Two pings within a second: 0.2 s apart.
    t0 = time.monotonic()
    next_msg(s, "WATCHDOG=1")
    next_msg(s, "WATCHDOG=1")
    assert time.monotonic() - t0 < 2
    gh.reload()
    msg = next_msg(s, "RELOADING=1")
    usec = [l for l in msg.split("\n") if l.startswith("MONOTONIC_USEC=")]
    assert usec and int(usec[0].split("=")[1]) > 0
    next_msg(s, "READY=1")
    assert gh.stop() == 0
    next_msg(s, "STOPPING=1")
    s.close()


def test_watchdog_pid_of_another_process(gh):
    name = "gh-e2e-notify2-%d" % os.getpid()
    s = listen(name)
    gh.extra_env = {"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "200000",
                    "WATCHDOG_PID": "1"}
    gh.start()
    next_msg(s, "READY=1")
    s.settimeout(1)
    try:
        while True:
            assert s.recv(4096) != b"WATCHDOG=1"
    except socket.timeout:
        pass
    assert gh.stop() == 0
    s.close()
