/* SPDX-License-Identifier: MIT */
#include <config.h>

/* tokenhelper/client-assertion.c, Google service accounts: the claims
 * set, and the whole assertion made from a JSON key written here, its
 * RS256 signature verified with the public key; the key file's checks
 * (mode, JSON, type, RSA). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "client-assertion.h"
#include "conf.h"
#include "tap.h"

#define AUD "https://oauth2.example.test/token"
#define EMAIL "relay@proj.iam.gserviceaccount.com"

static char dir[] = "/tmp/test-client-assertion.XXXXXX";
static char s_user[] = "mailbox@example.com";
static char s_scope[] = "https://mail.google.com/";
static char s_aud[] = AUD;

/* base64url (no padding) decoded, NUL-terminated; NULL when invalid. */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *len_r)
{
	size_t pad = (4 - n % 4) % 4, i;
	char *t = malloc(n + pad + 1);
	unsigned char *out = malloc(n + pad + 1);
	int len;

	if (t == NULL || out == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	memset(t + n, '=', pad);
	t[n + pad] = '\0';
	len = EVP_DecodeBlock(out, (unsigned char *)t, (int)(n + pad));
	if (len < 0)
		goto fail;
	*len_r = (size_t)len - pad;
	out[*len_r] = '\0';
	free(t);
	return out;
fail:
	free(t);
	free(out);
	return NULL;
}

static char *
pem_of(EVP_PKEY *key, bool private)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (private)
		PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_bio_PUBKEY(bio, key);
	n = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

/* Google's JSON key with key's PEM in dir/name, mode mode; type as given. */
static char *
write_key(const char *name, EVP_PKEY *key, const char *type, mode_t mode)
{
	struct json_object *o = json_object_new_object();
	char *pem = pem_of(key, true), *path;
	FILE *f;

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "private_key_id",
			       json_object_new_string("kid-1"));
	json_object_object_add(o, "private_key", json_object_new_string(pem));
	json_object_object_add(o, "client_email",
			       json_object_new_string(EMAIL));
	json_object_object_add(o, "token_uri", json_object_new_string(AUD));
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(json_object_to_json_string(o), f);
	fclose(f);
	chmod(path, mode);
	json_object_put(o);
	free(pem);
	return path;
}

static void
test_claims(void)
{
	char *c = mb_sa_claims(EMAIL, "mailbox@example.com",
			       "https://mail.google.com/", AUD, 1700000000);

	tap_is_str(c, "{\"iss\":\"" EMAIL "\",\"sub\":\"mailbox@example.com\","
		   "\"scope\":\"https://mail.google.com/\",\"aud\":\"" AUD
		   "\",\"iat\":1700000000,\"exp\":1700003600}",
		   "claims: iss, sub, scope, aud, iat, exp = iat + 3600");
	free(c);
	c = mb_sa_claims("a\"b", "c\\d", "e", "f", 0);
	tap_has_str(c, "\"iss\":\"a\\\"b\",\"sub\":\"c\\\\d\"",
		    "claims: quotes and backslashes escaped");
	free(c);
}

static const char *
member(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ?
	       json_object_get_string(v) : "";
}

static void
test_assertion(EVP_PKEY *key)
{
	struct mb_account a;
	char *jwt, *err = NULL, *dot1, *dot2;
	unsigned char *hdr, *pay, *sig;
	size_t hl, pl, sl;
	struct json_object *h, *p;
	time_t now = time(NULL);
	EVP_MD_CTX *ctx;
	int v;

	memset(&a, 0, sizeof(a));
	a.user = s_user;
	a.scope = s_scope;
	a.token_endpoint = s_aud;
	a.service_account_file = write_key("sa.json", key, "service_account",
					   0600);
	jwt = mb_sa_assertion(&a, now, &err);
	if (!tap_ok(jwt != NULL, "assertion made"))
		tap_diag("error: %s", err ? err : "(null)");
	if (jwt == NULL) {
		tap_skip(8, "no assertion");
		return;
	}
	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	tap_ok(dot2 != NULL && strchr(dot2 + 1, '.') == NULL,
	       "three parts");
	hdr = b64url_decode(jwt, (size_t)(dot1 - jwt), &hl);
	pay = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &pl);
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &sl);
	h = json_tokener_parse((char *)hdr);
	p = json_tokener_parse((char *)pay);
	tap_is_str(member(h, "alg"), "RS256", "header: alg RS256");
	tap_is_str(member(h, "kid"), "kid-1", "header: kid = private_key_id");
	tap_is_str(member(p, "iss"), EMAIL, "claims: iss = client_email");
	tap_is_str(member(p, "sub"), "mailbox@example.com",
		   "claims: sub = user");
	tap_is_str(member(p, "aud"), AUD, "claims: aud = token_endpoint");
	tap_ok(atoll(member(p, "exp")) - atoll(member(p, "iat")) == 3600 &&
	       atoll(member(p, "iat")) == (long long)now,
	       "claims: iat = now, exp = iat + 3600");
	ctx = EVP_MD_CTX_new();
	v = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, sl, (unsigned char *)jwt,
			     (size_t)(dot2 - jwt)) == 1;
	tap_ok(v, "RS256 signature verifies with the public key");
	EVP_MD_CTX_free(ctx);
	json_object_put(h);
	json_object_put(p);
	free(hdr);
	free(pay);
	free(sig);
	free(jwt);
	unlink(a.service_account_file);
	free(a.service_account_file);
}

/* A refused key file: NULL, and an error saying has. */
static void
refused(const char *name, EVP_PKEY *key, const char *type, mode_t mode,
	const char *raw, const char *has)
{
	struct mb_account a;
	char *jwt, *err = NULL;

	memset(&a, 0, sizeof(a));
	a.user = s_user;
	a.scope = s_scope;
	a.token_endpoint = s_aud;
	if (raw != NULL) {
		FILE *f;

		if (asprintf(&a.service_account_file, "%s/%s", dir, name) < 0)
			abort();
		f = fopen(a.service_account_file, "w");
		fputs(raw, f);
		fclose(f);
		chmod(a.service_account_file, mode);
	} else {
		a.service_account_file = write_key(name, key, type, mode);
	}
	jwt = mb_sa_assertion(&a, time(NULL), &err);
	tap_ok(jwt == NULL, "%s: refused", name);
	tap_has_str(err ? err : "", has, name);
	free(jwt);
	free(err);
	unlink(a.service_account_file);
	free(a.service_account_file);
}

int
main(void)
{
	EVP_PKEY *rsa, *ec;

	tap_plan(2 + 9 + 5 * 2);
	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");
	rsa = EVP_RSA_gen(2048);
	ec = EVP_EC_gen("P-256");
	if (rsa == NULL || ec == NULL)
		tap_skip_all("libcrypto cannot make keys");
	test_claims();
	test_assertion(rsa);
	refused("open.json", rsa, "service_account", 0644, NULL,
		"(mode 0644); run: chmod 600");
	refused("user.json", rsa, "authorized_user", 0600, NULL,
		"key of type \"authorized_user\", not \"service_account\"");
	refused("ec.json", ec, "service_account", 0600, NULL,
		"not an RSA key");
	refused("trunc.json", NULL, NULL, 0600, "{\"type\": \"serv",
		"is not valid JSON");
	refused("nokey.json", NULL, NULL, 0600,
		"{\"type\": \"service_account\", \"client_email\": \"x\", "
		"\"private_key_id\": \"k\"}", "has no private_key string");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	rmdir(dir);
	return tap_done();
}
