/* SPDX-License-Identifier: MIT */
#ifndef MB_ACCOUNT_NAME_H
#define MB_ACCOUNT_NAME_H

/* The one account-name rule, for the configuration file ([ACCOUNT]), the
 * socket protocol (TOKEN / REJECTED) and the plugin:
 *
 *   account = acct-first *127acct-char
 *   acct-first = ALPHA / DIGIT / "_" / "@" / "+" / "%"
 *   acct-char  = acct-first / "." / "-"
 *
 * The name is also the name of the account's state files (NAME.json and
 * NAME.json.tmp-XXXXXX must fit in a 255-byte file name): no "/", no
 * leading "." (hidden, "..").  No leading "-" either: the name is an
 * argument of every command, where it would read as an option.  A
 * configured account can therefore always be asked for over the socket.
 *
 * Pure code: no allocation, no I/O. */

#include <stdbool.h>
#include <stddef.h>

#define MB_ACCOUNT_NAME_MAX 128

/* The rule in words, for error messages. */
#define MB_ACCOUNT_NAME_RULE \
	"letters, digits and . _ - @ + %, not starting with . or -, " \
	"at most 128"

/* True when s[0..len) is an account name (s may be NULL when len is 0). */
bool mb_account_name_valid(const char *s, size_t len);

#endif
