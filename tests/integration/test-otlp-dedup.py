#!/usr/bin/env python3
"""test-otlp-dedup.py: one model call counted once, whichever way it arrives (issue 15, point 4).

The same Claude calls reach the real collector twice: as the agent's usage events (schema-3
batches carrying each call's request id, the transcript's 5m/1h cache split) and as Claude
Code's OTLP api_request log records (same request_id, no split). In both orders, with
retries of either, in one transaction together, and with the OTLP copy already folded into a
month that was closed since: each call is counted once, the transcript's values win, the
rollups equal the events, and reporting.usage_sources_monthly (`aimeterctl report sources`)
says which source each call came from. Calls seen only over OTLP count from OTLP.
"""
import datetime
import importlib.util
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, path))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


ah = load("ah", "test-actions-harness.py")
h = ah.h
import json  # noqa: E402

USER = "dedup@example.com"
RESOURCE = {"service.name": "claude-code", "service.version": "2.1.328"}


def js_any(v):
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def js_logs(records):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": k, "value": js_any(v)} for k, v in RESOURCE.items()]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code"}, "logRecords": [
            {"timeUnixNano": str(r["time"]), "body": {"stringValue": "claude_code.api_request"},
             "attributes": [{"key": k, "value": js_any(v)} for k, v in r["attrs"].items()]}
            for r in records]}]}]}).encode()


def call(n, when):
    """One billed call: what the transcript says and what OTLP says of it."""
    c5, c1 = 200 + n, 30 + n
    return {"n": n, "rid": "req_dedup_%04d" % n, "when": when, "input": 1000 + n,
            "output": 40 + n, "cache_read": 3000 + n, "c5": c5, "c1": c1,
            "session": "sess-%d" % (n // 10)}


def agent_rec(c):
    return {"record": "usage", "event_id": ah.hexid("agent", c["n"]),
            "ts": c["when"].strftime("%Y-%m-%dT%H:%M:%S.000Z"), "tool": "claude-code",
            "model": "claude-sonnet-4-5", "session": c["session"], "project": "p:0123456789abcdef",
            "user": USER, "team_hint": "platform", "billing_mode": "api",
            "input_tokens": c["input"], "output_tokens": c["output"],
            "cache_read_tokens": c["cache_read"], "cache_write_5m_tokens": c["c5"],
            "cache_write_1h_tokens": c["c1"], "request_id": c["rid"]}


def otel_rec(c):
    # The OTLP event is stamped when the response ended: a second after the transcript line.
    t = int((c["when"] + datetime.timedelta(seconds=1)).timestamp() * 1e9)
    return {"time": t, "attrs": {
        "event.name": "api_request", "session.id": c["session"], "event.sequence": c["n"],
        "request_id": c["rid"], "model": "claude-sonnet-4-5", "input_tokens": c["input"],
        "output_tokens": c["output"], "cache_read_tokens": c["cache_read"],
        "cache_creation_tokens": c["c5"] + c["c1"], "user.email": USER}}


w = h.setup("otlp_dedup")
h.psql(w, "INSERT INTO aimeter.teams (name) VALUES ('platform')")
with open(w.p("prices.csv"), "w") as f:
    # 1h cache writes cost more than 5m ones: the transcript's split changes the cost.
    f.write("model_pattern,provider,input_per_mtok,output_per_mtok,cache_write_5m_per_mtok,"
            "cache_write_1h_per_mtok,cache_read_per_mtok,web_search_per_1k,source\n"
            "claude-sonnet-4-5*,anthropic,3,15,3.75,6,0.3,10,test\n")
r = subprocess.run([h.CTL, "prices", "import", w.p("prices.csv")], env=h.pg_env(w),
                   capture_output=True, text=True)
if r.returncode != 0:
    h.fail("prices import: " + r.stderr)
col = h.Collector(w)
c = h.Client(w, col.port)
r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "dedup", "--team", "platform"],
                   env=h.pg_env(w), capture_output=True, text=True)
