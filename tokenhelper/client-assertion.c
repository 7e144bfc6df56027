/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "client-assertion.h"

#include "base64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <json-c/json.h>

#include "errtext.h"
#include "isotime.h"
#include "json-util.h"
#include "log.h"
#include "wipe.h"
#include "safe-open.h"
#include "xalloc.h"

/* A PEM certificate or key larger than this is not one. */
#define MB_PEM_MAX_SIZE 65536
/* Each token request warns when the certificate expires sooner. */
#define MB_CERT_WARN_DAYS 30

/* RFC 7515 base64url, no padding.  Returns a malloc'd string. */
static char *
ca_b64url(const unsigned char *in, size_t len)
{
	size_t n = mb_base64url_len(len) + 1;
	char *out = mb_xmalloc(n);

	mb_base64url_encode(out, n, in, len);
	return out;
}

/* s as the inside of a JSON string (client ids and URLs are plain, but
 * nothing is assumed).  Returns a malloc'd string. */
static char *
ca_json_escape(const char *s)
{
	char *out = mb_xmalloc(strlen(s) * 6 + 1), *o = out;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			o += snprintf(o, 7, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

/* Reads a whole file of at most MB_PEM_MAX_SIZE bytes into a malloc'd,
 * NUL-terminated buffer of MB_PEM_MAX_SIZE + 1 bytes (the caller wipes
 * it).  With secret, the file must be closed to group and others.  NULL
 * with *error_r set on failure. */
static char *
ca_read_file(const char *what, const char *path, bool secret, size_t *len_r,
	     char **error_r)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	char *label;
	int fd;

	/* the shared rule: a device or FIFO is never opened */
	label = mb_xasprintf("%s %s", what, path);
	fd = mb_open_regular(path, O_RDONLY, 0, MB_OPEN_FOLLOW, label, &st,
			     error_r);
	free(label);
	if (fd < 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > MB_PEM_MAX_SIZE) {
		*error_r = mb_xasprintf("%s %s is not a regular file of at "
					"most %d bytes", what, path,
					MB_PEM_MAX_SIZE);
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("%s %s is accessible by group or "
			"others (mode %04o); run: chmod 600 %s", what, path,
			(unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	buf = mb_xmalloc(MB_PEM_MAX_SIZE + 1);
	while (len < MB_PEM_MAX_SIZE) {
		n = read(fd, buf + len, MB_PEM_MAX_SIZE - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = mb_xasprintf("cannot read %s %s: %s", what,
						path, mb_errstr(errno));
			mb_wipe(buf, MB_PEM_MAX_SIZE + 1);
			free(buf);
			buf = NULL;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*len_r = len;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Reads a whole PEM file into a memory BIO (the buffer is wiped).  NULL
 * with *error_r set on failure. */
static BIO *
ca_read_pem(const char *what, const char *path, bool secret,
	    char **error_r)
{
	size_t len = 0;
	char *buf = ca_read_file(what, path, secret, &len, error_r);
	BIO *bio;

	if (buf == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || BIO_write(bio, buf, (int)len) != (int)len) {
		BIO_free(bio);
		bio = NULL;
		*error_r = mb_xasprintf("cannot read %s %s: out of memory",
					what, path);
	}
	mb_wipe(buf, MB_PEM_MAX_SIZE + 1);
	free(buf);
	return bio;
}

static void
ca_iso_time(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1 || mb_iso_tm(&tm, -1, buf, size) == 0)
		snprintf(buf, size, "(unreadable date)");
}

/* A warning, at each use, from MB_CERT_WARN_DAYS before the end. */
static void
ca_warn_expiry(const struct mb_account *acct, X509 *cert, time_t now)
{
	time_t soon = now + MB_CERT_WARN_DAYS * 86400L;
	int days = 0, secs = 0;
	ASN1_TIME *t;
	char when[64];

	if (X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0)
		return;
	t = ASN1_TIME_set(NULL, now);
	if (t == NULL ||
	    ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(cert)) != 1)
		days = 0;
	ASN1_TIME_free(t);
	ca_iso_time(X509_get0_notAfter(cert), when, sizeof(when));
	mb_log(LOG_WARNING, "%s: client_certificate_file %s expires on %s "
	       "(in %d days): make a new key and certificate, upload the "
	       "certificate to the app registration, then point the "
	       "configuration at them", acct->name,
	       acct->client_certificate_file, when, days);
}

/* The certificate, valid at now.  NULL with *error_r set otherwise. */
static X509 *
ca_load_cert(const struct mb_account *acct, time_t now, char **error_r)
{
	const char *path = acct->client_certificate_file;
	BIO *bio = ca_read_pem("client_certificate_file", path, false,
			       error_r);
	X509 *cert;
	char when[64];

	if (bio == NULL)
		return NULL;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL) {
		*error_r = mb_xasprintf("client_certificate_file %s holds no "
			"PEM certificate (-----BEGIN CERTIFICATE-----)", path);
		return NULL;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &now) <= 0) {
		ca_iso_time(X509_get0_notAfter(cert), when, sizeof(when));
		*error_r = mb_xasprintf("client_certificate_file %s expired "
			"on %s: create a new key and certificate, upload the "
			"certificate to the app registration (Certificates & "
			"secrets) and point the configuration at them",
			path, when);
	} else if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0) {
		ca_iso_time(X509_get0_notBefore(cert), when, sizeof(when));
		*error_r = mb_xasprintf("client_certificate_file %s is not "
			"valid before %s (check the clock)", path, when);
	} else {
		ca_warn_expiry(acct, cert, now);
		return cert;
	}
	X509_free(cert);
	return NULL;
}

/* A PEM callback that refuses to prompt for a passphrase. */
static int
ca_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The RSA private key of the certificate.  NULL with *error_r set. */
static EVP_PKEY *
ca_load_key(const struct mb_account *acct, X509 *cert, char **error_r)
{
	const char *path = acct->client_key_file;
	BIO *bio = ca_read_pem("client_key_file", path, true, error_r);
	EVP_PKEY *key;

	if (bio == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, ca_no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL) {
		*error_r = mb_xasprintf("client_key_file %s holds no "
			"unencrypted PEM private key (an encrypted key "
			"cannot be used unattended: openssl pkey -in KEY "
			"-out KEY.new, then chmod 600)", path);
		return NULL;
	}
	if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
		*error_r = mb_xasprintf("client_key_file %s is not an RSA "
			"key (the client assertion is signed with RS256)",
			path);
	} else if (X509_check_private_key(cert, key) != 1) {
		*error_r = mb_xasprintf("client_key_file %s is not the key "
			"of client_certificate_file %s", path,
			acct->client_certificate_file);
	} else {
		return key;
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	return NULL;
}

/* The JWT header with both thumbprints of the certificate. */
static char *
ca_header(X509 *cert)
{
	unsigned char sha1[EVP_MAX_MD_SIZE], sha256[EVP_MAX_MD_SIZE];
	unsigned int n1 = 0, n256 = 0;
	char *x5t, *x5t256, *out;

	if (X509_digest(cert, EVP_sha1(), sha1, &n1) != 1 ||
	    X509_digest(cert, EVP_sha256(), sha256, &n256) != 1)
		return NULL;
	x5t = ca_b64url(sha1, n1);
	x5t256 = ca_b64url(sha256, n256);
	out = mb_xasprintf("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":"
			   "\"%s\",\"x5t#S256\":\"%s\"}", x5t, x5t256);
	free(x5t);
	free(x5t256);
	return out;
}

/* The JWT claims set. */
static char *
ca_payload(const struct mb_account *acct, time_t now, char **error_r)
{
	unsigned char jti[16];
	char *aud, *iss, *id, *out;

	if (getrandom(jti, sizeof(jti), 0) != (ssize_t)sizeof(jti)) {
		*error_r = mb_xasprintf("no random bytes for the client "
					"assertion: %s", mb_errstr(errno));
		return NULL;
	}
	aud = ca_json_escape(acct->token_endpoint);
	iss = ca_json_escape(acct->client_id);
	id = ca_b64url(jti, sizeof(jti));
	out = mb_xasprintf("{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\","
			   "\"jti\":\"%s\",\"iat\":%lld,\"nbf\":%lld,"
			   "\"exp\":%lld}", aud, iss, iss, id,
			   (long long)now, (long long)now,
			   (long long)now + MB_CLIENT_ASSERTION_LIFETIME);
	free(aud);
	free(iss);
	free(id);
	return out;
}

/* "input.signature" with RS256.  NULL with *error_r set. */
static char *
ca_sign(EVP_PKEY *key, const char *input, const char *what, char **error_r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t len = 0;
	char *b64, *out = NULL;

	if (ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input,
			   strlen(input)) != 1)
		goto out;
	sig = mb_xmalloc(len);
	if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
			   strlen(input)) != 1)
		goto out;
	b64 = ca_b64url(sig, len);
	out = mb_xasprintf("%s.%s", input, b64);
	free(b64);
