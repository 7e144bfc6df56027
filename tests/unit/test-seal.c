/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"
#include "tap.h"

/* tokenhelper/seal.c: the values the etcd store writes.  A sealed value
 * opens only under its key, for its account and role, unaltered; the
 * key file is refused unless it is a private regular file of 32 bytes;
 * no message holds the plaintext. */

static char dir[300];
static const char secret[] = "ya29.a0-refresh-token-SECRET";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz0123456789-_";

/* Writes len bytes of data to dir/name with mode; returns the path. */
static const char *
key_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		tap_diag("writing %s: %s", path, strerror(errno));
		exit(1);
	}
	chmod(path, mode);
	return path;
}

static void
load(const char *name, const char *bytes, struct mb_seal_key *k)
{
	const char *path = key_file(name, bytes, MB_SEAL_KEY_SIZE, 0600);
	char *err = NULL;

	if (mb_seal_key_load(path, k, &err) < 0) {
		tap_diag("%s", err);
		exit(1);
	}
}

/* Opens text for account/name under k; the message is kept in *err_r
 * ("" when it opened; checked never to hold the secret). */
static int
try_open(const struct mb_seal_key *k, const char *account, const char *name,
	 const char *text, size_t len, char **err_r)
{
	char *plain = NULL;
	size_t plen = 0;
	int rc;

	rc = mb_seal_open(k, account, name, text, len, &plain, &plen, err_r);
	if (rc == 0) {
		free(plain);
		*err_r = strdup("");
	}
	else if (*err_r == NULL || strstr(*err_r, secret) != NULL ||
		 strstr(*err_r, "SECRET") != NULL)
		tap_ok(0, "a refusal holds a message and never the secret");
	return rc;
}

static void
round_trip(const struct mb_seal_key *k, const char *what, const void *data,
	   size_t len)
{
	char *text = mb_seal(k, "alice", "state", data, len), *plain = NULL;
	char *err = NULL;
	size_t plen = 0, i;
	int printable = text != NULL;

	for (i = 0; text != NULL && text[i] != '\0'; i++)
		if (strchr(b64url, text[i]) == NULL && text[i] != '.')
			printable = 0;
	tap_ok(printable, "%s: sealed as printable text", what);
	tap_ok(text != NULL && mb_seal_open(k, "alice", "state", text,
		strlen(text), &plain, &plen, &err) == 0,
	       "%s: opens again", what);
	tap_is_mem(plain, plen, data, len, "... to the same bytes");
	tap_ok(plain != NULL && plain[plen] == '\0', "... NUL-terminated");
	free(plain);
	free(err);
	free(text);
}

static void
test_round_trip(const struct mb_seal_key *k)
{
	char *big = malloc(65536), *a, *b;
	size_t i;

	for (i = 0; i < 65536; i++)
		big[i] = (char)(i * 7 + 3);
	round_trip(k, "empty", "", 0);
	round_trip(k, "1 byte", "x", 1);
	round_trip(k, "64 KiB", big, 65536);
	free(big);

	a = mb_seal(k, "alice", "state", secret, sizeof(secret) - 1);
	b = mb_seal(k, "alice", "state", secret, sizeof(secret) - 1);
	tap_ok(a != NULL && b != NULL && strcmp(a, b) != 0,
	       "two seals of the same text differ (fresh nonce)");
	tap_lacks_str(a ? a : "", "ya29", "the sealed text does not show "
		      "the token");
	tap_ok(a != NULL && strncmp(a, "mb1.", 4) == 0 &&
	       strncmp(a + 4, k->id, 8) == 0 && a[12] == '.',
	       "the text is mb1.KEYID.DATA");
	free(a);
	free(b);
	tap_ok(mb_seal(k, "alice", "state", "", MB_SEAL_MAX_PLAIN + 1) ==
	       NULL, "a value over MB_SEAL_MAX_PLAIN is not sealed");
}

/* A value sealed by another implementation (Python's cryptography,
 * AESGCM: key 00..1f, nonce a0..ab, associated data "mailbearer sealed
 * value v1\0alice\0state"): the format is fixed, so what one host or
 * release sealed opens on another. */
static void
test_known_value(void)
{
	static const char text[] = "mb1.ff4f7948.oKGio6SlpqeoqaqrnToOSCO5Z8"
		"wKOvO8bB-u_EqOaD-9hyVB-XZH6w_HECOvHWiMQApeE7Y4z6-3VEBxqA";
	static const char want[] = "{\"refresh_token\":\"1//0g-example\"}";
	char key[MB_SEAL_KEY_SIZE], *plain = NULL, *err = NULL;
	struct mb_seal_key k;
	size_t i, plen = 0;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (char)i;
	load("known", key, &k);
	tap_is_str(k.id, "ff4f7948", "known key: its id");
	tap_ok(mb_seal_open(&k, "alice", "state", text, sizeof(text) - 1,
			    &plain, &plen, &err) == 0,
	       "known value: opens");
	tap_is_mem(plain, plen, want, sizeof(want) - 1, "... to its text");
	free(plain);
	free(err);
	mb_seal_key_clear(&k);
}

