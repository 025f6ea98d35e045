#!/usr/bin/env python3
"""test-actions-month.py: a generated month of usage and actions, and the views' figures.

Issue 14's closing note. Three teams (6, 5 and 3 people; the third is below
min_group_size 5) work every weekday of the last UTC month in Claude Code and
Codex sessions: usage events of several models and tool calls of every kind
and decision, drawn from a seeded generator. The records go as the new
agent's schema-2 batches (test-actions-tool) through a real collector into
the real PostgreSQL. The truth is computed here, from the generated records
alone: per team and tool, and per team, tool and model (an action counts
under the model its session used most that day, by cost, then events, then
name; "unattributed" when the session has no usage that day), the acceptance
rate, AI lines, commits, pull requests, sessions with edits, cost and cost
per outcome; the kinds and the inventory. Every view must equal it exactly,
groups below the minimum size hidden. Prints `aimeterctl report actions`
--by outcome, model, kind and inventory for the month.
"""
import datetime
import importlib.util
import os
import random
import subprocess
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

spec = importlib.util.spec_from_file_location(
    "ah", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-actions-harness.py"))
ah = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ah)
h = ah.h

MIN_GROUP = 5
TEAMS = {"platform": 6, "payments": 5, "mobile": 3}
# $/Mtok in, out.
PRICES = {"claude-sonnet-4-5": (3, 15), "claude-opus-4-1": (15, 75),
          "claude-haiku-4-5": (1, 5), "gpt-5-codex": (Decimal("1.25"), 10),
          "gpt-5-mini": (Decimal("0.25"), 2)}
MODELS = {"claude-code": [("claude-sonnet-4-5", 6), ("claude-opus-4-1", 2), ("claude-haiku-4-5", 2)],
          "codex": [("gpt-5-codex", 3), ("gpt-5-mini", 1)]}
KINDS = [("edit", 40), ("write", 10), ("shell", 20), ("commit", 8), ("pull_request", 3),
         ("subagent", 5), ("skill", 4), ("mcp", 5), ("web", 3), ("other", 2)]
SUBAGENTS = ["Explore", "general-purpose", "code-reviewer"]
SKILLS = ["h:" + "5a" * 8, "h:" + "6b" * 8]
MCPS = ["h:" + "7c" * 8, "h:" + "8d" * 8, "github"]

R = random.Random(14)
today = datetime.datetime.now(datetime.timezone.utc).date()
month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
month_label = month.strftime("%Y-%m")


def pick(weighted):
    return R.choices([x for x, _ in weighted], [w for _, w in weighted])[0]


def cost(model, inp, out):
    pi, po = PRICES[model]
    return (Decimal(inp) * pi + Decimal(out) * po) / 1000000


def one_action(aid, day, sec, user, team, tool, session):
    kind = pick(KINDS)
    if kind in ("edit", "write"):
        decision = pick([("accepted", 70), ("rejected", 15), ("error", 10), ("unknown", 5)])
    elif kind == "commit":
        decision = pick([("accepted", 80), ("rejected", 5), ("error", 10), ("unknown", 5)])
    else:
        decision = pick([("accepted", 85), ("error", 10), ("unknown", 5)])
    kw = {"tool": tool, "session": session}
    if kind in ("edit", "write"):
        pa, pr = R.randint(1, 60), R.randint(0, 20) if kind == "edit" else 0
        la, lr = (pa, pr) if decision == "accepted" else (0, 0)
        kw.update(tool_name=("Edit" if kind == "edit" else "Write") if tool == "claude-code"
                  else "apply_patch", la=la, lr=lr, pa=pa, pr=pr, ext=R.choice(["c", "py", "ts"]))
    elif kind in ("shell", "commit"):
        kw.update(tool_name="Bash" if tool == "claude-code" else "shell",
                  commits=1 if kind == "commit" and decision == "accepted" else 0)
    elif kind == "pull_request":
        kw.update(tool_name="Bash", prs=1 if decision == "accepted" else 0)
    elif kind == "subagent":
        kw.update(tool_name="Task", target=R.choice(SUBAGENTS))
    elif kind == "skill":
        kw.update(tool_name="Skill", target=R.choice(SKILLS))
    elif kind == "mcp":
        kw.update(tool_name="h:" + "9e" * 8, target=R.choice(MCPS))
    else:
        kw.update(tool_name="WebSearch" if kind == "web" else "Read")
    return ah.action(aid, day, sec, user, team, kind, decision, **kw)


