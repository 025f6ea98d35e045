#!/usr/bin/env python3
"""test-collector-actions.py: action records (docs/actions.md) from a mixed fleet.

One collector, real TLS, the real PostgreSQL: an old agent's schema-1 batches
and a new agent's schema-2 batches (usage and actions together, built from
`aimeter-agent scan --format jsonl` lines by test-actions-tool). Checks: every
ack says max_schema_version 3 (the highest; 2 for actions); v1 batches keep working, a v1 batch carrying
actions is refused whole; replays add nothing; an unknown record is replaced
by a decided one, never the reverse; bad actions are rejected with their
reason at index n_events + j while the rest of the batch is stored; the
reporting views equal a truth computed here; groups below min_group_size are
hidden. AM_ACTIONS_JSONL (optional) names real agent output to ingest as well.
"""
import datetime
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

spec = importlib.util.spec_from_file_location(
    "ah", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-actions-harness.py"))
ah = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ah)
h = ah.h
atool, hexid, action, usage, ack_fields = ah.atool, ah.hexid, ah.action, ah.usage, ah.ack_fields


# --- the generated month and its truth -----------------------------------------
today = datetime.datetime.now(datetime.timezone.utc).date()
month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
month_label = month.strftime("%Y-%m")
# The highest schema a collector accepts and states in acks: 3 since usage
# events carry request ids (issue 15, point 4); action records need 2.
MAX_SCHEMA = 3
TEAMS = {"alpha": ["alice%d@example.com" % i for i in range(6)],
         "beta": ["bob%d@example.com" % i for i in range(2)]}
MCP = "h:" + "ab" * 8
SKILL = "h:" + "cd" * 8

records = []
truth = {t: defaultdict(Decimal) for t in TEAMS}
sessions = {t: set() for t in TEAMS}
inventory = defaultdict(lambda: [set(), 0])
for team, people in TEAMS.items():
    T = truth[team]
    for pi, user in enumerate(people):
        for d in range(20):
            day = month + datetime.timedelta(days=d)
            n = pi * 100 + d
            aid = lambda k: hexid(team, user, d, k)
            # An accepted edit, a rejected one, an error, an unknown.
            la, lr = n % 7 + 1, n % 3
            records.append(action(aid("e1"), day, 1, user, team, "edit", "accepted", la=la,
                                  lr=lr, pa=la, pr=lr, ext="c"))
            records.append(action(aid("e2"), day, 2, user, team, "edit", "rejected", pa=4, pr=1,
                                  ext="py"))
            records.append(action(aid("e3"), day, 3, user, team, "edit", "error", pa=2, ext="py"))
            records.append(action(aid("e4"), day, 4, user, team, "shell", "unknown",
                                  tool_name="Bash"))
            T["calls"] += 4
            T["accepted"] += 1
            T["rejected"] += 1
            T["errors"] += 1
            T["unknown"] += 1
            T["accepted_edits"] += 1
            T["lines_added"] += la
            T["lines_removed"] += lr
            sessions[team].add("%s-%s" % (user, day))
            if d % 2 == 0:  # a write creating a file
                records.append(action(aid("w"), day, 5, user, team, "write", "accepted",
                                      tool_name="Write", la=10, pa=10, ext="md"))
                T["calls"] += 1
                T["accepted"] += 1
                T["accepted_edits"] += 1
                T["lines_added"] += 10
            if d % 4 == 0:  # a commit
                records.append(action(aid("c"), day, 6, user, team, "commit", "accepted",
                                      tool_name="Bash", commits=1))
                T["calls"] += 1
                T["accepted"] += 1
                T["commits"] += 1
            if d % 10 == 0:  # a pull request, through an MCP tool
                records.append(action(aid("pr"), day, 7, user, team, "pull_request", "accepted",
                                      tool_name="h:" + "ef" * 8, target=MCP, prs=1))
                T["calls"] += 1
                T["accepted"] += 1
                T["pull_requests"] += 1
            if d % 5 == 0:  # a sub-agent and a skill
                records.append(action(aid("sa"), day, 8, user, team, "subagent", "accepted",
                                      tool_name="Task", target="Explore"))
                records.append(action(aid("sk"), day, 9, user, team, "skill", "accepted",
                                      tool_name="Skill", target=SKILL))
                records.append(action(aid("mcp"), day, 10, user, team, "mcp", "accepted",
                                      tool_name="h:" + "12" * 8, target=MCP))
                T["calls"] += 3
                T["accepted"] += 3
                for kind, name in (("subagent", "Explore"), ("skill", SKILL), ("mcp", MCP)):
                    inventory[(team, kind, name)][0].add(user)
                    inventory[(team, kind, name)][1] += 1
            # Usage: cost = 3 $/Mtok in + 15 $/Mtok out (prices below).
            inp, out = 1000 * (n % 5 + 1), 200 * (n % 3 + 1)
            records.append(usage(hexid("u", team, user, d), day, 0, user, team, inp, out))
            T["cost"] += Decimal(inp) * 3 / 1000000 + Decimal(out) * 15 / 1000000