token = r.stdout.strip()
agent = ah.Agent(w, c, "dedup-laptop")
seed = [1000]


def send_agent(calls, name):
    seed[0] += 1
    st, ack, data, _ = agent.send(name, [agent_rec(x) for x in calls], 3, seed[0])
    if st != 200:
        h.fail("agent batch %s: %d %r" % (name, st, data[:200]))
    return ah.ack_fields(ack)


def send_otel(calls, client=None):
    st, _, data = (client or c).request("POST", "/v1/logs", js_logs([otel_rec(x) for x in calls]),
                            {"Content-Type": "application/json",
                             "Authorization": "Bearer " + token})
    if st != 200:
        h.fail("OTLP export: %d %r" % (st, data[:200]))
    return json.loads(data or b"{}")


def stored():
    """Per request id: (input, output, cache read, 5m, 1h) of what usage_events counts."""
    rows = h.psql(w, "SELECT r.request_id, e.input_tokens, e.output_tokens, e.cache_read_tokens,"
                     " e.cache_write_5m_tokens, e.cache_write_1h_tokens"
                     " FROM aimeter.usage_events e JOIN aimeter.usage_requests r"
                     " ON r.event_id = e.event_id AND r.ts = e.ts ORDER BY 1")
    return {x[0]: tuple(int(v) for v in x[1:]) for x in (l.split("|") for l in rows.splitlines())}


def transcript(x):
    return (x["input"], x["output"], x["cache_read"], x["c5"], x["c1"])


def otel_values(x):
    return (x["input"], x["output"], x["cache_read"], x["c5"] + x["c1"], 0)


def check_exact(want, what):
    """want: request id -> values; the events, the rollups and the cost all agree."""
    n = int(h.psql(w, "SELECT count(*) FROM aimeter.usage_events"))
    h.check(n == len(want), "%s: %d calls stored, one per call (%d)" % (what, n, len(want)))
    got = stored()
    h.check(got == want, "%s: each call counted with the right source's values" % what)
    h.psql(w, "SELECT aimeter.fold_rollups()")
    ev = h.psql(w, "SELECT count(*), sum(input_tokens), sum(output_tokens),"
                   " sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(cost)"
                   " FROM aimeter.usage_events")
    for t in ("usage_daily", "usage_monthly"):
        ru = h.psql(w, "SELECT sum(events), sum(input_tokens), sum(output_tokens),"
                       " sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(cost)"
                       " FROM aimeter.%s" % t)
        corr = h.psql(w, "SELECT coalesce(sum(events), 0), coalesce(sum(input_tokens), 0),"
                         " coalesce(sum(output_tokens), 0), coalesce(sum(cache_write_5m_tokens), 0),"
                         " coalesce(sum(cache_write_1h_tokens), 0), coalesce(sum(cost), 0)"
                         " FROM aimeter.usage_corrections")
        # numeric, exactly: the cost as PostgreSQL adds it
        tot = [int(a) + int(b) if i < 5 else h.psql(w, "SELECT %s::numeric + %s::numeric"
                                                     % (a, b))
               for i, (a, b) in enumerate(zip(ru.split("|"), corr.split("|")))]
        evv = [int(x) if i < 5 else h.psql(w, "SELECT %s::numeric" % x)
               for i, x in enumerate(ev.split("|"))]
        ok = tot == evv
        h.check(ok, "%s: %s (with corrections) equals the events: %s vs %s"
                % (what, t, tot, evv))


now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
base = now - datetime.timedelta(hours=2)
want = {}

# --- 1. transcript first, then OTLP, then retries of both ----------------------------------
A = [call(i, base + datetime.timedelta(seconds=i)) for i in range(1, 6)]
a = send_agent(A, "a1")
h.check(a[:3] == (5, 0, 0), "transcript records of 5 calls accepted (%s)" % (a,))
ps = send_otel(A)
h.check(ps == {}, "their OTLP copies: a full success (%r)" % ps)
send_agent(A, "a1-retry")
send_otel(A)
want.update({x["rid"]: transcript(x) for x in A})
check_exact(want, "transcript first")

