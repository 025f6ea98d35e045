#!/usr/bin/env python3
"""test-finance-forecast.py AIMETERCTL: budget forecasts (issue 16 item 3)
against hand-computed figures, in the PostgreSQL of tests/run (PG*).

Fixture, November 2026 (30 days), cost centre CC-FX:
  budget 400 EUR; metered usage in USD (45 by day 3, 300 by day 20);
  2 seats at 30 USD bought for the month (60 USD, pool of CC-FX);
  a correction of 12 USD (late October usage booked in November);
  USD->EUR 0.95 from 10-01, 0.90 from 11-01, 0.80 from 11-15, 0.50 from 11-25.
Hand figures (rate of the as-of day, or the latest before it):
  day 3:  usage 45 x 0.90 = 40.50; run-rate 40.50 x 30/3 = 405.00;
          seats 60 x 0.90 = 54.00; correction 12 x 0.90 = 10.80;
          actual 105.30, forecast 405.00 + 54.00 + 10.80 = 469.80 EUR
  day 20: usage 300 x 0.80 = 240.00; run-rate 240.00 x 30/20 = 360.00;
          seats 48.00; correction 9.60;
          actual 297.60, forecast 360.00 + 48.00 + 9.60 = 417.60 EUR
  after the month (rate of 11-30, 0.50): actual = forecast = 372 x 0.5 = 186.00
The old view (before issue 16) on the same data: actual 0, forecast 0.00 EUR
on both days (every USD line silently dropped). Had the budget been in USD,
it would have said day 3: (45 + 60 + 12) x 30/3 = 1170.00 against the right
45 x 10 + 60 + 12 = 522.00 (2.2x; seats and the correction extrapolated),
day 20: (300 + 60 + 12) x 30/20 = 558.00 against 450 + 72 = 522.00.
A CHF budget of team fx-team with no USD/CHF rate: actual and forecast NULL,
fx_missing {USD}, never a total with USD left out.
Also: fx import (per-line errors, nothing imported; re-import adds nothing),
fx list, rates are append-only, an inverted pair, the reader's view.
"""
import os
import subprocess
import sys
import tempfile

CTL = sys.argv[1]
DB = "aimeter_test_forecast_%d" % os.getpid()
TMP = tempfile.mkdtemp(prefix="aimeter-forecast-")
ENV = dict(os.environ, PGDATABASE=DB)
fails = 0


def ok(cond, name, extra=""):
    global fails
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else ": %r" % (extra,)))
    fails += 0 if cond else 1


def psql(sql, role=None, check=True, db=DB):
    if role:
        sql = "SET ROLE %s;\n%s" % (role, sql)
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                       capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (sql[:300], p.stderr))
    return p.stdout.strip() if p.returncode == 0 else None


