#!/usr/bin/env python3
"""report-daily.py AGENT FIXTURES: `report daily --json` equals costs computed by hand.

Fixture tests/fixtures/claude/report (a subscription login) and codex/deltas:
 2026-09-14, claude-sonnet-4-5 (3 / 15 / 3.75 / 6 / 0.3 per Mtok, long context over
 200k at 6 / 22.5, web search $10 per 1,000):
   r1: 1000 in, 2000 out, 10000 5m, 4000 1h, 50000 read, 2 searches
       = (3000 + 30000 + 37500 + 24000 + 15000) / 1e6 + 2 * 10 / 1000   = 0.129500
   r2: 20000 in + 10000 1h + 190000 read = 220000 > 200000: long context, factor 2
       = (20000*6 + 1000*22.5 + 10000*12 + 190000*0.6) / 1e6           = 0.376500
   r3: claude-mystery-9: unpriced (never $0)
   r4: claude-opus-4-6 fast (x6): (100*5 + 1000*25) / 1e6 * 6           = 0.153000
   day = 0.659000, all of it subscription (API-equivalent)
 2026-09-15, gpt-5.1-codex (1.25 / 10, cache read 0.125), billing unknown:
   8000 in + 2000 cached + 500 out = (10000 + 250 + 5000) / 1e6         = 0.015250
   3000 in + 9000 cached + 400 out = (3750 + 1125 + 4000) / 1e6         = 0.008875
   day = 0.024125
"""
import json
import os
import subprocess
import sys

agent, fixtures = sys.argv[1], sys.argv[2]
env = dict(os.environ, AIMETER_STATE_DIR=os.environ.get("TMPDIR", "/tmp") + "/am-report-state")
out = subprocess.run([agent, "report", "daily", "--tz", "UTC", "--json",
                      "--claude-dir", os.path.join(fixtures, "claude/report"),
                      "--codex-dir", os.path.join(fixtures, "codex/deltas")],
                     env=env, stdout=subprocess.PIPE, check=True).stdout
rep = json.loads(out)
rows = {r["period"]: r for r in rep["rows"]}
d1, d2 = rows["2026-09-14"], rows["2026-09-15"]
checks = [
    (d1["cost_usd"], 0.659), (d1["subscription_usd"], 0.659), (d1["unpriced_events"], 1),
    (d1["events"], 4), (d1["unpriced_models"], ["claude-mystery-9"]), (d1["web_search_requests"], 2),
    (d2["cost_usd"], 0.024125), (d2["subscription_usd"], 0), (d2["events"], 2),
    (rep["totals"]["cost_usd"], 0.683125),
]
for got, want in checks:
    assert got == want, "got %r, want %r" % (got, want)
# Cost printed with exactly six decimals
assert b'"cost_usd":0.659000' in out, out
# --tz moves the 23:30Z fast event into the next day in Asia/Tokyo
rep = json.loads(subprocess.run([agent, "report", "daily", "--tz", "Asia/Tokyo", "--json",
                                 "--claude-dir", os.path.join(fixtures, "claude/report")],
                                env=env, stdout=subprocess.PIPE, check=True).stdout)
assert {r["period"]: r["cost_usd"] for r in rep["rows"]} == {"2026-09-14": 0.506, "2026-09-15": 0.153}, rep
# the table says what the figures are
table = subprocess.run([agent, "report", "monthly", "--tz", "UTC",
                        "--claude-dir", os.path.join(fixtures, "claude/report")],
                       env=env, stdout=subprocess.PIPE, check=True).stdout.decode()
assert "API-equivalent" in table and "unpriced" in table, table
print("report daily matches the hand-computed costs")
