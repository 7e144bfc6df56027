/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "errtext.h"

#include "errstr.h"

const char *
mb_errstr(int err)
{
	static _Thread_local char buf[128];

	return mb_strerror(err, buf, sizeof(buf));
}