w = h.setup("actions")
env = h.pg_env(w)
h.psql(w, "INSERT INTO aimeter.teams (name) VALUES ('alpha'), ('beta')")
ah.import_prices(w, [("claude-sonnet-4-5*", "anthropic", 3, 15)])

col = h.Collector(w)
c = h.Client(w, col.port)
new_agent = ah.Agent(w, c, "mixed")
token = new_agent.token
send_jsonl = new_agent.send


def view(sql):
    return ah.view(w, sql)


def count(sql):
    return int(h.psql(w, sql))


# --- an old agent: schema 1, usage only -------------------------------------------
bodies, old_events, _ = h.mkbatches(w, "old", 2, 50, 7)
for b in bodies:
    st, _, data = c.post_batch(b, token)
    h.check(st == 200, "an old agent's schema-1 batch is accepted")
    with open(w.p("ack.bin"), "wb") as f:
        f.write(data)
    h.check(ack_fields(atool("ack", w.p("ack.bin")))[3] == MAX_SCHEMA,
            "the ack of a schema-1 batch says max_schema_version %d" % MAX_SCHEMA)
h.check(count("SELECT count(*) FROM aimeter.usage_events") == old_events,
        "the old agent's events are stored")
st, _, data, _ = send_jsonl("v1actions", records[:3], 1, 1)
h.check(st == 409 or st == 400, "a schema-1 batch carrying actions is refused whole (%d %s)"
        % (st, data[:120]))
st, _, data, _ = send_jsonl("v%d" % (MAX_SCHEMA + 1),
                            [r for r in records if r["record"] == "usage"][:2], MAX_SCHEMA + 1, 2)
h.check(st == 409, "schema_version %d gets 409" % (MAX_SCHEMA + 1))

# --- the new agent: schema 2, usage and actions in the same batches ---------------
chunks = [records[i:i + 700] for i in range(0, len(records), 700)]
n_actions = sum(1 for r in records if r["record"] == "action")
n_usage = len(records) - n_actions
for i, ch in enumerate(chunks):
    st, ack, data, out = send_jsonl("new%d" % i, ch, 2, 100 + i)
    if st != 200:
        h.fail("schema-2 batch %d: %d %r" % (i, st, data[:200]))
    a = ack_fields(ack)
    if a[2] != 0 or a[3] != MAX_SCHEMA:
        h.fail("schema-2 batch %d: unexpected ack %s" % (i, ack))
h.check(True, "%d schema-2 batches acked, nothing rejected, max_schema_version %d"
        % (len(chunks), MAX_SCHEMA))
h.check(count("SELECT count(*) FROM aimeter.action_events") == n_actions,
        "every action stored once (%d)" % n_actions)
h.check(count("SELECT count(*) FROM aimeter.usage_events") == old_events + n_usage,
        "usage of the schema-2 batches stored beside the old agent's")

snap = h.psql(w, "SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) FROM aimeter.actions_daily d")
for i, ch in enumerate(chunks):
    st, ack, _, _ = send_jsonl("new%d" % i, ch, 2, 100 + i)
    h.check(st == 200, "replay %d acked" % i) if i == 0 else None
h.check(count("SELECT count(*) FROM aimeter.action_events") == n_actions,
        "a replay stores no action twice")
h.check(h.psql(w, "SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) FROM aimeter.actions_daily d")
        == snap, "a replay leaves the rollups as they were")
h.check(count("SELECT count(*) FROM aimeter.usage_events") == old_events + n_usage,
        "a replay stores no usage twice")

# --- the fleet stays mixed: an old agent on its own device, after the new one ------
# Its usage (schema 1, no actions) counts in the teams' cost; its sessions hold
# no action, so no outcome moves. Batches of the two agents interleave.
old_agent = ah.Agent(w, c, "old-agent")
old_usage = [usage(hexid("old-u", u, d), month + datetime.timedelta(days=d), 30, u, "alpha",
                   2000, 300, session="old-%s-%d" % (u, d))
             for u in TEAMS["alpha"][:3] for d in range(0, 20, 3)]
