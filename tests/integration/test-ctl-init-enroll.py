#!/usr/bin/env python3
"""test-ctl-init-enroll.py: aimeterctl init and enroll-token against the real
PostgreSQL of tests/run and a real collector over TLS.

init: into a temporary directory (--dir, --no-start): database, role, schema,
person key and a self-signed certificate (0600 files, 0700 directory), a first
secret and the lines for device management (URL, CA, pin that matches the
certificate, the secret); run again it keeps every key; --tls-cert/--tls-key
install a given pair, a mismatched pair is refused; the collector serves the
certificate init made and a client that trusts only it connects.

enroll-token: create prints the secret alone on stdout and stores only its
hash; a device enrolls with it and gets the token's team as the team hint of
its events; list shows it; a revoked or expired secret gets 401; the
collector's [enrollment] secret_file works beside them, can be revoked, and
stays revoked when the collector restarts. Issue 11: created secrets are
264 bits and the database refuses to register one under 128; the host of a
revoked device stays out until allow-reenroll; a secret enrolls at most its
cap of active devices.
"""
import base64
import hashlib
import importlib.util
import os
import re
import socket
import ssl
import subprocess

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

w = h.setup("initenroll")


def ctl(*args, ok=True):
    r = subprocess.run([h.CTL] + list(args), env=h.pg_env(w), capture_output=True, text=True)
    if ok and r.returncode != 0:
        h.fail("aimeterctl %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def pin_of(pem_path):
    der = subprocess.run(["openssl", "x509", "-in", pem_path, "-pubkey", "-noout"],
                         capture_output=True, text=True, check=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der.encode(),
                          capture_output=True, check=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def enroll_status(client, secret, hostname="host"):
    path = w.p("er-%s.bin" % hostname)
    h.tool("enroll-req", path, secret, hostname)
    st, _, data = client.request("POST", "/v1/enroll", open(path, "rb").read(),
                                 {"Content-Type": "application/x-protobuf"})
    if st != 200:
        return st, None, None
    with open(w.p("resp.bin"), "wb") as f:
        f.write(data)
    m = re.match(r"device_id=(\S+) token=(\S+)", h.tool("enroll-resp", w.p("resp.bin")))
    return st, m.group(1), m.group(2)


def mode(path):
    return os.stat(path).st_mode & 0o7777


# --- init ------------------------------------------------------------------------------------
kdir = w.p("etc", "collector")
os.mkdir(w.p("etc"))
db = w.dbname + "_init"
h.psql(w, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
r = ctl("init", "--server-name", "127.0.0.1", "--dir", kdir, "--database", db,
        "--collector-role", "am_test_collector", "--no-start")
out = r.stdout
h.check("created database " + db in out and "schema at version" in out, "init creates the database and schema")
h.check(h.psql(w, "SELECT count(*) FROM aimeter.schema_migrations", db=db) ==
        h.psql(w, "SELECT count(*) FROM aimeter.schema_migrations"), "init applied every migration")
h.check(h.psql(w, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'am_test_collector'") == "t",
        "init creates the collector's login role")
h.check(h.psql(w, "SELECT pg_has_role('am_test_collector', 'aimeter_ingest', 'MEMBER')") == "t",
        "the collector's role is in aimeter_ingest")
h.check(mode(kdir) == 0o700 and all(mode(os.path.join(kdir, f)) == 0o600
                                   for f in ("person.key", "tls.crt", "tls.key")),
        "keys are 0600 in a 0700 directory")
h.check(len(open(os.path.join(kdir, "person.key"), "rb").read().strip()) >= 32, "person key made")
h.check("url = https://127.0.0.1:8443" in out.splitlines(), "init prints the server URL")
h.check("ca_file = /etc/aimeter/collector-ca.pem" in out.splitlines(), "init prints the CA line")
pin = pin_of(os.path.join(kdir, "tls.crt"))
h.check("pin = " + pin in out.splitlines(), "the printed pin is the certificate's key pin")
h.check(open(os.path.join(kdir, "tls.crt")).read().strip() in out, "init prints the CA certificate")
secrets = [line for line in out.splitlines() if line.startswith("amenroll_")]
h.check(len(secrets) == 1 and len(secrets[0]) >= 40, "init prints one enrollment secret")
first_secret = secrets[0]
h.check(h.psql(w, "SELECT count(*) FROM aimeter.enrollment_secrets WHERE secret_hash = sha256('%s'::bytea)"
               " AND expires_at > now() + interval '6 days'" % first_secret, db=db) == "1",
        "init's secret is stored as a hash, expiring in 7 days")
h.check(first_secret not in h.psql(w, "SELECT string_agg(s::text, ',') FROM aimeter.enrollment_secrets s",
                                   db=db), "the secret itself is not stored")

before = {f: open(os.path.join(kdir, f), "rb").read() for f in ("person.key", "tls.crt", "tls.key")}
r = ctl("init", "--server-name", "127.0.0.1", "--dir", kdir, "--database", db,
        "--collector-role", "am_test_collector", "--no-start")
h.check(all(open(os.path.join(kdir, f), "rb").read() == v for f, v in before.items())
        and "kept database" in r.stdout and "pin = " + pin in r.stdout,
        "init run again keeps the database and every key")

# A given certificate and key (a CA's, so no ca_file line); a mismatched pair is refused.
gdir = w.p("etc", "given")
r = ctl("init", "--server-name", "localhost", "--dir", gdir, "--database", db,
        "--collector-role", "am_test_collector", "--no-start",
        "--tls-cert", w.p("server.pem"), "--tls-key", w.p("server.key"))
h.check(open(os.path.join(gdir, "tls.crt")).read() == open(w.p("server.pem")).read()
        and mode(os.path.join(gdir, "tls.key")) == 0o600, "init installs a given certificate and key")
h.check("ca_file" not in r.stdout and "pin = " + pin_of(w.p("server.pem")) in r.stdout,
        "for a given certificate: no CA line, its pin")
r = ctl("init", "--server-name", "localhost", "--dir", w.p("etc", "bad"), "--database", db,
        "--no-start", "--tls-cert", w.p("server.pem"), "--tls-key", w.p("ca.key"), ok=False)
h.check(r.returncode == 1 and "does not match" in r.stderr, "init refuses a key that is not the certificate's")
r = ctl("init", "--dir", w.p("etc", "bad"), ok=False)
h.check(r.returncode == 2, "init without --server-name is a usage error")

# The collector serves init's certificate; a client trusting only it (and the IP) connects.
col = h.Collector(w, name="init", extra={("tls", "cert_file"): os.path.join(kdir, "tls.crt"),
                                         ("tls", "key_file"): os.path.join(kdir, "tls.key"),
                                         ("identity", "person_key_file"): os.path.join(kdir, "person.key")})
ctx = ssl.create_default_context(cafile=os.path.join(kdir, "tls.crt"))
with socket.create_connection(("127.0.0.1", col.port), timeout=10) as s:
    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
        h.check(t.version() is not None, "a client that trusts only init's certificate connects by IP")
col.stop()

# --- enroll-token ------------------------------------------------------------------------------
col = h.Collector(w)
client = h.Client(w, col.port)
h.psql(w, "INSERT INTO aimeter.teams (name) VALUES ('platform')")

r = ctl("enroll-token", "create", "--expires", "1h", "--team", "platform", "--label", "wave 1")
lines = r.stdout.splitlines()
h.check(len(lines) == 1 and lines[0].startswith("amenroll_"), "create prints the secret alone on stdout")
tsecret = lines[0]
tid = re.search(r"enrollment secret ([0-9a-f]{8}) created", r.stderr).group(1)
h.check(tid == hashlib.sha256(tsecret.encode()).hexdigest()[:8], "its id is the hash prefix")
h.check(h.psql(w, "SELECT count(*) FROM aimeter.enrollment_secrets WHERE secret_hash = sha256('%s'::bytea)"
               " AND team_hint = 'platform'" % tsecret) == "1", "only the hash is stored, with the team")

st, device, token = enroll_status(client, tsecret, "host-t")
h.check(st == 200, "a device enrolls with a created secret")
h.check(h.psql(w, "SELECT team_hint FROM aimeter.devices WHERE device_id = '%s'" % device) == "platform",
        "the device carries the secret's team")
bodies, n, _ = h.mkbatches(w, "tb", 1, 20, 7)
st, _, _ = client.post_batch(bodies[0], token)
h.check(st == 200, "the device's batch is accepted")
h.check(h.psql(w, "SELECT count(*) FROM aimeter.usage_events e JOIN aimeter.teams t USING (team_id)"
               " WHERE t.name = 'platform'") == str(n),
        "events without a team hint get the secret's team")

listing = ctl("enroll-token", "list").stdout
row = [l for l in listing.splitlines() if l.startswith(tid)]
h.check(len(row) == 1 and " active " in row[0] and "platform" in row[0] and "wave 1" in row[0]
        and re.search(r"\s1\s", row[0]), "list shows the secret active, its team, label and one device")

r = ctl("enroll-token", "revoke", tid)
h.check("revoked enrollment secret " + tid in r.stdout, "revoke")
st, _, _ = enroll_status(client, tsecret, "host-t2")
h.check(st == 401, "a revoked secret gets 401")
st, _, _ = client.post_batch(h.mkbatches(w, "tb2", 1, 5, 8)[0][0], token)
h.check(st == 200, "devices enrolled with it keep their own credential")
h.check(" revoked " in [l for l in ctl("enroll-token", "list").stdout.splitlines() if l.startswith(tid)][0],
        "list shows it revoked")

esecret = ctl("enroll-token", "create", "--expires", "5m").stdout.strip()
h.psql(w, "UPDATE aimeter.enrollment_secrets SET expires_at = now() - interval '1 second'"
          " WHERE secret_hash = sha256('%s'::bytea)" % esecret)
st, _, _ = enroll_status(client, esecret, "host-e")
h.check(st == 401, "an expired secret gets 401")
eid = hashlib.sha256(esecret.encode()).hexdigest()[:8]
h.check(" expired " in [l for l in ctl("enroll-token", "list").stdout.splitlines() if l.startswith(eid)][0],
        "list shows it expired")
h.check(ctl("enroll-token", "create", "--expires", "3x", ok=False).returncode == 2,
        "a bad --expires is a usage error")
h.check(ctl("enroll-token", "revoke", "00000000", ok=False).returncode == 1,
        "revoking an unknown id fails")

# Issue 11: secrets of at least 128 bits, a cap per secret, revocation that sticks.
h.check(h.psql(w, "SELECT secret_bits FROM aimeter.enrollment_secrets WHERE secret_hash ="
               " sha256('%s'::bytea)" % tsecret) == "264", "created secrets carry 264 random bits")
r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c",
                    "SELECT aimeter.register_enrollment_secret(sha256('short'::bytea), 'x', 64)"],
                   env=h.pg_env(w), capture_output=True, text=True)
h.check(r.returncode != 0 and "at least 128" in r.stderr
        and h.psql(w, "SELECT count(*) FROM aimeter.enrollment_secrets"
                      " WHERE secret_hash = sha256('short'::bytea)") == "0",
        "the database refuses to register a secret under 128 bits")
h.check(ctl("enroll-token", "create", "--max-devices", "0", ok=False).returncode == 2,
        "a cap below 1 is a usage error")
csecret = ctl("enroll-token", "create", "--max-devices", "2").stdout.strip()
cid = hashlib.sha256(csecret.encode()).hexdigest()[:8]
devs = lambda: h.psql(w, "SELECT count(*) FROM aimeter.devices")
st, rdev, rtok = enroll_status(client, csecret, "Host-R")
h.check(st == 200, "a device enrolls with a secret capped at 2")
st, _, _ = client.post_batch(h.mkbatches(w, "rb", 1, 5, 9)[0][0], rtok)
h.check(st == 200, "and ships")
r = ctl("device", "revoke", rdev)
n0 = devs()
for host in ("Host-R", "host-r", "HOST-R"):
    st, _, _ = enroll_status(client, csecret, host)
    h.check(st not in (200, 503), "the host of a revoked device cannot enroll again (%s: %d)"
            % (host, st))
st, _, _ = enroll_status(client, esecret, "host-r")
h.check(st == 401, "an expired secret still says so first")
h.check(devs() == n0, "no device was added for the revoked host")
st, _, _ = enroll_status(client, csecret, "host-r2")
st2, _, _ = enroll_status(client, csecret, "host-r3")
h.check(st == 200 and st2 == 200, "revoked devices leave the cap: two other hosts enroll")
st, _, _ = enroll_status(client, csecret, "host-r4")
h.check(st not in (200, 503) and devs() == str(int(n0) + 2),
        "the third active device on a secret capped at 2 is refused (%d)" % st)
row = [l for l in ctl("enroll-token", "list").stdout.splitlines() if l.startswith(cid)][0]
h.check(re.search(r"\s2\s+2\s", row), "list shows 2 active of at most 2: " + row)
h.check(ctl("device", "allow-reenroll", "nosuch-host", ok=False).returncode == 1,
        "allow-reenroll of a host that is not blocked fails")
r = ctl("device", "allow-reenroll", rdev)
h.check('host "host-r" may enroll again' in r.stdout, "allow-reenroll by device id names the host")
r = ctl("enroll-token", "set", cid, "--max-devices", "3")
h.check("at most 3 active devices (2 now)" in r.stdout, "set raises the cap")
st, _, _ = enroll_status(client, csecret, "host-R")
h.check(st == 200, "once allowed, the host enrolls again")

# The collector's own secret file: registered, listed, works, revocable, stays revoked.
fid = hashlib.sha256(h.SECRET.encode()).hexdigest()[:8]
row = [l for l in ctl("enroll-token", "list").stdout.splitlines() if l.startswith(fid)]
h.check(len(row) == 1 and "secret_file" in row[0] and " active " in row[0],
        "list shows the collector's secret_file secret")
st, _, _ = enroll_status(client, h.SECRET, "host-f")
h.check(st == 200, "the secret_file secret enrolls")
ctl("enroll-token", "revoke", fid)
st, _, _ = enroll_status(client, h.SECRET, "host-f2")
h.check(st == 401, "the secret_file secret, revoked, gets 401")
client.close()
col.stop()
col = h.Collector(w)
client = h.Client(w, col.port)
st, _, _ = enroll_status(client, h.SECRET, "host-f3")
h.check(st == 401, "and stays revoked when the collector starts again")
st, _, _ = enroll_status(client, first_secret, "host-i")
h.check(st == 401, "a secret of another database is unknown here")
client.close()
col.stop()
h.psql(w, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
print("all passed")
