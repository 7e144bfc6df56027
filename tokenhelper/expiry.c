/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "expiry.h"

time_t
mb_expiry_at(time_t now, long expires_in)
{
	if (expires_in <= 0)
		return now;
	return now + (time_t)expires_in;
}

time_t
mb_expiry_refresh_at(time_t expires_at, time_t obtained_at, long margin)
{
	long m = margin < 0 ? 0 : margin;

	if (expires_at <= 0)
		return 0;
	if (obtained_at > 0 && expires_at > obtained_at &&
	    (expires_at - obtained_at) / 2 < m)
		m = (long)((expires_at - obtained_at) / 2);
	return expires_at - (time_t)m;
}

bool
mb_expiry_needs_refresh(time_t now, time_t expires_at, time_t obtained_at,
			long margin)
{
	if (expires_at <= 0)
		return true;
	return now >= mb_expiry_refresh_at(expires_at, obtained_at, margin);
}

bool
mb_expiry_usable(time_t now, time_t expires_at)
{
	return expires_at > now;
}
