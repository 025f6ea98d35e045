#!/usr/bin/env python3
"""Action records through the daemon: tests/gen/gen-actions' transcripts, first
cut half-way (sessions in progress: calls whose results come later) and then
completed, read by a running `aimeter-agent run` that is killed -9 after
spooling action records but before the usage record holding its positions
("read-actions"), at a random moment and after sending a batch ("upload").
The database's aimeter.action_events must equal the generator's truth per
tool, UTC day, kind and decision (count, lines, proposed lines, commits, pull
requests, sub-agent calls); usage must equal one `scan` of the final files;
status must say every action was shipped once and none is left spooled.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

with open(os.path.join(h.BUILD, "am_config.h")) as f:
    if "AM_TEST_HOOKS 1" not in f.read():
        print("e2e: this build has no test hooks (meson -Dtest_hooks=true)")
        sys.exit(77)

DAY = 86400
rnd = random.Random(1414)
a = None
c = h.Cluster("actions")
try:
    c.start()
    logs, marker = h.generate_actions(os.path.join(c.dir, "gen"))
    want = h.action_truth(logs)
    n_actions = sum(r[0] for r in want.values())
    live = os.path.join(c.dir, "live")
    roots = {"claude": os.path.join(live, "claude"), "codex": os.path.join(live, "codex")}
    for k in roots:
        h.stage_cut(os.path.join(logs, k), roots[k], 0.5)
    # Nothing settles by quiet time while the files are cut: a call without its
    # result yet must wait for it, across the kills.
    a = h.Agent(c, None, roots=roots, settle=DAY,
                extra="[actions]\nsettle_seconds = %d\n" % DAY)
    mark = os.path.join(c.dir, "phases")
    if a.start_killed_at("read-actions", 1, mark, 30) is None:
        h.fail("the daemon never spooled action records:\n" + a.log()[-3000:])
    h.log("killed -9 with action records spooled, their positions not")
    a.start()
    end = time.time() + 60
    while time.time() < end and not c.action_totals():
        time.sleep(0.3)
    time.sleep(rnd.uniform(0.1, 1.0))
    a.kill()
    shipped = sum(r[0] for r in c.action_totals().values())
    h.log("killed -9 at random with %d of %d actions stored" % (shipped, n_actions))
    if not 0 < shipped < n_actions:
        h.fail("the cut files should have shipped some actions, not all: %d" % shipped)
    for k in roots:  # the sessions go on: results of the pending calls arrive
        h.stage_cut(os.path.join(logs, k), roots[k], 1)
    if a.start_killed_at("upload", 1, mark, 30) is None:
        h.log("phase upload not reached; stopped with SIGTERM")
    a.configure(settle=1)
    with open(a.conf, "a") as f:
        f.write("[actions]\nsettle_seconds = 1\n")
    a.start()
    h.wait_actions(c, want, agent=a, timeout=120)
    scanned = h.jsonl_totals(h.parse_jsonl(a.cli("scan", "--format", "jsonl")[0]))
    h.wait_totals(c, scanned, agent=a, timeout=60)
    a.stop()
    st = a.status()
    if st.get("spooled actions") != "0" or st.get("shipped actions") != str(n_actions):
        h.fail("status: %d actions, spooled %s, shipped %s" % (
            n_actions, st.get("spooled actions"), st.get("shipped actions")))
    # A restart reads the files holding no pending call no more, and sends nothing new.
    a.start()
    time.sleep(3)
    a.stop()
    if c.action_totals() != want or a.status().get("shipped actions") != str(n_actions):
        h.fail("a restart changed the actions: %s" % a.status())
    dup = h.psql(c.db, "SELECT count(*) - count(DISTINCT action_id) FROM aimeter.action_events")
    h.log("%d actions in %d rows exact per tool, UTC day, kind and decision after 3 kills -9; "
          "each shipped once (status), %s duplicate rows" % (n_actions, len(want), dup))
finally:
    if a is not None:
        a.kill()
    c.close()
print("ok")
