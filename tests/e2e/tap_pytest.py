"""tap_pytest.py: run pytest files as TAP, for automake's tap-driver.sh.

As a script (`python3 tap_pytest.py FILE...`, the PY_LOG_COMPILER of
`make check`) it runs /usr/bin/python3 -m pytest on FILE with this module
loaded as a plugin, turns pytest's own output into TAP diagnostics ("# ")
and prints one "ok"/"not ok" line per test case, so `make check` and
test-suite.log count test cases, not files. A test fails if any of its
setup, call or teardown phases fails (teardown is where the daemon's exit
status, [crit] lines and sanitizer reports are checked).

Exit status: 0 when pytest ran (failures are in the TAP lines), pytest's
own status otherwise (collection or usage errors).
"""

import os
import shutil
import subprocess
import sys

MARK = "\x01TAP "

# -- plugin side ------------------------------------------------------------

_out = None
_state = {}
_count = [0]


def _emit(line):
    global _out
    if _out is None:
        _out = os.fdopen(os.dup(1), "w", buffering=1)
    _out.write(MARK + line + "\n")
    _out.flush()


def pytest_runtest_logreport(report):
    st = _state.setdefault(report.nodeid, {"failed": [], "skipped": None})
    if report.failed:
        st["failed"].append(report.when)
    elif report.skipped and st["skipped"] is None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
        st["skipped"] = str(reason).replace("\n", " ")


def pytest_runtest_logfinish(nodeid, location):
    st = _state.pop(nodeid, {"failed": [], "skipped": None})
    _count[0] += 1
    name = nodeid.replace("#", "")
    if st["failed"]:
        _emit("not ok %d - %s (failed in %s)" % (_count[0], name, ", ".join(st["failed"])))
    elif st["skipped"] is not None:
        _emit("ok %d - %s # SKIP %s" % (_count[0], name, st["skipped"]))
    else:
        _emit("ok %d - %s" % (_count[0], name))


def pytest_collectreport(report):
    if report.failed:
        _count[0] += 1
        _emit("not ok %d - %s (collection error)" % (_count[0], report.nodeid or "collect"))


def pytest_sessionfinish(session, exitstatus):
    _emit("1..%d" % _count[0])


# -- runner side ----------------------------------------------------------------

def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.abspath(a) for a in argv]
    env = dict(os.environ)
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # srcdir may be read-only
    stem = "-".join(os.path.splitext(os.path.basename(f))[0] for f in files) or "all"
    basetemp = os.path.join(os.getcwd(), "tests", "e2e", "tmp-" + stem)
    os.makedirs(os.path.dirname(basetemp), exist_ok=True)
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    cmd = [python, "-m", "pytest", "-p", "tap_pytest", "-p", "no:cacheprovider",
           "-rfEs", "--basetemp", basetemp, "-o", "console_output_style=classic"] + files
    sys.stdout.write("# %s\n" % " ".join(cmd))
    sys.stdout.flush()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    failed = False
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        i = line.find(MARK)
        if i < 0:
            sys.stdout.write("# " + line + "\n")
            continue
        if line[:i].strip():
            sys.stdout.write("# " + line[:i] + "\n")
        tap = line[i + len(MARK):]
        failed = failed or tap.startswith("not ok")
        sys.stdout.write(tap + "\n")
        sys.stdout.flush()
    rc = p.wait()
    if rc == 0:
        shutil.rmtree(basetemp, ignore_errors=True)
    if rc == 0 or (rc == 1 and failed):
        return 0
    sys.stdout.write("Bail out! pytest exited with status %d\n" % rc)
    return rc or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
