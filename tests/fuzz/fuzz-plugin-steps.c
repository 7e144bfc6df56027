/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the whole client step sequence of the plugin
 * (plugin/mech.c) fed arbitrary server messages, through a fake
 * sasl_utils_t as the unit tests use.
 *
 * Input: byte 0 picks the mechanism (bit 0) and whether the server sends
 * an empty challenge first (bit 1); then records of one length byte and
 * that many bytes: the first record is the authentication name, each
 * further one a server message.  Steps run until the plugin stops asking
 * for more (bounded by the input). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "mech.h"

static sasl_utils_t fz_utils;
static char fz_user[256];
static unsigned fz_user_len;
static union {
	sasl_secret_t s;
	char buf[sizeof(sasl_secret_t) + 64];
} fz_secret;
static const char fz_token[] = "ya29.fuzz-access-token_0123456789";

static void *
fz_malloc(size_t n)
{
	return malloc(n);
}

static void
fz_free(void *p)
{
	free(p);
}

static void
fz_erase(char *p, unsigned len)
{
	memset(p, 0, len);
}

static void
fz_seterror(sasl_conn_t *conn, unsigned flags, const char *fmt, ...)
{
}

static void
fz_log(sasl_conn_t *conn, int level, const char *fmt, ...)
{
}

static int
fz_authname(void *context, int id, const char **result, unsigned *len)
{
	*result = fz_user;
	*len = fz_user_len;
	return SASL_OK;
}

static int
fz_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	*psecret = &fz_secret.s;
	return SASL_OK;
}

static int
fz_getcallback(sasl_conn_t *conn, unsigned long id, sasl_callback_ft *proc,
	       void **context)
{
	*context = NULL;
	if (id == SASL_CB_AUTHNAME) {
		*proc = (sasl_callback_ft)(void (*)(void))fz_authname;
		return SASL_OK;
	}
	if (id == SASL_CB_PASS) {
		*proc = (sasl_callback_ft)(void (*)(void))fz_pass;
		return SASL_OK;
	}
	return SASL_FAIL;
}

static int
fz_canon_user(sasl_conn_t *conn, const char *in, unsigned inlen,
	      unsigned flags, sasl_out_params_t *oparams)
{
	static char canon[256];

	if (inlen >= sizeof(canon))
		return SASL_BADPARAM;
	memcpy(canon, in, inlen);
	canon[inlen] = '\0';
	oparams->authid = canon;
	oparams->alen = inlen;
	oparams->user = canon;
	oparams->ulen = inlen;
	return SASL_OK;
}

/* The next record of the input, or -1 when it is exhausted. */
static int
fz_record(const uint8_t **p, size_t *left, const uint8_t **rec)
{
	size_t n;

	if (*left == 0)
		return -1;
	n = (*p)[0];
	if (n > *left - 1)
		n = *left - 1;
	*rec = *p + 1;
	*p += n + 1;
	*left -= n + 1;
	return (int)n;
}

static void
fz_run(sasl_client_plug_t *plug, const uint8_t *p, size_t left, int flags)
{
	sasl_client_params_t params;
	sasl_out_params_t oparams;
	sasl_interact_t *prompts = NULL;
	const char *out;
	const uint8_t *rec;
	unsigned outlen;
	void *ctx = NULL;
	int n, result, steps;

	memset(&params, 0, sizeof(params));
	memset(&oparams, 0, sizeof(oparams));
	params.utils = &fz_utils;
	params.serverFQDN = "imap.example.com";
	params.ipremoteport = "127.0.0.1;993";
	params.canon_user = fz_canon_user;
	if (plug->mech_new(plug->glob_context, &params, &ctx) != SASL_OK)
		return;
	result = plug->mech_step(ctx, &params, (flags & 2) ? "" : NULL, 0,
				 &prompts, &out, &outlen, &oparams);
	for (steps = 0; result == SASL_CONTINUE && steps < 8; steps++) {
		n = fz_record(&p, &left, &rec);
		if (n < 0)
			break;
		result = plug->mech_step(ctx, &params, (const char *)rec,
					 (unsigned)n, &prompts, &out, &outlen,
					 &oparams);
	}
	plug->mech_dispose(ctx, &fz_utils);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sasl_client_plug_t *plugs;
	const uint8_t *p = data, *rec;
	size_t left = size;
	int version, count, flags, n;

	if (size < 1)
		return 0;
	flags = data[0];
	p++;
	left--;
	n = fz_record(&p, &left, &rec);
	if (n < 0)
		return 0;
	memcpy(fz_user, rec, (size_t)n);
	fz_user_len = (unsigned)n;
	fz_user[n] = '\0';
	fz_secret.s.len = sizeof(fz_token) - 1;
	memcpy(fz_secret.s.data, fz_token, sizeof(fz_token));

	fz_utils.malloc = fz_malloc;
	fz_utils.free = fz_free;
	fz_utils.erasebuffer = fz_erase;
	fz_utils.seterror = fz_seterror;
	fz_utils.log = fz_log;
	fz_utils.getcallback = fz_getcallback;
	if (mb_client_plug_init(&fz_utils, SASL_CLIENT_PLUG_VERSION, &version,
				&plugs, &count) != SASL_OK || count < 1)
		return 0;
	fz_run(&plugs[(flags & 1) % count], p, left, flags);
	return 0;
}