static void
test_key_ids(const struct mb_seal_key *k1, const struct mb_seal_key *k2)
{
	struct mb_seal_key again;
	char key1[MB_SEAL_KEY_SIZE];
	size_t i;
	int hex = strlen(k1->id) == 8;

	for (i = 0; i < 8; i++)
		if (strchr("0123456789abcdef", k1->id[i]) == NULL)
			hex = 0;
	tap_ok(hex, "the key id is 8 lowercase hex digits (%s)", k1->id);
	memset(key1, 'k', sizeof(key1));
	load("key1-copy", key1, &again);
	tap_is_str(again.id, k1->id, "the same key gives the same id");
	tap_ok(strcmp(k1->id, k2->id) != 0, "another key, another id");
	mb_seal_key_clear(&again);
	tap_ok(again.id[0] == '\0' && again.key[0] == 0 &&
	       again.key[MB_SEAL_KEY_SIZE - 1] == 0,
	       "mb_seal_key_clear wipes the key and its id");
}

static void
test_refusals(const struct mb_seal_key *k1, const struct mb_seal_key *k2)
{
	char *text = mb_seal(k1, "alice", "state", secret, sizeof(secret) - 1);
	char *err = NULL, *copy;
	size_t len = strlen(text), i, flips = 0, opened = 0;
	static const char sub[] = "\x01\x20\x7f\x80";
	/* the separator cannot be moved: "alice"+"state" is not
	 * "alices"+"tate" */
	static const struct {
		const char *account, *name, *what;
	} others[] = {
		{ "carol", "state", "another account of the same length" },
		{ "alice", "lock", "another name (role)" },
		{ "alice", "stats", "another name of the same length" },
		{ "alices", "tate", "account and name shifted" },
	};

	tap_ok(try_open(k2, "alice", "state", text, len, &err) < 0,
	       "under another key: refused");
	tap_has_str(err, k1->id, "... naming the key id it was sealed under");
	tap_has_str(err, k2->id, "... and this host's key id");
	tap_has_str(err, "copy the cluster's state_key_file to this host",
		    "... and the fix");
	tap_has_str(err, "mailbearer store rekey", "... or the rekey");
	free(err);
	err = NULL;

	tap_ok(try_open(k1, "bob", "state", text, len, &err) < 0,
	       "under another account: refused");
	tap_has_str(err, "a value copied from another account's key is "
		    "refused", "... said");
	free(err);
	err = NULL;
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		tap_ok(try_open(k1, others[i].account, others[i].name, text,
				len, &err) < 0, "under %s: refused",
		       others[i].what);
		free(err);
		err = NULL;
	}

	/* every byte changed, to several values: never opens */
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		size_t s;

		for (s = 0; s < sizeof(sub) - 1; s++) {
			memcpy(copy, text, len);
			copy[i] = (char)(copy[i] ^ sub[s]);
			flips++;
			if (try_open(k1, "alice", "state", copy, len,
				     &err) == 0)
				opened++;
			free(err);
			err = NULL;
		}
	}
	tap_ok(opened == 0, "every single-byte change refused (%zu of %zu "
	       "opened)", opened, flips);
	/* the last character carries unused bits (56 bytes): only one of
	 * the 64 characters there is the value */
	for (i = 0; i < 64; i++) {
		memcpy(copy, text, len);
		copy[len - 1] = b64url[i];
		if (copy[len - 1] != text[len - 1] &&
		    try_open(k1, "alice", "state", copy, len, &err) == 0)
			opened++;
		free(err);
		err = NULL;
	}
	tap_ok(opened == 0, "one text per value: another last character "
	       "is refused");
	free(copy);

	for (i = 0; i < len; i++) {
		if (try_open(k1, "alice", "state", text, i, &err) == 0)
			opened++;
		free(err);
		err = NULL;
	}
	tap_ok(opened == 0, "every truncation refused");
	tap_ok(try_open(k1, "alice", "state", "", 0, &err) < 0,
	       "empty input refused");
	tap_has_str(err, "is not a value mailbearer sealed", "... as not a "
		    "sealed value");
	free(err);
	err = NULL;
	tap_ok(try_open(k1, "alice", "state", "{\"refresh_token\":1}", 19,
			&err) < 0, "garbage refused");
	free(err);
	err = NULL;
	tap_ok(try_open(k1, "alice", "state", "mb1.\0\0\0\0\0\0\0\0.AAAA",
			17, &err) < 0, "NUL bytes refused");
	free(err);
	err = NULL;
	free(text);
}

