/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "mech.h"

#include <stdbool.h>
#include <string.h>

#include "creds.h"
#include "initial-response.h"
#include "sasl-log.h"
#include "options.h"
#include "token-source.h"
#include "xoauth2-msg.h"

/*
 * The exchange (both mechanisms; STYLE.md 1.5, RFC 7628 section 3.2,
 * Google's XOAUTH2 protocol page):
 *
 *   INITIAL --(initial response sent; SASL_CONTINUE)--> SENT
 *   SENT    --(empty server message; SASL_OK, doneflag)--> DONE
 *   SENT    --(error challenge; reply "" or ^A, seterror;
 *              SASL_CONTINUE)--> FAILED
 *   FAILED, DONE --(any further step)--> SASL_BADPROT
 *
 * The server's final NO/535 after FAILED is reported by the application;
 * our error detail (sasl_errdetail) says why.
 */
enum mb_state {
	MB_STATE_INITIAL,
	MB_STATE_SENT,
	MB_STATE_FAILED,
	MB_STATE_DONE,
};

struct mb_ctx {
	enum mb_xo_mech mech;
	enum mb_state state;
	/* The initial response: holds the token, erased when done. */
	char *out;
	size_t out_len;
	struct mb_token token;
	/* Canonical authentication name (copy, for messages and the token
	 * source's rejection hook). */
	char *authid;
	size_t authid_len;
	bool authid_ascii;	/* printable ASCII only */
	/* The prompt array we handed to the application, if any. */
	sasl_interact_t *prompts;
	struct mb_options opts;
};

/* glob_context of each table entry: which mechanism it is (read only). */
static enum mb_xo_mech mb_kind_xoauth2 = MB_XO_XOAUTH2;
static enum mb_xo_mech mb_kind_oauthbearer = MB_XO_OAUTHBEARER;

static void
mb_ctx_wipe_out(const sasl_utils_t *utils, struct mb_ctx *ctx)
{
	if (ctx->out != NULL) {
		utils->erasebuffer(ctx->out, (unsigned)ctx->out_len);
		utils->free(ctx->out);
	}
	ctx->out = NULL;
	ctx->out_len = 0;
	mb_token_clear(utils, &ctx->token);
}

static int
mb_mech_new(void *glob_context, sasl_client_params_t *params,
	    void **conn_context)
{
	const sasl_utils_t *utils = params->utils;
	struct mb_ctx *ctx;

	ctx = utils->malloc(sizeof(*ctx));
	if (ctx == NULL) {
		mb_sasl_seterror(utils, "out of memory");
		return SASL_NOMEM;
	}
	memset(ctx, 0, sizeof(*ctx));
	ctx->mech = *(const enum mb_xo_mech *)glob_context;
	ctx->state = MB_STATE_INITIAL;
	*conn_context = ctx;
	return SASL_OK;
}

static void
mb_mech_dispose(void *conn_context, const sasl_utils_t *utils)
{
	struct mb_ctx *ctx = conn_context;

	if (ctx == NULL)
		return;
	mb_ctx_wipe_out(utils, ctx);
	mb_creds_free_prompts(utils, &ctx->prompts);
	if (ctx->authid != NULL)
		utils->free(ctx->authid);
	utils->erasebuffer((char *)ctx, sizeof(*ctx));
	utils->free(ctx);
}

/* Builds the initial response of ctx->mech into ctx->out, in one pass:
 * its exact length first (from the token's length, as scanned), then
 * each piece copied once; ctx->out is the only copy of the token the
 * plugin makes when the password is the token. */
static int
mb_build_initial(const sasl_utils_t *utils, sasl_client_params_t *params,
		 struct mb_ctx *ctx)
{
	const char *host = NULL;
	unsigned port = 0;
	size_t need;

