"""amtest.py: what the Python integration tests share. A test makes one
Harness for its throwaway database, reports with ok() in TAP-like lines and
exits with h.exit_code(). Import it with
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
"""
import os
import subprocess
import tempfile


class Harness:
    def __init__(self, ctl, name):
        self.ctl_path = ctl
        self.db = "aimeter_test_%s_%d" % (name, os.getpid())
        self.tmp = tempfile.mkdtemp(prefix="aimeter-%s-" % name)
        self.env = dict(os.environ, PGDATABASE=self.db)
        self.fails = 0

    def ok(self, cond, name, extra=""):
        if cond:
            print("ok - " + name)
        else:
            self.fails += 1
            print("not ok - %s%s" % (name, (": " + str(extra)) if extra != "" else ""))

    def psql(self, sql, role=None, db=None, check=True):
        """Rows joined by newlines, fields by '|'; None on error when check is False."""
        if role:
            sql = "SET ROLE %s;\n%s" % (role, sql)
        p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1",
                            "-d", db or self.db, "-c", sql],
                           capture_output=True, text=True, env=self.env)
        if p.returncode != 0:
            if check:
                raise RuntimeError("psql failed: %s\n%s" % (sql[:300], p.stderr))
            self.last_error = p.stderr
            return None
        return p.stdout.strip()

    def rows(self, sql, role=None):
        out = self.psql(sql, role)
        return [line.split("|") for line in out.splitlines()] if out else []

    def ctl(self, *args, check=True):
        p = subprocess.run([self.ctl_path] + list(args), capture_output=True, text=True,
                           env=self.env)
        if check and p.returncode != 0:
            raise RuntimeError("aimeterctl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                                   p.stderr))
        return p

    def write(self, name, text, mode=None):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def run(self, body):
        """Create the database, run body(), drop the database; the exit code."""
        self.psql("CREATE DATABASE %s" % self.db, db="postgres")
        try:
            body()
        finally:
            self.psql("DROP DATABASE IF EXISTS %s" % self.db, db="postgres")
        return 1 if self.fails else 0