stored_before = count("SELECT count(*) FROM aimeter.usage_events")
replay = [records[0], next(r for r in records if r["record"] == "usage")]
acks = []
for i in range(0, len(old_usage), 10):
    st, ack, data, _ = old_agent.send("old-v1-%d" % i, old_usage[i:i + 10], 1, 300 + i)
    acks.append((st, ack and ack_fields(ack), len(old_usage[i:i + 10])))
    st, ack, _, _ = send_jsonl("new-again-%d" % i, replay, 2, 400 + i)
    acks.append((st, ack and ack_fields(ack), 0))
h.check(all(st == 200 and a == (n, 1 - min(n, 1), 0, MAX_SCHEMA) for st, a, n in acks),
        "old (schema 1) and new (schema 2) agents' batches interleaved: each stored, each ack"
        " says max_schema_version %d (%d batches)" % (MAX_SCHEMA, len(acks)))
bodies, more_old, _ = h.mkbatches(w, "old2", 1, 20, 8)
st, _, _ = old_agent.c.post_batch(bodies[0], old_agent.token)
h.check(st == 200, "a schema-1 batch made by the old agent's encoder, after schema-2 ones")
h.check(count("SELECT count(*) FROM aimeter.usage_events") == stored_before + len(old_usage)
        + more_old, "the old agent's events are stored beside the new agent's")
h.check(count("SELECT count(DISTINCT device_id) FROM aimeter.action_events") == 1,
        "actions only from the new agent's device")
for u in old_usage:
    truth["alpha"]["cost"] += (Decimal(u["input_tokens"]) * 3 + Decimal(u["output_tokens"]) * 15) \
        / 1000000

# --- unknown, then decided; decided is never replaced ------------------------------
day = month + datetime.timedelta(days=25)
late = hexid("late")
st, _, _, _ = send_jsonl("u1", [action(late, day, 1, "alice0@example.com", "alpha", "edit",
                                       "unknown", pa=5, ext="c")], 2, 900)
st2, _, _, _ = send_jsonl("u2", [action(late, day, 1, "alice0@example.com", "alpha", "edit",
                                        "accepted", la=5, pa=5, ext="c")], 2, 901)
st3, _, _, _ = send_jsonl("u3", [action(late, day, 1, "alice0@example.com", "alpha", "edit",
                                        "rejected", pa=5, ext="c")], 2, 902)
h.check((st, st2, st3) == (200, 200, 200), "unknown, accepted, rejected of one call acked")
h.check(h.psql(w, "SELECT decision || ':' || lines_added FROM aimeter.action_events"
                  " WHERE action_id = '\\x%s'" % late) == "accepted:5",
        "a stored unknown record is replaced by the decided one, which then stays")
h.check(h.psql(w, "SELECT string_agg(decision || '=' || calls || '/' || lines_added, ',' ORDER BY decision)"
                  " FROM aimeter.actions_daily WHERE day = '%s'" % day) == "accepted=1/5",
        "the rollups moved with it")
truth["alpha"]["calls"] += 1
truth["alpha"]["accepted"] += 1
truth["alpha"]["accepted_edits"] += 1
truth["alpha"]["lines_added"] += 5
sessions["alpha"].add("alice0@example.com-%s" % day)

# --- bad actions: rejected with a reason, the rest of the batch kept ---------------
bad_day = month + datetime.timedelta(days=26)
u = "alice1@example.com"
mixed = [usage(hexid("badbatch-usage"), bad_day, 0, u, "alpha", 1000, 100),
         action(hexid("ok1"), bad_day, 1, u, "alpha", "shell", "accepted", tool_name="Bash"),
         action(hexid("b1"), bad_day, 2, u, "alpha", 99, "accepted"),
         action(hexid("b2"), bad_day, 3, u, "alpha", "edit", 7),
         action(hexid("b3"), bad_day, 4, u, "alpha", "commit", "accepted", commits=2),
         action(hexid("b4"), bad_day, 5, u, "alpha", "shell", "accepted",
                tool_name="rm -rf /home/alice/secret"),
         action(hexid("b5")[:20], bad_day, 6, u, "alpha", "shell", "accepted"),
         action(hexid("b6"), bad_day, 7, u, "alpha", "edit", "accepted", ext="c/../../etc"),
         action(hexid("b7"), bad_day, 8, u, "alpha", 0, "accepted"),
         action(hexid("ok2"), bad_day, 9, u, "alpha", "web", "accepted", tool_name="WebFetch")]
