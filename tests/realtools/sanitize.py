"""Turns the files a real tool wrote into sample fixtures (tests/fixtures/<tool>/).

Every text field becomes neutral placeholder text of the same length, JSON held in strings
is sanitized inside, and the run's temporary HOME becomes /home/user. Ids, timestamps,
model names, enums and numbers stay as the tool wrote them (a string stays when it has no
space, no conversation marker and no path of this machine, or is a name such as
"chat gpt-5.2"). SQLite databases are copied
with the same rules applied to every text cell, then vacuumed. canary.py calls export()
when AM_REALTOOLS_FIXTURES names a directory.
"""
import json
import os
import re
import shutil
import sqlite3

LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua ")
TOKEN = re.compile(r"^[A-Za-z0-9_.:+#@=,/-]{0,200}$")
NAME = re.compile(r"^[a-z_]+ [A-Za-z0-9_.:-]{1,60}$")


class Sanitizer:
    def __init__(self, home):
        self.pairs = [(home, "/home/user"), (home.replace("/", "-"), "-home-user"),
                      (home.lstrip("/"), "home/user")]
        user_home = os.path.expanduser("~")
        if user_home not in ("/", ""):
            self.pairs.append((user_home, "/home/user"))

    def text(self, s):
        for a, b in self.pairs:
            s = s.replace(a, b)
        if s[:1] in "{[":
            try:
                return json.dumps(self.value(json.loads(s)), ensure_ascii=False, separators=(",", ":"))
            except ValueError:
                pass
        if TOKEN.match(s) and "AMRT" not in s and "walrus" not in s and "zebra" not in s:
            return s
        return (LOREM * (len(s) // len(LOREM) + 1))[:len(s)]

    def value(self, v, key=None):
        if isinstance(v, str):
            if key == "name" and NAME.match(v) and "AMRT" not in v:
                return v  # Span and tool names such as "chat gpt-5.2" or "execute_tool bash".
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x, k) for k, x in v.items()}
        return v

    def path(self, rel):
        for a, b in self.pairs:
            rel = rel.replace(a, b)
        return rel

    def json_file(self, src, dst):
        with open(src, encoding="utf-8") as f:
            text = f.read()
        if src.endswith(".jsonl"):
            out = "".join(json.dumps(self.value(json.loads(l)), ensure_ascii=False, separators=(",", ":"))
                          + "\n" for l in text.splitlines() if l.strip())
        else:
            out = json.dumps(self.value(json.loads(text)), ensure_ascii=False, indent=2) + "\n"
        with open(dst, "w", encoding="utf-8") as f:
            f.write(out)

    def sqlite_file(self, src, dst):
        s = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
        d = sqlite3.connect(dst)
        d.execute("pragma foreign_keys = off")
        s.backup(d)
        s.close()
        # A full-text index holds the conversation's words in its blobs: empty it first.
        for (t,) in d.execute("select name from sqlite_master where type = 'table' and sql like '%VIRTUAL%'"):
            d.execute('delete from "%s"' % t)
            try:  # FTS5 keeps deleted terms in its segments until they are merged.
                d.execute('insert into "%s"("%s") values (\'optimize\')' % (t, t))
            except sqlite3.DatabaseError:
                pass
        tables = [r[0] for r in d.execute("select name from sqlite_master where type = 'table' "
                                          "and name not like 'sqlite_%' and sql not like '%VIRTUAL%'")]
        for t in tables:
            cols = [r[1] for r in d.execute('pragma table_info("%s")' % t)]
            rows = d.execute('select * from "%s"' % t).fetchall()
            d.execute('delete from "%s"' % t)  # Rewritten whole: some tables have no rowid.
            for row in rows:
                d.execute('insert into "%s" values (%s)' % (t, ", ".join("?" * len(cols))),
                          [self.text(v) if isinstance(v, str) else v for v in row])
        d.commit()
        d.execute("vacuum")
        d.execute("pragma journal_mode = delete")  # One self-contained file, no -wal beside it.
        d.close()


def export(home, root, out, wanted):
    """Copies the files under root for which wanted(relative path) is true into out, sanitized."""
    san = Sanitizer(home)
    shutil.rmtree(out, ignore_errors=True)
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            src = os.path.join(dirpath, name)
            rel = os.path.relpath(src, root)
            if not wanted(rel):
                continue
            dst = os.path.join(out, san.path(rel))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if name.endswith((".json", ".jsonl")):
                san.json_file(src, dst)
            elif name.endswith(".db"):
                san.sqlite_file(src, dst)
