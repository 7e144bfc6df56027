/* SPDX-License-Identifier: MIT */
#ifndef MB_SEAL_H
#define MB_SEAL_H

/*
 * Sealed values: what the etcd store writes, so that nothing a reader of
 * the cluster sees names a token, and a value copied under another
 * account's key is refused.  AES-256-GCM (libcrypto) under the 32-byte
 * key of state_key_file; the text is
 *
 *	mb1.KEYID.BASE64URL(nonce[12] || ciphertext || tag[16])
 *
 * with a fresh random nonce for every seal, and as associated data the
 * version label, the account and the value's role (name), NUL-separated:
 * the same ciphertext under another account or role does not open.
 * KEYID is 8 hex digits of SHA-256 over a fixed label and the key: the
 * same key file gives the same id on every host, and the id reveals
 * nothing of the key.
 */

#include <stddef.h>

#define MB_SEAL_KEY_SIZE 32
/* The largest value sealed, and the longest text opened: 64 more than
 * the text of the largest value (4 MiB + 51), which is refused unread. */
#define MB_SEAL_MAX_PLAIN (3u * 1024 * 1024)
#define MB_SEAL_MAX_TEXT (4u * 1024 * 1024 + 64)

struct mb_seal_key {
	unsigned char key[MB_SEAL_KEY_SIZE];
	/* 8 hex digits and a NUL */
	char id[9];
};

/* Loads state_key_file: a regular file (no symbolic link, FIFO or
 * device), owned by the running user or root, closed to group and
 * others, of exactly 32 bytes.  0, or -1 with *error_r malloc'd (one
 * sentence naming the file and the fix). */
int mb_seal_key_load(const char *path, struct mb_seal_key *k,
		     char **error_r);
/* Wipes the key. */
void mb_seal_key_clear(struct mb_seal_key *k);

/* plain[0..len) sealed for account and name (the value's role, e.g.
 * "state"): a malloc'd printable text, safe as an etcd value.  NULL only
 * when the random number generator or libcrypto failed, or len is over
 * MB_SEAL_MAX_PLAIN. */
char *mb_seal(const struct mb_seal_key *k, const char *account,
	      const char *name, const void *plain, size_t len);
/* Opens text[0..len), sealed by mb_seal for the same account and name
 * under the same key.  0 with *plain_r malloc'd and NUL-terminated
 * (*plain_len_r bytes before the NUL; the caller wipes and frees it), or
 * -1 with *error_r malloc'd: not a sealed value, sealed under another
 * key (both key ids), or not this account's or altered.  No message
 * holds the plaintext or the key. */
int mb_seal_open(const struct mb_seal_key *k, const char *account,
		 const char *name, const char *text, size_t len,
		 char **plain_r, size_t *plain_len_r, char **error_r);

#endif
