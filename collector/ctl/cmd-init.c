/*
 * cmd-init.c: aimeterctl init: a collector server from nothing in one
 * command. The database, the collector's role (peer authentication, as the
 * service user) and the schema; the person key and the TLS certificate and
 * key, root-only, under /etc/aimeter/collector; the collector started; a
 * first enrollment secret; and, on stdout, what device management needs.
 * Safe to run again: it keeps the keys and the database it finds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctl.h"
#include "migrate.h"

#define DEFAULT_DIR "/etc/aimeter/collector"
#define CERT_DAYS 1826 /* five years; agents pin the key, which a renewal can keep */

extern char **environ;

enum {
	OPT_SERVER_NAME = 3000,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_DIR,
	OPT_DATABASE,
	OPT_ROLE,
	OPT_PORT,
	OPT_NO_START,
};

struct init {
	struct ctl_opts opts;
	const char *server_name;
	const char *tls_cert, *tls_key; /* given by the admin, or NULL */
	const char *dir;
	const char *database;
	const char *role;
	long port;
	bool no_start;
	char cert_path[4096], key_path[4096], person_path[4096];
	bool self_signed;
	char pin[128]; /* "sha256//<base64>" */
};

static int
usage(FILE *f)
{
	fprintf(f,
		"usage: aimeterctl init --server-name NAME [--tls-cert FILE --tls-key FILE]\n"
		"                       [options]\n\n"
		"Sets up a collector server with its local PostgreSQL, in one step:\n"
		"  - the database and its schema (the migrations), and the collector's login\n"
		"    role, named like its system user so that peer authentication over the\n"
		"    local socket needs no password;\n"
		"  - in DIR (0700; files 0600): person.key (back it up: pseudonyms cannot be\n"
		"    recomputed without it), tls.crt and tls.key (self-signed for NAME unless\n"
		"    given); existing files are kept;\n"
		"  - starts aimeter-collector (as root under systemd);\n"
		"  - creates a first enrollment secret (expires in 7 days) and prints what\n"
		"    device management needs: the URL, the secret, the CA, the key pin.\n"
		"Run it as root on the server; it can be run again.\n\n"
		"  --server-name NAME     the name (or IP address) agents connect to\n"
		"  --tls-cert FILE        your certificate (PEM, chain allowed) ...\n"
		"  --tls-key FILE         ... and its key, copied into DIR\n"
		"  --port N               the collector's TLS port in the URL (default 8443)\n"
		"  --dir DIR              where the keys go (default " DEFAULT_DIR ")\n"
		"  --database NAME        database to create (default aimeter)\n"
		"  --collector-role NAME  the collector's role (default aimeter-collector)\n"
		"  --no-start             do not start aimeter-collector\n"
		"  --db CONNINFO          a superuser connection to the server (default: as root,\n"
		"                         the local socket as postgres; else libpq's PG* variables)\n"
		"  -h, --help             show this help\n");
	return f == stdout ? CTL_OK : CTL_USAGE;
}

static void
ssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "aimeterctl: %s: %s\n", what, e != 0 ? buf : "unknown error");
}

/* --- files ----------------------------------------------------------------------------- */

