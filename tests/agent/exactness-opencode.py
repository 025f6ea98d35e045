#!/usr/bin/env python3
"""exactness-opencode.py AGENT GEN: OpenCode's events equal gen-opencode's truth exactly.

1. Runs tests/gen/gen-opencode and asserts every decided case occurs in what it wrote.
2. `aimeter-agent scan --format jsonl` over the generated data dir: events and every token
   bucket per tool, model and UTC day equal the truth, and so do the events per billing
   mode (from providerID and auth.json), with no duplicate event ids.
3. The same scan while a writer holds the database in WAL mode with a write transaction
   open (uncommitted rows): exactly the committed events, and the writer's -wal survives.
4. `collect` over a database that grows (gen-opencode's writes replayed in chunks into WAL
   databases, each chunk's first writes held uncommitted by an open transaction during one
   pass and committed after it; legacy files appearing on the way; a database locked by a
   rollback-journal writer during one pass, read on the next although nothing changed)
   gives exactly the events of one scan of the final state, ids and every field included,
   and its state holds no path and no planted text.
5. Privacy: no planted text (prompts, replies, reasoning, tool inputs, working directory,
   credentials) in any output or state.
"""
import importlib.machinery
import importlib.util
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("exactness_tool", os.path.join(HERE, "exactness-tool.py"))
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)

REQUIRED = ["table_message", "table_session_message", "session_in_both_tables", "tokens_then_completed",
            "updated_after_completion", "summary_compaction", "error_zero_tokens", "error_with_tokens",
            "placeholder_never_completed", "null_fields", "reasoning_inside_output", "child_session",
            "json_duplicates_row", "json_disagrees_row_wins", "json_only", "torn_json", "copy_in_second_db",
            "not_a_database", "midnight", "model_change", "usage_text_in_string"]
USER = "dana@example.com"


def load_gen(gen_path):
    loader = importlib.machinery.SourceFileLoader("gen_opencode", gen_path)
    s = importlib.util.spec_from_loader("gen_opencode", loader)
    m = importlib.util.module_from_spec(s)
    sys.argv, argv = [gen_path, "/nonexistent"], sys.argv
    try:
        s.loader.exec_module(m)  # main() only runs as a script
    finally:
        sys.argv = argv
    return m


def scan(agent, work, root):
    out, err = ex.run_agent(agent, work, "scan", "--format", "jsonl", "--user", USER, "--opencode-dir", root)
    return ex.events(out), out, err


