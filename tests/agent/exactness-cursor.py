#!/usr/bin/env python3
"""exactness-cursor.py AGENT GEN: Cursor's state.vscdb read exactly as decided, never more.

1. Runs tests/gen/gen-cursor (a real SQLite database in WAL mode) and asserts every decided
   case occurs in it.
2. `aimeter-agent scan --format jsonl`: events and every bucket per tool, model and UTC day
   equal the truth (assistant bubbles with a non-zero tokenCount, docs/tool-formats.md),
   billing "unknown" for all; no ItemTable row (auth tokens, a bubble-shaped decoy) and no
   per-workspace database is read; the database file is not changed by the reader.
3. Privacy: no bubble text, no auth token in any output, warning or state.
4. `report daily --json` keeps Cursor's counts out of the priced rows: they are under
   "approximate", and the priced totals hold no Cursor event.
5. `collect` while a live writer (one SQLite connection, WAL, held open across the passes)
   replays the generator's writes: a pass after every few commits, one while a write
   transaction is open, one after a WAL checkpoint, one after the writer closed. Every event
   comes out once, and all of them equal one scan of the generator's database.
"""
import hashlib
import importlib.util
import json
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("exactness_tool", os.path.join(HERE, "exactness-tool.py"))
et = importlib.util.module_from_spec(spec)
spec.loader.exec_module(et)

REQUIRED = ["itemtable_decoys", "value_blob", "token_count_zero", "token_count_absent",
            "turn_without_count", "replaced_with_counts", "model_own", "model_selected", "model_unknown",
            "selected_user", "selected_composer", "created_ms", "composer_rewritten", "midnight",
            "corrupt_json", "bad_key", "negative_count", "other_keys", "workspace_db_not_read",
            "usage_text_in_string"]


def run(agent, work, *args):
    out, err = et.run_agent(agent, work, *args)
    return out, err


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    agent, gen = os.path.abspath(sys.argv[1]), sys.argv[2]
    work = tempfile.mkdtemp(prefix="am-exact-cursor-")
    try:
        logs, truth, t, marks = et.generate(gen, work, REQUIRED)
        root = os.path.join(logs, "cursor")
        db = os.path.join(root, "globalStorage", "state.vscdb")
        con = sqlite3.connect(db)
        blob = b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode()
                        for tb in ("ItemTable", "cursorDiskKV")
                        for (v,) in con.execute("SELECT value FROM %s" % tb))
        con.close()
        assert all(m.encode() in blob for m in marks.values()), "markers not planted"

        before = sha(db)
        out, err = run(agent, work, "scan", "--format", "jsonl", "--user", "dana@example.com",
                       "--cursor-dir", root)
        assert sha(db) == before, "the reader changed the database"
        scanned = et.events(out)
        et.check_totals("cursor", scanned, truth, t["billing"])
        assert len({e["event_id"] for e in scanned}) == len(scanned), "duplicate event ids"
        et.no_markers("the scan output", out.encode() + err.encode(), marks)
        print("exact: %d events in %d (tool, day, model) rows match the truth; billing %s"
              % (len(scanned), len(truth), t["billing"]))

        rep, err = run(agent, work, "report", "daily", "--json", "--cursor-dir", root)
        r = json.loads(rep)
        et.no_markers("the report", rep.encode() + err.encode(), marks)
        tot = r["totals"]
        assert tot["events"] == 0 and tot["input_tokens"] == 0, "Cursor counted as exact usage"
        ap = tot["approximate"]
        assert ap["events"] == len(scanned), ap
        assert ap["input_tokens"] == sum(e["input_tokens"] for e in scanned), ap
        assert ap["output_tokens"] == sum(e["output_tokens"] for e in scanned), ap
        text, _ = run(agent, work, "report", "daily", "--cursor-dir", root)
        assert "approximate" in text, text
        print("report: %d Cursor turns with counts under \"approximate\", none in the priced rows"
              % ap["events"])

        # collect against a live writer replaying the generator's writes
        ops = json.load(open(os.path.join(logs, "ops.json")))
        inc = os.path.join(work, "inc")
        path = os.path.join(inc, "globalStorage", "state.vscdb")
        os.makedirs(os.path.dirname(path))
        w = sqlite3.connect(path, isolation_level=None)
        w.execute("PRAGMA journal_mode=WAL")
        w.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        w.execute("CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        state = os.path.join(work, "state")
        got, passes = [], [0]

        def collect():
            o, e = run(agent, work, "collect", "--state-dir", state, "--settle", "0",
                       "--user", "dana@example.com", "--cursor-dir", inc)
            et.no_markers("collect's output", o.encode() + e.encode(), marks)
            got.extend(et.events(o))
            passes[0] += 1

        w.execute("BEGIN")
        n = 0
        for i, op in enumerate(ops):
            if op == "checkpoint":
                w.execute("COMMIT")
                collect()
                if passes[0] == 3:
                    w.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    collect()
                w.execute("BEGIN")
                continue
            table, key, value = op
            if isinstance(value, dict):
                value = value["blob"].encode()
            w.execute("INSERT INTO %s (key, value) VALUES (?, ?)" % table, (key, value))
            n += 1
            if n % 40 == 0:
                collect()  # a write transaction open: only what was committed is seen
        w.execute("COMMIT")
        collect()
        w.close()  # the last connection checkpoints and removes the -wal
        collect()
        ids = [e["event_id"] for e in got]
        assert len(ids) == len(set(ids)), "an event came out of collect twice"
        et.same_events("collect against a live writer", scanned, got)
        sblob = b"".join(open(os.path.join(d, f), "rb").read() for d, _, fs in os.walk(state) for f in fs)
        et.no_markers("collect's state", sblob, marks)
        assert inc.encode() not in sblob, "a path in collect's state"
        print("collect, %d passes against a live writer, equals the scan: %d events; no planted "
              "text in any output or state" % (passes[0], len(got)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