	if (ctx->mech == MB_XO_OAUTHBEARER) {
		if (params->serverFQDN != NULL &&
		    mb_xo_host_ok(params->serverFQDN,
				  strlen(params->serverFQDN)))
			host = params->serverFQDN;
		if (params->ipremoteport != NULL)
			port = mb_xo_parse_port(params->ipremoteport,
						strlen(params->ipremoteport));
		need = mb_ir_oauthbearer_len(ctx->authid, ctx->authid_len,
					     host, port, ctx->token.len);
	} else {
		need = mb_ir_xoauth2_len(ctx->authid_len, ctx->token.len);
	}
	ctx->out = utils->malloc(need + 1);
	if (ctx->out == NULL) {
		mb_sasl_seterror(utils, "%s: out of memory",
				 mb_xo_mech_name(ctx->mech));
		return SASL_NOMEM;
	}
	ctx->out_len = need + 1;
	if (ctx->mech == MB_XO_OAUTHBEARER)
		mb_ir_oauthbearer(ctx->out, need + 1, ctx->authid,
				  ctx->authid_len, host, port,
				  ctx->token.data, ctx->token.len);
	else
		mb_ir_xoauth2(ctx->out, need + 1, ctx->authid,
			      ctx->authid_len, ctx->token.data,
			      ctx->token.len);
	return SASL_OK;
}

/* The authentication name: from the callbacks or prompts, checked,
 * canonicalised by libsasl2, checked again and kept in ctx->authid.  The
 * password (creds->password) is left to mb_step_token(). */
static int
mb_step_user(struct mb_ctx *ctx, sasl_client_params_t *params,
	     sasl_interact_t **prompt_need, sasl_out_params_t *oparams,
	     struct mb_creds *creds)
{
	const sasl_utils_t *utils = params->utils;
	const char *name = mb_xo_mech_name(ctx->mech);
	const char *why;
	char who[160];
	bool ascii;
	int result;