static void
test_huge(const struct mb_seal_key *k)
{
	size_t len = MB_SEAL_MAX_TEXT + 1;
	char *huge = malloc(len), *err = NULL;

	memset(huge, 'A', len);
	memcpy(huge, "mb1.", 4);
	memcpy(huge + 4, k->id, 8);
	huge[12] = '.';
	tap_ok(try_open(k, "alice", "state", huge, len, &err) < 0,
	       "a text over MB_SEAL_MAX_TEXT refused");
	tap_has_str(err, "is not a value mailbearer sealed", "... unread, "
		    "as no value mailbearer sealed");
	free(err);
	err = NULL;
	tap_ok(try_open(k, "alice", "state", huge, len - 2, &err) < 0,
	       "a text of 4 MiB of well-formed base64url refused (no tag)");
	free(err);
	free(huge);
}

/* Loading path is refused, with a message holding each of needles
 * (NULL-terminated). */
static void
load_refused(const char *path, const char *what, ...)
{
	struct mb_seal_key k;
	const char *needle;
	char *err = NULL;
	va_list ap;

	tap_ok(mb_seal_key_load(path, &k, &err) < 0 && err != NULL,
	       "%s: refused", what);
	va_start(ap, what);
	while ((needle = va_arg(ap, const char *)) != NULL)
		tap_has_str(err ? err : "", needle, "... said");
	va_end(ap);
	free(err);
}

static void
test_key_file(void)
{
	char key[MB_SEAL_KEY_SIZE + 1], path2[420], *err = NULL;
	struct mb_seal_key k;
	const char *path;

	memset(key, 'z', sizeof(key));
	path = key_file("open", key, MB_SEAL_KEY_SIZE, 0644);
	load_refused(path, "a 0644 key file", path, "mode 0644",
		     "chmod 600", (char *)NULL);
	path = key_file("ro", key, MB_SEAL_KEY_SIZE, 0400);
	tap_ok(mb_seal_key_load(path, &k, &err) == 0, "a 0400 key file: "
	       "loaded");
	free(err);
	mb_seal_key_clear(&k);

	path = key_file("short", key, MB_SEAL_KEY_SIZE - 1, 0600);
	load_refused(path, "31 bytes", "has 31 bytes, not 32",
		     "head -c 32 /dev/urandom", (char *)NULL);
	path = key_file("long", key, MB_SEAL_KEY_SIZE + 1, 0600);
	load_refused(path, "33 bytes", "has 33 bytes", (char *)NULL);
	path = key_file("empty", key, 0, 0600);
	load_refused(path, "0 bytes", "has 0 bytes", (char *)NULL);

	path = key_file("good", key, MB_SEAL_KEY_SIZE, 0600);
	snprintf(path2, sizeof(path2), "%s/link", dir);
	if (symlink(path, path2) < 0)
		tap_diag("symlink: %s", strerror(errno));
	load_refused(path2, "a symbolic link", "symbolic link",
		     (char *)NULL);
	unlink(path2);
	snprintf(path2, sizeof(path2), "%s/fifo", dir);
	if (mkfifo(path2, 0600) < 0)
		tap_diag("mkfifo: %s", strerror(errno));
	load_refused(path2, "a FIFO (without blocking)", "FIFO",
		     (char *)NULL);
	unlink(path2);
	snprintf(path2, sizeof(path2), "%s/missing", dir);
	load_refused(path2, "a missing file", path2, (char *)NULL);

	if (geteuid() == 0) {
		path = key_file("nobody", key, MB_SEAL_KEY_SIZE, 0600);
		if (chown(path, 65534, 65534) < 0)
			tap_diag("chown: %s", strerror(errno));
		load_refused(path, "a key file of another user", "chown",
			     (char *)NULL);
	} else {
		tap_skip(2, "not root: cannot give a file to another user");
	}
}

int
main(void)
{
	static const char *const files[] = {
		"key1", "key2", "key1-copy", "open", "ro", "short", "long",
		"empty", "good", "nobody", "known",
	};
	const char *tmp = getenv("MB_TMP");
	char key[MB_SEAL_KEY_SIZE], p[420];
	struct mb_seal_key k1, k2;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/mb-test-seal.XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");
	memset(key, 'k', sizeof(key));
	load("key1", key, &k1);
	key[0] = 'K';
	load("key2", key, &k2);

	test_round_trip(&k1);
	test_key_ids(&k1, &k2);
	test_known_value();
	test_refusals(&k1, &k2);
	test_huge(&k1);
	test_key_file();
	mb_seal_key_clear(&k1);
	mb_seal_key_clear(&k2);

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
