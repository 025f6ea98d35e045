#!/usr/bin/env python3
"""test-reports.py AIMETERCTL: the finance and platform reports (issue 7)
against the PostgreSQL of tests/run (PG* variables), from fixtures loaded
through the real write path (`aimeterctl ingest`).

Checks: adoption figures and flows; each stalled signal; each initiative
status; each budget threshold; seat amortisation across a term starting
mid-month against hand-computed figures; month close (a late event leaves
the closed month's hash unchanged and shows up as a correction in the open
month; reopen needs a reason and is logged); FOCUS export column and type
check; erasure (team totals unchanged, replay refused); the reader role sees
no person and no small team; retention. No server is a failure, never a skip.
"""
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile

CTL = sys.argv[1]
DB = "aimeter_test_reports_%d" % os.getpid()
TMP = tempfile.mkdtemp(prefix="aimeter-reports-")
ENV = dict(os.environ, PGDATABASE=DB)
fails = 0


def ok(cond, name, extra=""):
    global fails
    if cond:
        print("ok - " + name)
    else:
        fails += 1
        print("not ok - %s%s" % (name, (": " + str(extra)) if extra != "" else ""))


def psql(sql, role=None, check=True, db=DB):
    if role:
        sql = "SET ROLE %s;\n%s" % (role, sql)
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                       capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (sql[:300], p.stderr))
    return p.stdout.strip() if p.returncode == 0 else None


def q1(sql, role=None):
    return psql(sql, role)


