#!/usr/bin/env python3
"""test-billing.py: reconciliation with vendor billing (issue 16
item 5, docs/reconciliation.md) against the PostgreSQL of tests/run, with
the collector harness (AM_CTL, AM_COLLECTOR, AM_TOOL).

A loopback HTTPS server (the harness's test CA) serves the documented JSON
shapes of the Anthropic Admin API (cost report, usage report, Claude Code
analytics) and the OpenAI organization costs and usage, paged with
has_more/next_page, and checks the auth headers. A fixture of known usage
(rows of usage_daily) is pulled against; the variance report must equal the
hand-computed figures to the cent. Also: a re-pull replaces, never doubles;
a key file readable by others, a wrong key, 401, 429 with Retry-After,
malformed JSON and an unknown CA each give a clear error and store nothing;
invoice CSV rows report their errors; adjustments are append-only ledger
lines that the report nets off. No server is a failure, never a skip.
"""
import csv
import http.server
import importlib.util
import io
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.parse

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

ANT_KEY = "sk-ant-admin01-test-0123456789abcdef"
OAI_KEY = "sk-admin-test-fedcba9876543210"
EMAIL = "dev.person@example.com"
W = None       # the harness's work directory and database
outputs = []  # every stdout/stderr of aimeterctl: the keys must be in none


def psql(sql):
    return h.psql(W, sql)


