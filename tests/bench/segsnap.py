#!/usr/bin/env python3
"""tests/bench/segsnap.py: what one proxy made its peers do, per request.

  segsnap.py header
      the column names of the line `diff` prints.
  segsnap.py diff BEFORE AFTER PERFSTAT PROXY_PORT ORIGIN_PORT REQUEST_BYTES
                  origin=PID wrk=PID proxy=PID[,PID...]
      BEFORE and AFTER are snapshots segments.sh wrote with cat and ss
      (fast, so that they bracket the interval `perf stat` counted):
      /proc/net/snmp, /proc/net/netstat, `ss -tinH state established`,
      and /proc/PID/stat and status of each process, each part after a
      line "== NAME". PERFSTAT is `perf stat --per-thread -x, -e
      sched:sched_wakeup[,raw_syscalls:sys_enter]` over the interval
      (a column is empty when its event was not counted).

Sockets get a role by port: "pc" the proxy's client connections (local
port PROXY_PORT), "cl" the load generator's side, "oc" the proxy's origin
connections, "os" the origin's side. wrk's keep-alive connections live
across the interval, so the client pair is counted socket by socket, and
the requests served are the bytes the proxy received on them divided by
REQUEST_BYTES (wrk sends the same request every time). The origin pair
is the namespace's total minus the client pair, so it also counts origin
connections opened and closed inside the interval.
"""
import os
import re
import sys

FIELDS = ("segs_out", "data_segs_out", "bytes_sent", "bytes_received")
EVENTS = ("raw_syscalls:sys_enter", "sched:sched_wakeup")
PROCS = ("origin", "wrk", "proxy")


def header():
    cols = ["requests", "segs", "segs_client_pair", "segs_origin_pair",
            "acks_client_pair", "acks_origin_pair", "delayed_acks",
            "origin_opens", "origin_conns_used", "resp_bytes_to_client",
            "req_bytes_to_origin"]
    for n in PROCS:
        cols += [n + "_cpu_us", n + "_cswitch", n + "_syscalls",
                 n + "_wakeups"]
    return "\t".join(cols)


def parts(path):
    out, name = {}, None
    with open(path) as f:
        for row in f:
            if row.startswith("== "):
                name = row[3:].strip()
                out[name] = []
            elif name is not None:
                out[name].append(row.rstrip("\n"))
    return out


def load(path, proxy_port, origin_port):
    p = parts(path)
    kern = {}
    for key in ("snmp", "netstat"):
        rows = p[key]
        for names, vals in zip(rows[0::2], rows[1::2]):
            prefix, names = names.split(":", 1)
            for k, v in zip(names.split(), vals.split(":", 1)[1].split()):
                kern[prefix + k] = int(v)
    socks = {}
    rows = p["ss"]
    for head, info in zip(rows[0::2], rows[1::2]):
        local, peer = head.split()[-2:]
        lport = int(local.rsplit(":", 1)[1])
        pport = int(peer.rsplit(":", 1)[1])
        if lport == proxy_port:
            role = "pc"
        elif pport == proxy_port:
            role = "cl"
        elif pport == origin_port:
            role = "oc"
        elif lport == origin_port:
            role = "os"
        else:
            continue
        vals = {}
        for f in FIELDS:
            m = re.search(r"\b%s:(\d+)" % f, info)
            vals[f] = int(m.group(1)) if m else 0
        socks[local + "|" + peer] = dict(role=role, **vals)
    procs, tids = {}, {}
    for name in PROCS:
        for tid in p.get(name + ".tids", []):
            tids[tid.strip()] = name
        ticks = cs = 0
        for row in p.get(name + ".stat", []):
            st = row.rsplit(")", 1)[1].split()
            ticks += int(st[11]) + int(st[12])  # utime + stime
        for row in p.get(name + ".status", []):
            if row.startswith(("voluntary_ctxt_switches",
                               "nonvoluntary_ctxt_switches")):
                cs += int(row.split()[-1])
        procs[name] = (ticks, cs)
    return kern, socks, procs, tids


def perf_stat(path, tids):
    """{(role, event): count} from `perf stat --per-thread -x,`."""
    out = {}
    with open(path) as f:
        for row in f:
            w = row.strip().split(",")
            if row.startswith("#") or len(w) < 4 or not w[1].isdigit():
                continue
            tid = w[0].rsplit("-", 1)[-1]
            role = tids.get(tid)
            if role is not None:
                out[(role, w[3])] = out.get((role, w[3]), 0) + int(w[1])
    return out


def diff(argv):
    before, after, perf, pport, oport, req_bytes = argv[:6]
    pport, oport = int(pport), int(oport)
    ka, sa, pa, _ = load(before, pport, oport)
    kb, sb, pb, tids = load(after, pport, oport)
    k = {x: kb[x] - ka.get(x, 0) for x in kb}
    cl = dict(segs=0, data=0, recv=0, sent=0)
    obytes = used = 0
    for key, s in sb.items():
        if s["role"] == "oc" and s["bytes_sent"] != sa.get(
                key, dict(bytes_sent=0))["bytes_sent"]:
            used += 1
        p = sa.get(key)
        if p is None:
            continue  # opened inside the interval
        if s["role"] in ("pc", "cl"):
            cl["segs"] += s["segs_out"] - p["segs_out"]
            cl["data"] += s["data_segs_out"] - p["data_segs_out"]
        if s["role"] == "pc":
            cl["recv"] += s["bytes_received"] - p["bytes_received"]
            cl["sent"] += s["bytes_sent"] - p["bytes_sent"]
        if s["role"] == "os":
            obytes += s["bytes_received"] - p["bytes_received"]
    n = cl["recv"] / float(req_bytes)
    if n <= 0:
        sys.exit("segsnap.py: no requests in the interval")
    segs = k["TcpOutSegs"] - k.get("TcpRetransSegs", 0)
    data = k["TcpExtTCPOrigDataSent"]
    osegs = segs - cl["segs"]
    opens = k["TcpActiveOpens"]
    row = ["%d" % n, "%.3f" % (segs / n), "%.3f" % (cl["segs"] / n),
           "%.3f" % (osegs / n), "%.3f" % ((cl["segs"] - cl["data"]) / n),
           "%.3f" % ((osegs - (data - cl["data"])) / n),
           "%.3f" % (k["TcpExtDelayedACKs"] / n), "%.4f" % (opens / n),
           "%d" % used,
           "%.0f" % (cl["sent"] / n),
           # exact only when every origin connection lived throughout
           "%.0f" % (obytes / n) if opens == 0 else ""]
    ev = perf_stat(perf, tids)
    hz = os.sysconf("SC_CLK_TCK")
    for name in PROCS:
        (t0, c0), (t1, c1) = pa[name], pb[name]
        row += ["%.2f" % ((t1 - t0) * 1e6 / hz / n), "%.3f" % ((c1 - c0) / n)]
        row += ["%.3f" % (ev[(name, e)] / n) if (name, e) in ev else ""
                for e in EVENTS]
    print("\t".join(row))


def main():
    if sys.argv[1] == "header":
        print(header())
    elif sys.argv[1] == "diff":
        diff(sys.argv[2:])


if __name__ == "__main__":
    main()