st, ack, data, _ = send_jsonl("bad", mixed, 2, 950)
h.check(st == 200, "a batch with bad actions is acked")
rej = dict((int(m.group(1)), m.group(2)) for m in re.finditer(r"rejected (\d+) (\S+)", ack))
want = {2: "bad_action_kind", 3: "bad_action_decision", 4: "bad_action_count",
        5: "bad_action_name", 6: "bad_event_id", 7: "bad_action_name", 8: "bad_action_kind"}
h.check(rej == want, "each bad action rejected at index n_events + j with its reason: %s" % rej)
h.check(count("SELECT count(*) FROM aimeter.action_events WHERE ts::date = '%s'" % bad_day) == 2,
        "the good actions of that batch are stored")
h.check(count("SELECT count(*) FROM aimeter.usage_events WHERE event_id = '\\x%s'"
              % hexid("badbatch-usage")) == 1, "and its usage event")
h.check(count("SELECT count(*) FROM aimeter.action_events WHERE tool_name LIKE '%% %%'"
              " OR file_ext LIKE '%%/%%'") == 0, "no text of a bad action reached the database")
T = truth["alpha"]
T["calls"] += 2
T["accepted"] += 2
T["cost"] += Decimal(1000) * 3 / 1000000 + Decimal(100) * 15 / 1000000

# --- the real agent: gen-actions transcripts, `scan --format jsonl`, this collector ---
def agent_lines():
    """AM_ACTIONS_JSONL (any agent's output), else the agent of this build on gen-actions."""
    if os.environ.get("AM_ACTIONS_JSONL"):
        return [json.loads(l) for l in open(os.environ["AM_ACTIONS_JSONL"]) if l.strip()]
    logs = w.p("gen-logs")
    subprocess.run([sys.executable, os.environ["AM_GEN_ACTIONS"], logs], check=True,
                   stdout=subprocess.DEVNULL)
    aenv = dict(os.environ, AIMETER_STATE_DIR=w.p("agent-state"), TZ="UTC")
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "AIMETER_CLAUDE_DIRS", "AIMETER_CODEX_DIRS"):
        aenv.pop(k, None)
    p = subprocess.run([os.environ["AM_AGENT"], "scan", "--format", "jsonl", "--user",
                        "dana@example.com", "--claude-dir", os.path.join(logs, "claude"),
                        "--codex-dir", os.path.join(logs, "codex")],
                       env=aenv, capture_output=True, text=True, check=True)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


lines = agent_lines()
acts = [l for l in lines if l.get("record") == "action"]
h.check(len(acts) > 0, "the agent printed %d action records" % len(acts))
before_ids = set(h.psql(w, "SELECT encode(action_id, 'hex') FROM aimeter.action_events").split())
st, ack, data, out = send_jsonl("agent", lines, 2, 990)
h.check(st == 200 and ack_fields(ack)[2] == 0,
        "the agent's scan output goes through as one schema-2 batch: %s" % out.strip())
want = defaultdict(lambda: [0] * 6)
for a in acts:
    k = (a["tool"], a["ts"][:10], a["kind"], a["decision"])
    for i, f in enumerate(("lines_added", "lines_removed", "proposed_lines_added",
                           "proposed_lines_removed", "commits")):
        want[k][i] += a[f]
    want[k][5] += 1
got = defaultdict(lambda: [0] * 6)
ids = "','".join(a["action_id"] for a in acts if a["action_id"] not in before_ids)
for r in view("SELECT tool, ts::date, kind, decision, sum(lines_added), sum(lines_removed),"
              " sum(proposed_lines_added), sum(proposed_lines_removed), sum(commits), count(*)"
              " FROM aimeter.action_events WHERE encode(action_id, 'hex') IN ('%s')"
              " GROUP BY 1, 2, 3, 4" % ids):
    got[tuple(r[:4])] = [int(x) for x in r[4:]]
h.check(dict(got) == dict(want), "the database equals the agent's lines per tool, UTC day, kind"
        " and decision (%d groups)" % len(want))

