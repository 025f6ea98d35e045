#!/usr/bin/env python3
"""test-k-anonymity.py AIMETERCTL: what a plain reader can learn from the
spend and booked views (issue 16 item 8), against the PostgreSQL of
tests/run, with fixtures loaded through the real write path.

The fixture month (2026-10, min_group_size 5) has four teams of 6, 5, 2 and
1 people, a model only the lone person uses, and one Codex user in the
team of six. For the reader:
  - every shown team, cost centre, tool or model has at least 5 people;
  - the small teams (2 and 1) are hidden, and so is the next smallest team
    (5), so that the hidden cells hold 8 people together: the month's total
    minus the visible cells (the differencing attack) is a group of 8;
  - the model of one person is merged the same way;
  - the totals are unchanged: the merged row '(small groups)' carries the
    rest, so the reader's total equals finance's to the cent.
Adoption views show no tool row and no first/last day of fewer than 5
people. Finance and admins see every cell. No server is a failure, never a skip.
"""
import hashlib
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from amtest import Harness  # noqa: E402

H = Harness(sys.argv[1], "kanon")
ok, psql, rows, ctl, write = H.ok, H.psql, H.rows, H.ctl, H.write
K = 5


TEAMS = {"team-six": 6, "team-five": 5, "team-pair": 2, "team-solo": 1}
MEMBERS = {t: ["%s-%d@example.com" % (t, i) for i in range(n)] for t, n in TEAMS.items()}
SOLO = MEMBERS["team-solo"][0]


def ev(n, user, day, model="claude-sonnet-4-5-20250929", inp=1000, tool="claude-code"):
    return {"event_id": hashlib.sha256(b"kanon-%d" % n).hexdigest()[:32],
            "tool": tool, "ts": "2026-10-%02dT10:00:00.000Z" % day, "model": model,
            "session": "s", "project": "p", "user": user, "team_hint": "",
            "billing_mode": "api", "speed": "", "service_tier": "", "input_tokens": inp,
            "output_tokens": 1000, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
            "cache_read_tokens": 0, "reasoning_tokens": 0, "web_search_requests": 0}


def fixture():
    events = []
    for t, users in MEMBERS.items():
        for i, u in enumerate(users):
            for day in (5, 6):
                events.append(ev(len(events), u, day, inp=1000 * (i + 1)))
    # A model only the lone person uses: its spend is one person's spend.
    events.append(ev(len(events), SOLO, 7, model="claude-opus-4-1-20250805", inp=50000))
    # One person of the team of six tries Codex.
    events.append(ev(len(events), MEMBERS["team-six"][0], 8, model="gpt-5-codex", tool="codex"))
    return events


def people_behind(label_sql, month="2026-10-01"):
    """Distinct people per cell, from the raw rollup (as the admin)."""
    return {r[0]: int(r[1]) for r in rows(
        "SELECT %s, count(DISTINCT d.person_key) FROM aimeter.usage_daily d"
        " JOIN aimeter.teams t ON t.team_id = d.team_id"
        " JOIN aimeter.cost_centers c ON c.cost_center_id = d.cost_center_id"
        " WHERE date_trunc('month', d.day) = '%s' AND d.person_key <> '' GROUP BY 1"
        % (label_sql, month))}


def check_view(view, label, people, total_sql):
    reader = {r[0]: Decimal(r[1]) for r in rows(
        "SELECT %s, %s FROM reporting.%s WHERE month = '2026-10-01'" % (label, total_sql, view),
        "aimeter_reader")}
    finance = {r[0]: Decimal(r[1]) for r in rows(
        "SELECT %s, %s FROM reporting.%s WHERE month = '2026-10-01'" % (label, total_sql, view),
        "aimeter_finance")}
    shown = [c for c in reader if c != "(small groups)"]
    small_shown = [c for c in shown if people.get(c, 0) < K]
    ok(not small_shown, "%s: every cell the reader sees has %d people or more" % (view, K),
       small_shown)
    hidden = [c for c in finance if c not in reader]
    hidden_people = sum(people.get(c, 0) for c in hidden)
    ok(not hidden or hidden_people >= K,
       "%s: total minus the visible cells covers %d people, not fewer than %d"
       % (view, hidden_people, K), hidden)
    merged = reader.get("(small groups)", Decimal(0))
    ok(merged == sum((finance[c] for c in hidden), Decimal(0)),
       "%s: the merged row is exactly the hidden cells" % view, (merged, hidden))
    ok(sum(reader.values()) == sum(finance.values()),
       "%s: the reader's total equals finance's to the cent" % view,
       (sum(reader.values()), sum(finance.values())))
    return reader, finance, hidden


