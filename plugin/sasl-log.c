/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "sasl-log.h"

#include <stdarg.h>
#include <stdio.h>	/* vsnprintf only: nothing here prints */
#include <string.h>

void
mb_sasl_log(const sasl_utils_t *utils, int level, const char *fmt, ...)
{
	char buf[MB_SASL_LOG_MAX];
	va_list ap;

	if (utils == NULL || utils->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	utils->log(utils->conn, level, "%s", buf);
}

void
mb_sasl_log3(const sasl_utils_t *utils, int level, const char *a,
	     const char *b, const char *c)
{
	const char *part[3] = { a, b, c };
	char buf[MB_SASL_LOG_MAX];
	size_t i, n, len = 0;

	if (utils == NULL || utils->log == NULL)
		return;
	for (i = 0; i < 3; i++) {
		n = strlen(part[i]);
		if (n > sizeof(buf) - 1 - len)
			n = sizeof(buf) - 1 - len;
		memcpy(buf + len, part[i], n);
		len += n;
	}
	buf[len] = '\0';
	utils->log(utils->conn, level, "%s", buf);
}

void
mb_sasl_seterror(const sasl_utils_t *utils, const char *fmt, ...)
{
	char buf[MB_SASL_LOG_MAX];
	va_list ap;

	if (utils == NULL || utils->seterror == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	utils->seterror(utils->conn, SASL_NOLOG, "%s", buf);
	if (utils->log != NULL)
		utils->log(utils->conn, SASL_LOG_ERR, "%s", buf);
}
