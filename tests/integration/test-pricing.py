#!/usr/bin/env python3
"""test-pricing.py AIMETERCTL: service tiers, repricing and negotiated rates
(issue 16, item 4) against the PostgreSQL of tests/run (PG* variables), with
events loaded through the real write path (`aimeterctl ingest`) and every
figure computed by hand below.

Checks: each service tier (standard, batch, flex, priority, fast) priced at
its multiplier; a reprice after price rows are added (a price change inside
a month, a model that had no price): an open month changes in place with
its rollups, a closed month keeps its snapshot and gets correction lines in
the next open month, to the cent; a second reprice changes nothing; a
negotiated discount and a contracted price give FOCUS ContractedCost and
EffectiveCost while ListCost stays list. No server is a failure, never a skip.
"""
import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal as D

CTL = sys.argv[1]
DB = "aimeter_test_pricing_%d" % os.getpid()
TMP = tempfile.mkdtemp(prefix="aimeter-pricing-")
ENV = dict(os.environ, PGDATABASE=DB)
results = []


def ok(cond, name, extra=""):
    """One TAP-like line; extra says what was found when cond is false."""
    results.append(bool(cond))
    print(("ok - %s" if cond else "not ok - %s") % name + ("" if cond or extra == "" else ": %s" % (extra,)))


def run(cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd)[:300], p.returncode, p.stderr))
    return p


def psql(sql, db=DB):
    return run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql]).stdout.strip()


def ctl(*args, check=True):
    return run([CTL, *args], check)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def cents(x):
    return D(x).quantize(D("0.01"))


_n = [0]


def ev(day, model, inp=0, out=0, cr=0, tier="", speed="", tool="claude-code"):
    _n[0] += 1
    return {"event_id": hashlib.sha256(("pricing-%d" % _n[0]).encode()).hexdigest()[:32],
            "tool": tool, "ts": "%sT10:00:%02d.000Z" % (day, _n[0] % 60), "model": model,
            "session": "s", "project": "p", "user": "u1@example.com", "team_hint": "",
            "billing_mode": "api", "speed": speed, "service_tier": tier, "input_tokens": inp,
            "output_tokens": out, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
            "cache_read_tokens": cr, "reasoning_tokens": 0, "web_search_requests": 0}


def jsonl(events):
    return "".join(json.dumps(e) + "\n" for e in events)


def reprice(*args):
    out = ctl("reprice", "--format", "csv", *args).stdout
    r = list(csv.DictReader(io.StringIO(out)))[0]
    return (int(r["events"]), int(r["newly_priced"]), cents(r["cost_changed_open"]),
            cents(r["cost_booked_as_corrections"]))


PRICES_HEADER = ("model_pattern,provider,input_per_mtok,output_per_mtok,cache_read_per_mtok,"
                 "fast_multiplier,batch_multiplier,flex_multiplier,priority_multiplier,source,"
                 "effective_from\n")

# gpt-test: 2 in / 8 out per million; batch and flex half, priority 1.75x, fast 2x.
# Each call: 1,000,000 in and 100,000 out = 2.00 + 0.80 = 2.80 at standard.
TIERS = [("default", "", D("2.80")), ("batch", "", D("1.40")), ("flex", "", D("1.40")),
         ("priority", "", D("4.90")), ("priority", "fast", D("5.60")), ("scale", "", D("2.80"))]