# --- 2. OTLP first: counted from OTLP, then replaced exactly by the transcript --------------
B = [call(i, base + datetime.timedelta(minutes=10, seconds=i)) for i in range(11, 17)]
send_otel(B)
send_otel(B)
want.update({x["rid"]: otel_values(x) for x in B})
check_exact(want, "OTLP alone")
h.check(h.psql(w, "SELECT source, events FROM reporting.usage_sources_monthly"
                  " WHERE source = 'otel'") == "otel|6", "the view says 6 calls came from OTLP only")
send_agent(B[:4], "b1")
send_otel(B)
send_agent(B[:4], "b1-retry")
want.update({x["rid"]: transcript(x) for x in B[:4]})
check_exact(want, "OTLP first, then the transcript")
sup = h.psql(w, "SELECT sum(superseded) FROM aimeter.usage_requests")
h.check(sup == "4", "4 OTLP copies replaced by their transcript records (%s)" % sup)

# --- 3. both in one transaction, in either order --------------------------------------------
C = [call(i, base + datetime.timedelta(minutes=20, seconds=i)) for i in range(21, 25)]
import threading  # noqa: E402
# Each sender on its own connection (the agent's client is the harness's).
th = [threading.Thread(target=send_otel, args=(C, h.Client(w, col.port))),
      threading.Thread(target=send_agent, args=(C, "c1"))]
for t in th:
    t.start()
for t in th:
    t.join()
send_otel(C)
want.update({x["rid"]: transcript(x) for x in C})
check_exact(want, "both at once")

# --- 4. a closed month: the OTLP copy folded and closed, the transcript arrives late ---------
first = now.replace(day=1, hour=0, minute=0, second=0)
last_month = first - datetime.timedelta(days=3)
D = [call(i, last_month + datetime.timedelta(seconds=i)) for i in range(31, 34)]
send_otel(D)
want.update({x["rid"]: otel_values(x) for x in D})
check_exact(want, "OTLP in last month")
r = subprocess.run([h.CTL, "month", "close", last_month.strftime("%Y-%m")], env=h.pg_env(w),
                   capture_output=True, text=True)
h.check(r.returncode == 0, "last month closes (%s)" % r.stderr.strip())
closed = h.psql(w, "SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM aimeter.usage_monthly m"
                   " WHERE month = '%s'" % last_month.strftime("%Y-%m-01"))
send_agent(D, "d1")
want.update({x["rid"]: transcript(x) for x in D})
check_exact(want, "the transcript replaces a closed month's OTLP copy")
h.check(h.psql(w, "SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM aimeter.usage_monthly m"
                  " WHERE month = '%s'" % last_month.strftime("%Y-%m-01")) == closed,
        "the closed month's rollup is unchanged; the difference is a correction")

# --- the report -------------------------------------------------------------------------------
E = [call(i, base + datetime.timedelta(minutes=40, seconds=i)) for i in range(41, 44)]
send_agent(E, "e1")  # transcript only
want.update({x["rid"]: transcript(x) for x in E})
check_exact(want, "transcript only")
r = subprocess.run([h.CTL, "report", "sources", "--format", "csv"], env=h.pg_env(w),
                   capture_output=True, text=True)
print(r.stdout, flush=True)
rows = {tuple(l.split(",")[:3]): int(l.split(",")[3]) for l in r.stdout.splitlines()[1:]}
this, prev = now.strftime("%Y-%m"), last_month.strftime("%Y-%m")
h.check(rows.get((this, "platform", "both")) == 5 + 4 + 4
        and rows.get((this, "platform", "otel")) == 2
        and rows.get((this, "platform", "agent")) == 3
        and rows.get((prev, "platform", "both")) == 3,
        "report sources: per team and month, calls from both, OTLP only and the agent only (%s)"
        % rows)
col.stop()
print("otlp-dedup: all checks passed")