def ctl(*args, check=True):
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise RuntimeError("aimeterctl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                               p.stderr))
    return p


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def budget_row(as_of, scope_name):
    return psql("SELECT concat_ws('|', round(actual, 2), round(forecast, 2),"
                " round(usage_actual, 2), round(seat_cost, 2), round(booked_other, 2),"
                " fx_day, coalesce(array_to_string(fx_missing, ','), '-'),"
                " array_to_string(thresholds_crossed, ','))"
                " FROM aimeter.budget_vs_actual('%s') WHERE name = '%s'" % (as_of, scope_name))


def run():
    ctl("migrate")
    psql("INSERT INTO aimeter.cost_centers (code) VALUES ('CC-FX');"
         "INSERT INTO aimeter.teams (name) VALUES ('fx-team');"
         "INSERT INTO aimeter.team_cost_centers (team_id, cost_center_id)"
         " SELECT t.team_id, c.cost_center_id FROM aimeter.teams t, aimeter.cost_centers c"
         " WHERE t.name = 'fx-team' AND c.code = 'CC-FX'")

    # --- fx import / list ---------------------------------------------------------------------
    bad = write("rates-bad.csv", "from_currency,to_currency,rate,effective_from\n"
                "USD,EUR,0.90,2026-11-01\nUSD,EUR,abc,2026-11-15\n")
    p = ctl("fx", "import", bad, check=False)
    ok(p.returncode == 1 and "rates-bad.csv:3: rate \"abc\" is not a number above 0"
       in p.stderr and "nothing imported" in p.stderr, "a bad rate is refused with its line",
       p.stderr)
    for line, row, why in ((2, "EURO,USD,1.1,2026-11-01", "from_currency \"EURO\" is not a"),
                           (2, "USD,USD,1,2026-11-01",
                            "from_currency and to_currency are both USD"),
                           (2, "USD,EUR,0,2026-11-01", "rate \"0\" is not a number above 0"),
                           (2, "USD,EUR,0.9,11/01/2026", "effective_from \"11/01/2026\""),
                           (2, "USD,EUR,0.9,2026-02-30", "")):
        p = ctl("fx", "import", write("r.csv", "from_currency,to_currency,rate,effective_from\n"
                                      + row + "\n"), check=False)
        ok(p.returncode == 1 and ("r.csv:%d: %s" % (line, why)) in p.stderr,
           "fx import refuses %s" % row, p.stderr)
    ok(psql("SELECT count(*) FROM aimeter.fx_rates") == "0", "nothing imported from bad files")
    rates = write("rates.csv", "from_currency,to_currency,rate,effective_from,source\n"
                  "USD,EUR,0.95,2026-10-01,ecb\nUSD,EUR,0.90,2026-11-01,ecb\n"
                  "USD,EUR,0.80,2026-11-15,ecb\nUSD,EUR,0.50,2026-11-25,ecb\n")
    out = ctl("fx", "import", rates).stdout
    ok("fx rates: 4 added, 0 already present" in out, "fx import", out)
    out = ctl("fx", "import", rates).stdout
    ok("fx rates: 0 added, 4 already present" in out, "an identical re-import adds nothing", out)
    out = ctl("fx", "list", "--format", "csv").stdout
    ok(out.count("\n") == 5 and "USD,EUR,0.80,2026-11-15,ecb" in out, "fx list", out)
    ok(psql("UPDATE aimeter.fx_rates SET rate = 1", check=False) is None,
       "fx rates are append-only")
    r = psql("SELECT round(aimeter.fx_rate('EUR', 'USD', '2026-11-03'), 6),"
             " aimeter.fx_rate('USD', 'EUR', '2026-09-30') IS NULL")
    ok(r == "1.111111|t", "a pair given the other way round is inverted; none before", r)

    # --- the books ------------------------------------------------------------------------------
    ctl("seats", "import", write("subs.csv",
        "subscription,vendor,plan,tool,seats,price_per_seat,currency,term_start,term_end,"
        "cost_center\nfx-seats,anthropic,team,claude-code,2,30,USD,2026-11-01,2026-12-01,CC-FX\n"))
    psql("INSERT INTO aimeter.usage_monthly SELECT '2026-11-01', t.team_id, c.cost_center_id,"
         " 'claude-code', 'claude-sonnet-4-5', 'api', 10, 0, 0, 0, 0, 0, 0, 0, 45, 0"
         " FROM aimeter.teams t, aimeter.cost_centers c"
         " WHERE t.name = 'fx-team' AND c.code = 'CC-FX';"
         "INSERT INTO aimeter.usage_corrections SELECT '2026-11-01', '2026-10-28', t.team_id,"
         " c.cost_center_id, 'claude-code', 'claude-sonnet-4-5', 'api', 2, 0, 0, 0, 0, 0, 0,"
         " 0, 12, 0 FROM aimeter.teams t, aimeter.cost_centers c"
         " WHERE t.name = 'fx-team' AND c.code = 'CC-FX'")
    ctl("budget", "set", "--cost-center", "CC-FX", "--month", "2026-11", "--amount", "400",
        "--currency", "EUR")
    ctl("budget", "set", "--team", "fx-team", "--month", "2026-11", "--amount", "100",
        "--currency", "CHF")

    r = budget_row("2026-11-03", "CC-FX")
    print("# day 3: hand actual 105.30 forecast 469.80 EUR; database: %s" % r)
    ok(r == "105.30|469.80|40.50|54.00|10.80|2026-11-03|-|", "day 3 forecast to the cent", r)
    r = psql("SELECT actual IS NULL AND forecast IS NULL AND usage_actual IS NULL,"
             " fx_missing, thresholds_crossed"
             " FROM aimeter.budget_vs_actual('2026-11-03') WHERE name = 'fx-team'")
    ok(r == "t|{USD}|{}", "no USD/CHF rate: flagged, no partial total", r)

    psql("UPDATE aimeter.usage_monthly SET cost = 300 WHERE month = '2026-11-01'")
    r = budget_row("2026-11-20", "CC-FX")
    print("# day 20: hand actual 297.60 forecast 417.60 EUR; database: %s" % r)
    ok(r == "297.60|417.60|240.00|48.00|9.60|2026-11-20|-|50", "day 20 forecast to the cent", r)
    r = budget_row("2026-12-10", "CC-FX")
    ok(r == "186.00|186.00|150.00|30.00|6.00|2026-11-30|-|", "a past month: forecast = actual",
       r)

    # The view is the function as of today, and the reader may open it.
    r = psql("SELECT count(*) FROM (SELECT * FROM reporting.budget_vs_actual EXCEPT"
             " SELECT * FROM aimeter.budget_vs_actual((now() AT TIME ZONE 'UTC')::date)) d")
    ok(r == "0", "the view is the function as of today", r)
    r = psql("SELECT count(*) FROM reporting.budget_vs_actual", role="aimeter_reader")
    ok(r == "2", "the reader reads the budget view", r)
    out = ctl("report", "budget", "--month", "2026-11", "--format", "csv").stdout
    ok("CC-FX" in out and "fx-team" in out, "report budget lists both budgets", out)
    fx_team = [l for l in out.splitlines() if "fx-team" in l]
    ok(len(fx_team) == 1 and fx_team[0].endswith(",USD"),
       "report budget names the currency with no rate", fx_team)


psql("CREATE DATABASE %s" % DB, db="postgres")
try:
    run()
finally:
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres", check=False)
sys.exit(1 if fails else 0)