# --- the generated month ------------------------------------------------------
records = []
for team, n in TEAMS.items():
    for pi in range(n):
        user = "%s%d@example.com" % (team, pi)
        main_tool = "codex" if pi % 3 == 2 else "claude-code"
        d = month
        while d.month == month.month:
            if d.weekday() < 5:
                for si in range(R.randint(1, 3)):
                    tool = main_tool if R.random() < 0.8 else \
                        ("codex" if main_tool == "claude-code" else "claude-code")
                    session = ah.hexid("s", user, d, si)[:24]
                    base = si * 3600
                    if R.random() >= 0.05:  # 1 session in 20 has no usage that day
                        for ui in range(R.randint(1, 6)):
                            model = pick(MODELS[tool])
                            records.append(ah.usage(
                                ah.hexid("u", user, d, si, ui), d, base + ui * 60, user, team,
                                R.randint(500, 40000), R.randint(50, 4000), model=model,
                                session=session, tool=tool))
                    for ai in range(R.randint(3, 15)):
                        records.append(one_action(ah.hexid("a", user, d, si, ai), d,
                                                  base + 30 + ai * 40, user, team, tool, session))
            d += datetime.timedelta(days=1)
usage_recs = [r for r in records if r["record"] == "usage"]
action_recs = [r for r in records if r["record"] == "action"]

# --- the truth, from the records alone -------------------------------------------
# The model of a session and day: most cost, then most events, then the first name.
per_model = defaultdict(lambda: defaultdict(lambda: [Decimal(0), 0]))
for u in usage_recs:
    c = per_model[(u["ts"][:10], u["tool"], u["session"])][u["model"]]
    c[0] += cost(u["model"], u["input_tokens"], u["output_tokens"])
    c[1] += 1
session_model = {k: sorted(v.items(), key=lambda mv: (-mv[1][0], -mv[1][1], mv[0]))[0][0]
                 for k, v in per_model.items()}


def blank():
    return {"people": set(), "calls": 0, "accepted": 0, "rejected": 0, "errors": 0,
            "unknown": 0, "accepted_edits": 0, "rejected_edits": 0, "added": 0, "removed": 0,
            "commits": 0, "prs": 0, "sessions": set(), "cost": None}


by_tool = defaultdict(blank)
by_model = defaultdict(blank)
kinds = defaultdict(lambda: [set(), 0, 0, 0, 0, 0])
inventory = defaultdict(lambda: [set(), 0])
for a in action_recs:
    model = session_model.get((a["ts"][:10], a["tool"], a["session"]), "unattributed")
    for T in (by_tool[(a["team_hint"], a["tool"])],
              by_model[(a["team_hint"], a["tool"], model)]):
        T["people"].add(a["user"])
        T["calls"] += 1
        dec = a["decision"]
        T[{"error": "errors"}.get(dec, dec)] += 1
        edit = a["kind"] in ("edit", "write")
        T["accepted_edits"] += edit and dec == "accepted"
        T["rejected_edits"] += edit and dec == "rejected"
        T["added"] += a["lines_added"]
        T["removed"] += a["lines_removed"]
        T["commits"] += a["commits"]
        T["prs"] += a["pull_requests"]
        if edit and dec == "accepted":
            T["sessions"].add(a["session"])
    k = kinds[(a["team_hint"], a["tool"], a["kind"], a["decision"])]
    k[0].add(a["user"])
    for i, f in enumerate(("lines_added", "lines_removed", "commits", "pull_requests")):
        k[2 + i] += a[f]
    k[1] += 1
    if a["kind"] in ("subagent", "skill", "mcp"):
        v = inventory[(a["team_hint"], a["kind"], a["target"] or a["tool_name"])]
        v[0].add(a["user"])
        v[1] += 1
for u in usage_recs:
    c = cost(u["model"], u["input_tokens"], u["output_tokens"])
    # No usage, no cost: the cost per outcome is empty (NULL), not 0.
    for T in [by_tool[(u["team_hint"], u["tool"])]] + \
            [by_model[k] for k in [(u["team_hint"], u["tool"], u["model"])] if k in by_model]:
        T["cost"] = (T["cost"] or 0) + c