	result = mb_creds_get(params, name, prompt_need, &ctx->prompts,
			      creds);
	if (result != SASL_OK)
		return result;
	why = mb_xo_check_user_ascii(creds->authid, creds->authid_len,
				     &ascii);
	if (why != NULL) {
		mb_xo_sanitize(who, sizeof(who), creds->authid,
			       creds->authid_len);
		mb_sasl_seterror(utils, "%s: the user name \"%s\" %s", name,
				 who, why);
		return SASL_BADPARAM;
	}
	result = params->canon_user(utils->conn, creds->authid,
				    creds->authid_len,
				    SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
	if (result != SASL_OK)
		return result;
	/* Canonicalisation may change the name: check what we send. */
	if (oparams->alen != creds->authid_len ||
	    memcmp(oparams->authid, creds->authid, oparams->alen) != 0)
		why = mb_xo_check_user_ascii(oparams->authid, oparams->alen,
					     &ascii);
	if (why != NULL) {
		mb_sasl_seterror(utils, "%s: the canonical user name %s", name,
				 why);
		return SASL_BADPARAM;
	}
	if (ctx->authid != NULL)
		utils->free(ctx->authid);
	ctx->authid = utils->malloc(oparams->alen + 1);
	if (ctx->authid == NULL) {
		mb_sasl_seterror(utils, "%s: out of memory", name);
		return SASL_NOMEM;
	}
	memcpy(ctx->authid, oparams->authid, oparams->alen);
	ctx->authid[oparams->alen] = '\0';
	ctx->authid_len = oparams->alen;
	ctx->authid_ascii = ascii;
	return SASL_OK;
}

/* ctx->authid as it is shown in messages, into who[160]; made only for a
 * message that is sent. */
static const char *
mb_who(const struct mb_ctx *ctx, char who[160])
{
	return mb_xo_sanitize(who, 160, ctx->authid, ctx->authid_len);
}

/* The access token for ctx->authid, from its source, checked against the
 * token syntax (common/token-syntax.h) and mailbearer_strict_token. */
static int
mb_step_token(struct mb_ctx *ctx, const sasl_utils_t *utils,
	      const struct mb_creds *creds)
{
	const char *name = mb_xo_mech_name(ctx->mech);
	const char *why;
	char who[160];
	bool strict;
	int result;

	mb_options_load(utils, name, &ctx->opts);
	mb_token_clear(utils, &ctx->token);
	result = mb_token_source_resolve(utils, &ctx->opts, name, ctx->authid,
					 ctx->authid_len, creds->password,
					 creds->password_len, &ctx->token);
	if (result != SASL_OK)
		return result;
	if (ctx->token.b64token) {
		/* the token rule scanned it already (a b64token) */
		why = NULL;
		strict = true;
	} else {
		why = mb_xo_check_token(ctx->token.data, ctx->token.len,
					&strict);
	}
	if (why == NULL && !strict && ctx->opts.strict_token)
		why = "is not an RFC 6750 b64token (mailbearer_strict_token "
		      "is on)";
	if (why != NULL) {
		mb_sasl_seterror(utils, "%s: the access token for %s %s", name,
				 mb_who(ctx, who), why);
		mb_token_clear(utils, &ctx->token);
		return SASL_BADPARAM;
	}
	if (!strict)
		mb_sasl_log(utils, SASL_LOG_WARN,
			    "%s: the access token for %s is "
			    "not an RFC 6750 b64token; sending it anyway",
			    name, mb_who(ctx, who));
	return SASL_OK;
}

static int
mb_step_initial(struct mb_ctx *ctx, sasl_client_params_t *params,
		sasl_interact_t **prompt_need, const char **clientout,
		unsigned *clientoutlen, sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = params->utils;
	const char *name = mb_xo_mech_name(ctx->mech);
	struct mb_creds creds;
	char who[160];
	int result;

	if (params->props.min_ssf > params->external_ssf) {
		mb_sasl_seterror(
			utils,
			"%s: offers no security layer, and the "
			"application requires one beyond its TLS layer",
			name);
		return SASL_TOOWEAK;
	}
	result = mb_step_user(ctx, params, prompt_need, oparams, &creds);
	if (result != SASL_OK)
		return result;
	result = mb_step_token(ctx, utils, &creds);
	if (result == SASL_OK)
		result = mb_build_initial(utils, params, ctx);
	if (ctx->token.owned == NULL) {
		/* The password was the token: it is the application's, and
		 * valid during this step only. */
		ctx->token.data = NULL;
		ctx->token.len = 0;
	}
	if (result != SASL_OK)
		return result;
	*clientout = ctx->out;
	*clientoutlen = (unsigned)(ctx->out_len - 1);
	ctx->state = MB_STATE_SENT;
	/* On every login: no formatter, and the name as it is when the
	 * sanitiser would not change it. */
	mb_sasl_log3(utils, SASL_LOG_DEBUG, name,
		     ": sent the initial response for ",
		     ctx->authid_ascii && ctx->authid_len < sizeof(who) ?
		     ctx->authid : mb_who(ctx, who));
	return SASL_CONTINUE;
}

static int
mb_step_sent(struct mb_ctx *ctx, sasl_client_params_t *params,
	     const char *serverin, unsigned serverinlen,
	     const char **clientout, unsigned *clientoutlen,
	     sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = params->utils;
	struct mb_xo_error err;
	char detail[MB_SASL_LOG_MAX];

	if (serverinlen == 0) {
		/* The server accepted the token. */
		mb_ctx_wipe_out(utils, ctx);
		oparams->doneflag = 1;
		oparams->mech_ssf = 0;
		oparams->maxoutbuf = 0;
		oparams->encode_context = NULL;
		oparams->encode = NULL;
		oparams->decode_context = NULL;
		oparams->decode = NULL;
		oparams->param_version = 0;
		ctx->state = MB_STATE_DONE;
		return SASL_OK;
	}
	/* The error challenge: explain it, let the token source know, and
	 * acknowledge it so that the server sends its final failure. */
	mb_xo_parse_error(serverin, serverinlen, &err);
	mb_xo_describe_error(detail, sizeof(detail), ctx->mech, ctx->authid,
			     ctx->authid_len, &err);
	mb_sasl_seterror(utils, "%s", detail);
	mb_token_source_rejected(utils, &ctx->opts, ctx->authid,
				 ctx->authid_len, &ctx->token);
	mb_ctx_wipe_out(utils, ctx);
	if (ctx->mech == MB_XO_XOAUTH2) {
		/* Google: "the client must send an empty response". */
		*clientout = "";
		*clientoutlen = 0;
	} else {
		/* RFC 7628 3.2.3: client-resp = ... / kvsep */
		*clientout = "\001";
		*clientoutlen = 1;
	}
	ctx->state = MB_STATE_FAILED;
	return SASL_CONTINUE;
}

static int
mb_mech_step(void *conn_context, sasl_client_params_t *params,
	     const char *serverin, unsigned serverinlen,
	     sasl_interact_t **prompt_need, const char **clientout,
	     unsigned *clientoutlen, sasl_out_params_t *oparams)
{
	struct mb_ctx *ctx = conn_context;
	const char *name = mb_xo_mech_name(ctx->mech);

	*clientout = NULL;
	*clientoutlen = 0;
	if (serverin == NULL)
		serverinlen = 0;
	switch (ctx->state) {
	case MB_STATE_INITIAL:
		/* Client first: a server without SASL-IR sends an empty
		 * challenge first; anything in it carries no meaning. */
		return mb_step_initial(ctx, params, prompt_need, clientout,
				       clientoutlen, oparams);
	case MB_STATE_SENT:
		return mb_step_sent(ctx, params, serverin, serverinlen,
				    clientout, clientoutlen, oparams);
	case MB_STATE_FAILED:
		mb_sasl_seterror(
			params->utils,
			"%s: protocol error: the server "
			"sent another message after the error challenge "
			"was acknowledged (it should have ended the "
			"exchange with a failure)",
			name);
		return SASL_BADPROT;
	case MB_STATE_DONE:
	default:
		mb_sasl_seterror(params->utils,
				 "%s: protocol error: the server "
				 "sent a message after the authentication "
				 "succeeded",
				 name);
		return SASL_BADPROT;
	}
}

static const unsigned long mb_required_prompts[] = {
	SASL_CB_AUTHNAME,
	SASL_CB_PASS,
	SASL_CB_LIST_END,
};

/* Security flags: see doc/plugin.md, "Security flags".  Only what is true
 * of a bearer token:
 *   NOANONYMOUS	the token names an account;
 *   NODICTIONARY	the token is a high-entropy secret minted by the
 *			authorization server: nothing to guess offline or
 *			online (Cyrus's EXTERNAL claims it for the same
 *			reason);
 *   PASS_CREDENTIALS	the server receives a credential it could replay.
 * Not NOPLAINTEXT: the token crosses the wire as is and is replayable,
 * so a "noplaintext" policy must keep it off sessions without TLS
 * (RFC 7628 section 5).  Not NOACTIVE, MUTUAL_AUTH, FORWARD_SECRECY.
 * max_ssf 0: no security layer.  NODICTIONARY is also what ranks us above
 * kdexoauth2 (NOANONYMOUS | PASS_CREDENTIALS) in libsasl2's mech_compare,
 * whatever the load order. */
#define MB_SEC_FLAGS (SASL_SEC_NOANONYMOUS | SASL_SEC_NODICTIONARY | \
		      SASL_SEC_PASS_CREDENTIALS)

