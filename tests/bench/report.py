"""report.py: helpers for tests/bench/run.sh and tls.sh.

  report.py --parse-wrk FILE     prints "rps<TAB>p50_ms<TAB>p99_ms<TAB>errors"
                                 from one `wrk --latency` output
  report.py --per-request "U0 S0 F0" "U1 S1 F1" RPS SECONDS
                                 prints "cpu_us<TAB>user_us<TAB>sys_us<TAB>
                                 minflt" per request from two samples of
                                 utime, stime (clock ticks) and minor faults
  report.py --report RAW [--note TEXT]
                                 prints the Markdown table of medians per
                                 proxy from run.sh's raw.tsv, with ratios to
                                 nginx (the median of the per-round ratios,
                                 and the ratio of the medians)
  report.py --tls-report RAW KEY prints tls.sh's table from its tls.tsv, the
                                 same way

dataplane.py imports load_run, load_tls and compare.
"""

import argparse
import os
import re
import statistics
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("bad latency %r" % text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", text, re.M))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    return rps, to_ms(lat["50"]), to_ms(lat["99"]), errors


def per_request(before, after, rps, seconds, hz=None):
    """CPU microseconds (all, user, system) and minor faults per request
    between two "utime stime minflt" samples; empty fields if no requests."""
    hz = hz or os.sysconf("SC_CLK_TCK")
    u0, s0, f0 = (int(x) for x in before.split())
    u1, s1, f1 = (int(x) for x in after.split())
    n = float(rps) * float(seconds)
    if n <= 0:
        return "\t\t\t"
    us = 1e6 / hz / n
    return "%.2f\t%.2f\t%.2f\t%.3f" % (((u1 - u0) + (s1 - s0)) * us, (u1 - u0) * us,
                                       (s1 - s0) * us, (f1 - f0) / n)


RUN_COLUMNS = ("rps", "p50_ms", "p99_ms", "errors", "hwm_kb", "cpu_us_per_req",
               "user_us_per_req", "sys_us_per_req", "minflt_per_req",
               "origin_cpu_us_per_req")


def raw_lines(raw):
    """The fields of each line of a raw TSV after its header."""
    with open(raw) as f:
        next(f)
        return [line.rstrip("\n").split("\t") for line in f]


def load_run(raw):
    """run.sh's raw.tsv -> {proxy: {round: {column: value}}}; a proxy that did
    not proxy in a round has no entry for it (but is a key)."""
    rows = {}
    for parts in raw_lines(raw):
        rounds = rows.setdefault(parts[1], {})
        if len(parts) > 2 and parts[2]:
            rounds[parts[0]] = {
                c: float(parts[i]) if len(parts) > i and parts[i] else float("nan")
                for i, c in enumerate(RUN_COLUMNS, 2)}
    return rows


def compare(values, base="nginx", invert=False):
    """One quantity of every proxy, {proxy: {round: value}}, against <base>.

    -> {proxy: {"median", "n", "ratios", "ratio", "lo", "hi",
    "ratio_of_medians"}}: the median over rounds; each round's value over
    <base>'s value in the same round (rounds are interleaved, so that round
    of <base> ran next to it), their median ("ratio"), least and greatest;
    and the median over <base>'s median. invert=True: <base> over the
    proxy (for costs: 1.2 means 1.2x the requests per unit).
    None where <base> or the proxy has no value."""
    out = {}
    bvals = values.get(base, {})
    bmed = statistics.median(bvals.values()) if bvals else None
    for proxy, rounds in values.items():
        if not rounds:
            out[proxy] = None
            continue
        med = statistics.median(rounds.values())

        def div(a, b):
            a, b = (b, a) if invert else (a, b)
            return a / b if b else None
        ratios = [div(v, bvals[r]) for r, v in sorted(rounds.items()) if r in bvals]
        ratios = [x for x in ratios if x is not None]
        out[proxy] = {"median": med, "n": len(rounds), "ratios": ratios,
                      "ratio": statistics.median(ratios) if ratios else None,
                      "lo": min(ratios) if ratios else None,
                      "hi": max(ratios) if ratios else None,
                      "ratio_of_medians": div(med, bmed) if bmed is not None else None}
    return out


def column(rows, name):
    """{proxy: {round: value}} of one column of load_run's rows."""
    return {p: {r: v[name] for r, v in rounds.items()} for p, rounds in rows.items()}


def fmt_ratio(c, spread=False, unit=""):
    """A compare() entry's ratio: "0.96", with spread "0.96 (0.66-1.02)"."""
    if not c or c["ratio"] is None:
        return "n/a"
    if spread and len(c["ratios"]) > 1:
        return "%.2f%s (%.2f-%.2f)" % (c["ratio"], unit, c["lo"], c["hi"])
    return "%.2f%s" % (c["ratio"], unit)


def fmt_rom(c, unit=""):
    """A compare() entry's ratio of medians."""
    if not c or c["ratio_of_medians"] is None:
        return "n/a"
    return "%.2f%s" % (c["ratio_of_medians"], unit)


def report(raw, note):
    rows = load_run(raw)
    med = {p: {c: statistics.median(v[c] for v in rounds.values()) for c in RUN_COLUMNS}
           for p, rounds in rows.items() if rounds}
    rps, p99, hwm, cpu = (compare(column(rows, c)) for c in
                          ("rps", "p99_ms", "hwm_kb", "cpu_us_per_req"))
    out = ["| proxy | req/s | p50 ms | p99 ms | peak RSS MiB | errors | CPU µs/req"
           " | user µs/req | system µs/req | minor faults/req | origin CPU µs/req"
           " | req/s vs nginx (rounds' range)"
           " | p99 vs nginx | RSS vs nginx | CPU/req vs nginx (rounds' range)"
           " | req/s, ratio of medians | CPU/req, ratio of medians | rounds |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for proxy in ("gatehoused", "nginx", "haproxy"):
        if proxy not in rows:
            continue
        if proxy not in med:
            out.append("| %s | not measured (did not proxy) | | | | | | | | | | | | | | | | 0 |"
                       % proxy)
            continue
        m = med[proxy]
        out.append("| %s | %.0f | %.3f | %.3f | %.1f | %d | %.1f | %.1f | %.1f | %.3f | %.1f"
                   " | %s | %s | %s | %s | %s | %s | %d |" % (
                       proxy, m["rps"], m["p50_ms"], m["p99_ms"], m["hwm_kb"] / 1024.0,
                       m["errors"], m["cpu_us_per_req"], m["user_us_per_req"],
                       m["sys_us_per_req"], m["minflt_per_req"], m["origin_cpu_us_per_req"],
                       fmt_ratio(rps[proxy], True), fmt_ratio(p99[proxy]),
                       fmt_ratio(hwm[proxy]), fmt_ratio(cpu[proxy], True),
                       fmt_rom(rps[proxy]), fmt_rom(cpu[proxy]), len(rows[proxy])))
    out.append("")
    out.append("Medians over rounds. A \"vs nginx\" ratio is the median of the proxy's"
               " round-by-round ratios to the nginx round run next to it (in brackets the"
               " least and greatest); the ratio of the medians is beside it"
               + ("; " + note if note else "") + ".")
    print("\n".join(out))


TLS_TESTS = ("tls-keepalive", "tls-handshakes", "hey-handshakes")


def load_tls(raw):
    """tls.sh's tls.tsv -> {test: {proxy: {round: req/s}}}."""
    out = {}
    for r in raw_lines(raw):
        rounds = out.setdefault(r[2], {}).setdefault(r[1], {})
        if len(r) > 3 and r[3]:
            rounds[r[0]] = float(r[3])
    return out


def tls_report(raw, key):
    tls = load_tls(raw)
    lines = ["| test (%s certificate) | gatehoused | nginx | HAProxy"
             " | gatehoused / nginx (rounds' range) | ratio of medians |" % key,
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for test in TLS_TESTS:
        if test not in tls:
            continue
        c = compare(tls[test])

        def val(p):
            return "%.0f" % c[p]["median"] if c.get(p) else "-"
        g = c.get("gatehoused")
        lines.append("| %s (req/s) | %s | %s | %s | %s | %s |" % (
            test, val("gatehoused"), val("nginx"), val("haproxy"),
            fmt_ratio(g, True, "x"), fmt_rom(g, "x")))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parse-wrk")
    ap.add_argument("--report")
    ap.add_argument("--per-request", nargs=4, metavar=("BEFORE", "AFTER", "RPS", "SECONDS"))
    ap.add_argument("--note", default="")
    ap.add_argument("--tls-report", nargs=2, metavar=("RAW", "KEY"))
    a = ap.parse_args()
    if a.parse_wrk:
        with open(a.parse_wrk) as f:
            print("%.2f\t%.3f\t%.3f\t%d" % parse_wrk(f.read()))
    elif a.per_request:
        print(per_request(*a.per_request))
    elif a.report:
        report(a.report, a.note)
    elif a.tls_report:
        sys.stdout.write(tls_report(*a.tls_report))
    else:
        ap.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
