/* SPDX-License-Identifier: MIT */
#ifndef MB_EXPIRY_H
#define MB_EXPIRY_H

/* Pure expiry math (unix seconds): the one freshness rule that
 * `mailbearer token`, the token core and `serve` (its request path and
 * its refresher) all apply. */

#include <stdbool.h>
#include <time.h>

/* A year: no real access token lives longer (an expires_in above it is
 * refused; an imported expiry further ahead too). */
#define MB_EXPIRES_IN_MAX (366L * 86400L)

/* expires_at for a token obtained at now with the given lifetime. */
time_t mb_expiry_at(time_t now, long expires_in);
/* When a token with this expiry should be refreshed: margin seconds
 * before it expires, the margin capped to half the token's lifetime
 * (expires_at - obtained_at, when known) so that short-lived tokens are
 * not refreshed on every use.  A token with no known expiry (0) is due
 * at once (returns 0). */
time_t mb_expiry_refresh_at(time_t expires_at, time_t obtained_at,
			    long margin);
/* true if a token with this expiry should be refreshed now:
 * now >= mb_expiry_refresh_at(). */
bool mb_expiry_needs_refresh(time_t now, time_t expires_at,
			     time_t obtained_at, long margin);
/* true if the token can still be used at all (not yet expired). */
bool mb_expiry_usable(time_t now, time_t expires_at);

#endif
