"""report.py: helpers for tests/bench/run.sh.

  report.py --parse-wrk FILE     prints "rps<TAB>p50_ms<TAB>p99_ms<TAB>errors"
                                 from one `wrk --latency` output
  report.py --per-request "U0 S0 F0" "U1 S1 F1" RPS SECONDS
                                 prints "cpu_us<TAB>user_us<TAB>sys_us<TAB>
                                 minflt" per request from two samples of
                                 utime, stime (clock ticks) and minor faults
  report.py --report RAW [--note TEXT]
                                 prints the Markdown table of medians per
                                 proxy from run.sh's raw.tsv, with ratios to
                                 nginx
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


def report(raw, note):
    rows = {}
    with open(raw) as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            proxy = parts[1]
            rows.setdefault(proxy, [])
            if parts[2]:
                extra = [float(parts[i]) if len(parts) > i and parts[i] else float("nan")
                         for i in range(7, 12)]
                rows[proxy].append([float(x) for x in parts[2:7]] + extra)
    med = {}
    for proxy, rs in rows.items():
        if rs:
            med[proxy] = [statistics.median(col) for col in zip(*rs)] + [len(rs)]
    out = ["| proxy | req/s | p50 ms | p99 ms | peak RSS MiB | errors | CPU µs/req"
           " | user µs/req | system µs/req | minor faults/req | origin CPU µs/req"
           " | req/s vs nginx"
           " | p99 vs nginx | RSS vs nginx | CPU/req vs nginx | rounds |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
           "| ---: | ---: | ---: | ---: |"]
    base = med.get("nginx")
    for proxy in ("gatehoused", "nginx", "haproxy"):
        if proxy not in rows:
            continue
        if proxy not in med:
            out.append("| %s | not measured (did not proxy) | | | | | | | | | | | | | | 0 |"
                       % proxy)
            continue
        rps, p50, p99, errs, hwm, cpu, user, system, faults, origin, n = med[proxy]

        def ratio(i):
            return "%.2f" % (med[proxy][i] / base[i]) if base and base[i] else "n/a"
        out.append("| %s | %.0f | %.3f | %.3f | %.1f | %d | %.1f | %.1f | %.1f | %.3f | %.1f"
                   " | %s | %s | %s | %s | %d |" % (
                       proxy, rps, p50, p99, hwm / 1024.0, errs, cpu, user, system, faults,
                       origin, ratio(0), ratio(2), ratio(4), ratio(5), n))
    if note:
        out.append("")
        out.append("Medians over rounds; " + note + ".")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parse-wrk")
    ap.add_argument("--report")
    ap.add_argument("--per-request", nargs=4, metavar=("BEFORE", "AFTER", "RPS", "SECONDS"))
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    if a.parse_wrk:
        with open(a.parse_wrk) as f:
            print("%.2f\t%.3f\t%.3f\t%d" % parse_wrk(f.read()))
    elif a.per_request:
        print(per_request(*a.per_request))
    elif a.report:
        report(a.report, a.note)
    else:
        ap.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
