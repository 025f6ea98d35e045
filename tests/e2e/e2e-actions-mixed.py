#!/usr/bin/env python3
"""Mixed fleets and the schema negotiation (docs/actions.md, "Negotiation"), real
processes end to end:

1. One collector, two agents: one that does not ship action records
   ([actions] ship = false: schema-1 batches without Batch field 8, byte for
   byte what agents before action records send) over gen-logs' usage, and one
   that does over gen-actions' transcripts. Usage of both and the actions of
   the second arrive exactly.
2. The collector is replaced by one from before action records
   (AIMETER_TEST_MAX_SCHEMA=1: 409 to schema 2, acks without
   max_schema_version). New transcripts arrive: the agent's schema-2 batch is
   refused, it sends their usage alone, keeps their actions spooled and says
   so once per run; restarted, it asks the collector again and keeps them.
3. The collector accepts schema 2 again: the spooled actions arrive without a
   restart of the agent; everything is exact.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

REFUSED = "collector does not accept action records (schema 2); keeping"


def copy_new(src, dst):
    for root, _, files in os.walk(src):
        for name in files:
            if name.endswith(".jsonl"):
                out = os.path.join(dst, os.path.relpath(root, src), name)
                if os.path.exists(out):
                    h.fail("generated file names collide: %s" % out)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                shutil.copy(os.path.join(root, name), out)


def wait_for(what, cond, agent, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.3)
    h.fail("%s did not happen; agent log tail:\n%s" % (what, agent.log()[-3000:]))


old = new = None
c = h.Cluster("actions-mixed")
try:
    c.start()
    usage_logs, _ = h.generate(c.dir)
    old = h.Agent(c, usage_logs, name="old", extra="[actions]\nship = false\n")
    g1, _ = h.generate_actions(os.path.join(c.dir, "gen1"))
    g2, _ = h.generate_actions(os.path.join(c.dir, "gen2"), "--seed", "6")
    live = os.path.join(c.dir, "live")
    roots = {"claude": os.path.join(live, "claude"), "codex": os.path.join(live, "codex")}
    for k in roots:
        copy_new(os.path.join(g1, k), roots[k])
    new = h.Agent(c, None, name="new", roots=roots, extra="[actions]\nsettle_seconds = 1\n")
    want1 = h.action_truth(g1)
    want2 = h.add_totals(want1, h.action_truth(g2))
    n2 = sum(r[0] for r in h.action_truth(g2).values())

    # 1. both kinds of agent into one collector
    old.start()
    new.start()
    h.wait_actions(c, want1, agent=new)
    usage = h.add_totals(h.truth_totals(usage_logs),
                h.jsonl_totals(h.parse_jsonl(new.cli("scan", "--format", "jsonl")[0])))
    h.wait_totals(c, usage, agent=new)
    old.stop()
    if os.path.exists(os.path.join(old.state, "spool-actions")):
        h.fail("an agent with [actions] ship = false keeps an action spool")
    schemas = h.psql(c.db, "SELECT count(*) FROM aimeter.action_events")
    h.log("one collector: usage of both agents and %s actions of the new one" % schemas)

    # 2. a collector from before action records
    c.stop()
    c.start(env={"AIMETER_TEST_MAX_SCHEMA": "1"})
    for k in roots:
        copy_new(os.path.join(g2, k), roots[k])
    usage = h.add_totals(h.truth_totals(usage_logs),
                h.jsonl_totals(h.parse_jsonl(new.cli("scan", "--format", "jsonl")[0])))
    h.wait_totals(c, usage, agent=new)
    wait_for("the actions spooled", lambda: new.status().get("spooled actions", "").startswith(
        str(n2)), new)
    if c.action_totals() != want1:
        h.fail("actions arrived at a collector that refuses schema 2")
    if new.log().count(REFUSED) != 1:
        h.fail("expected the refusal logged once:\n" + new.log()[-3000:])
    if "HTTP 409" not in new.log():
        h.fail("the schema-2 batch was not answered 409:\n" + new.log()[-3000:])
    new.stop()
    new.start()  # a new run asks the collector (an empty batch), and says it once again
    wait_for("the refusal logged by the new run", lambda: new.log().count(REFUSED) == 2, new)
    st = new.status()
    if not st.get("spooled actions", "").startswith(str(n2)):
        h.fail("status: %s" % st)
    h.log("an older collector: usage delivered, %d actions kept spooled (%s)"
          % (n2, st.get("spooled actions")))

    # 3. the collector accepts them again: no restart of the agent
    c.stop()
    c.start()
    h.wait_actions(c, want2, agent=new)
    h.wait_totals(c, usage, agent=new)
    new.stop()
    st = new.status()
    if st.get("spooled actions") != "0":
        h.fail("status after delivery: %s" % st)
    h.log("collector upgraded: %s actions delivered in all, usage exact" % st.get("shipped actions"))
finally:
    for x in (old, new):
        if x is not None:
            x.kill()
    c.close()
print("ok")