out:
	if (out == NULL)
		*error_r = mb_xasprintf("cannot sign the assertion with %s "
					"(libcrypto)", what);
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(ctx);
	return out;
}

/* header.payload.signature of two JSON texts, signed with RS256 by
 * key (what names it in an error).  NULL with *error_r set. */
static char *
ca_jwt(EVP_PKEY *key, const char *header_json, const char *payload_json,
       const char *what, char **error_r)
{
	char *h = ca_b64url((const unsigned char *)header_json,
			    strlen(header_json));
	char *p = ca_b64url((const unsigned char *)payload_json,
			    strlen(payload_json));
	char *input = mb_xasprintf("%s.%s", h, p);
	char *jwt = ca_sign(key, input, what, error_r);

	free(h);
	free(p);
	free(input);
	return jwt;
}

char *
mb_client_assertion(const struct mb_account *acct, time_t now,
		    char **error_r)
{
	char *header = NULL, *payload = NULL, *jwt = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert;

	*error_r = NULL;
	cert = ca_load_cert(acct, now, error_r);
	if (cert == NULL)
		return NULL;
	key = ca_load_key(acct, cert, error_r);
	if (key == NULL)
		goto out;
	header = ca_header(cert);
	if (header == NULL) {
		*error_r = mb_xasprintf("cannot compute the thumbprint of "
			"client_certificate_file %s",
			acct->client_certificate_file);
		goto out;
	}
	payload = ca_payload(acct, now, error_r);
	if (payload == NULL)
		goto out;
	jwt = ca_jwt(key, header, payload, "client_key_file", error_r);
out:
	free(header);
	free(payload);
	EVP_PKEY_free(key);
	X509_free(cert);
	return jwt;
}