def ctl(*args, check=True):
    p = subprocess.run([h.CTL] + list(args), capture_output=True, text=True, env=h.pg_env(W))
    outputs.append(p.stdout + p.stderr)
    if check and p.returncode != 0:
        h.fail("aimeterctl %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def write(name, text, mode=0o600):
    path = W.p(name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# --- the vendors' documented shapes -------------------------------------------
DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"]
UNIX = {"2026-11-02": 1793577600, "2026-11-03": 1793664000, "2026-11-04": 1793750400}
SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"


def cost_results(day):
    """Cost report results per day; amount is a decimal string in cents."""
    return {
        "2026-11-02": [
            {"currency": "USD", "amount": "800.4", "workspace_id": "wrkspc_a",
             "description": "Claude Sonnet 4.5 Usage - Input Tokens", "cost_type": "tokens",
             "context_window": "0-200k", "model": SONNET, "service_tier": "standard",
             "token_type": "uncached_input_tokens", "inference_geo": None},
            {"currency": "USD", "amount": "250", "workspace_id": "wrkspc_a",
             "description": "Claude Sonnet 4.5 Usage - Output Tokens", "cost_type": "tokens",
             "model": SONNET, "service_tier": "standard", "token_type": "output_tokens"},
            {"currency": "USD", "amount": "612.3", "workspace_id": "wrkspc_b",
             "description": "Claude Sonnet 4.5 Usage - Input Tokens", "cost_type": "tokens",
             "model": SONNET, "token_type": "uncached_input_tokens"},
            {"currency": "USD", "amount": "150", "workspace_id": None,
             "description": "Web Search", "cost_type": "web_search", "model": None,
             "token_type": None},
        ],
        "2026-11-03": [
            {"currency": "USD", "amount": "2000", "workspace_id": "wrkspc_a",
             "description": "Claude Opus 4.1 Usage - Output Tokens", "cost_type": "tokens",
             "model": OPUS, "token_type": "output_tokens"},
        ],
        "2026-11-04": [],
    }[day]


def usage_results(day):
    if day != "2026-11-02":
        return []
    return [{"uncached_input_tokens": 1000, "output_tokens": 500, "cache_read_input_tokens": 200,
             "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
             "server_tool_use": {"web_search_requests": 0}, "workspace_id": "wrkspc_a",
             "model": SONNET, "api_key_id": None, "service_tier": None}]


def claude_code_records(day):
    if day != "2026-11-02":
        return []
    base = {"date": "2026-11-02T00:00:00Z", "organization_id": "org_1",
            "customer_type": "api", "terminal_type": "vscode",
            "core_metrics": {"num_sessions": 3, "lines_of_code": {"added": 10, "removed": 2},
                             "commits_by_claude_code": 1, "pull_requests_by_claude_code": 0},
            "tool_actions": {"edit_tool": {"accepted": 4, "rejected": 1}}}
    return [
        dict(base, actor={"type": "user_actor", "email_address": EMAIL},
             model_breakdown=[{"model": SONNET, "tokens": {"input": 10, "output": 20,
                                                          "cache_read": 30, "cache_creation": 40},
                               "estimated_cost": {"currency": "USD", "amount": 123.5}}]),
        dict(base, actor={"type": "api_actor", "api_key_name": "ci-key"},
             model_breakdown=[{"model": OPUS, "tokens": {"input": 1, "output": 2,
                                                        "cache_read": 0, "cache_creation": 0},
                               "estimated_cost": {"currency": "USD", "amount": 7}}]),
    ]


def openai_cost_results(day):
    return {
        "2026-11-02": [
            {"object": "organization.costs.result", "amount": {"value": 2.0, "currency": "usd"},
             "line_item": "gpt-5-codex, input", "project_id": "proj_a"},
            {"object": "organization.costs.result", "amount": {"value": 1.4, "currency": "usd"},
             "line_item": "gpt-5-codex, output", "project_id": "proj_a"},
            {"object": "organization.costs.result", "amount": {"value": 0.25, "currency": "usd"},
             "line_item": "gpt-4o, input", "project_id": "proj_x"},
        ],
        "2026-11-03": [
            {"object": "organization.costs.result", "amount": {"value": 1, "currency": "usd"},
             "line_item": "gpt-5-codex, output", "project_id": "proj_a"},
        ],
        "2026-11-04": [],
    }[day]


def openai_usage_results(day):
    if day != "2026-11-02":
        return []
    return [{"object": "organization.usage.completions.result", "input_tokens": 3000,
             "input_cached_tokens": 1000, "output_tokens": 400, "input_audio_tokens": 0,
             "output_audio_tokens": 0, "num_model_requests": 7, "project_id": "proj_a",
             "user_id": None, "api_key_id": None, "model": "gpt-5-codex", "batch": None}]


class Vendor:
    """What the fake server does next; requests seen (path, query, headers)."""
    mode = "ok"         # ok | malformed2 | 429 | 429once | revised
    seen = []
    lock = threading.Lock()
    once = set()


def bucket_days(q, unix):
    if unix:
        start, end = int(q["start_time"][0]), int(q["end_time"][0])
        return [d for d in DAYS if start <= UNIX[d] < end]
    start, end = q["starting_at"][0][:10], q["ending_at"][0][:10]
    return [d for d in DAYS if start <= d < end]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        with Vendor.lock:
            Vendor.seen.append((u.path, q, dict(self.headers.items())))
            mode = Vendor.mode
        anthropic = u.path.startswith("/v1/organizations/")
        if anthropic:
            if self.headers.get("anthropic-version") != "2023-06-01":
                return self.reply(400, {"type": "error", "error": {
                    "type": "invalid_request_error", "message": "anthropic-version missing"}})
            if self.headers.get("x-api-key") != ANT_KEY:
                return self.reply(401, {"type": "error", "error": {
                    "type": "authentication_error", "message": "invalid x-api-key"}})
        elif self.headers.get("Authorization") != "Bearer " + OAI_KEY:
            return self.reply(401, {"error": {"message": "Incorrect API key provided",
                                              "type": "invalid_request_error"}})
        page = int(q.get("page", ["page_1"])[0].split("_")[1])
        if mode == "429" and page == 2:
            return self.reply(429, {"error": {"message": "rate limited"}},
                              [("Retry-After", "120")])
        if mode == "429once" and page == 2:
            with Vendor.lock:
                first = u.path not in Vendor.once
                Vendor.once.add(u.path)
            if first:
                return self.reply(429, {"error": {"message": "rate limited"}},
                                  [("Retry-After", "1")])
        if mode == "malformed2" and page == 2:
            return self.reply(200, b'{"data": [{"starting_at": "2026-11-03T00:00:00Z", "res')
        if u.path == "/v1/organizations/usage_report/claude_code":
            recs = claude_code_records(q["starting_at"][0])
            # one record a page: has_more/next_page within a day
            body = {"data": recs[page - 1:page], "has_more": page < len(recs),
                    "next_page": "page_%d" % (page + 1) if page < len(recs) else None}
            return self.reply(200, body)
        routes = {
            "/v1/organizations/cost_report": (False, cost_results),
            "/v1/organizations/usage_report/messages": (False, usage_results),
            "/v1/organization/costs": (True, openai_cost_results),
            "/v1/organization/usage/completions": (True, openai_usage_results),
        }
        if u.path not in routes:
            return self.reply(404, {"error": {"message": "no such endpoint"}})
        unix, results = routes[u.path]
        days = bucket_days(q, unix)
        # one bucket a page
        day = days[page - 1]
        res = results(day)
        if mode == "revised" and u.path == "/v1/organizations/cost_report" and res:
            res = [dict(r, amount="1") for r in res]
        if unix:
            bucket = {"object": "bucket", "start_time": UNIX[day], "end_time": UNIX[day] + 86400,
                      "results": res}
        else:
            bucket = {"starting_at": day + "T00:00:00Z", "ending_at": day + "T23:59:59Z",
                      "results": res}
        more = page < len(days)
        body = {"data": [bucket], "has_more": more,
                "next_page": "page_%d" % (page + 1) if more else None}
        if unix:
            body["object"] = "page"
        return self.reply(200, body)


def start_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(W.p("server.pem"), W.p("server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "https://127.0.0.1:%d" % srv.server_address[1]


# --- the fixture: known usage ---------------------------------------------------
def usage_row(day, team, tool, model, mode, cost, inp=0, out=0, cw5=0, cr=0):
    return ("INSERT INTO aimeter.usage_daily VALUES ('%s', '', (SELECT team_id FROM aimeter.teams"
            " WHERE name = '%s'), 0, '%s', '%s', '%s', 1, %d, %d, %d, 0, %d, 0, 0, %s, 0);"
            % (day, team, tool, model, mode, inp, out, cw5, cr, cost))


FIXTURE = "".join([
    "INSERT INTO aimeter.teams (name) VALUES ('team-a'), ('team-b');",
    usage_row("2026-11-02", "team-a", "claude-code", SONNET, "api", "10.004", 1000, 500, 100, 200),
    usage_row("2026-11-02", "team-b", "claude-code", SONNET, "api", "5.123"),
    # seat use is not metered by any vendor: left out of the estimate
    usage_row("2026-11-02", "team-a", "claude-code", SONNET, "subscription", "99"),
    usage_row("2026-11-03", "team-a", "claude-code", OPUS, "api", "20.00"),
    usage_row("2026-11-02", "team-a", "codex", "gpt-5-codex", "api", "3.333", 2000, 400, 0, 1000),
    usage_row("2026-11-03", "team-a", "codex", "gpt-5-codex", "api", "1.00"),
    # Bedrock use: billed by the cloud, imported from its invoice
    usage_row("2026-11-02", "team-a", "claude-code", SONNET, "cloud", "7.777"),
    # a day no bill covers: never shown
    usage_row("2026-11-20", "team-a", "claude-code", SONNET, "api", "4.00"),
])

# Hand-computed (vendor, account, model, day): estimated, billed, difference,
# percent, adjusted, residual, flagged at the defaults (5 %, $1.00).
#  anthropic '' '' 11-02: nothing estimated; web search 150 cents.
#  anthropic '' sonnet 11-02: team-b 5.123 -> 5.12; wrkspc_b 612.3 cents -> 6.12;
#    1.00 / 5.12 = 19.53 %.
#  anthropic wrkspc_a sonnet 11-02: 10.004 -> 10.00; 800.4 + 250 = 1050.4 cents -> 10.50.
#  anthropic wrkspc_a opus 11-03: 20.00 both.
#  cloud '' sonnet 11-02: 7.777 -> 7.78; invoice 8.10; 0.32 / 7.78 = 4.11 %.
#  openai '' gpt-4o 11-02: proj_x is unmapped: 0.25 billed, nothing estimated.
#  openai proj_a gpt-5-codex 11-02: 3.333 -> 3.33; 2.0 + 1.4 = 3.40; 0.07 / 3.33 = 2.10 %.
#  openai proj_a gpt-5-codex 11-03: 1.00 both.
EXPECTED = [
    ("anthropic", "", "", "2026-11-02", "0.00", "1.50", "1.50", "", "0.00", "1.50", "t"),
    ("anthropic", "", SONNET, "2026-11-02", "5.12", "6.12", "1.00", "19.53", "0.00", "1.00", "t"),
    ("anthropic", "wrkspc_a", SONNET, "2026-11-02", "10.00", "10.50", "0.50", "5.00", "0.00",
     "0.50", "f"),
    ("anthropic", "wrkspc_a", OPUS, "2026-11-03", "20.00", "20.00", "0.00", "0.00", "0.00",
     "0.00", "f"),
    ("cloud", "", SONNET, "2026-11-02", "7.78", "8.10", "0.32", "4.11", "0.00", "0.32", "f"),
    ("openai", "", "gpt-4o", "2026-11-02", "0.00", "0.25", "0.25", "", "0.00", "0.25", "f"),
    ("openai", "proj_a", "gpt-5-codex", "2026-11-02", "3.33", "3.40", "0.07", "2.10", "0.00",
     "0.07", "f"),
    ("openai", "proj_a", "gpt-5-codex", "2026-11-03", "1.00", "1.00", "0.00", "0.00", "0.00",
     "0.00", "f"),
]


def check(cond, name, extra=""):
    """The harness's check, with what was seen when it fails."""
    if not cond:
        h.fail("%s: %s" % (name, extra))
    print("ok - " + name)


def variance(*extra):
    p = ctl("report", "variance", "--from", "2026-11-01", "--to", "2026-11-30",
            "--format", "csv", *extra)
    rows = list(csv_rows(p.stdout))
    return [tuple(r[k] for k in ("vendor", "account", "model", "day", "estimated_usd",
                                  "billed_usd", "difference_usd", "difference_pct",
                                  "adjusted_usd", "residual_usd", "flagged")) for r in rows]


def csv_rows(text):
    return csv.DictReader(io.StringIO(text))


def billed_state():
    return psql("SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(input_tokens), 0)"
                " FROM aimeter.billed_lines")


def pull(vendor, key_file, base, *extra, check=True):
    return ctl("billing", "pull", "--vendor", vendor, "--from", "2026-11-02", "--to", "2026-11-04",
               "--key-file", key_file, "--base-url", base, "--ca-file",
               W.p("ca.pem"), *extra, check=check)


def main():
    global W
    h.need_server()
    W = h.Workdir("billing")
    h.make_db(W)
    h.make_ca(W, "ca")
    h.make_server_cert(W, "ca", "server")
    srv, base = start_server()
    try:
        psql(FIXTURE)
        ant = write("anthropic-admin-key", ANT_KEY + "\n")
        oai = write("openai-admin-key", OAI_KEY + "\n")
        ctl("billing", "map", "--vendor", "anthropic", "--team", "team-a", "--account", "wrkspc_a")
        ctl("billing", "map", "--vendor", "openai", "--team", "team-a", "--account", "proj_a")

        # --- pulls -----------------------------------------------------------
        p = pull("anthropic", ant, base)
        check("anthropic_cost_report: 5 lines" in p.stdout, "anthropic pull stores the cost report",
           p.stdout)
        p = pull("openai", oai, base)
        check("openai_costs: 4 lines" in p.stdout, "openai pull stores the costs", p.stdout)
        ant_reqs = [s for s in Vendor.seen if s[0].startswith("/v1/organizations/")]
        oai_reqs = [s for s in Vendor.seen if s[0].startswith("/v1/organization/")]
        check(ant_reqs and all(h.get("x-api-key") == ANT_KEY and
                            h.get("anthropic-version") == "2023-06-01" for _, _, h in ant_reqs),
           "every Anthropic request carries x-api-key and anthropic-version")
        check(oai_reqs and all(h.get("Authorization") == "Bearer " + OAI_KEY
                            for _, _, h in oai_reqs),
           "every OpenAI request carries the bearer admin key")
        cost_pages = sorted(q.get("page", ["page_1"])[0] for path, q, _ in ant_reqs
                            if path == "/v1/organizations/cost_report")
        check(cost_pages == ["page_1", "page_2", "page_3"], "the cost report is read page by page",
           cost_pages)
        cr = [q for path, q, _ in ant_reqs if path == "/v1/organizations/cost_report"][0]
        check(cr.get("group_by[]") == ["workspace_id", "description"] and
           cr["starting_at"] == ["2026-11-02T00:00:00Z"] and
           cr["ending_at"] == ["2026-11-05T00:00:00Z"], "cost report query as documented", cr)
        cc_days = sorted(set(q["starting_at"][0] for path, q, _ in ant_reqs
                             if path == "/v1/organizations/usage_report/claude_code"))
        check(cc_days == DAYS, "Claude Code analytics: one call per UTC day", cc_days)
        oc = [q for path, q, _ in oai_reqs if path == "/v1/organization/costs"][0]
        check(oc["start_time"] == [str(UNIX["2026-11-02"])] and oc["bucket_width"] == ["1d"] and
           oc["group_by"] == ["project_id", "line_item"], "OpenAI costs query as documented", oc)
        check(psql("SELECT count(*) FROM aimeter.billed_lines WHERE source = 'anthropic_claude_code'")
           == "2", "both Claude Code records (two pages of one day) stored")
        check(psql("SELECT string_agg(account || ':' || amount::text, ',' ORDER BY account)"
                " FROM aimeter.billed_lines WHERE source = 'anthropic_claude_code'")
           == ":1.2350000000000000,ci-key:0.07000000000000000000",
           "Claude Code estimates in dollars; an API actor's key name, never an e-mail",
           psql("SELECT string_agg(account || ':' || amount::text, ',' ORDER BY account)"
                " FROM aimeter.billed_lines WHERE source = 'anthropic_claude_code'"))
        dump = subprocess.run(["pg_dump", "--data-only"], capture_output=True,
                              text=True, env=h.pg_env(W)).stdout
        check(EMAIL not in dump, "the user actor's e-mail address is stored nowhere")
        check(psql("SELECT sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)"
                " FROM aimeter.billed_lines WHERE source = 'anthropic_usage_report'") == "1800",
           "usage report tokens (uncached, output, cache read, 5m + 1h cache writes)")

        # --- invoice -----------------------------------------------------------
        bad = write("bad-invoice.csv",
                    "vendor,invoice,account,model,day,amount,currency,description\n"
                    "cloud,INV-1,,%s,2026-11-31,8.10,USD,x\n"
                    "cloud,INV-1,,%s,2026-11-02,\"1,234.00\",USD,x\n"
                    "anthropic,INV-2,,,2026-11-02,1.00,USD,x\n"
                    "cloud,INV-3,,,2026-11-02,1.00,EUR,x\n"
                    "Cloud,INV-4,,,2026-11-02,1.00,USD,x\n"
                    "cloud,,,,2026-11-02,1.00,USD,x\n"
                    "cloud,INV-1,,%s,2026-11-02,8.10,USD,ok\n" % (SONNET, SONNET, SONNET))
        before = billed_state()
        p = ctl("billing", "import-invoice", bad, check=False)
        errs = p.stderr
        check(p.returncode == 1 and
           "bad-invoice.csv:2: day is not a date" in errs and
           "bad-invoice.csv:3: amount is not a decimal" in errs and
           "bad-invoice.csv:4: this vendor's bill comes from `aimeterctl billing pull`" in errs and
           "bad-invoice.csv:5: currency: only USD" in errs and
           "bad-invoice.csv:6: vendor is lower-case" in errs and
           "bad-invoice.csv:7: invoice (the invoice number) is empty" in errs and
           ":8:" not in errs and "6 bad rows; nothing imported" in errs,
           "invoice CSV: every bad row named with its line and reason", errs)
        check(billed_state() == before, "a bad invoice imports nothing")
        inv = write("invoice.csv",
                    "vendor,invoice,account,model,day,amount,currency,description\n"
                    "cloud,INV-1,,%s,2026-11-02,5.10,USD,Bedrock Sonnet input\n"
                    "cloud,INV-1,,%s,2026-11-02,3.00,,Bedrock Sonnet output\n" % (SONNET, SONNET))
        p = ctl("billing", "import-invoice", inv)
        check("2 imported, 0 replaced" in p.stdout, "invoice imported", p.stdout)
        p = ctl("billing", "import-invoice", inv)
        check("2 imported, 2 replaced" in p.stdout, "re-importing an invoice replaces it", p.stdout)

        # --- the variance report ----------------------------------------------
        # The report as finance reads it (kept in the test log for the closing note).
        print(ctl("report", "variance", "--month", "2026-11").stdout)
        got = variance()
        check(got == EXPECTED, "variance report equals the hand-computed figures to the cent",
           "\n".join(map(str, got)))
        p = ctl("report", "variance", "--month", "2026-11", "--format", "csv")
        toks = [(r["account"], r["model"], r["estimated_tokens"], r["billed_tokens"])
                for r in csv_rows(p.stdout) if r["billed_tokens"]]
        check(toks == [("wrkspc_a", SONNET, "1800", "1800"), ("proj_a", "gpt-5-codex", "3400", "3400")],
           "tokens: the usage reports against aimeter's, per account and model", toks)
        got = variance("--threshold-pct", "5", "--threshold-usd", "0.50", "--flagged")
        check([r[:4] for r in got] == [e[:4] for e in EXPECTED[:3]],
           "thresholds 5 % and $0.50 flag the three drifting Anthropic rows", got)
        got = variance("--threshold-pct", "20", "--threshold-usd", "1", "--flagged")
        check([r[:4] for r in got] == [EXPECTED[0][:4]],
           "at 20 % only the row with nothing estimated is flagged", got)
        p = ctl("report", "variance", "--month", "2026-11", "--vendor", "openai", "--format",
                "json")
        check(p.stdout.count('"vendor":"openai"') == 3 and "anthropic" not in p.stdout,
           "--month and --vendor, JSON output", p.stdout)
        check(psql("SELECT count(*) FROM reporting.billing_variance_daily") == str(len(EXPECTED)),
           "reporting.billing_variance_daily has the same rows")

        # --- idempotent re-pull ------------------------------------------------
        before = billed_state()
        pull("anthropic", ant, base)
        pull("openai", oai, base)
        check(billed_state() == before, "re-pulling a period replaces its lines, never doubles",
           (before, billed_state()))
        check(variance() == EXPECTED, "the variance report is unchanged by a re-pull")
        Vendor.mode = "revised"
        pull("anthropic", ant, base)
        check(psql("SELECT sum(amount) FROM aimeter.billed_lines WHERE source ="
                " 'anthropic_cost_report'") == "0.05000000000000000000",
           "a revised bill replaces the period's lines")
        Vendor.mode = "ok"
        pull("anthropic", ant, base)
        check(variance() == EXPECTED, "pulled back to the original bill")

        # --- errors: clear, and nothing stored ----------------------------------
        before = billed_state()
        pulls_before = psql("SELECT count(*) FROM aimeter.billing_pulls")

        def refused(name, p, *needles):
            text = p.stderr
            check(p.returncode == 1 and all(n in text for n in needles) and
               "nothing stored" in text, name, text)
            check(billed_state() == before and
               psql("SELECT count(*) FROM aimeter.billing_pulls") == pulls_before,
               name + ": nothing stored")

        loose = write("loose-key", ANT_KEY + "\n", mode=0o644)
        p = pull("anthropic", loose, base, check=False)
        check(p.returncode == 1 and "readable by group or others" in p.stderr and
           "chmod 600" in p.stderr, "a key file readable by others is refused", p.stderr)
        p = pull("anthropic", oai, base, check=False)
        check(p.returncode == 1 and "does not hold a anthropic admin key" in p.stderr,
           "an OpenAI key for Anthropic is refused before any request", p.stderr)
        empty = write("empty-key", "\n")
        p = pull("openai", empty, base, check=False)
        check(p.returncode == 1 and "is empty" in p.stderr, "an empty key file is refused", p.stderr)
        wrong = write("wrong-key", "sk-ant-admin01-revoked\n")
        refused("a 401 names the refused key", pull("anthropic", wrong, base, check=False),
                "the admin key was refused (HTTP 401: invalid x-api-key)")
        Vendor.mode = "429"
        refused("a 429 whose Retry-After is too long", pull("anthropic", ant, base, check=False),
                "rate limited (HTTP 429)", "retry after 120 s")
        Vendor.mode = "malformed2"
        refused("malformed JSON on page 2", pull("openai", oai, base, check=False),
                "page 2 is not what the API documents: not JSON")
        Vendor.mode = "ok"
        p = ctl("billing", "pull", "--vendor", "anthropic", "--from", "2026-11-02", "--to",
                "2026-11-04", "--key-file", ant, "--base-url", base, check=False)
        refused("TLS is verified: the test CA is not trusted by default", p, "could not fetch")
        p = ctl("billing", "pull", "--vendor", "anthropic", "--key-file", ant, "--base-url",
                base.replace("https", "http"), check=False)
        check(p.returncode == 2 and "https://" in p.stderr, "a plain http base URL is refused")
        Vendor.mode = "429once"
        p = pull("anthropic", ant, base, check=False)
        check(p.returncode == 0 and "retrying in 1 s" in p.stderr,
           "a short Retry-After is waited out", p.stderr)
        Vendor.mode = "ok"
        check(billed_state() == before, "after the retried pull the lines are the same")

        # --- adjustments -------------------------------------------------------
        p = ctl("billing", "adjust", "--vendor", "anthropic", "--model", SONNET, "--day",
                "2026-11-02", "--amount", "1.00", "--team", "team-b", "--reason",
                "wrkspc_b usage of team-b not seen by the agent (INV 2026-11)")
        check("booked in 2026-11" in p.stdout, "adjustment booked in its month", p.stdout)
        got = variance()
        row = [r for r in got if r[:4] == ("anthropic", "", SONNET, "2026-11-02")]
        check(row and row[0][8:] == ("1.00", "0.00", "f"),
           "the variance report nets the adjustment off (residual 0, no flag)", row)
        check(psql("SELECT source || ' ' || charge_category || ' ' || billed_cost || ' ' ||"
                " effective_cost || ' ' || accounting_month FROM aimeter.ledger"
                " WHERE source = 'adjustment'")
           == "adjustment Adjustment 1.00 1.00 2026-11-01", "the adjustment is a ledger line")
        check(psql("SELECT team || ' ' || reason FROM reporting.billing_adjustments")
           == "team-b wrkspc_b usage of team-b not seen by the agent (INV 2026-11)",
           "its reason is kept")
        p = subprocess.run(["psql", "-X", "-q", "-c",
                            "UPDATE aimeter.billing_adjustments SET amount = 2"],
                           capture_output=True, text=True, env=h.pg_env(W))
        check(p.returncode != 0 and "append-only" in p.stderr, "adjustments are append-only")
        p = ctl("billing", "adjust", "--vendor", "anthropic", "--day", "2026-11-02", "--amount",
                "5", "--reason", "   ", check=False)
        check(p.returncode == 2, "an adjustment needs a reason")
        # A closed month: the adjustment goes to the first open month, as corrections do.
        ctl("month", "close", "2026-10")
        p = ctl("billing", "adjust", "--vendor", "cloud", "--day", "2026-10-15", "--amount",
                "-0.32", "--reason", "credit note CN-7")
        check("booked in 2026-11" in p.stdout, "an adjustment for a closed month lands in the open"
           " month", p.stdout)

        text = "\n".join(outputs)
        check(ANT_KEY not in text and OAI_KEY not in text,
           "no admin key in any output of aimeterctl")
    finally:
        srv.shutdown()
        h.psql(W, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % W.dbname, db="postgres",
               check_rc=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
