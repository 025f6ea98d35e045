#!/usr/bin/env python3
"""measure.py: the agent's footprint and shipping rate, beside baselines from
the same run (these machines are noisy: read ratios, not absolutes).

1. Footprint: the agent reads the generator's default logs and ships them to
   a local collector, then sits idle for 2 minutes: VmRSS after the idle
   time and CPU (user + system) spent during it. Baseline: the peak RSS of a
   one-shot `aimeter-agent scan` over the same logs, and the collector's RSS.
2. Shipping rate: the agent reads a larger log set while the collector is
   down, then the collector starts and the spool drains: events/s shipped.
   Baseline: `aimeter-agent scan --format jsonl | aimeterctl ingest -`, the
   direct SQL path into an empty database.

--toy: default logs and 5 idle seconds (tests/run runs it once so it cannot
rot). Needs the PostgreSQL of tests/run (PGHOST...); exits 77 without it.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

toy = "--toy" in sys.argv
idle_s = int(os.environ.get("AM_IDLE_S", "5" if toy else "120"))


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def spooled(a):
    """(events in the spool, events shipped so far)"""
    st = a.status()
    return (int(st.get("spooled events", "0") or 0),
            int((st.get("shipped events", "0") or "0").split()[0]))


h.need_pg()
results = []

# --- 1. footprint --------------------------------------------------------------
c = h.Cluster("footprint")
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    events = sum(v[0] for v in want.values())
    a = h.Agent(c, logs)
    t0 = time.time()
    a.start()
    h.wait_totals(c, want, agent=a)
    t_read = time.time() - t0
    time.sleep(3)  # the last acknowledgement settles
    cpu0 = proc_cpu(a.proc.pid)
    time.sleep(idle_s)
    cpu_idle = proc_cpu(a.proc.pid) - cpu0
    rss = proc_rss_kb(a.proc.pid)
    hwm = proc_rss_kb(a.proc.pid, "VmHWM")
    anon, filed = proc_rss_kb(a.proc.pid, "RssAnon"), proc_rss_kb(a.proc.pid, "RssFile")
    coll_rss = proc_rss_kb(c.proc.pid)
    if os.environ.get("AM_SMAPS") == "1":
        per = {}
        name = None
        with open("/proc/%d/smaps" % a.proc.pid) as f:
            for line in f:
                p = line.split()
                if "-" in p[0] and len(p) >= 5:
                    name = p[5] if len(p) > 5 else "[anon]"
                elif p[0] == "Rss:":
                    per[name] = per.get(name, 0) + int(p[1])
        for k, v in sorted(per.items(), key=lambda x: -x[1])[:15]:
            print("  smaps %6d kB %s" % (v, k))
    a.stop()
    scan = subprocess.Popen([h.AGENT, "scan", "--claude-dir", os.path.join(logs, "claude"),
                             "--codex-dir", os.path.join(logs, "codex"), "--format", "jsonl"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=a.env)
    _, status, usage = os.wait4(scan.pid, 0)
    scan.returncode = os.waitstatus_to_exitcode(status)
    scan_rss = usage.ru_maxrss
    results.append("logs: %d events, %.1f MB; read and delivered in %.1f s"
                   % (events, info["bytes"] / 1e6, t_read))
    results.append("agent idle VmRSS after %d s idle: %d kB (anonymous %d, files %d; peak %d kB)"
                   "  target < 10240 kB" % (idle_s, rss, anon, filed, hwm))
    results.append("  baseline: one-shot `scan` of the same logs, peak RSS %d kB; collector"
                   " VmRSS %d kB" % (scan_rss, coll_rss))
    results.append("agent CPU during %d idle s: %.2f s  target < 0.1 s" % (idle_s, cpu_idle))
finally:
    c.close()

# --- 2. shipping rate ------------------------------------------------------------
c = h.Cluster("rate")
try:
    c.start()
    args = [] if toy else ["--size-mb", "60"]
    logs, info = h.generate(c.dir, *args)
    want = h.truth_totals(logs)
    events = sum(v[0] for v in want.values())
    a = h.Agent(c, logs, extra="[spool]\nmax_bytes = 1G\n")
    a.start()
    while a.status().get("enrolled") != "yes":
        time.sleep(0.2)
    c.stop()
    t0 = time.time()
    # A first batch may have gone out before the collector stopped.
    while sum(spooled(a)) < events:
        if time.time() - t0 > 600:
            h.fail("the agent did not spool everything: %s" % a.status())
        time.sleep(0.2)
    t_spool = time.time() - t0
    to_ship = spooled(a)[0]
    cpu_before = proc_cpu(a.proc.pid)
    c.start()
    t0 = time.time()
    subprocess.run([h.AGENT, "flush", "-c", a.conf, "--timeout", "900"], env=a.env,
                   check=True, capture_output=True)
    t_ship = time.time() - t0
    cpu_ship = proc_cpu(a.proc.pid) - cpu_before
    h.wait_totals(c, want, agent=a)
    a.stop()
    results.append("shipping: %d events spooled in %.1f s (read %.0f events/s); %d drained in"
                   " %.1f s: %.0f events/s, agent CPU %.2f s"
                   % (events, t_spool, events / t_spool, to_ship, t_ship, to_ship / t_ship,
                      cpu_ship))
    # Baseline: the direct SQL path with the same events into an empty database.
    h.psql(c.db, "TRUNCATE aimeter.usage_events, aimeter.usage_daily, aimeter.usage_monthly, "
                 "aimeter.ingest_batches CASCADE")
    jsonl = os.path.join(c.dir, "events.jsonl")
    with open(jsonl, "w") as f:
        subprocess.run([h.AGENT, "scan", "--claude-dir", os.path.join(logs, "claude"),
                        "--codex-dir", os.path.join(logs, "codex"), "--format", "jsonl"],
                       stdout=f, stderr=subprocess.DEVNULL, env=a.env, check=True)
    t0 = time.time()
    r = subprocess.run([h.CTL, "ingest", "--db", c.conninfo, "--person-key-file", c.person_key,
                        jsonl], capture_output=True, text=True)
    t_direct = time.time() - t0
    if r.returncode != 0:
        results.append("  baseline aimeterctl ingest failed: %s" % r.stderr.strip()[:200])
    else:
        results.append("  baseline: aimeterctl ingest (direct SQL) %.1f s: %.0f events/s;"
                       " agent/direct = %.2f" % (t_direct, events / t_direct,
                                                 (to_ship / t_ship) / (events / t_direct)))
finally:
    c.close()

for line in results:
    print(line)