/* write_secret_file(path, data, len, replace): 0600, through a temporary file. */
static int
write_secret_file(const char *path, const void *data, size_t len, bool replace)
{
	char tmp[4200];
	int fd;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp); /* a leftover of an interrupted run; absent is fine */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "aimeterctl: could not create file \"%s\": %s\n", tmp,
			strerror(errno));
		return -1;
	}
	n = write(fd, data, len);
	if (n != (ssize_t)len || fsync(fd) < 0) {
		fprintf(stderr, "aimeterctl: could not write file \"%s\": %s\n", tmp,
			n < 0 || n == (ssize_t)len ? strerror(errno) : "short write");
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (!replace && link(tmp, path) < 0) {
		/* Never replace a key that appeared meanwhile. */
		fprintf(stderr, "aimeterctl: could not create file \"%s\": %s\n", path,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (replace && rename(tmp, path) < 0) {
		fprintf(stderr, "aimeterctl: could not rename \"%s\" to \"%s\": %s\n", tmp, path,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (!replace) {
		unlink(tmp);
	}
	return 0;
}

static int
make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "aimeterctl: could not create directory \"%s\": %s\n", dir,
			strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "aimeterctl: \"%s\" is not a directory\n", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "aimeterctl: directory \"%s\" belongs to uid %u, not to us\n", dir,
			(unsigned)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
		fprintf(stderr, "aimeterctl: could not make directory \"%s\" 0700: %s\n", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int
person_key(struct init *in)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[32], key[256];
	char text[2 * sizeof(rnd) + 1], err[512];
	size_t key_len;
	int rc;

	if (access(in->person_path, F_OK) == 0) {
		/* Kept: a new key would break every pseudonym already in the database. */
		if (identity_key_load(in->person_path, key, &key_len, err, sizeof(err)) < 0) {
			fprintf(stderr, "aimeterctl: %s\n", err);
			return -1;
		}
		OPENSSL_cleanse(key, sizeof(key));
		printf("kept %s\n", in->person_path);
		return 0;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		fprintf(stderr, "aimeterctl: could not make the person key: no randomness\n");
		return -1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		text[2 * i] = hex[rnd[i] >> 4];
		text[2 * i + 1] = hex[rnd[i] & 15];
	}
	text[sizeof(text) - 1] = '\n';
	rc = write_secret_file(in->person_path, text, sizeof(text), false);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(text, sizeof(text));
	if (rc == 0) {
		printf("created %s (back it up)\n", in->person_path);
	}
	return rc;
}

/* --- TLS ---------------------------------------------------------------------------------- */

static X509 *
self_signed(EVP_PKEY *pkey, const char *name)
{
	X509 *x = X509_new();
	X509_NAME *subj;
	X509V3_CTX ctx;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	struct in6_addr a6;
	struct in_addr a4;
	char san[600];
	bool ok = false;
	static const char *const exts[][2] = {
		{ "basicConstraints", "critical,CA:TRUE,pathlen:0" },
		{ "keyUsage", "critical,digitalSignature,keyCertSign" },
		{ "extendedKeyUsage", "serverAuth" },
		{ "subjectKeyIdentifier", "hash" },
	};

	if (x == NULL) {
		return NULL;
	}
	snprintf(san, sizeof(san), "%s:%s",
		 inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1 ? "IP" :
											       "DNS",
		 name);
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		goto out;
	}
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	subj = X509_get_subject_name(x);
	if (bn == NULL || X509_set_version(x, 2) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, pkey) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *)"aimeter", -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, subj) != 1) {
		goto out;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	for (size_t i = 0; i <= sizeof(exts) / sizeof(exts[0]); i++) {
		const char *k = i < sizeof(exts) / sizeof(exts[0]) ? exts[i][0] : "subjectAltName";
		const char *v = i < sizeof(exts) / sizeof(exts[0]) ? exts[i][1] : san;
		X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, k, v);
		if (e == NULL || X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			goto out;
		}
		X509_EXTENSION_free(e);
	}
	ok = X509_sign(x, pkey, EVP_sha256()) > 0;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* pem(write, obj): the PEM text of a certificate or private key, malloc'd. */
static char *
pem_of(X509 *cert, EVP_PKEY *key, size_t *ret_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL) {
		return NULL;
	}
	if (cert != NULL ? PEM_write_bio_X509(b, cert) == 1 :
			   PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out != NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
			*ret_len = (size_t)n;
		}
	}
	BIO_free(b);
	return out;
}