def main():
    agent, gen = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="am-exact-opencode-")
    try:
        logs = os.path.join(work, "logs")
        subprocess.run([sys.executable, gen, logs], check=True, stdout=subprocess.DEVNULL)
        cases = json.load(open(os.path.join(logs, "cases.json")))
        missing = [c for c in REQUIRED if cases.get(c, 0) < 1]
        assert not missing, "generator did not write these cases: %s" % missing
        t = json.load(open(os.path.join(logs, "truth.json")))
        truth = {(r["tool"], r["day"], r["model"]): r for r in t["rows"]}
        marks = json.load(open(os.path.join(logs, "markers.json")))
        root = os.path.join(logs, "opencode")
        blob = b"".join(open(os.path.join(d, n), "rb").read() for d, _, fs in os.walk(root) for n in fs)
        assert all(m.encode() in blob for m in marks.values()), "markers not planted"

        scanned, out, err = scan(agent, work, root)
        ex.check_totals("opencode", scanned, truth, t["billing"])
        assert len({e["event_id"] for e in scanned}) == len(scanned), "duplicate event ids"
        assert "opencode-broken.db" in err, "the file that is no database was not reported"
        ex.no_markers("the scan output", out.encode(), marks)
        ex.no_markers("the scan's warnings", err.encode(), marks)
        print("exact: %d events in %d (tool, day, model) rows match the truth in every bucket; "
              "billing %s" % (len(scanned), len(truth), t["billing"]))

        # A live writer: WAL, a write transaction open with rows not committed.
        db = os.path.join(root, "opencode.db")
        w = sqlite3.connect(db, isolation_level=None)
        w.execute("PRAGMA journal_mode=wal")
        w.execute("PRAGMA wal_autocheckpoint=0")
        w.execute("BEGIN IMMEDIATE")
        data = {"role": "assistant", "modelID": "claude-sonnet-4-5", "providerID": "anthropic",
                "tokens": {"input": 5, "output": 7, "reasoning": 0, "cache": {"read": 0, "write": 0}},
                "time": {"created": 1796000000000, "completed": 1796000000100}}
        w.execute("INSERT INTO message VALUES ('msg_uncommitted', 'ses_x', 1, 1, ?)", [json.dumps(data)])
        live, _, _ = scan(agent, work, root)
        assert sorted(live, key=lambda e: e["event_id"]) == sorted(scanned, key=lambda e: e["event_id"]), \
            "a scan beside an open write transaction differs"
        assert os.path.exists(db + "-wal"), "the writer's -wal went away"
        w.execute("ROLLBACK")
        w.close()
        print("a scan beside a writer holding an open WAL transaction: the same %d events" % len(live))

        # collect over a database that grows.
        g = load_gen(gen)
        ops = json.load(open(os.path.join(logs, "ops.json")))
        inc = os.path.join(work, "inc", "opencode")
        os.makedirs(inc)
        state = os.path.join(work, "state")
        rnd = random.Random(11)
        conns, got, passes, i = {}, [], 0, 0

        def collect():
            o, _ = ex.run_agent(agent, work, "collect", "--state-dir", state, "--settle", "0",
                                "--user", USER, "--opencode-dir", inc)
            ex.no_markers("collect's output", o.encode(), marks)
            return ex.events(o)

        while i < len(ops):
            n = rnd.randint(1, 60)
            chunk, i = ops[i:i + n], i + n
            # the chunk's first writes stay uncommitted during this pass
            held = [o for o in chunk[: rnd.randint(0, len(chunk))] if o[0] == "sql" and
                    not o[2].startswith("CREATE") and o[1] in conns]
            rest = [o for o in chunk if o not in held]
            dbs = {o[1] for o in held}
            for d in dbs:
                conns[d].execute("BEGIN IMMEDIATE")
            g.apply(inc, held, conns)
            got += collect()
            for d in dbs:
                conns[d].execute("COMMIT")
            g.apply(inc, rest, conns)
            got += collect()
            passes += 2
        for c in conns.values():
            c.close()
        got += collect()
        # A database locked by a rollback-journal writer: busy during one pass, read on the
        # next one although no file changed.
        locked = os.path.join(inc, "opencode-rb.db")
        w = sqlite3.connect(locked, isolation_level=None)
        w.execute("PRAGMA journal_mode=delete")
        for stmt in g.SCHEMA[:2]:
            w.execute(stmt)
        data = {"role": "assistant", "modelID": "gpt-5.1-codex", "providerID": "opencode",
                "tokens": {"input": 3, "output": 4, "reasoning": 0, "cache": {"read": 0, "write": 0}},
                "time": {"created": 1796000000000, "completed": 1796000000100}}
        w.execute("INSERT INTO message VALUES ('msg_locked', 'ses_l', 1, 1, ?)", [json.dumps(data)])
        got += collect()
        w.execute("INSERT INTO message VALUES ('msg_locked2', 'ses_l', 1, 1, ?)", [json.dumps(data)])
        w.execute("BEGIN EXCLUSIVE")
        n = len(got)
        got += collect()
        assert len(got) == n, "events from a database locked by its writer"
        w.execute("ROLLBACK")
        got += collect()
        assert len(got) == n + 1, "the locked database was not read once free (%d)" % (len(got) - n)
        w.close()
        final, _, _ = scan(agent, work, inc)
        key = lambda e: e["event_id"]  # noqa: E731
        # the generated data plus the locked database's two messages
        assert len(final) == len(scanned) + 2, (len(final), len(scanned))
        ex.check_totals("opencode", [e for e in final if e["session"] != "ses_l"], truth, t["billing"])
        want, got = sorted(final, key=key), sorted(got, key=key)
        if got != want:
            a, b = {key(e): e for e in want}, {key(e): e for e in got}
            diff = [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            for d in diff[:5]:
                print("DIFF", d)
            raise AssertionError("collect over a growing database: %d events, scan %d, %d differ"
                                 % (len(got), len(want), len(diff)))
        sblob = b"".join(open(os.path.join(d, n), "rb").read() for d, _, fs in os.walk(state) for n in fs)
        ex.no_markers("collect's state", sblob, marks)
        assert inc.encode() not in sblob, "a path in collect's state"
        print("collect, %d passes over a growing database (writes held open during passes), equals "
              "one scan of the final state: %d events" % (passes + 1, len(got)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