psql("CREATE DATABASE %s" % DB, db="postgres")
try:
    ctl("migrate")
    now = dt.datetime.now(dt.timezone.utc)
    psql("UPDATE aimeter.settings SET backfill_horizon_months = %d"
         % ((now.year - 2026) * 12 + now.month - 9 + 2))
    keyfile = write("person.key", hashlib.sha256(b"pricing-test-key").hexdigest()[:32])
    os.chmod(keyfile, 0o600)
    ENV["AIMETER_PERSON_KEY_FILE"] = keyfile
    ctl("directory", "import", "--create-missing", write("teams.csv",
        "team,parent,cost_center,valid_from,valid_to\nt1,,CC-1,,\n"))
    ctl("directory", "import", "--create-missing", write("members.csv",
        "identity,team,cost_center,valid_from,valid_to,person\n"
        "u1@example.com,t1,,2026-01-01,,\n"))
    p = ctl("prices", "import", write("prices.csv", PRICES_HEADER +
            "gpt-test*,openai,2,8,0.5,2,0.5,0.5,1.75,test,\n"
            "claude-x-1*,anthropic,3,15,0.3,,,,,test,\n"))
    ok("2 added" in p.stdout, "price rows with tier multipliers import", p.stdout)

    # --- service tiers --------------------------------------------------------------------
    tier_events = [ev("2026-10-05", "gpt-test-1", 1000000, 100000, tier=t, speed=s, tool="codex")
                   for t, s, _ in TIERS]
    # the reprice fixture: claude-x-1 at 3/M input; new-model-7 has no price yet
    fixture = [ev("2026-09-10", "claude-x-1", 1000000),   # e6: stays 3.00 (before the change)
               ev("2026-09-20", "claude-x-1", 1000000),   # e7: 3.00 -> 4.00, closed month
               ev("2026-10-10", "claude-x-1", 1000000),   # e8: 3.00 -> 4.00, open month
               ev("2026-09-15", "new-model-7", 2000000),  # e9: unpriced -> 2.00, closed month
               ev("2026-10-15", "new-model-7", 1000000, 1000000)]  # e10: unpriced -> 6.00
    ctl("ingest", write("events.jsonl", jsonl(tier_events + fixture)))
    got = psql("SELECT string_agg(service_tier || '/' || speed || '=' || cost::numeric(12,2),"
               " ',' ORDER BY ts) FROM aimeter.usage_events WHERE model = 'gpt-test-1'")
    want = ",".join("%s/%s=%s" % (t, s, c) for t, s, c in TIERS)
    ok(got == want, "each service tier priced: standard, batch -50%, flex -50%, priority 1.75x, "
       "fast 2x (not stacked on priority), scale at standard", got)
    tiers_total = sum(c for _, _, c in TIERS)  # 18.90
    got = psql("SELECT cost FROM aimeter.usage_monthly WHERE month = '2026-10-01'"
               " AND model = 'gpt-test-1'")
    ok(cents(got) == tiers_total, "tier costs in the monthly rollup: %s" % tiers_total, got)

    # --- close September, then a price change and a new price -------------------------------
    ctl("month", "close", "2026-09")
    st = lambda: psql("SELECT content_hash || ' ' || aimeter.ledger_hash(month, true)"
                      " FROM aimeter.accounting_periods WHERE month = '2026-09-01'")
    sep_before = st()
    sep_sql = ("SELECT string_agg(model || '=' || cost::numeric(12,2) || '/' || unpriced_events,"
               " ',' ORDER BY model) FROM aimeter.usage_monthly WHERE month = '2026-09-01'")
    sep_monthly = psql(sep_sql)
    ok(sep_monthly == "claude-x-1=6.00/0,new-model-7=0.00/1", "September as closed", sep_monthly)
    p = ctl("prices", "import", write("prices2.csv", PRICES_HEADER +
            "claude-x-1*,anthropic,4,20,0.4,,,,,test (from 2026-09-15),2026-09-15\n"
            "new-model-7,acme,1,5,,,,,,test,\n"))
    ok("2 added" in p.stdout, "new price rows: an effective-dated change and a new model",
       p.stdout)

    # a model glob first: only new-model-7's two events (e9 closed, e10 open)
    r = reprice("--from", "2026-09-01", "--to", "2026-10-31", "--model", "new-model-*")
    ok(r == (2, 2, D("6.00"), D("2.00")),
       "reprice --model: 2 events newly priced, 6.00 in place, 2.00 as corrections", r)
    r = reprice("--from", "2026-09-01", "--to", "2026-10-31")
    ok(r == (2, 0, D("1.00"), D("1.00")),
       "reprice: e7 and e8 at the new rate, 1.00 in place, 1.00 as a correction", r)
    r = reprice("--from", "2026-09-01", "--to", "2026-10-31")
    ok(r == (0, 0, D("0.00"), D("0.00")), "a second reprice changes nothing", r)
    r = reprice("--from", "2026-09-01", "--to", "2026-10-31", "--model", "new-model-*")
    ok(r == (0, 0, D("0.00"), D("0.00")), "nor does a second reprice of one model", r)

    got = psql("SELECT string_agg(to_char(ts, 'MM-DD') || '=' || cost::numeric(12,2), ','"
               " ORDER BY ts) FROM aimeter.usage_events WHERE model <> 'gpt-test-1'")
    ok(got == "09-10=3.00,09-15=2.00,09-20=4.00,10-10=4.00,10-15=6.00",
       "event costs: before the change 3.00, after it 4.00, new model priced", got)
    ok(psql("SELECT count(*) FROM aimeter.usage_events WHERE price_id IS NULL") == "0",
       "no unpriced event left")
    ok(st() == sep_before, "the closed month's snapshot hash is unchanged", (sep_before, st()))
    got = psql(sep_sql)
    ok(got == sep_monthly, "the closed month's rollup is unchanged", got)
    got = psql("SELECT string_agg(to_char(service_day, 'MM-DD') || ' ' || model || '='"
               " || cost::numeric(12,2) || '/' || unpriced_events || '/' || events, ','"
               " ORDER BY service_day) FROM aimeter.usage_corrections"
               " WHERE accounting_month = '2026-10-01'")
    ok(got == "09-15 new-model-7=2.00/-1/0,09-20 claude-x-1=1.00/0/0",
       "corrections booked in October with their service days", got)
    got = psql("SELECT string_agg(model || '=' || cost::numeric(12,2) || '/' || unpriced_events,"
               " ',' ORDER BY model) FROM aimeter.usage_monthly WHERE month = '2026-10-01'")
    ok(got == "claude-x-1=4.00/0,gpt-test-1=18.90/0,new-model-7=6.00/0",
       "October's rollup changed in place", got)
    got = psql("SELECT count(*) FROM (SELECT d.day, sum(d.cost) c, sum(d.unpriced_events) u"
               " FROM aimeter.usage_daily d WHERE d.day >= '2026-10-01' GROUP BY 1) d"
               " FULL JOIN (SELECT (ts AT TIME ZONE 'UTC')::date AS day, sum(coalesce(cost, 0)) c,"
               " count(*) FILTER (WHERE price_id IS NULL) u FROM aimeter.usage_events"
               " WHERE ts >= '2026-10-01' GROUP BY 1) e USING (day)"
               " WHERE d.c IS DISTINCT FROM e.c OR d.u IS DISTINCT FROM e.u")
    ok(got == "0", "open days' rollups equal their events exactly", got)
    oct_billed = tiers_total + D("4.00") + D("6.00") + D("1.00") + D("2.00")  # 31.90
    got = psql("SELECT sum(billed_cost) FROM aimeter.ledger WHERE accounting_month = '2026-10-01'")
    ok(cents(got) == oct_billed, "October's ledger: usage %s + corrections 3.00 = %s"
       % (tiers_total + 10, oct_billed), got)
    runs = psql("SELECT count(*) FROM aimeter.reprice_runs")
    ok(runs == "4" and psql("SELECT count(*) FROM aimeter.audit_log WHERE action = 'reprice'") == "4",
       "every reprice run is logged and audited", runs)

    # --- negotiated rates in FOCUS ------------------------------------------------------------
    p = ctl("rate", "add", check=False)
    ok(p.returncode == 2, "rate add without scope or rate is a usage error", p.returncode)
    ok("added" in ctl("rate", "add", "--vendor", "openai", "--discount", "20", "--from",
                      "2026-10-01", "--contract", "MSA-7").stdout, "a 20% OpenAI discount")
    ok("added" in ctl("rate", "add", "--model", "claude-x-*", "--input", "3.5", "--from",
                      "2026-10-01").stdout, "a contracted input price for claude-x")
    ok("already present" in ctl("rate", "add", "--model", "claude-x-*", "--input", "3.5",
                                "--from", "2026-10-01").stdout, "an identical rate adds nothing")
    p = run(["psql", "-X", "-q", "-d", DB, "-c",
             "UPDATE aimeter.negotiated_rates SET discount_pct = 50"], check=False)
    ok(p.returncode != 0 and "append-only" in p.stderr, "negotiated rates are append-only",
       p.stderr.strip())
    rows = list(csv.DictReader(io.StringIO(ctl("export", "focus", "--month", "2026-10").stdout)))

    def total(col, pred=lambda r: True):
        return cents(sum(D(r[col]) for r in rows if pred(r)))

    def by_model(m):
        return lambda r: json.loads(r["SkuPriceDetails"]).get("ModelId") == m \
            and r["x_Source"] == "usage"

    # gpt-test: list 18.90, 20% off -> 15.12; claude-x-1 usage: 1M input at 3.50 contracted
    # (list 4.00); corrections (service days in September, before the rates) and new-model-7
    # (vendor Acme, no rate) at list: 1.00 + 2.00 + 6.00.
    want = {"ListCost": oct_billed, "BilledCost": oct_billed,
            "ContractedCost": D("15.12") + D("3.50") + D("9.00"),
            "EffectiveCost": D("15.12") + D("3.50") + D("9.00")}
    got = {c: total(c) for c in want}
    ok(got == want, "FOCUS October: ListCost %s stays list; ContractedCost = EffectiveCost = %s"
       % (oct_billed, want["ContractedCost"]), got)
    got = (total("ListCost", by_model("gpt-test-1")), total("ContractedCost", by_model("gpt-test-1")),
           total("EffectiveCost", by_model("gpt-test-1")))
    ok(got == (D("18.90"), D("15.12"), D("15.12")), "the vendor discount: 18.90 list, 15.12 contracted",
       got)
    got = (total("ListCost", by_model("claude-x-1")), total("ContractedCost", by_model("claude-x-1")))
    ok(got == (D("4.00"), D("3.50")), "the contracted price: 4.00 list, 3.50 contracted", got)
    adj = [r for r in rows if r["SkuMeter"] == "Cost Adjustment"]
    ok(len(adj) == 2 and all(r["ChargeClass"] == "Correction" and "repricing of 2026-09-"
                             in r["ChargeDescription"] and r["ConsumedQuantity"] == ""
                             for r in adj)
       and sorted(cents(r["ListCost"]) for r in adj) == [D("1.00"), D("2.00")],
       "reprice corrections are FOCUS Correction rows without quantity", adj[:1])
    inp = [r for r in rows if by_model("claude-x-1")(r) and r["SkuMeter"] == "Input Tokens"]
    ok(len(inp) == 1 and D(inp[0]["ContractedUnitPrice"]) == D("3.5")
       and D(inp[0]["ListUnitPrice"]) == D("4"), "unit prices: list 4, contracted 3.5",
       inp[:1])
finally:
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", "DROP DATABASE IF EXISTS %s" % DB],
                   env=ENV, capture_output=True)

fails = results.count(False)
print("%s: %d of %d failed" % (os.path.basename(__file__), fails, len(results)))
sys.exit(1 if fails else 0)
