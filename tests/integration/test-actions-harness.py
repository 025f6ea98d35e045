"""test-actions-harness.py: shared pieces of the action-record integration tests.

Loaded by test-collector-actions.py and test-actions-month.py through
importlib, beside test-collector-harness.py (h). Records are the lines of
`aimeter-agent scan --format jsonl` (docs/actions.md); test-actions-tool
turns a file of them into the batch an agent sends (schema 1 or 2).
"""
import datetime
import hashlib
import importlib.util
import json
import os
import re
import subprocess

_spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h)

ATOOL = os.environ["AM_ACTIONS_TOOL"]


def atool(*args):
    r = subprocess.run([ATOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("test-actions-tool %s: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


def hexid(*parts):
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:32]


def ts(day, sec):
    t = datetime.datetime.combine(day, datetime.time(9, 0)) + datetime.timedelta(seconds=sec)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def action(aid, day, sec, user, team, kind, decision, tool_name="Edit", target="", la=0, lr=0,
           pa=0, pr=0, ext="", commits=0, prs=0, session=None, tool="claude-code"):
    return {"record": "action", "action_id": aid, "tool": tool, "ts": ts(day, sec),
            "session": session or "%s-%s" % (user, day), "project": "p:0123456789abcdef",
            "user": user, "team_hint": team, "kind": kind, "tool_name": tool_name,
            "target": target, "decision": decision, "lines_added": la, "lines_removed": lr,
            "proposed_lines_added": pa, "proposed_lines_removed": pr, "file_ext": ext,
            "commits": commits, "pull_requests": prs, "in_subagent": False}


def usage(eid, day, sec, user, team, inp, out, model="claude-sonnet-4-5", session=None,
          tool="claude-code"):
    return {"record": "usage", "event_id": eid, "ts": ts(day, sec), "tool": tool,
            "model": model, "session": session or "%s-%s" % (user, day),
            "project": "p:0123456789abcdef", "user": user, "team_hint": team,
            "billing_mode": "api", "input_tokens": inp, "output_tokens": out}


def import_prices(w, rows):
    """rows: (model_pattern, provider, input $/Mtok, output $/Mtok)."""
    path = w.p("prices.csv")
    with open(path, "w") as f:
        f.write("model_pattern,provider,input_per_mtok,output_per_mtok,cache_write_5m_per_mtok,"
                "cache_write_1h_per_mtok,cache_read_per_mtok,web_search_per_1k,source\n")
        for pat, prov, inp, out in rows:
            f.write("%s,%s,%s,%s,0,0,0,0,test\n" % (pat, prov, inp, out))
    r = subprocess.run([h.CTL, "prices", "import", path], env=h.pg_env(w), capture_output=True,
                       text=True)
    if r.returncode != 0:
        h.fail("prices import: " + r.stderr)


class Agent:
    """One enrolled device sending jsonl records as the agent's batches."""

    def __init__(self, w, client, hostname):
        self.w, self.c = w, client
        self.device, self.token, _ = h.enroll(w, client, hostname)

    def send(self, name, lines, schema, seed):
        w = self.w
        path = w.p(name + ".jsonl")
        with open(path, "w") as f:
            for rec in lines:
                f.write(json.dumps(rec) + "\n")
        out = atool("batch", w.p(name + ".bin"), schema, seed, path)
        st, _, data = self.c.post_batch(open(w.p(name + ".bin"), "rb").read(), self.token)
        ack = None
        if st == 200:
            with open(w.p("ack.bin"), "wb") as f:
                f.write(data)
            ack = atool("ack", w.p("ack.bin"))
        return st, ack, data, out


def ack_fields(ack):
    m = re.match(r"accepted=(\d+) duplicates=(\d+) rejected=(\d+) max_schema=(\d+)", ack)
    return tuple(int(x) for x in m.groups())


def view(w, sql):
    rows = h.psql(w, sql)
    return [r.split("|") for r in rows.splitlines()] if rows else []
