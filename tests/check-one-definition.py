#!/usr/bin/env python3
"""check-one-definition.py SOURCE_ROOT: every SQL function, procedure, view
and trigger has exactly one definition in the tree.

Looks for CREATE [OR REPLACE] FUNCTION|PROCEDURE|VIEW|TRIGGER in .sql files
and in the SQL strings of .c, .h and .py files (build directories and .git
left out). A function is told apart by its name and its number of input
arguments (overloads are distinct objects); a trigger by its name and table.
Also: each file under collector/schema/ defines one object, the one its
name says, and collector/meson.build lists it (else it is not embedded);
no migration (collector/migrations/) defines one.
Prints each duplicate with its places and exits 1.

--self-test: first checks that a tree with a duplicate fails and one with an
overload passes, so this check cannot pass by finding nothing.
"""
import os
import re
import sys
import tempfile

CREATE = re.compile(
    r'\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|RECURSIVE)\s+)*'
    r'(FUNCTION|PROCEDURE|VIEW|TRIGGER)\s+((?:"?[A-Za-z_@][A-Za-z0-9_@]*"?\.)?"?[A-Za-z_@][A-Za-z0-9_@]*"?)',
    re.IGNORECASE)
EXTS = ('.sql', '.c', '.h', '.py')
SKIP_DIRS = {'.git', '__pycache__'}


def sql_code(text):
    """The text with comments and '...' literals blanked (newlines kept): SQL
    built at run time in a literal (partitions, the close guards' triggers)
    is no definition in the tree. Dollar-quoted bodies stay: they are code."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith('--', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
        elif text[i] == "'":
            j = i + 1
            while j < n and not (text[j] == "'" and text[j + 1:j + 2] != "'"):
                j += 2 if text[j] == "'" else 1
            j += 1
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(re.sub(r'[^\n]', ' ', text[i:j]))
        i = j
    return ''.join(out)


def c_or_py_sql(text):
    """The text with string literals joined: "CREATE " "FUNCTION x(" -> one run."""
    return re.sub(r'"\s*\n\s*"', '', text)


def input_args(text, start):
    """Number of input arguments of the list opening at text[start] == '('."""
    depth, i, args, cur = 0, start, [], ''
    while i < len(text):
        ch = text[i]
        if ch == '(':
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif ch == ')':
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ',':
            args.append(cur)
            cur = ''
        else:
            cur += ch
        i += 1
    args.append(cur)
    return sum(1 for a in args if a.strip() and not re.match(r'\s*(OUT|TABLE)\b', a, re.I))


def definitions(path, text):
    """(key, line) for each definition in text."""
    text = sql_code(text) if path.endswith('.sql') else c_or_py_sql(text)
    out = []
    for m in CREATE.finditer(text):
        kind, name = m.group(1).upper(), m.group(2).replace('"', '').lower()
        kind = 'FUNCTION' if kind == 'PROCEDURE' else kind
        line = text.count('\n', 0, m.start()) + 1
        rest = text[m.end():]
        if kind == 'FUNCTION':
            paren = re.match(r'\s*\(', rest)
            n = input_args(text, m.end() + paren.end() - 1) if paren else 0
            key = f'function {name}/{n}'
        elif kind == 'TRIGGER':
            on = re.search(r'\bON\s+([A-Za-z0-9_."]+)', rest[:400], re.I)
            key = f'trigger {name} on {on.group(1).lower() if on else "?"}'
        else:
            key = f'view {name}'
        out.append((key, line))
    return out


def walk(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith('build'))
        for f in sorted(files):
            if f.endswith(EXTS):
                yield os.path.join(d, f)


def check(root, out=sys.stdout):
    seen, bad = {}, 0
    me = os.path.abspath(__file__)
    for path in walk(root):
        if os.path.abspath(path) == me:
            continue
        with open(path, encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        rel = os.path.relpath(path, root)
        defs = definitions(path, text)
        for key, line in defs:
            seen.setdefault(key, []).append(f'{rel}:{line}')
        if rel.startswith(os.path.join('collector', 'schema') + os.sep):
            bad += check_schema_file(root, rel, defs, out)
        if rel.startswith(os.path.join('collector', 'migrations') + os.sep):
            for key, line in defs:
                print(f'{rel}:{line}: {key} in a migration: it belongs in collector/schema/',
                      file=out)
                bad += 1
    for key, places in sorted(seen.items()):
        if len(places) > 1:
            print(f'{key} is defined {len(places)} times: {", ".join(places)}', file=out)
            bad += 1
    return bad, len(seen)


def check_schema_file(root, rel, defs, out):
    """One object per file, named as the file is, listed in the build."""
    kind, base = rel.split(os.sep)[-2], os.path.basename(rel)[:-len('.sql')]
    bad = 0
    if len(defs) != 1:
        print(f'{rel}: {len(defs)} definitions, want one object per file', file=out)
        bad += 1
    elif kind == 'triggers':
        schema, table, trigger = base.split('.', 2)
        if defs[0][0] != f'trigger {trigger} on {schema}.{table}':
            print(f'{rel}: defines {defs[0][0]}, not what its name says', file=out)
            bad += 1
    elif not defs[0][0].startswith(f'{kind[:-1]} {base.split(".")[0]}.{base.split(".")[1]}'):
        print(f'{rel}: defines {defs[0][0]}, not what its name says', file=out)
        bad += 1
    meson = os.path.join(root, 'collector', 'meson.build')
    listed = "'" + '/'.join(rel.split(os.sep)[1:]) + "'"
    if os.path.exists(meson) and listed not in open(meson, encoding='utf-8').read():
        print(f'{rel}: not in schema_files of collector/meson.build', file=out)
        bad += 1
    return bad


def self_test():
    fn = 'CREATE OR REPLACE FUNCTION aimeter.f(p_a int{}) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n'
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'a.sql'), 'w') as fh:
            fh.write(fn.format(''))
        with open(os.path.join(d, 'b.c'), 'w') as fh:
            fh.write('const char *s = "CREATE OR REPLACE FUNCTION aimeter.g(x int, OUT y int)";\n')
        with open(os.path.join(d, 'c.sql'), 'w') as fh:
            fh.write(fn.format(', p_b text'))  # an overload: distinct
        bad, n = check(d, open(os.devnull, 'w'))
        if bad != 0 or n != 3:
            sys.exit(f'self-test: a tree without duplicates gave {bad} problems, {n} objects')
        with open(os.path.join(d, 'b.c'), 'a') as fh:
            fh.write('const char *t = "CREATE FUNCTION "\n\t"aimeter.f(p_x int)";\n')
        bad, n = check(d, open(os.devnull, 'w'))
        if bad != 1:
            sys.exit(f'self-test: a duplicate function gave {bad} problems, want 1')
    print('self-test: a duplicate fails, an overload passes')


def main():
    args = sys.argv[1:]
    if args and args[0] == '--self-test':
        self_test()
        args = args[1:]
    if len(args) != 1:
        sys.exit('usage: check-one-definition.py [--self-test] SOURCE_ROOT')
    bad, n = check(args[0])
    print(f'{n} SQL functions, views and triggers, {bad} problems')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