def ctl(*args, check=True, env=None, stdin=None):
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, env=env or ENV,
                       input=stdin)
    if check and p.returncode != 0:
        raise RuntimeError("aimeterctl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                               p.stderr))
    return p


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- events -------------------------------------------------------------------
_n = [0]


def ev(user, day, hour=10, tool="claude-code", model="claude-sonnet-4-5-20250929",
       mode="subscription", inp=1000, out=1000, cw5=0, cw1h=0, cr=0, ws=0, project="p0",
       eid=None):
    _n[0] += 1
    if eid is None:
        eid = hashlib.sha256(("ev-%d" % _n[0]).encode()).hexdigest()[:32]
    return {"event_id": eid, "tool": tool,
            "ts": "%sT%02d:00:00.000Z" % (day, hour), "model": model, "session": "s",
            "project": project, "user": user, "team_hint": "", "billing_mode": mode,
            "speed": "", "service_tier": "", "input_tokens": inp, "output_tokens": out,
            "cache_write_5m_tokens": cw5, "cache_write_1h_tokens": cw1h,
            "cache_read_tokens": cr, "reasoning_tokens": 0, "web_search_requests": ws}


def jsonl(events):
    return "".join(json.dumps(e) + "\n" for e in events)


def monday(iso_week):
    return dt.date.fromisocalendar(2026, iso_week, 1)


def d(x):
    return x.isoformat()


A = ["a%d@example.com" % i for i in range(1, 9)]
B = ["b%d@example.com" % i for i in range(1, 7)]
S = ["s%d@example.com" % i for i in range(1, 4)]

events = []
# Weeks 37-40 (Sept 7 - Oct 4): history.
for w in range(37, 41):
    m = monday(w)
    for u in A:
        events.append(ev(u, d(m)))
        events.append(ev(u, d(m + dt.timedelta(days=2))))
    for u in B[:5]:
        events.append(ev(u, d(m)))
    for u in S:
        events.append(ev(u, d(m), mode="api", inp=100000, out=10000, cr=50000))
# Week 41: team-a all 8 (two days), team-b 5 with Claude Code and Codex.
m = monday(41)
for u in A:
    events.append(ev(u, d(m)))
    events.append(ev(u, d(m + dt.timedelta(days=1))))
for u in B[:5]:
    events.append(ev(u, d(m), inp=2000))
    events.append(ev(u, d(m), hour=11, tool="codex", model="gpt-5-codex", mode="api",
                     inp=10000, out=5000, cr=20000))
for u in S:
    events.append(ev(u, d(m), mode="api", inp=100000, out=10000, cr=50000))
# Week 42: team-a 6, team-b 6.
m = monday(42)
for u in A[:6]:
    events.append(ev(u, d(m), inp=5000))
for u in B:
    events.append(ev(u, d(m), inp=2000))
for u in S:
    events.append(ev(u, d(m), mode="api", inp=100000, out=10000, cr=50000, ws=2))
# Week 43: team-a 4 (less spend), team-b 5 with more spend each.
m = monday(43)
for u in A[:4]:
    events.append(ev(u, d(m), inp=5000))
for u in B[:5]:
    events.append(ev(u, d(m), inp=20000, out=20000, cw5=1000, cw1h=500))
for u in S:
    events.append(ev(u, d(m), mode="api", inp=100000, out=10000, cr=50000))
# a5's history, for the erasure replay below.
a5_old = [e for e in events if e["user"] == A[4]]

# --- database -----------------------------------------------------------------
psql("CREATE DATABASE %s" % DB, db="postgres")
try:
    ctl("migrate")
    now = dt.datetime.now(dt.timezone.utc)

    def months_since(y, mo):
        return (now.year - y) * 12 + now.month - mo

    psql("UPDATE aimeter.settings SET backfill_horizon_months = %d" % (months_since(2025, 9) + 2))
    keyfile = write("person.key", hashlib.sha256(b"reports-test-key").hexdigest()[:32])
    os.chmod(keyfile, 0o600)
    ENV["AIMETER_PERSON_KEY_FILE"] = keyfile

    ctl("directory", "import", "--create-missing", write("teams.csv",
        "team,parent,cost_center,valid_from,valid_to\n"
        "eng,,CC-ENG,,\nteam-a,eng,CC-A,,\nteam-b,eng,CC-B,,\nteam-small,,CC-S,,\n"))
    members = "identity,team,cost_center,valid_from,valid_to,person\n"
    for u in A:
        members += "%s,team-a,,2026-01-01,,\n" % u
    for u in B:
        members += "%s,team-b,,2026-01-01,,\n" % u
    for u in S:
        members += "%s,team-small,,2026-01-01,,\n" % u
    ctl("directory", "import", "--create-missing", write("members.csv", members))
    ctl("prices", "import", write("prices.csv",
        "model_pattern,provider,input_per_mtok,output_per_mtok,cache_write_5m_per_mtok,"
        "cache_write_1h_per_mtok,cache_read_per_mtok,web_search_per_1k,source\n"
        "claude-sonnet-4-5*,anthropic,3,15,3.75,6,0.3,10,test\n"
        "gpt-5-codex*,openai,1.25,10,,,0.125,,test\n"))
    out = ctl("ingest", write("events.jsonl", jsonl(events))).stdout
    ok(q1("SELECT count(*) FROM aimeter.usage_events") == str(len(events)),
       "fixture events stored through the write path", out)
    ok(q1("SELECT count(*) FROM aimeter.activity_daily WHERE tool = '*'")
       == q1("SELECT count(DISTINCT (day, team_id, person_key)) FROM aimeter.usage_daily"
             " WHERE person_key <> ''"), "activity rollup matches usage_daily")
    ctl("ingest", write("events.jsonl", jsonl(events)))
    ok(q1("SELECT sum(active_days) FROM aimeter.activity_monthly WHERE tool = '*'")
       == q1("SELECT count(DISTINCT (day, team_id, person_key)) FROM aimeter.usage_daily"
             " WHERE person_key <> ''"), "a replayed batch adds no activity")

    # --- adoption -----------------------------------------------------------------
    r = q1("SELECT active_people || '/' || headcount || '/' || active_share"
           " FROM reporting.adoption_weekly WHERE iso_week = '2026-W42' AND team = 'team-a'"
           " AND tool = 'all'")
    ok(r == "6/8/0.7500", "WAU, headcount and active share of team-a in 2026-W42", r)
    r = q1("SELECT string_agg(tool || '=' || active_people, ',' ORDER BY tool)"
           " FROM reporting.adoption_weekly WHERE iso_week = '2026-W41' AND team = 'team-b'")
    ok(r == "all=5,claude-code=5,codex=5", "WAU per tool for team-b in 2026-W41", r)
    r = q1("SELECT active_people FROM reporting.adoption_daily WHERE day = '2026-10-06'"
           " AND team = 'team-a' AND tool = 'all'")
    ok(r == "8", "DAU of team-a", r)
    r = q1("SELECT active_people || '/' || person_days FROM reporting.adoption_monthly"
           " WHERE month = '2026-10-01' AND team = 'team-a' AND tool = 'all'")
    ok(r == "8/26", "MAU and person-days of team-a in October", r)
    r = psql("SELECT team, active_people, new_people, returning_people, retained_people,"
             " churned_people, light, moderate, heavy, inactive"
             " FROM aimeter.adoption_summary('week', '2026-10-12') ORDER BY team")
    ok(r == "team-a|6|0|0|6|2|6|0|0|2\nteam-b|6|1|0|5|0|6|0|0|0",
       "flows and cohorts for 2026-W42 (team-small hidden)", r)
    r = psql("SELECT team, light, moderate, heavy FROM aimeter.adoption_summary('week',"
             " '2026-10-05') WHERE team = 'team-a'")
    ok(r == "team-a|0|8|0", "cohorts: two active days in a week is moderate", r)
    out = ctl("report", "adoption", "--week", "2026-W42", "--format", "csv").stdout
    ok(out.startswith("team,headcount,active_people") and "team-small" not in out
       and "team-a,8,6,0.7500" in out, "report adoption --week", out)
    out = ctl("report", "adoption", "--week", "2026-W41", "--by", "tool").stdout
    ok(re.search(r"codex\s+5", out) is not None and "claude-code" in out,
       "report adoption --by tool", out)
    out = ctl("report", "adoption", "--month", "2026-10", "--format", "json").stdout
    ok(json.loads(out)[0]["team"] == "team-a", "report adoption --month as JSON", out)
    p = ctl("report", "adoption", "--week", "2026-W54", check=False)
    ok(p.returncode == 2, "a malformed ISO week is a usage error")
    r = q1("SELECT first_seen || ' ' || last_seen FROM aimeter.person_tool_seen s"
           " JOIN aimeter.people p ON p.person_key = s.person_key"
           " WHERE p.label = 'b1@example.com' AND s.tool = 'codex'")
    ok(r == "2026-10-05 2026-10-05", "first and last seen per person and tool (admin)", r)

    # --- seats ----------------------------------------------------------------------
    ctl("seats", "import", write("subs.csv",
        "subscription,vendor,plan,tool,seats,price_per_seat,currency,term_start,term_end,cost_center\n"
        "claude-team,Anthropic,Team Premium,claude-code,10,365,USD,2026-09-15,2027-09-15,CC-ENG\n"
        "codex-biz,OpenAI,Business,codex,3,100,USD,2026-10-20,2026-11-20,CC-B\n"))
    asg = "subscription,identity,valid_from,valid_to\n"
    for u in A[:4] + A[6:8]:
        asg += "claude-team,%s,2026-09-15,\n" % u
    asg += "claude-team,%s,2026-10-10,\n" % B[0]
    ctl("seats", "import", write("asg.csv", asg))
    p = ctl("seats", "import", write("bad.csv",
            "subscription,identity,valid_from,valid_to\nclaude-team,nobody@example.com,2026-09-15,\n"),
            check=False)
    ok(p.returncode == 1 and "bad.csv:2:" in p.stderr, "seat import refuses unknown identities",
       p.stderr)
    # Hand-computed: $365 per seat for 365 days = $1 per seat-day. September
    # has 16 term days (15th-30th): 6 seats in team-a, 4 in the pool. October:
    # team-a 6 x 31, b1 from the 10th = 22 days in team-b, pool 310 - 186 - 22.
    r = psql("SELECT to_char(month, 'YYYY-MM'), team, seat_days, trim_scale(amount)"
             " FROM reporting.seat_cost_monthly WHERE subscription = 'claude-team'"
             " AND month < '2026-11-01' ORDER BY month, team")
    ok(r == "2026-09|(seat pool)|64|64\n2026-09|team-a|96|96\n"
            "2026-10|(seat pool)|102|102\n2026-10|team-a|186|186\n2026-10|team-b|22|22",
       "seat amortisation over a term starting mid-month", r)
    r = q1("SELECT trim_scale(sum(amount)) FROM reporting.seat_cost_monthly"
           " WHERE subscription = 'claude-team'")
    ok(r == "3650", "the whole term amortises to seats x price", r)
    # codex-biz: 3 seats, $100 for 31 days, 12 days in October: 3600/31.
    r = q1("SELECT amount = 3600::numeric / 31 FROM reporting.seat_cost_monthly"
           " WHERE subscription = 'codex-biz' AND month = '2026-10-01'")
    ok(r == "t", "unassigned pool of a term starting on the 20th: 36 seat-days x 100/31", r)
    r = psql("SELECT assigned, unassigned, active_28d, idle_14d FROM"
             " aimeter.seat_utilisation('2026-10-26') WHERE subscription = 'claude-team'")
    ok(r == "7|3|7|2", "seat utilisation: assigned, unassigned, active 28d, idle 14d", r)

    # --- stalled signals ----------------------------------------------------------------
    r = psql("SELECT signal, coalesce(team, subscription) FROM"
             " aimeter.stalled_signals('2026-10-26') ORDER BY 1, 2")
    ok(r == "active_share_falling|team-a\nseats_idle|claude-team\n"
            "spend_rising_active_falling|team-b", "each stalled signal, and only those", r)
    out = ctl("report", "stalled", "--as-of", "2026-10-26", "--format", "json").stdout
    ok(len(json.loads(out)) == 3 and "team-small" not in out, "report stalled", out)

    # --- initiatives -----------------------------------------------------------------------
    def add(name, teams, target, kill, start="2026-09-01", extra=()):
        return ctl("initiative", "add", name, "--owner", "cto@example.com", "--category",
                   "product_embedding", "--teams", teams, "--start", start, "--target", target,
                   "--kill", kill, *extra, check=False)
    add("pilot-a", "team-a", "active_people >= 6 by 2026-11-30", "active_share < 0.2 by 2026-12-31")
    add("pilot-b", "team-b", "active_people >= 20 by 2026-11-30", "active_people < 1 by 2026-12-31")
    add("pilot-pace", "team-b", "active_people >= 8 by 2026-11-30", "events < 1 by 2026-12-31")
    add("pilot-kill", "team-small", "cost <= 1 by 2026-12-31", "events < 1000000 by 2026-10-15")
    add("pilot-missed", "team-a", "active_people >= 100 by 2026-10-01", "cost < 0 by 2026-12-31")
    p = add("pilot-bad", "team-a", "happiness >= 1 by 2026-12-01", "cost < 0 by 2026-12-31")
    ok(p.returncode == 1 and "unknown metric" in p.stderr, "a metric outside the list is refused",
       p.stderr)
    r = psql("SELECT initiative, status FROM aimeter.initiative_status('2026-10-26') ORDER BY 1")
    ok(r == "pilot-a|on_track\npilot-b|at_risk\npilot-kill|kill\npilot-missed|kill\n"
            "pilot-pace|on_track", "each initiative status", r)
    out = ctl("initiative", "status", "--as-of", "2026-10-26", "--format", "csv").stdout
    ok("pilot-missed,cto@example.com,product_embedding,kill,target missed at its date" in out,
       "initiative status command", out)
    out = ctl("initiative", "list").stdout
    ok("active_people >= 6 by 2026-11-30" in out, "initiative list", out)

    # --- budgets -----------------------------------------------------------------------------
    # October actuals (effective cost): team-a 186 and team-b 22 of seats (their
    # usage is subscription: an API-equivalent value, not a cost); CC-ENG holds
    # the claude-team pool, 102.
    for args in (["--team", "team-a", "--amount", "150"],
                 ["--team", "team-a", "--amount", "300", "--version", "reforecast-1"],
                 ["--team", "team-b", "--amount", "25"],
                 ["--cost-center", "CC-ENG", "--amount", "100"],
                 ["--cost-center", "CC-A", "--amount", "1000", "--thresholds", "25,50"]):
        ctl("budget", "set", "--month", "2026-10", *args)
    r = psql("SELECT name, version, trim_scale(actual), array_to_string(thresholds_crossed, ',')"
             " FROM reporting.budget_vs_actual WHERE month = '2026-10' ORDER BY scope, name")
    ok(r == "CC-A|original|186|\nCC-ENG|original|102|50,80,100\n"
            "team-a|reforecast-1|186|50\nteam-b|original|22.325|50,80",
       "each budget threshold, latest version", r)
    out = ctl("budget", "alerts", "--format", "csv").stdout
    ok(out.count("\n") == 1 + 6, "budget alerts fire once per threshold", out)
    out = ctl("budget", "alerts", "--format", "csv").stdout
    ok(out.count("\n") == 1, "and not again", out)

    # --- month close ---------------------------------------------------------------------------
    sept_spend = psql("SELECT team, events, cost_usd FROM reporting.spend_by_team"
                      " WHERE month = '2026-09-01' ORDER BY team")
    h = ctl("month", "close", "2026-09", "--format", "csv").stdout.splitlines()[1].split(",")[1]
    ok(re.fullmatch(r"[0-9a-f]{64}", h) is not None, "month close prints a content hash", h)
    p = ctl("month", "close", "2026-09", check=False)
    ok(p.returncode == 1 and "already closed" in p.stderr, "a closed month cannot close again")
    p = ctl("month", "close", now.strftime("%Y-%m"), check=False)
    ok(p.returncode == 1 and "not ended" in p.stderr, "the current month cannot close")
    late = ev(A[0], "2026-09-20", mode="api", inp=1000000, out=0)
    out = ctl("ingest", write("late.jsonl", jsonl([late]))).stdout
    ok(q1("SELECT content_hash FROM aimeter.accounting_periods WHERE month = '2026-09-01'") == h
       and q1("SELECT aimeter.ledger_hash('2026-09-01', false)") == h
       and q1("SELECT aimeter.ledger_hash('2026-09-01', true)") == h,
       "a late event leaves the closed month's snapshot hash unchanged")
    ok(psql("SELECT team, events, cost_usd FROM reporting.spend_by_team"
            " WHERE month = '2026-09-01' ORDER BY team") == sept_spend,
       "the closed month's spend report is unchanged")
    r = psql("SELECT to_char(accounting_month, 'YYYY-MM'), service_day, events, trim_scale(cost)"
             " FROM aimeter.usage_corrections")
    ok(r == "2026-10|2026-09-20|1|3", "the late event is a correction in October", r)
    r = psql("SELECT trim_scale(corrections) FROM reporting.booked_by_team WHERE month = '2026-10-01'"
             " AND team = 'team-a'")
    ok(r == "3", "booked in October's ledger", r)
    ok(q1("SELECT count(*) FROM aimeter.usage_events WHERE ts = '2026-09-20 10:00+00'") == "1",
       "the raw event is kept")
    p = ctl("month", "reopen", "2026-09", check=False)
    ok(p.returncode == 2, "reopen without a reason is refused")
    ctl("month", "reopen", "2026-09", "--reason", "invoice INV-7 credited late")
    ok(q1("SELECT reason FROM aimeter.period_log WHERE action = 'reopen'")
       == "invoice INV-7 credited late", "reopen is logged with its reason")
    h2 = ctl("month", "close", "2026-09", "--format", "csv").stdout.splitlines()[1].split(",")[1]
    ok(h2 == h, "closing again reproduces the same hash")
    out = ctl("month", "status", "--format", "json").stdout
    st = json.loads(out)[0]
    ok(st["content_hash"] == st["live_hash"] == st["snapshot_hash"] == h, "month status", out)

    # --- FOCUS -------------------------------------------------------------------------------------
    mandatory = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency",
                 "BillingAccountId", "BillingAccountName", "BillingPeriodStart",
                 "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
                 "ChargeClass", "ChargeDescription", "PricingQuantity", "PricingUnit",
                 "ServiceName", "ServiceCategory", "InvoiceIssuerName", "ProviderName",
                 "PublisherName", "ServiceProviderName", "HostProviderName",
                 "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ContractedUnitPrice",
                 "SkuId", "SkuPriceId", "SkuMeter", "SkuPriceDetails", "SubAccountId",
                 "SubAccountName", "Tags"]
    types = dict(l.split("|") for l in psql(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'reporting' AND table_name = 'focus_cost_and_usage'").splitlines())
    want = {"BilledCost": "numeric", "EffectiveCost": "numeric", "ListCost": "numeric",
            "ContractedCost": "numeric", "PricingQuantity": "numeric",
            "ConsumedQuantity": "numeric", "ListUnitPrice": "numeric",
            "ContractedUnitPrice": "numeric",
            "BillingPeriodStart": "timestamp with time zone",
            "BillingPeriodEnd": "timestamp with time zone",
            "ChargePeriodStart": "timestamp with time zone",
            "ChargePeriodEnd": "timestamp with time zone",
            "SkuPriceDetails": "jsonb", "Tags": "jsonb"}
    bad = [c for c in mandatory if c not in types]
    bad += ["%s:%s" % (c, types.get(c)) for c, t in want.items() if types.get(c) != t]
    bad += [c for c in mandatory if c not in want and types.get(c) != "text"]
    bad += [c for c in types if c not in mandatory and not c.startswith("x_")
            and c not in ("ChargeFrequency", "ServiceSubcategory")]
    ok(not bad, "FOCUS view: every mandatory column with its type; custom columns x_", bad)
    out = ctl("export", "focus", "--month", "2026-10").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    hdr = out.splitlines()[0].split(",")
    ok(all(c in hdr for c in mandatory), "export header has every mandatory column")
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    errs = []
    for i, row in enumerate(rows):
        for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingCurrency",
                  "BillingAccountId", "BillingPeriodStart", "BillingPeriodEnd",
                  "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ServiceName",
                  "ServiceCategory", "InvoiceIssuerName", "ProviderName", "PublisherName",
                  "ServiceProviderName", "HostProviderName"):
            if row[c] == "":
                errs.append((i, c, "null"))
        for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity",
                  "ConsumedQuantity", "ListUnitPrice", "ContractedUnitPrice"):
            if row[c] != "" and re.fullmatch(r"-?\d+(\.\d+)?", row[c]) is None:
                errs.append((i, c, row[c]))
        for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
            if not iso.match(row[c]):
                errs.append((i, c, row[c]))
        if row["BillingPeriodStart"] != "2026-10-01T00:00:00Z" \
                or row["BillingPeriodEnd"] != "2026-11-01T00:00:00Z":
            errs.append((i, "BillingPeriod", row["BillingPeriodStart"]))
        if row["ChargeCategory"] not in ("Usage", "Purchase", "Tax", "Credit", "Adjustment"):
            errs.append((i, "ChargeCategory", row["ChargeCategory"]))
        if row["ChargeClass"] not in ("", "Correction"):
            errs.append((i, "ChargeClass", row["ChargeClass"]))
        if (row["ConsumedQuantity"] == "") != (row["ConsumedUnit"] == ""):
            errs.append((i, "ConsumedQuantity/Unit", "not null together"))
        if row["ChargeCategory"] != "Usage" and row["ConsumedQuantity"] != "":
            errs.append((i, "ConsumedQuantity", "only on Usage rows"))
        if row["ServiceCategory"] != "AI and Machine Learning" or row["BillingCurrency"] != "USD":
            errs.append((i, "ServiceCategory/Currency", row["ServiceCategory"]))
        for c in ("SkuPriceDetails", "Tags"):
            if not isinstance(json.loads(row[c]), dict):
                errs.append((i, c, row[c]))
    ok(rows and not errs, "FOCUS export: %d rows pass the column and type check" % len(rows),
       errs[:5])
    tok = [r for r in rows if r["ConsumedUnit"] == "Tokens"]
    det = [json.loads(r["SkuPriceDetails"]) for r in tok]
    ok(tok and all("ModelId" in x and x.get("TokenDirection") in ("Input", "Output") for x in det)
       and {r["SkuMeter"] for r in tok} >= {"Input Tokens", "Output Tokens",
                                            "Cache Read Input Tokens",
                                            "Cache Write 5m Input Tokens"},
       "tokens as consumed quantity per token type, model and direction in SkuPriceDetails")
    corr = [r for r in rows if r["ChargeClass"] == "Correction"]
    ok(len(corr) == 1 and corr[0]["ChargePeriodStart"] == "2026-09-20T00:00:00Z"
       and abs(float(corr[0]["BilledCost"]) - 3.0) < 1e-9,
       "the late event is a Correction row with its service day", corr)
    tot = psql("SELECT sum(billed_cost) || '|' || sum(effective_cost) || '|' || sum(list_cost)"
               " FROM aimeter.ledger WHERE accounting_month = '2026-10-01'").split("|")
    sums = [sum(float(r[c]) for r in rows) for c in ("BilledCost", "EffectiveCost", "ListCost")]
    ok(all(abs(a - float(b)) < 1e-6 for a, b in zip(sums, tot)),
       "the export adds up to the ledger", (sums, tot))
    seat = [r for r in rows if r["SkuMeter"] == "Seat"]
    amort = sorted((r["x_Team"], round(float(r["EffectiveCost"]), 6)) for r in seat
                   if r["ChargeFrequency"] == "Recurring")
    buy = [(r["SkuId"], r["BilledCost"]) for r in seat if r["ChargeCategory"] == "Purchase"]
    ok(amort == [("(seat pool)", 102.0), ("(seat pool)", 116.129032), ("team-a", 186.0),
                 ("team-b", 22.0)] and buy == [("OpenAI:Business:Seat", "300")],
       "seat amortisation rows (EffectiveCost) and the purchase (BilledCost)", (amort, buy))

    # --- reader role -------------------------------------------------------------------------------
    views = psql("SELECT table_name FROM information_schema.views"
                 " WHERE table_schema = 'reporting' ORDER BY 1").splitlines()
    cols = psql("SELECT table_name || '.' || column_name || ':' || data_type"
                " FROM information_schema.columns WHERE table_schema = 'reporting'").splitlines()
    person_cols = [c for c in cols if re.search(r"\.(person|person_key|identity|label|email|user|user_id):",
                                                c) or c.endswith(":bytea")]
    ok(not person_cols, "no reporting view has a person or identity column", person_cols)
    finance_only = ("cost_ledger", "focus_cost_and_usage")
    denied = [v for v in views
              if psql("SELECT count(*) FROM reporting.%s" % v, role="aimeter_reader",
                      check=False) is None]
    ok(sorted(denied) == sorted(finance_only),
       "the reader can read every reporting view but the cost lines (%d)" % len(views), denied)
    denied = [v for v in views
              if psql("SELECT count(*) FROM reporting.%s" % v, role="aimeter_finance",
                      check=False) is None]
    ok(not denied, "finance can read every reporting view (%d)" % len(views), denied)
    ok(psql("SELECT count(*) FROM aimeter.people", role="aimeter_reader", check=False) is None
       and psql("SELECT count(*) FROM aimeter.activity_daily", role="aimeter_reader",
                check=False) is None, "the reader cannot read people or per-person activity")
    small = [v for v in views if v.startswith("adoption") or v in (
        "cost_per_active_person", "stalled_signals")
        if psql("SELECT count(*) FROM reporting.%s WHERE row_to_json(%s.*)::text"
                " LIKE '%%team-small%%'" % (v, v), role="aimeter_reader") != "0"]
    ok(not small, "no adoption row of the team under the minimum size", small)
    r = psql("SELECT count(*) FROM reporting.adoption_weekly WHERE team IN ('team-a', 'team-b')",
             role="aimeter_reader")
    ok(int(r) > 0, "larger teams are shown to the reader", r)
    ok(psql("SELECT count(*) FROM reporting.spend_by_team WHERE team = 'team-small'",
            role="aimeter_reader") == "0"
       and psql("SELECT count(*) FROM reporting.spend_by_team WHERE team = 'team-small'",
                role="aimeter_finance") != "0",
       "spend by team merges the small team for the reader, not for finance")
    psql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'am_rep_reader')"
         " THEN CREATE ROLE am_rep_reader LOGIN IN ROLE aimeter_reader; END IF; END $$")
    renv = dict(ENV, PGUSER="am_rep_reader")
    out = ctl("report", "adoption", "--week", "2026-W42", env=renv).stdout
    ok("team-a" in out and "team-small" not in out, "report adoption as the reader", out)
    p = ctl("export", "focus", "--month", "2026-10", env=renv, check=False)
    ok(p.returncode != 0 and "permission denied" in p.stderr,
       "a plain reader cannot export FOCUS lines", p.stderr)
    psql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'am_rep_finance')"
         " THEN CREATE ROLE am_rep_finance LOGIN IN ROLE aimeter_finance; END IF; END $$")
    p = ctl("export", "focus", "--month", "2026-10", env=dict(ENV, PGUSER="am_rep_finance"),
            check=False)
    ok(p.returncode == 0 and "x_Team" in p.stdout, "finance can export FOCUS", p.stderr)
    psql("UPDATE aimeter.settings SET min_group_size = 7")
    r = psql("SELECT string_agg(DISTINCT team, ',') FROM reporting.adoption_weekly",
             role="aimeter_reader")
    ok(r == "team-a", "the minimum group size is configuration", r)
    psql("UPDATE aimeter.settings SET min_group_size = 5")

    # --- audit rows and CSV injection (issue 11) ----------------------------------------------------
    ok(q1("SELECT has_table_privilege('aimeter_reader', 'aimeter.audit_log', 'INSERT')"
          " OR has_table_privilege('aimeter_ingest', 'aimeter.audit_log', 'INSERT')"
          " OR has_function_privilege('aimeter_reader', 'aimeter.audit(text, text, jsonb)',"
          " 'EXECUTE')") == "f"
       and psql("SELECT reporting.log_export('focus', 'x', '{}')", role="aimeter_reader",
                check=False) is None
       and psql("SELECT aimeter.audit('forged', NULL, NULL)", role="aimeter_reader",
                check=False) is None,
       "readers and the collector cannot write audit rows")
    r = q1("SELECT actor || ':' || subject || ':' || (detail->>'rows')::int FROM aimeter.audit_log"
           " WHERE action = 'export_focus' AND actor = 'am_rep_finance'")
    ok(r is not None and re.fullmatch(r"am_rep_finance:2026-10:[1-9]\d*", r),
       "the finance export audited itself: who, which month, how many rows", r)
    evil = ["=HYPERLINK(\"http://example.invalid/\",\"x\")", "+1+1", "-2+3+cmd", "@SUM(1)",
            "\tx-model"]
    ctl("ingest", write("evil.jsonl", jsonl([ev(A[0], "2026-10-21", model=m, mode="api")
                                             for m in evil])))

    def formula_cells(text):
        return [c for row in csv.reader(io.StringIO(text)) for c in row
                if c[:1] in ("=", "+", "@", "\t", "\r")
                or (c[:1] == "-" and re.fullmatch(r"-\d+(\.\d+)?([eE][-+]?\d+)?", c) is None)]

    out = ctl("report", "spend", "--month", "2026-10", "--by", "model", "--format", "csv").stdout
    models = [row[0] for row in csv.reader(io.StringIO(out))]
    ok(all("'" + m in models for m in evil) and not formula_cells(out),
       "report CSV: formula-like models get a leading quote", models)
    out = ctl("export", "focus", "--month", "2026-10").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    skus = {r["SkuId"] for r in rows}
    ok(all("'" + m + ":Input Tokens" in skus for m in evil) and not formula_cells(out)
       and all(re.fullmatch(r"-?\d+(\.\d+)?", r["BilledCost"]) for r in rows),
       "FOCUS CSV: formula-like text neutralised, numbers left as numbers", sorted(skus)[:8])

    # --- GDPR: export and erasure ---------------------------------------------------------------------
    exp = json.loads(ctl("person", "export", "A5@example.com").stdout)
    ok(exp["person"]["label"] == A[4] and len(exp["usage_events"]) == len(a5_old)
       and exp["memberships"][0]["team"] == "team-a", "person export has everything")
    totals_sql = ("SELECT string_agg(x, ';' ORDER BY x) FROM (SELECT team_id || ':' || sum(events)"
                  " || ':' || sum(cost) || ':' || sum(input_tokens) AS x FROM aimeter.usage_daily"
                  " GROUP BY team_id UNION ALL SELECT 'm' || team_id || ':' || sum(events) || ':'"
                  " || sum(cost) FROM aimeter.usage_monthly GROUP BY team_id UNION ALL"
                  " SELECT 'w' || iso_week || team || tool || ':' || active_people || ':' ||"
                  " person_days FROM reporting.adoption_weekly) s")
    before = psql(totals_sql)
    booked = psql("SELECT string_agg(month || team || effective_cost, ';' ORDER BY month, team)"
                  " FROM reporting.booked_by_team")
    p = ctl("person", "forget", A[4], check=False)
    ok(p.returncode == 2, "forget needs --yes")
    out = json.loads(ctl("person", "forget", A[4], "--yes").stdout)
    ok(out["events"] == len(a5_old) and out["person_found"], "person forget", out)
    ok(psql(totals_sql) == before, "erasure leaves every team total unchanged")
    ok(psql("SELECT string_agg(month || team || effective_cost, ';' ORDER BY month, team)"
            " FROM reporting.booked_by_team") == booked, "and every booked total")
    ok(q1("SELECT count(*) FROM aimeter.identities WHERE identity = '%s'" % A[4]) == "0"
       and q1("SELECT count(*) FROM aimeter.people WHERE label = '%s'" % A[4]) == "0",
       "the identity is removed")
    # Replays: the same events, and a re-scan giving them new ids.
    rescan = [dict(e, event_id=hashlib.sha256(("re" + e["event_id"]).encode()).hexdigest()[:32])
              for e in a5_old]
    n0 = q1("SELECT count(*) FROM aimeter.usage_events")
    out = ctl("ingest", write("replay.jsonl", jsonl(a5_old + rescan))).stdout
    ok(q1("SELECT count(*) FROM aimeter.usage_events") == n0
       and q1("SELECT count(*) FROM aimeter.rejected_events WHERE reason = 'erased_identity'")
       == str(2 * len(a5_old)), "a replay of the person's old events is refused", out)
    ok(psql(totals_sql) == before, "and changes no total")
    after = (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%d")
    newer = ev(A[4], after, hour=(now + dt.timedelta(minutes=5)).hour + 0)
    newer["ts"] = (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ctl("ingest", write("newer.jsonl", jsonl([newer])))
    ok(q1("SELECT count(*) FROM aimeter.usage_events") == str(int(n0) + 1),
       "events dated after the erasure are accepted")
    exp = json.loads(ctl("person", "export", A[4]).stdout)
    ok(exp["person"] is None and exp["identities"] == [] and exp["erased"],
       "an export after erasure finds no one", exp)
    r = psql("SELECT string_agg(action, ',' ORDER BY audit_id) FROM aimeter.audit_log")
    ok(r is not None and all(a in r for a in ("month_close", "month_reopen", "export_focus",
                                              "person_export", "person_forget")),
       "every close, reopen, export and erasure is audited", r)
    r = q1("SELECT aimeter.reveal((SELECT person_key FROM aimeter.people"
           " WHERE label = 'a1@example.com'), 'incident 42')")
    ok(r == "a1@example.com" and q1("SELECT count(*) FROM aimeter.audit_log"
                                    " WHERE action = 'reveal'") == "1", "reveals are audited")

    # --- retention -----------------------------------------------------------------------------------
    old = [ev(A[0], "2025-10-15"), ev(A[1], "2025-10-16")]
    ctl("ingest", write("old.jsonl", jsonl(old)))
    ok(q1("SELECT to_regclass('aimeter.usage_events_202510') IS NOT NULL") == "t",
       "an old partition exists")
    daily_by_team = ("SELECT string_agg(x, ';' ORDER BY x) FROM (SELECT day || ':' || team_id || ':' ||"
                     " sum(events) || ':' || sum(cost) AS x FROM aimeter.usage_daily"
                     " GROUP BY day, team_id) s")
    before = psql(daily_by_team)
    raw, person = months_since(2026, 9), months_since(2026, 10)
    out = json.loads(ctl("retention", "apply", "--raw-months", str(raw), "--person-months",
                         str(person)).stdout)
    ok("usage_events_202510" in out["dropped"] and "usage_events_202609" not in out["dropped"],
       "retention drops raw partitions older than N months", out)
    ok(q1("SELECT to_regclass('aimeter.usage_events_202510') IS NULL") == "t"
       and q1("SELECT count(*) > 0 FROM aimeter.usage_events WHERE ts >= '2026-09-01'") == "t",
       "old raw events are gone, recent ones kept")
    ok(psql(daily_by_team) == before, "folding per-person rollups keeps team totals")
    ok(q1("SELECT count(*) FROM aimeter.usage_daily WHERE day < '2026-10-01'"
          " AND person_key <> ''") == "0"
       and q1("SELECT count(*) FROM aimeter.activity_daily WHERE day < '2026-10-01'") == "0"
       and q1("SELECT count(*) > 0 FROM aimeter.activity_team_archive") == "t",
       "per-person rollups before the cutoff are folded into team counts")
    ok(q1("SELECT aimeter.ledger_hash('2026-09-01', true)") == h,
       "the closed month's hash survives retention")
    ctl("ingest", write("tooold.jsonl", jsonl([ev(A[0], "2026-08-15")])))
    ok(q1("SELECT count(*) FROM aimeter.rejected_events WHERE reason = 'beyond_horizon'") == "1",
       "events older than the retention horizon are refused")
    p = ctl("migrate")
    ok("0 migrations applied" in p.stdout, "migrate is idempotent")
finally:
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres", check=False)

print("%d failed" % fails)
sys.exit(1 if fails else 0)