char *
mb_sa_claims(const char *iss, const char *sub, const char *scope,
	     const char *aud, time_t now)
{
	char *e_iss = ca_json_escape(iss), *e_sub = ca_json_escape(sub);
	char *e_scope = ca_json_escape(scope), *e_aud = ca_json_escape(aud);
	char *out;

	out = mb_xasprintf("{\"iss\":\"%s\",\"sub\":\"%s\",\"scope\":"
			   "\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
			   e_iss, e_sub, e_scope, e_aud, (long long)now,
			   (long long)now + MB_SA_ASSERTION_LIFETIME);
	free(e_iss);
	free(e_sub);
	free(e_scope);
	free(e_aud);
	return out;
}

/* The members of Google's JSON key that are used. */
struct sa_key {
	char *client_email;
	char *private_key_id;
	char *private_key;	/* PEM: wiped */
	char *token_uri;	/* NULL when absent */
};

static void
sa_key_clear(struct sa_key *k)
{
	free(k->client_email);
	free(k->private_key_id);
	free(k->token_uri);
	mb_free_secret(&k->private_key);
	memset(k, 0, sizeof(*k));
}

/* Member name of obj, a non-empty string, into *out; else *error_r. */
static bool
sa_member(struct json_object *obj, const char *path, const char *name,
	  char **out, char **error_r)
{
	int r = mb_json_get_string(obj, name, out);

	if (r == 1 && (*out)[0] != '\0')
		return true;
	if (r == 1)
		mb_free_secret(out);
	*error_r = mb_xasprintf("service_account_file %s has no %s string: "
		"it is not a service account key (Google Cloud console: IAM "
		"& Admin > Service accounts > the account > Keys > Add key > "
		"JSON)", path, name);
	return false;
}