# --- the views against the truth -----------------------------------------------------
cols = ("team,people,calls,accepted,rejected,errors,unknown,acceptance_rate,accepted_edits,"
        "ai_lines_added,ai_lines_removed,commits,pull_requests,sessions_with_edits,cost_usd,"
        "cost_per_accepted_edit,cost_per_1k_ai_lines,cost_per_commit,cost_per_pull_request")
out = view("SELECT %s FROM reporting.action_outcomes_monthly WHERE month_label = '%s'"
           " ORDER BY team" % (cols, month_label))
h.check([r[0] for r in out] == ["alpha"], "beta (2 people) is hidden by min_group_size 5")


def q6(x):
    return x.quantize(Decimal("0.000001"))


def expect(team, people):
    T = truth[team]
    return [team, str(people), str(T["calls"]), str(T["accepted"]), str(T["rejected"]),
            str(T["errors"]), str(T["unknown"]),
            str((T["accepted"] / (T["accepted"] + T["rejected"])).quantize(Decimal("0.0001"))),
            str(T["accepted_edits"]), str(T["lines_added"]), str(T["lines_removed"]),
            str(T["commits"]), str(T["pull_requests"]), str(len(sessions[team])),
            str(q6(T["cost"])), str(q6(T["cost"] / T["accepted_edits"])),
            str(q6(T["cost"] * 1000 / T["lines_added"])), str(q6(T["cost"] / T["commits"])),
            str(q6(T["cost"] / T["pull_requests"]))]


h.check(out[0] == expect("alpha", 6), "alpha's outcomes equal the truth:\n  %s\n  %s"
        % (cols, "|".join(out[0])))
h.check(view("SELECT DISTINCT team FROM reporting.action_kinds_monthly") == [["alpha"]],
        "the kinds view hides beta too")
inv = view("SELECT team, kind, name, people, calls FROM reporting.action_inventory_monthly"
           " WHERE month_label = '%s' ORDER BY 1, 2, 3" % month_label)
want_inv = sorted([t, k, n, str(len(v[0])), str(v[1])] for (t, k, n), v in inventory.items()
                  if len(v[0]) >= 5)
h.check(inv == want_inv, "inventory of sub-agents and skills per team equals the truth: %s" % inv)

h.psql(w, "UPDATE aimeter.settings SET min_group_size = 2")
out = view("SELECT %s FROM reporting.action_outcomes_monthly WHERE month_label = '%s'"
           " ORDER BY team" % (cols, month_label))
h.check([r[0] for r in out] == ["alpha", "beta"] and out[1] == expect("beta", 2),
        "with min_group_size 2, beta shows and equals the truth")
kinds = view("SELECT kind, decision, sum(calls) FROM reporting.action_kinds_monthly"
             " WHERE team = 'beta' GROUP BY 1, 2 ORDER BY 1, 2")
h.check(sum(int(k[2]) for k in kinds) == truth["beta"]["calls"], "beta's kinds add up to its calls")
h.psql(w, "UPDATE aimeter.settings SET min_group_size = 5")

# --- erasure and retention cover the action records -------------------------------
before = view("SELECT %s FROM reporting.action_outcomes_monthly WHERE month_label = '%s'"
              % (cols, month_label))
key = h.psql(w, "SELECT DISTINCT encode(person_key, 'hex') FROM aimeter.action_events"
                " WHERE session = 'alice0@example.com-%s'" % month)
h.psql(w, "SELECT aimeter.person_forget('\\x%s')" % key)
h.check(count("SELECT count(*) FROM aimeter.action_events WHERE person_key = '\\x%s'" % key) == 0
        and count("SELECT count(*) FROM aimeter.actions_daily WHERE person_key = '\\x%s'" % key)
        == 0, "person_forget leaves no action row under the erased key")
h.check(view("SELECT %s FROM reporting.action_outcomes_monthly WHERE month_label = '%s'"
             % (cols, month_label)) == before, "and the team's figures do not change")
h.psql(w, "SELECT aimeter.retention_apply(36, 36)")
h.check(count("SELECT count(*) FROM aimeter.action_events") > 0,
        "retention within its months keeps the action records")

r = subprocess.run([h.CTL, "report", "actions", "--month", month_label], env=env,
                   capture_output=True, text=True)
h.check(r.returncode == 0 and "alpha" in r.stdout and "beta" not in r.stdout,
        "aimeterctl report actions prints alpha, not beta:\n" + r.stdout + r.stderr)
print(r.stdout)
size = atool("size").strip()
print("# wire: " + size)
col.stop()
print("ok - done")