def run():
    ctl("migrate")
    psql("UPDATE aimeter.settings SET min_group_size = %d, backfill_horizon_months = 600" % K)
    keyfile = write("person.key", hashlib.sha256(b"kanon-test-key").hexdigest()[:32])
    os.chmod(keyfile, 0o600)
    H.env["AIMETER_PERSON_KEY_FILE"] = keyfile
    ctl("directory", "import", "--create-missing", write(
        "teams.csv", "team,parent,cost_center,valid_from,valid_to\n" +
        "".join("%s,,CC-%s,,\n" % (t, t.upper()) for t in TEAMS)))
    members = "identity,team,cost_center,valid_from,valid_to,person\n"
    for t, users in MEMBERS.items():
        members += "".join("%s,%s,,2026-01-01,,\n" % (u, t) for u in users)
    ctl("directory", "import", "--create-missing", write("members.csv", members))
    ctl("prices", "import", write(
        "prices.csv", "model_pattern,provider,input_per_mtok,output_per_mtok,source\n"
        "claude-sonnet-4-5*,anthropic,3,15,test\nclaude-opus-4-1*,anthropic,15,75,test\n"))
    events = fixture()
    ctl("ingest", write("events.jsonl", "".join(json.dumps(e) + "\n" for e in events)))
    ok(psql("SELECT count(*) FROM aimeter.usage_events") == str(len(events)),
       "fixture stored through the write path")

    teams = people_behind("t.name")
    ok(teams == TEAMS, "the fixture's team sizes", teams)
    reader, _, hidden = check_view("spend_by_team", "team", teams, "cost_usd")
    ok(sorted(hidden) == ["team-five", "team-pair", "team-solo"] and list(reader) != [],
       "complementary suppression hides the next smallest team (5) with the 1 and the 2",
       hidden)
    ok(sorted(reader) == ["(small groups)", "team-six"], "the reader's teams", sorted(reader))
    check_view("spend_by_cost_center", "cost_center", people_behind("c.code"), "cost_usd")
    check_view("booked_by_team", "team", teams, "effective_cost")
    check_view("booked_by_cost_center", "cost_center", people_behind("c.code"),
               "effective_cost")
    models = people_behind("d.model")
    reader, _, hidden = check_view("spend_by_model", "model", models, "cost_usd")
    ok("claude-opus-4-1-20250805" in hidden, "the model of one person is not shown", hidden)
    check_view("spend_by_tool", "tool", people_behind("d.tool"), "cost_usd")

    # Opus (1 person) is hidden; hiding it alone would leave total minus
    # sonnet = opus, so sonnet (14 people) is merged with it.
    ok(sorted(reader) == ["(small groups)"],
       "with one small model the other is merged too, so no subtraction isolates it",
       sorted(reader))

    # Adoption: the team of six is shown, its one Codex user is not.
    for view, period in (("adoption_daily", "day = '2026-10-08'"),
                         ("adoption_weekly", "week_start = '2026-10-05'"),
                         ("adoption_monthly", "month = '2026-10-01'")):
        r = psql("SELECT string_agg(tool || '=' || active_people, ',' ORDER BY tool)"
                 " FROM reporting.%s WHERE team = 'team-six' AND %s" % (view, period),
                 "aimeter_reader")
        ok("codex" not in r, "%s: no tool row of one person in a team of six" % view, r)
    r = psql("SELECT string_agg(team || ':' || tool || ':' || people_ever, ',')"
             " FROM reporting.adoption_tool_reach", "aimeter_reader")
    ok("codex" not in r and "team-six:claude-code:6" in r,
       "tool reach dates no tool one person used", r)

    # Budgets: the merged teams' budgets would give their spend back.
    for team in ("team-six", "team-pair"):
        ctl("budget", "set", "--team", team, "--month", "2026-10", "--amount", "100")
    r = psql("SELECT string_agg(name, ',' ORDER BY name) FROM reporting.budget_vs_actual"
             " WHERE month = '2026-10'", "aimeter_reader")
    ok(r == "team-six", "the reader sees no budget of a merged team", r)
    r = psql("SELECT string_agg(name, ',' ORDER BY name) FROM reporting.budget_vs_actual"
             " WHERE month = '2026-10'", "aimeter_finance")
    ok(r == "team-pair,team-six", "finance sees every budget", r)

    # Finance and admin see each cell; the reader cannot read the lines.
    ok(psql("SELECT count(*) FROM reporting.spend_by_team WHERE month = '2026-10-01'",
            "aimeter_admin") == "4", "the admin sees every team")
    ok(psql("SELECT count(*) FROM reporting.cost_ledger", "aimeter_reader", check=False) is None
       and "permission denied" in H.last_error, "the reader cannot read the cost lines")
    psql("UPDATE aimeter.settings SET min_group_size = 1")
    ok(psql("SELECT count(*) FROM reporting.spend_by_team WHERE month = '2026-10-01'",
            "aimeter_reader") == "4", "a minimum of 1 shows every team to the reader")


sys.exit(H.run(run))