/* Reads and judges Google's JSON key.  false with *error_r set. */
static bool
sa_read_key(const char *path, struct sa_key *k, char **error_r)
{
	size_t len = 0;
	char *buf, *jerr = NULL, *type = NULL;
	struct json_object *obj;
	bool ok = false;

	memset(k, 0, sizeof(*k));
	buf = ca_read_file("service_account_file", path, true, &len, error_r);
	if (buf == NULL)
		return false;
	obj = mb_json_parse_all(buf, len, &jerr);
	mb_wipe(buf, MB_PEM_MAX_SIZE + 1);
	free(buf);
	if (obj == NULL) {
		*error_r = mb_xasprintf("service_account_file %s is %s, not "
			"a service account's JSON key", path, jerr);
		free(jerr);
		return false;
	}
	if (!sa_member(obj, path, "type", &type, error_r))
		goto out;
	if (strcmp(type, "service_account") != 0) {
		*error_r = mb_xasprintf("service_account_file %s is a key of "
			"type \"%s\", not \"service_account\"", path, type);
		goto out;
	}
	ok = sa_member(obj, path, "client_email", &k->client_email,
		       error_r) &&
	     sa_member(obj, path, "private_key_id", &k->private_key_id,
		       error_r) &&
	     sa_member(obj, path, "private_key", &k->private_key, error_r);
	if (ok && mb_json_get_string(obj, "token_uri", &k->token_uri) < 0) {
		*error_r = mb_xasprintf("service_account_file %s: token_uri "
					"is not a string", path);
		ok = false;
	}
out:
	free(type);
	mb_json_wipe_member(obj, "private_key");
	json_object_put(obj);
	if (!ok)
		sa_key_clear(k);
	return ok;
}

/* The RSA key of the PEM text pem.  NULL with *error_r set. */
static EVP_PKEY *
sa_load_key(const char *path, const char *pem, char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = NULL;

	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, ca_no_passphrase,
					      NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL) {
		*error_r = mb_xasprintf("service_account_file %s: its "
			"private_key is not an unencrypted PEM private key",
			path);
		return NULL;
	}
	if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
		*error_r = mb_xasprintf("service_account_file %s: its "
			"private_key is not an RSA key (the assertion is "
			"signed with RS256)", path);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

char *
mb_sa_assertion(const struct mb_account *acct, time_t now, char **error_r)
{
	const char *path = acct->service_account_file;
	char *header, *kid, *claims, *jwt = NULL;
	struct sa_key k;
	EVP_PKEY *key;

	*error_r = NULL;
	if (!sa_read_key(path, &k, error_r))
		return NULL;
	/* Google's keys name Google's token endpoint, the provider's
	 * preset; another one in the configuration (a test provider, a
	 * proxy) is the one asked, and the assertion's audience. */
	if (k.token_uri != NULL &&
	    strcmp(k.token_uri, acct->token_endpoint) != 0)
		mb_log(LOG_WARNING, "%s: service_account_file %s names the "
		       "token endpoint %s; token_endpoint %s is used (the "
		       "request and the assertion's aud)", acct->name, path,
		       k.token_uri, acct->token_endpoint);
	key = sa_load_key(path, k.private_key, error_r);
	mb_free_secret(&k.private_key);
	if (key == NULL)
		goto out;
	kid = ca_json_escape(k.private_key_id);
	header = mb_xasprintf("{\"alg\":\"RS256\",\"typ\":\"JWT\","
			      "\"kid\":\"%s\"}", kid);
	claims = mb_sa_claims(k.client_email, acct->user, acct->scope,
			      acct->token_endpoint, now);
	jwt = ca_jwt(key, header, claims, "service_account_file's "
		     "private_key", error_r);
	free(kid);
	free(header);
	free(claims);
	EVP_PKEY_free(key);
out:
	sa_key_clear(&k);
	return jwt;
}
