#include <config.h>

#include "sasl-log.h"

#include <stdarg.h>
#include <stdio.h>	/* vsnprintf only: nothing here prints */

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