static int
compute_pin(struct init *in, X509 *cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int n = pub != NULL ? i2d_PUBKEY(pub, &der) : -1;

	if (n <= 0) {
		ssl_error("could not encode the certificate's public key");
		return -1;
	}
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	memcpy(in->pin, "sha256//", 8);
	EVP_EncodeBlock((unsigned char *)in->pin + 8, md, sizeof(md));
	return 0;
}

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (f == NULL) {
		fprintf(stderr, "aimeterctl: could not open certificate \"%s\": %s\n", path,
			strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		ssl_error("could not read the certificate");
	}
	return x;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (f == NULL) {
		fprintf(stderr, "aimeterctl: could not open key \"%s\": %s\n", path,
			strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL) {
		ssl_error("could not read the private key");
	}
	return k;
}

static int
tls(struct init *in)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	char *cert_pem = NULL, *key_pem = NULL, *chain = NULL;
	size_t cert_len = 0, key_len = 0, chain_len = 0;
	bool have = access(in->cert_path, F_OK) == 0 && access(in->key_path, F_OK) == 0;
	int rc = -1;

	if (in->tls_cert != NULL) {
		/* Yours, with its chain: copied as is, once the key is known to match. */
		cert = read_cert(in->tls_cert);
		key = cert != NULL ? read_key(in->tls_key) : NULL;
		if (key == NULL) {
			goto out;
		}
		if (X509_check_private_key(cert, key) != 1) {
			fprintf(stderr, "aimeterctl: key \"%s\" does not match certificate \"%s\"\n",
				in->tls_key, in->tls_cert);
			goto out;
		}
		if (ctl_read_file(in->tls_cert, &chain, &chain_len) < 0 ||
		    (key_pem = pem_of(NULL, key, &key_len)) == NULL ||
		    write_secret_file(in->cert_path, chain, chain_len, true) < 0 ||
		    write_secret_file(in->key_path, key_pem, key_len, true) < 0) {
			goto out;
		}
		in->self_signed = false;
		printf("installed %s and %s from %s\n", in->cert_path, in->key_path, in->tls_cert);
	} else if (have) {
		cert = read_cert(in->cert_path);
		if (cert == NULL) {
			goto out;
		}
		/* Self-signed (issuer = subject): the agents need it as their CA. */
		in->self_signed = X509_NAME_cmp(X509_get_subject_name(cert),
						X509_get_issuer_name(cert)) == 0;
		printf("kept %s and %s\n", in->cert_path, in->key_path);
	} else {
		key = EVP_EC_gen("P-256");
		cert = key != NULL ? self_signed(key, in->server_name) : NULL;
		if (cert == NULL) {
			ssl_error("could not make a self-signed certificate");
			goto out;
		}
		if ((key_pem = pem_of(NULL, key, &key_len)) == NULL ||
		    (cert_pem = pem_of(cert, NULL, &cert_len)) == NULL ||
		    write_secret_file(in->key_path, key_pem, key_len, false) < 0 ||
		    write_secret_file(in->cert_path, cert_pem, cert_len, false) < 0) {
			goto out;
		}
		in->self_signed = true;
		printf("created %s and %s (self-signed for %s, %d days)\n", in->cert_path,
		       in->key_path, in->server_name, CERT_DAYS);
	}
	rc = compute_pin(in, cert);
out:
	if (key_pem != NULL) {
		OPENSSL_cleanse(key_pem, key_len);
	}
	free(key_pem);
	free(cert_pem);
	free(chain);
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

/* --- database ------------------------------------------------------------------------------- */

static int
exec_ident(PGconn *conn, const char *fmt, const char *name)
{
	char *id = PQescapeIdentifier(conn, name, strlen(name));
	char sql[512];
	int rc;

	if (id == NULL) {
		fprintf(stderr, "aimeterctl: %s", PQerrorMessage(conn));
		return -1;
	}
	snprintf(sql, sizeof(sql), fmt, id);
	PQfreemem(id);
	rc = ctl_exec(conn, sql);
	return rc;
}

static int
exists(PGconn *conn, const char *sql, const char *name)
{
	const char *params[] = { name };
	PGresult *r = ctl_query(conn, sql, 1, params);
	int n;

	if (r == NULL) {
		return -1;
	}
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

static int
database(struct init *in, char *ret_secret, size_t size, char *ret_id, size_t id_size)
{
	PGconn *conn = ctl_connect_to(&in->opts, "postgres");
	char err[1024];
	int applied = 0, have, rc = -1;

	if (conn == NULL) {
		return -1;
	}
	have = exists(conn, "SELECT 1 FROM pg_database WHERE datname = $1", in->database);
	if (have < 0 || (have == 0 && exec_ident(conn, "CREATE DATABASE %s", in->database) < 0)) {
		goto out;
	}
	printf("%s database %s\n", have ? "kept" : "created", in->database);
	have = exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = $1", in->role);
	if (have < 0 || (have == 0 && exec_ident(conn, "CREATE ROLE %s LOGIN", in->role) < 0)) {
		goto out;
	}
	printf("%s role %s (peer authentication as the system user %s)\n",
	       have ? "kept" : "created", in->role, in->role);
	PQfinish(conn);
	conn = ctl_connect_to(&in->opts, in->database);
	if (conn == NULL) {
		return -1;
	}
	if (migrate_run(conn, &applied, err, sizeof(err)) < 0) {
		fprintf(stderr, "aimeterctl: %s%s", err,
			err[0] != '\0' && err[strlen(err) - 1] == '\n' ? "" : "\n");
		goto out;
	}
	printf("schema at version %d (%d migration%s applied)\n", migrate_latest(), applied,
	       applied == 1 ? "" : "s");
	/* What the collector may do is what aimeter_ingest may do (the migrations). */
	if (exec_ident(conn, "GRANT aimeter_ingest TO %s", in->role) < 0 ||
	    ctl_enroll_token_create(conn, 7 * 86400, NULL, "aimeterctl init", ret_secret, size,
				    ret_id, id_size) < 0) {
		goto out;
	}
	rc = 0;
out:
	PQfinish(conn);
	return rc;
}

/* --- the service ------------------------------------------------------------------------------ */

static void
start_collector(const struct init *in)
{
	char *const argv[] = { "systemctl", "restart", "aimeter-collector.service", NULL };
	pid_t pid;
	int st;

	if (in->no_start || geteuid() != 0 || access("/run/systemd/system", F_OK) < 0 ||
	    strcmp(in->dir, DEFAULT_DIR) != 0) {
		printf("not starting aimeter-collector (%s)\n",
		       in->no_start ? "--no-start" :
		       geteuid() != 0 ? "not root" :
		       strcmp(in->dir, DEFAULT_DIR) != 0 ? "--dir is not the unit's" :
							   "no systemd");
		return;
	}
	fflush(stdout);
	if (posix_spawnp(&pid, "systemctl", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "aimeterctl: warning: could not start aimeter-collector; see "
				"systemctl status aimeter-collector\n");
		return;
	}
	printf("started aimeter-collector\n");
}

static void
print_mdm(const struct init *in, const char *secret, const char *id)
{
	char *pem = NULL;
	size_t len = 0;

	printf("\n"
	       "Paste into device management. Agent settings (Linux: a file in\n"
	       "/etc/aimeter/agent.conf.d/; macOS profile keys: ServerURL, CAFile,\n"
	       "PublicKeyPin):\n\n");
	printf("[server]\n");
	printf("url = https://%s:%ld\n", in->server_name, in->port);
	if (in->self_signed) {
		printf("ca_file = /etc/aimeter/collector-ca.pem\n");
	}
	printf("pin = %s\n", in->pin);
	printf("\nThe enrollment secret %s (expires in 7 days; more: aimeterctl enroll-token\n"
	       "create), alone in /etc/aimeter/enrollment-secret, mode 0600, owner root:\n\n",
	       id);
	printf("%s\n", secret);
	if (in->self_signed) {
		printf("\n/etc/aimeter/collector-ca.pem (mode 0644; a copy of %s):\n\n",
		       in->cert_path);
		if (ctl_read_file(in->cert_path, &pem, &len) == 0) {
			fwrite(pem, 1, len, stdout);
			free(pem);
		}
	}
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "server-name", required_argument, NULL, OPT_SERVER_NAME },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "database", required_argument, NULL, OPT_DATABASE },
		{ "collector-role", required_argument, NULL, OPT_ROLE },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "no-start", no_argument, NULL, OPT_NO_START },
		{ NULL, 0, NULL, 0 },
	};
	struct init in = { .dir = DEFAULT_DIR, .database = "aimeter", .role = "aimeter-collector",
			   .port = 8443 };
	char secret[64], id[16], *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&in.opts, c, optarg)) {
			continue;
		}
		switch (c) {
		case OPT_SERVER_NAME:
			in.server_name = optarg;
			break;
		case OPT_TLS_CERT:
			in.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			in.tls_key = optarg;
			break;
		case OPT_DIR:
			in.dir = optarg;
			break;
		case OPT_DATABASE:
			in.database = optarg;
			break;
		case OPT_ROLE:
			in.role = optarg;
			break;
		case OPT_PORT:
			errno = 0;
			in.port = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || in.port < 1 ||
			    in.port > 65535) {
				fprintf(stderr, "aimeterctl: bad --port \"%s\"\n", optarg);
				return CTL_USAGE;
			}
			break;
		case OPT_NO_START:
			in.no_start = true;
			break;
		default:
			return usage(c == 'h' ? stdout : stderr);
		}
	}
	if (optind != argc || in.server_name == NULL || in.server_name[0] == '\0' ||
	    strlen(in.server_name) > 253 || strpbrk(in.server_name, " /:\t\n") != NULL ||
	    (in.tls_cert == NULL) != (in.tls_key == NULL) || in.dir[0] == '\0' ||
	    strlen(in.dir) > 4000 || in.database[0] == '\0' || in.role[0] == '\0') {
		fprintf(stderr, "aimeterctl: init needs --server-name NAME, and --tls-cert with "
				"--tls-key or neither; see --help\n");
		return CTL_USAGE;
	}
	snprintf(in.cert_path, sizeof(in.cert_path), "%s/tls.crt", in.dir);
	snprintf(in.key_path, sizeof(in.key_path), "%s/tls.key", in.dir);
	snprintf(in.person_path, sizeof(in.person_path), "%s/person.key", in.dir);
	umask(077);
	/* The database first: without it nothing else is of use. */
	if (database(&in, secret, sizeof(secret), id, sizeof(id)) < 0 || make_dir(in.dir) < 0 ||
	    person_key(&in) < 0 || tls(&in) < 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		fprintf(stderr, "aimeterctl: init did not finish; it is safe to run it again\n");
		return CTL_FAIL;
	}
	start_collector(&in);
	print_mdm(&in, secret, id);
	fflush(stdout);
	OPENSSL_cleanse(secret, sizeof(secret));
	return CTL_OK;
}
