"""tests/bench/dataplane.py OUT: the table of issue 10's "Done when" lines
from what dataplane.sh's steps wrote under OUT (see dataplane.sh), in
Markdown, on stdout.

A wall-clock row's ratio is the median of gatehoused's per-round ratios to
the nginx round run next to it (report.compare); the cell also gives their
range and the ratio of the medians. A step not run, or failed, leaves its
rows saying so.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import column, compare, load_run, load_tls  # noqa: E402

PROXIES = ("gatehoused", "nginx", "haproxy")


def read_tsv(path):
    """A TSV with a header line -> [{column: text}]."""
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


class Step:
    """One of dataplane.sh's steps: its directory, and why it has no
    figures (not run, failed) if it has none."""

    def __init__(self, out, name, counts_only=False):
        self.dir = os.path.join(out, name)
        self.missing = None
        if not os.path.isdir(self.dir):
            self.missing = "not run" + (" (COUNTS_ONLY=1)" if counts_only else "")
        elif os.path.exists(os.path.join(self.dir, "failed")):
            self.missing = "failed (%s/log)" % name

    def path(self, name):
        return os.path.join(self.dir, name)


def num(v, fmt):
    """v in fmt; "-" if None; a str (why there is no figure) as it is."""
    if isinstance(v, str):
        return v
    return fmt % v if v is not None else "-"


def holds(ok):
    return "-" if ok is None else ("yes" if ok else "**no**")


def counted(line, what, vals, fmt, ratio_of, target, ok):
    """A row of counted figures {proxy: value}; ratio_of(g, n) the ratio
    shown, ok(g, ratio) whether the target holds."""
    g, n = (v if isinstance(v, float) else None
            for v in (vals.get("gatehoused"), vals.get("nginx")))
    r = ratio_of(g, n) if g is not None and n else None
    return [line, what] + [num(vals.get(p), fmt) for p in PROXIES] + [
        num(r, "%.2fx"), target, holds(ok(g, r) if g is not None else None)]


def timed(line, what, values, fmt, target, want, invert=False):
    """A wall-clock row from {proxy: {round: value}}: the medians, and the
    median per-round ratio to nginx (invert: nginx's over gatehoused's)
    against want (at least; None: no target)."""
    c = compare(values, invert=invert)
    cells = []
    for p in PROXIES:
        e = c.get(p)
        cells.append(num(e["median"] if e else None, fmt))
    g = c.get("gatehoused")
    if g and g["ratio"] is not None:
        ratio = "%.2fx" % g["ratio"]
        if len(g["ratios"]) > 1:
            ratio += " (rounds %.2f-%.2f; of medians %.2fx)" % (g["lo"], g["hi"],
                                                               g["ratio_of_medians"])
        ok = None if want is None else g["ratio"] >= want
    else:
        ratio, ok = "-", None
    return [line, what] + cells + [ratio, target, holds(ok)]


def missing(line, what, why, target):
    return [line, what, why, "", "", "", target, "-"]


def rows(out, counts_only):
    r = []
    s = Step(out, "syscalls")
    for size, label in (("small", "100 B"), ("big", "16 KiB")):
        line = "system calls per request <= nginx, " + label
        what = "strace -c, keep-alive, %s (syscalls.sh)" % label
        if s.missing:
            r.append(missing(line, what, s.missing, "<= 1.0x"))
            continue
        vals = {x["proxy"]: float(x["syscalls_per_request"])
                for x in read_tsv(s.path("syscalls.tsv"))
                if x["size"] == size and x["syscalls_per_request"]}
        r.append(counted(line, what, vals, "%.2f", lambda g, n: g / n, "<= 1.0x",
                         lambda g, ratio: ratio is not None and ratio <= 1.0))

    for name, label, fwd in (("run-16k", "", False), ("run-16k-fwd", ", FORWARDED=1", True)):
        s = Step(out, name, counts_only)
        line = "16 KiB keep-alive req/s >= 1.0x nginx"
        what = "req/s, wrk -c50 (%sBODY_BYTES=16384 run.sh)" % ("FORWARDED=1 " if fwd else "")
        if s.missing:
            r.append(missing(line, what, s.missing, ">= 1.0x"))
        else:
            r.append(timed(line, what, column(load_run(s.path("raw.tsv")), "rps"), "%.0f",
                           ">= 1.0x", 1.0))

    s = Step(out, "run-100b", counts_only)
    line = "requests per proxy CPU-second >= 1.2x nginx, 100 B"
    what = "proxy CPU us per request (BODY_BYTES=100 run.sh); ratio: requests per CPU-second"
    if s.missing:
        r.append(missing(line, what, s.missing, ">= 1.2x"))
    else:
        r.append(timed(line, what, column(load_run(s.path("raw.tsv")), "cpu_us_per_req"),
                       "%.1f", ">= 1.2x", 1.2, invert=True))

    s = Step(out, "cpu_cost")
    line = "(the CPU line's user-space part)"
    what = "instructions per 100 B request, callgrind (cpu_cost.py); ratio: requests per instruction"
    if s.missing:
        r.append(missing(line, what, s.missing, "-"))
    else:
        vals = {x["proxy"]: float(x["instructions_per_request"])
                for x in read_tsv(s.path("cpu_cost.tsv"))}
        r.append(counted(line, what, vals, "%.0f", lambda g, n: n / g, "-",
                         lambda g, ratio: None))

    s = Step(out, "tls", counts_only)
    tls = None if s.missing else load_tls(s.path("tls.tsv"))
    for test, line, what, target, want in (
            ("tls-keepalive", "TLS keep-alive >= 1.0x nginx",
             "req/s, TLS 1.3, ECDSA P-256 (tls.sh)", ">= 1.0x", 1.0),
            ("hey-handshakes", "full TLS handshakes/s with hey, reported beside nginx",
             "handshakes/s, hey -disable-keepalive, no resumption (tls.sh)", "reported", None),
            ("tls-handshakes", "(the same with wrk)",
             "handshakes/s, wrk Connection: close, no resumption (tls.sh)", "reported", None)):
        if s.missing or test not in tls:
            r.append(missing(line, what, s.missing or "not measured" + (
                " (hey not installed)" if test == "hey-handshakes" else ""), target))
            continue
        row = timed(line, what, tls[test], "%.0f", target, want)
        if want is None:
            row[-1] = "yes" if all(tls[test].get(p) for p in ("gatehoused", "nginx")) else "**no**"
        r.append(row)

    s = Step(out, "idle")
    lines = (("<= 600 B per idle keep-alive client connection at 10,000",
              "RSS growth / 10,000 connections, one request each (SEQ=1 idle.sh)"),
             ("resident memory at start, reported and explained",
              "VmRSS MiB after one request (idle.sh)"))
    if s.missing:
        r.append(missing(lines[0][0], lines[0][1], s.missing, "<= 600 B"))
        r.append(missing(lines[1][0], lines[1][1], s.missing, "reported"))
    else:
        idle = {}
        for x in read_tsv(s.path("idle.tsv")):
            if x.get("bytes_per_idle_conn"):
                idle[x["proxy"]] = (float(x["rss_at_start_kib"]) / 1024,
                                    float(x["bytes_per_idle_conn"]))
            else:  # idle.py failed: for HAProxy, its descriptors at 10,000
                idle[x["proxy"]] = ("failed (idle/log)",) * 2
        r.append(counted(lines[0][0], lines[0][1], {p: v[1] for p, v in idle.items()}, "%.0f",
                         lambda g, n: g / n, "<= 600 B", lambda g, ratio: g <= 600))
        r.append(counted(lines[1][0], lines[1][1], {p: v[0] for p, v in idle.items()}, "%.1f",
                         lambda g, n: g / n, "reported (doc/performance.md)",
                         lambda g, ratio: True))
    return r


def main():
    out = sys.argv[1]
    facts = {}
    if os.path.exists(os.path.join(out, "facts.tsv")):
        facts = dict(line.rstrip("\n").split("\t", 1)
                     for line in open(os.path.join(out, "facts.tsv")))
    load = []
    if os.path.exists(os.path.join(out, "load.tsv")):
        load = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "load.tsv"))]
    text = ["| Done-when line | measured | gatehoused | nginx | HAProxy | gatehoused vs nginx"
            " | target | holds |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for row in rows(out, bool(facts.get("counts_only"))):
        text.append("| " + " | ".join(row) + " |")
    text.append("")
    text.append("One run, %s: gatehoused %s, %s, HAProxy %s; %s; one worker each; %s." % (
        facts.get("date", "?"), facts.get("gatehoused", "?"), facts.get("nginx", "?"),
        facts.get("haproxy", "?"), facts.get("machine", "?"),
        "the wall-clock steps not run (COUNTS_ONLY=1)" if facts.get("counts_only")
        else "wall-clock rows: %s rounds, interleaved" % facts.get("rounds", "?")))
    if load:
        text.append("Load average (1, 5, 15 min) before each step: " + "; ".join(
            "%s %s" % (step, avg) for step, avg in load) + ".")
    print("\n".join(text))


if __name__ == "__main__":
    main()
