/* SPDX-License-Identifier: MIT */
#ifndef MB_PASSWORD_ADVICE_H
#define MB_PASSWORD_ADVICE_H

/* What restores a password login that libsasl2 handed to XOAUTH2 or
 * OAUTHBEARER (doc/plugin.md, "A password is not a token"): the setting
 * of the mail client in use that makes it choose PLAIN or LOGIN, found by
 * the program's name.  Pure, except mb_program_name. */

/* The advice for program (a short name such as "smtp", "mbsync"; NULL or
 * unknown: a generic sentence), a static string that follows "to log in
 * with the password, ". */
const char *mb_password_advice(const char *program);

/* The running program's short name (glibc's program_invocation_short_name:
 * no file to read, so it works inside Postfix's chroot), or "" where the C
 * library does not say. */
const char *mb_program_name(void);

#endif
