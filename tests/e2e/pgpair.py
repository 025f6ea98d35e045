"""pgpair.py: PostgreSQL servers of the test's own (not the one tests/run starts), for faults
that need a whole server: a primary with a streaming standby made by pg_basebackup -R.

Each server listens only on a Unix socket in its directory. As root, servers run as
"postgres" (PostgreSQL refuses root), as tests/run does.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import time

PGBIN = os.environ.get("AM_PGBIN") or sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
AS_PG = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def _run(cmd, check=True):
    r = subprocess.run(AS_PG + cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


class Server:
    """One PostgreSQL data directory under parent, on port, socket in parent/sock."""

    def __init__(self, parent, name, port):
        self.parent, self.name, self.port = parent, name, port
        self.data = os.path.join(parent, name)
        self.sock = os.path.join(parent, "sock")
        self.log = os.path.join(parent, name + ".log")
        os.makedirs(self.sock, exist_ok=True)

    def conninfo(self, db="postgres"):
        return "host=%s port=%d user=postgres dbname=%s" % (self.sock, self.port, db)

    def initdb(self, conf):
        _run([os.path.join(PGBIN, "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
              "-E", "UTF8", "--locale=C.UTF-8"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(conf)

    def basebackup_from(self, primary):
        """A streaming standby of primary: pg_basebackup -R writes standby.signal and
        primary_conninfo (application_name=name, so synchronous_standby_names can name it)."""
        _run([os.path.join(PGBIN, "pg_basebackup"), "-D", self.data, "-R", "-X", "stream",
              "-c", "fast", "-d", primary.conninfo() + " application_name=" + self.name])

    def start(self):
        _run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-o",
              "-k %s -c listen_addresses='' -p %d" % (self.sock, self.port), "start"])

    def stop(self, mode="fast"):
        _run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
             check=False)

    def promote(self):
        _run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-w", "promote"])

    def sql(self, sql, db="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                            self.conninfo(db), "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql on %s: %s" % (self.name, r.stderr.strip()))
        return r.stdout.strip()

    def wait_sql(self, sql, want, timeout=60, db="postgres"):
        end = time.time() + timeout
        got = None
        while time.time() < end:
            try:
                got = self.sql(sql, db)
                if got == want:
                    return
            except RuntimeError as e:
                got = str(e)
            time.sleep(0.2)
        raise RuntimeError("%s: %s gave %r, waited for %r" % (self.name, sql, got, want))


class Pair:
    """A primary and a synchronous streaming standby in one temporary directory."""

    # Synchronous: a COMMIT returns only once the standby has the WAL, so a batch the
    # collector acknowledged survives the primary's loss. fsync=off: the test kills
    # processes, never the machine.
    CONF = ("\nfsync = off\nmax_connections = 100\nwal_level = replica\n"
            "max_wal_senders = 5\nhot_standby = on\nwal_keep_size = 256MB\n"
            "synchronous_commit = on\n")

    def __init__(self, port1, port2):
        self.dir = tempfile.mkdtemp(prefix="aimeter-pgpair.")
        if AS_PG:
            shutil.chown(self.dir, "postgres", "postgres")
        self.primary = Server(self.dir, "primary", port1)
        self.standby = Server(self.dir, "standby", port2)
        if AS_PG:
            shutil.chown(self.primary.sock, "postgres", "postgres")

    def start(self):
        self.primary.initdb(self.CONF + "synchronous_standby_names = 'standby'\n")
        self.primary.start()
        self.standby.basebackup_from(self.primary)
        # The copy of the primary's configuration would make the promoted standby wait
        # for a synchronous standby of its own, which it does not have.
        with open(os.path.join(self.standby.data, "postgresql.conf"), "a") as f:
            f.write("synchronous_standby_names = ''\n")
        self.standby.start()
        self.primary.wait_sql("SELECT sync_state FROM pg_stat_replication "
                              "WHERE application_name = 'standby'", "sync")

    def multihost(self, db):
        """The collector's conninfo: both servers, whichever accepts writes."""
        return ("host=%s,%s port=%d,%d user=postgres dbname=%s target_session_attrs=read-write"
                % (self.primary.sock, self.standby.sock, self.primary.port, self.standby.port,
                   db))

    def close(self):
        self.primary.stop("immediate")
        self.standby.stop("immediate")
        if os.environ.get("AM_E2E_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