static sasl_client_plug_t mb_plugins[] = {
	{
		"XOAUTH2",			/* mech_name */
		0,				/* max_ssf */
		MB_SEC_FLAGS,			/* security_flags */
		SASL_FEAT_WANT_CLIENT_FIRST,	/* features */
		mb_required_prompts,		/* required_prompts */
		&mb_kind_xoauth2,		/* glob_context */
		mb_mech_new,
		mb_mech_step,
		mb_mech_dispose,
		NULL,				/* mech_free */
		NULL,				/* idle */
		NULL,
		NULL,
	},
	{
		"OAUTHBEARER",
		0,
		MB_SEC_FLAGS,
		SASL_FEAT_WANT_CLIENT_FIRST,
		mb_required_prompts,
		&mb_kind_oauthbearer,
		mb_mech_new,
		mb_mech_step,
		mb_mech_dispose,
		NULL,
		NULL,
		NULL,
		NULL,
	},
};

int
mb_client_plug_init(const sasl_utils_t *utils, int max_version,
		    int *out_version, sasl_client_plug_t **pluglist,
		    int *plugcount)
{
	if (max_version < SASL_CLIENT_PLUG_VERSION) {
		mb_sasl_log(
			utils, SASL_LOG_ERR,
			"mailbearer: libsasl2 offers "
			"client plugin API version %d, version %d is needed",
			max_version, SASL_CLIENT_PLUG_VERSION);
		return SASL_BADVERS;
	}
	*out_version = SASL_CLIENT_PLUG_VERSION;
	*pluglist = mb_plugins;
	*plugcount = (int)(sizeof(mb_plugins) / sizeof(mb_plugins[0]));
	return SASL_OK;
}
