/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "account-name.h"

/* The rule and its reasons are in account-name.h. */

bool
mb_account_name_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > MB_ACCOUNT_NAME_MAX)
		return false;
	if (s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '@' || c == '+' || c == '%'))
			return false;
	}
	return true;
}
