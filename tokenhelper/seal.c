/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "seal.h"

#include <fcntl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "digest.h"
#include "errtext.h"
#include "owner.h"
#include "safe-open.h"
#include "wipe.h"
#include "xalloc.h"

#define SEAL_PREFIX "mb1."
#define SEAL_PREFIX_LEN (sizeof(SEAL_PREFIX) - 1)
#define SEAL_ID_LEN 8
#define SEAL_NONCE 12
#define SEAL_TAG 16
/* Hashed with the key for its id; a change makes every id another. */
static const char seal_id_label[] = "mailbearer state key id v1";
/* The first part of the associated data, with its NUL. */
static const char seal_aad_label[] = "mailbearer sealed value v1";

/* Reads at most size bytes of fd into buf.  The count, or -1 (errno). */
static ssize_t
seal_read(int fd, unsigned char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Whether st, the key file path, may hold the key; if not, *error_r. */
static int
seal_key_file_ok(const char *path, const struct stat *st, char **error_r)
{
	char owner[64], me[64];

	if (st->st_uid != geteuid() && st->st_uid != 0) {
		*error_r = mb_xasprintf("the state key file %s belongs to %s, "
			"not to %s who runs mailbearer (nor root); run: "
			"chown %s %s", path,
			mb_owner_name(st->st_uid, owner, sizeof(owner)),
			mb_owner_name(geteuid(), me, sizeof(me)), me, path);
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		*error_r = mb_xasprintf("the state key file %s is accessible "
			"by group or others (mode %04o); run: chmod 600 %s",
			path, (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* 8 hex digits of SHA-256(label NUL key) into k->id. */
static int
seal_key_id(struct mb_seal_key *k)
{
	unsigned char buf[sizeof(seal_id_label) + MB_SEAL_KEY_SIZE];
	unsigned char md[32];
	static const char hex[] = "0123456789abcdef";
	int i, rc;

	memcpy(buf, seal_id_label, sizeof(seal_id_label));
	memcpy(buf + sizeof(seal_id_label), k->key, MB_SEAL_KEY_SIZE);
	rc = mb_sha256(buf, sizeof(buf), md);
	mb_wipe(buf, sizeof(buf));
	for (i = 0; rc == 0 && i < SEAL_ID_LEN / 2; i++) {
		k->id[2 * i] = hex[md[i] >> 4];
		k->id[2 * i + 1] = hex[md[i] & 15];
	}
	k->id[SEAL_ID_LEN] = '\0';
	mb_wipe(md, sizeof(md));
	return rc;
}

int
mb_seal_key_load(const char *path, struct mb_seal_key *k, char **error_r)
{
	unsigned char buf[MB_SEAL_KEY_SIZE + 1];
	struct stat st;
	char *label;
	ssize_t n;
	int fd;

	*error_r = NULL;
	memset(k, 0, sizeof(*k));
	label = mb_xasprintf("the state key file %s", path);
	fd = mb_open_regular(path, O_RDONLY, 0, MB_OPEN_NOFOLLOW, label, &st,
			     error_r);
	free(label);
	if (fd < 0)
		return -1;
	if (seal_key_file_ok(path, &st, error_r) < 0) {
		close(fd);
		return -1;
	}
	n = seal_read(fd, buf, sizeof(buf));
	if (n < 0)
		*error_r = mb_xasprintf("cannot read the state key file %s: "
					"%s", path, mb_errstr(errno));
	close(fd);
	if (n >= 0 && n != MB_SEAL_KEY_SIZE)
		*error_r = mb_xasprintf("the state key file %s has %jd bytes, "
			"not %d; make one with: (umask 077; head -c %d "
			"/dev/urandom > %s)", path,
			(intmax_t)(n > MB_SEAL_KEY_SIZE &&
				   st.st_size > n ? st.st_size : n),
			MB_SEAL_KEY_SIZE, MB_SEAL_KEY_SIZE, path);
	if (*error_r == NULL) {
		memcpy(k->key, buf, MB_SEAL_KEY_SIZE);
		if (seal_key_id(k) < 0)
			*error_r = mb_xasprintf("cannot derive the id of the "
						"state key in %s: libcrypto "
						"failed", path);
	}
	mb_wipe(buf, sizeof(buf));
	if (*error_r != NULL) {
		mb_seal_key_clear(k);
		return -1;
	}
	return 0;
}

void
mb_seal_key_clear(struct mb_seal_key *k)
{
	mb_wipe(k, sizeof(*k));
}

/* The associated data: the label, account and name, NUL-separated. */
static unsigned char *
seal_aad(const char *account, const char *name, size_t *len_r)
{
	size_t la = strlen(account), ln = strlen(name);
	unsigned char *aad;

	*len_r = sizeof(seal_aad_label) + la + 1 + ln;
	aad = mb_xmalloc(*len_r);
	memcpy(aad, seal_aad_label, sizeof(seal_aad_label));
	memcpy(aad + sizeof(seal_aad_label), account, la + 1);
	memcpy(aad + sizeof(seal_aad_label) + la + 1, name, ln);
	return aad;
}

/* AES-256-GCM of in[0..len) into out (len bytes): enc 1 seals and
 * writes tag, enc 0 opens and checks it.  0, or -1 (for enc 0: not
 * authentic; out then holds nothing to keep). */
static int
seal_gcm(int enc, const struct mb_seal_key *k, const unsigned char *nonce,
	 const char *account, const char *name, const unsigned char *in,
	 size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *aad;
	size_t aad_len;
	int n = 0, ok;

	aad = seal_aad(account, name, &aad_len);
	ok = ctx != NULL &&
	     EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
			       enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE,
				 NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, k->key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
	     (len == 0 ||
	      EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
					 tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, out + len, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
					  tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	free(aad);
	return ok ? 0 : -1;
}

char *
mb_seal(const struct mb_seal_key *k, const char *account, const char *name,
	const void *plain, size_t len)
{
	size_t blen = SEAL_NONCE + len + SEAL_TAG, tlen;
	unsigned char *bin;
	char *text = NULL;

	if (len > MB_SEAL_MAX_PLAIN)
		return NULL;
	bin = mb_xmalloc(blen);
	if (RAND_bytes(bin, SEAL_NONCE) == 1 &&
	    seal_gcm(1, k, bin, account, name, plain, len, bin + SEAL_NONCE,
		     bin + SEAL_NONCE + len) == 0) {
		tlen = SEAL_PREFIX_LEN + SEAL_ID_LEN + 1 +
		       mb_base64url_len(blen) + 1;
		text = mb_xmalloc(tlen);
		memcpy(text, SEAL_PREFIX, SEAL_PREFIX_LEN);
		memcpy(text + SEAL_PREFIX_LEN, k->id, SEAL_ID_LEN);
		text[SEAL_PREFIX_LEN + SEAL_ID_LEN] = '.';
		mb_base64url_encode(text + SEAL_PREFIX_LEN + SEAL_ID_LEN + 1,
				    tlen - SEAL_PREFIX_LEN - SEAL_ID_LEN - 1,
				    bin, blen);
	}
	free(bin);
	return text;
}

/* Whether text[0..len) is SEAL_PREFIX, a key id and a dot. */
static int
seal_has_head(const char *text, size_t len)
{
	size_t i;

	if (len < SEAL_PREFIX_LEN + SEAL_ID_LEN + 1 ||
	    memcmp(text, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0 ||
	    text[SEAL_PREFIX_LEN + SEAL_ID_LEN] != '.')
		return 0;
	for (i = SEAL_PREFIX_LEN; i < SEAL_PREFIX_LEN + SEAL_ID_LEN; i++)
		if (strchr("0123456789abcdef", text[i]) == NULL ||
		    text[i] == '\0')
			return 0;
	return 1;
}

int
mb_seal_open(const struct mb_seal_key *k, const char *account,
	     const char *name, const char *text, size_t len, char **plain_r,
	     size_t *plain_len_r, char **error_r)
{
	size_t head = SEAL_PREFIX_LEN + SEAL_ID_LEN + 1, blen = 0, plen;
	unsigned char *bin = NULL, *plain;

	*plain_r = NULL;
	*plain_len_r = 0;
	*error_r = NULL;
	if (len <= MB_SEAL_MAX_TEXT && seal_has_head(text, len)) {
		blen = mb_base64url_decoded_len(len - head);
		if (blen != (size_t)-1 && blen >= SEAL_NONCE + SEAL_TAG) {
			bin = mb_xmalloc(blen);
			blen = mb_base64url_decode(bin, blen, text + head,
						   len - head);
		}
	}
	if (bin == NULL || blen == (size_t)-1) {
		free(bin);
		*error_r = mb_xasprintf("the %s value of account %s is not a "
			"value mailbearer sealed (mb1.KEYID.DATA): it was "
			"written by something else, cut short or altered",
			name, account);
		return -1;
	}
	if (memcmp(text + SEAL_PREFIX_LEN, k->id, SEAL_ID_LEN) != 0) {
		free(bin);
		*error_r = mb_xasprintf("the %s value of account %s was "
			"sealed under key id %.*s, but this host's "
			"state_key_file has key id %s; copy the cluster's "
			"state_key_file to this host, or re-seal the cluster "
			"with `mailbearer store rekey`", name, account,
			SEAL_ID_LEN, text + SEAL_PREFIX_LEN, k->id);
		return -1;
	}
	plen = blen - SEAL_NONCE - SEAL_TAG;
	plain = mb_xmalloc(plen + 1);
	if (seal_gcm(0, k, bin, account, name, bin + SEAL_NONCE, plen, plain,
		     bin + SEAL_NONCE + plen) < 0) {
		mb_wipe(plain, plen + 1);
		free(plain);
		free(bin);
		*error_r = mb_xasprintf("the %s value of account %s does not "
			"open under key id %s: it belongs to another account "
			"or role, or was altered (a value copied from another "
			"account's key is refused)", name, account, k->id);
		return -1;
	}
	free(bin);
	plain[plen] = '\0';
	*plain_r = (char *)plain;
	*plain_len_r = plen;
	return 0;
}