def rnd(x, places):
    return str(x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ratio(num, den, places):
    return rnd(Decimal(num) / den, places) if den and num is not None else ""


def figures(T):
    return [str(len(T["people"])), str(T["calls"]), str(T["accepted"]), str(T["rejected"]),
            str(T["errors"]), str(T["unknown"]),
            ratio(T["accepted"], T["accepted"] + T["rejected"], 4),
            ratio(T["accepted_edits"], T["accepted_edits"] + T["rejected_edits"], 4),
            str(T["accepted_edits"]), str(T["added"]), str(T["removed"]), str(T["commits"]),
            str(T["prs"]), str(len(T["sessions"])), rnd(T["cost"] or Decimal(0), 6),
            ratio(T["cost"], T["accepted_edits"], 6),
            ratio(T["cost"] and T["cost"] * 1000, T["added"], 6),
            ratio(T["cost"], T["commits"], 6), ratio(T["cost"], T["prs"], 6)]


COLS = ("people, calls, accepted, rejected, errors, unknown, acceptance_rate,"
        " edit_acceptance_rate, accepted_edits, ai_lines_added, ai_lines_removed, commits,"
        " pull_requests, sessions_with_edits, cost_usd, cost_per_accepted_edit,"
        " cost_per_1k_ai_lines, cost_per_commit, cost_per_pull_request")
want_tool = sorted([t, tool] + figures(T) for (t, tool), T in by_tool.items()
                   if len(T["people"]) >= MIN_GROUP)
want_model = sorted([t, tool, m] + figures(T) for (t, tool, m), T in by_model.items()
                    if len(T["people"]) >= MIN_GROUP)
want_kinds = sorted([t, tool, k, d, str(len(v[0]))] + [str(x) for x in v[1:]]
                    for (t, tool, k, d), v in kinds.items() if len(v[0]) >= MIN_GROUP)
want_inv = sorted([t, k, n, str(len(v[0])), str(v[1])] for (t, k, n), v in inventory.items()
                  if len(v[0]) >= MIN_GROUP)

# --- through the real collector ------------------------------------------------------
w = h.setup("actions_month")
h.psql(w, "INSERT INTO aimeter.teams (name) VALUES %s"
       % ", ".join("('%s')" % t for t in TEAMS))
h.psql(w, "UPDATE aimeter.settings SET min_group_size = %d" % MIN_GROUP)
ah.import_prices(w, [(m + "*", "anthropic" if m.startswith("claude") else "openai", p[0], p[1])
                     for m, p in PRICES.items()])
col = h.Collector(w)
agent = ah.Agent(w, h.Client(w, col.port), "month")
R.shuffle(records)  # agents ship in any order: the figures must not depend on it
for i in range(0, len(records), 1000):
    st, ack, data, _ = agent.send("m%d" % i, records[i:i + 1000], 2, 1000 + i)
    if st != 200 or ah.ack_fields(ack)[2] != 0:
        h.fail("batch %d: %d %s %r" % (i, st, ack, data[:200]))
h.check(int(h.psql(w, "SELECT count(*) FROM aimeter.action_events")) == len(action_recs)
        and int(h.psql(w, "SELECT count(*) FROM aimeter.usage_events")) == len(usage_recs),
        "%d actions and %d usage events of %d people stored, %d batches"
        % (len(action_recs), len(usage_recs), sum(TEAMS.values()), (len(records) + 999) // 1000))
h.psql(w, "SELECT aimeter.fold_rollups()")


def check_view(name, keys, cols, want, what):
    got = ah.view(w, "SELECT %s, %s FROM reporting.%s WHERE month_label = '%s' ORDER BY %s"
                  % (keys, cols, name, month_label, keys))
    if got != want:
        for g, x in zip(got + [None] * len(want), want + [None] * len(got)):
            if g != x:
                print("  got  %s\n  want %s" % (g, x))
        h.fail(what)
    h.check(True, "%s: %d rows equal the truth" % (what, len(got)))


check_view("action_outcomes_monthly", "team, tool", COLS, want_tool,
           "outcomes per team and tool (acceptance, AI lines, commits, pull requests, cost per"
           " outcome)")
check_view("action_outcomes_by_model_monthly", "team, tool, model", COLS, want_model,
           "outcomes per team, tool and model, each action under its session's model")
check_view("action_kinds_monthly", "team, tool, kind, decision",
           "people, calls, lines_added, lines_removed, commits, pull_requests", want_kinds,
           "kinds and decisions per team and tool")
check_view("action_inventory_monthly", "team, kind, name", "people, calls", want_inv,
           "inventory of sub-agents, skills and MCP servers per team")
h.check("mobile" not in h.psql(w, "SELECT string_agg(DISTINCT team, ',') FROM ("
                                  " SELECT team FROM reporting.action_outcomes_monthly UNION ALL"
                                  " SELECT team FROM reporting.action_outcomes_by_model_monthly"
                                  " UNION ALL SELECT team FROM reporting.action_kinds_monthly"
                                  " UNION ALL SELECT team FROM reporting.action_inventory_monthly)"
                                  " v"),
        "mobile (3 people) is in no view: min_group_size %d" % MIN_GROUP)
h.check(any(r[2] == "unattributed" for r in want_model),
        "sessions without usage that day show as unattributed")

for by in ("outcome", "model", "kind", "inventory"):
    r = subprocess.run([h.CTL, "report", "actions", "--month", month_label, "--by", by],
                       env=h.pg_env(w), capture_output=True, text=True)
    h.check(r.returncode == 0 and "platform" in r.stdout and "mobile" not in r.stdout,
            "aimeterctl report actions --by %s" % by)
    print("# aimeterctl report actions --month %s --by %s\n%s" % (month_label, by, r.stdout))
col.stop()
print("ok - done")
