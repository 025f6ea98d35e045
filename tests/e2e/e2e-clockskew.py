#!/usr/bin/env python3
"""Workstation clocks far off, with Debian's faketime. One agent runs 40 days ahead, one 40
days behind (the collector's certificate is valid over both). Their generated logs carry the
tools' own timestamps, which the database must keep: the totals per UTC day equal the truth
whatever the agent's clock said. The ahead workstation's tool also wrote events 30 days ahead
of the real time, which the collector refuses as in the future (aimeter.settings
future_tolerance, 7 days): the ack names each one, the agent keeps them (status: deferred
events) and sends them again after [ship] future_retry_seconds. Every event is accounted for
at every check: stored, or refused, reported and kept. Once the tolerance is raised, the next
retry stores them, with their own timestamps."""
import datetime as dt
import glob
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

SKEW_DAYS = 40
FUTURE_DAYS = 30
N_FUTURE = 12
LIBFAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") or [None])[0]
if LIBFAKETIME is None:
    h.fail("libfaketime not found: install Debian's faketime (tests/deps.txt)")


def skewed(days):
    """The agent's environment for a clock `days` off (monotonic time left alone)."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "%+dd" % days,
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # libfaketime is preloaded before the sanitizer's runtime
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


def write_future(root):
    """N_FUTURE Claude responses stamped FUTURE_DAYS ahead of now, one session: their truth."""
    t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=FUTURE_DAYS)
    sid = str(uuid.uuid4())
    d = os.path.join(root, "projects", "-home-dev-ahead")
    os.makedirs(d, exist_ok=True)
    stamps = []
    with open(os.path.join(d, sid + ".jsonl"), "w") as f:
        for i in range(N_FUTURE):
            t = t0 + dt.timedelta(minutes=i)
            stamps.append(t)
            f.write(json.dumps({
                "type": "assistant", "sessionId": sid, "uuid": str(uuid.uuid4()),
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "cwd": "/home/dev/ahead",
                "version": "2.1.233", "requestId": "req_future%04d%s" % (i, sid[:8]),
                "message": {"id": "msg_future%04d%s" % (i, sid[:8]), "type": "message",
                            "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                            "usage": {"input_tokens": 100 + i, "output_tokens": 10,
                                      "cache_creation_input_tokens": 0,
                                      "cache_read_input_tokens": 0}}}) + "\n")
    return stamps


def stored():
    return int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))


def deferred(a):
    return int(a.status().get("deferred events", "0").split()[0])


c = h.Cluster("clockskew")
agents = []
try:
    # valid from 100 days ago for 200 days: both skewed clocks accept it
    wide = os.path.join(c.dir, "wide")
    os.makedirs(wide)
    c.ca, c.crt, c.key = h.make_certs(wide, days=200, backdate_days=100)
    c.start()
    want = {}
    for name, days, seed in (("ahead", SKEW_DAYS, 21), ("behind", -SKEW_DAYS, 22)):
        logs, _ = h.generate(os.path.join(c.dir, name + "-logs"), "--seed", str(seed),
                             "--sessions", "10")
        want = h.add_totals(want, h.truth_totals(logs))
        extra = "[ship]\nbatch_events = 100\n"
        if name == "ahead":
            stamps = write_future(os.path.join(logs, "claude"))
            extra += "future_retry_seconds = 5\n"
        a = h.Agent(c, logs, name=name, extra=extra)
        a.start(env=skewed(days))
        agents.append(a)
    ahead, behind = agents
    want = h.merge_generated(want, len(agents))
    total = sum(v[0] for v in want.values())
    h.log("agents %+d and %+d days off; %d generated events, %d more %d days ahead"
          % (SKEW_DAYS, -SKEW_DAYS, total, N_FUTURE, FUTURE_DAYS))

    # Everything generated arrives with the tools' timestamps; the future ones are refused.
    h.wait_totals(c, want, timeout=180, agent=ahead)
    end = time.time() + 120
    while time.time() < end:
        refused = int(h.psql(c.db, "SELECT count(DISTINCT event_id) FROM aimeter.rejected_events "
                                   "WHERE reason = 'future_timestamp'"))
        kept = deferred(ahead)
        if refused == N_FUTURE and kept == N_FUTURE:
            break
        time.sleep(0.5)
    else:
        h.fail("want %d refused and kept, got %d refused, %d kept\n%s"
               % (N_FUTURE, refused, kept, ahead.log()[-3000:]))
    if stored() != total:
        h.fail("stored %d events, the generated logs hold %d" % (stored(), total))
    st = ahead.status()
    h.log("accounted for: %d stored + %d refused, reported and kept (status: %s)"
          % (stored(), kept, st["deferred events"]))

    # A retry while the tolerance is unchanged is refused again and kept again.
    logged = ahead.log().count("sending again")
    end = time.time() + 150
    while ahead.log().count("sending again") == logged and time.time() < end:
        time.sleep(0.5)
    if ahead.log().count("sending again") == logged:
        h.fail("the kept events were not sent again:\n" + ahead.log()[-3000:])
    end = time.time() + 60
    while deferred(ahead) != N_FUTURE and time.time() < end:
        time.sleep(0.5)
    if deferred(ahead) != N_FUTURE or stored() != total:
        h.fail("after a refused retry: %d kept, %d stored" % (deferred(ahead), stored()))
    h.log("retried, refused again, still kept: %d" % N_FUTURE)

    h.psql(c.db, "UPDATE aimeter.settings SET future_tolerance = '%d days'" % (FUTURE_DAYS * 2))
    end = time.time() + 180
    while time.time() < end and (stored() != total + N_FUTURE or deferred(ahead) != 0):
        time.sleep(0.5)
    if stored() != total + N_FUTURE or deferred(ahead) != 0:
        h.fail("after the tolerance rose: %d stored of %d, %d still kept\n%s"
               % (stored(), total + N_FUTURE, deferred(ahead), ahead.log()[-3000:]))
    got = h.psql(c.db, "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
                       "FROM aimeter.usage_events WHERE ts > now() + interval '7 days' "
                       "ORDER BY ts").splitlines()
    if got != [t.strftime("%Y-%m-%dT%H:%M:%S") for t in stamps]:
        h.fail("the future events' timestamps changed: %s" % got)
    future_days = {t.strftime("%Y-%m-%d") for t in stamps}
    rest = {k: v for k, v in c.totals().items() if k[1] not in future_days}
    if rest != want:  # the generated rows untouched by the retries
        h.fail("totals changed: %s" % "\n".join(h.diff_totals(want, rest)[:20]))
    for a in agents:
        if a.proc.poll() is not None:
            h.fail("agent %s exited:\n%s" % (a.dir, a.log()[-3000:]))
        a.stop()
    h.log("stored with the tools' timestamps: %d generated + %d once in the future"
          % (total, N_FUTURE))
    print("ok")
finally:
    for a in agents:
        a.kill()
    c.close()
