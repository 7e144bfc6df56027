/* SPDX-License-Identifier: MIT */
#ifndef MB_FLOW_CODE_H
#define MB_FLOW_CODE_H

/* What the flows of `mailbearer authorize` share: the authorization code
 * grant with PKCE S256 and a random state (RFC 6749 4.1, RFC 7636), the
 * token-endpoint request and its judgement, storing the first tokens
 * through the account's lock and atomic state file, the summary printed
 * afterwards, and SIGINT/SIGTERM/SIGHUP handling that leaves nothing
 * behind.  flow-loopback.c, flow-paste.c and flow-device.c are built on
 * it; cmd-authorize.c chooses one. */

#include <stdbool.h>
#include <time.h>

#include "conf.h"

/* How an authorization ended; cmd-authorize.c maps it to an exit code. */
enum mb_auth_status {
	MB_AUTH_OK = 0,
	/* Refused: the user denied, the code or device code expired, the
	 * state did not match, the code was refused (wrong verifier...). */
	MB_AUTH_DENIED,
	/* The client's configuration is wrong (invalid_client...). */
	MB_AUTH_CLIENT,
	/* Network, provider failure, no answer in time: try again. */
	MB_AUTH_TRANSIENT,
	/* What was pasted is not a redirect or a code. */
	MB_AUTH_INPUT,
	/* Local: no listener, the state cannot be written. */
	MB_AUTH_LOCAL,
	/* SIGINT, SIGTERM or SIGHUP: nothing was stored. */
	MB_AUTH_INTERRUPTED,
};

/* One authorization attempt's secrets and parameters. */
struct mb_code_session {
	char verifier[65];	/* RFC 7636 code_verifier, 64 chars; secret */
	char challenge[44];	/* BASE64URL(SHA-256(verifier)), 43 chars */
	char state[44];		/* 32 random bytes, base64url */
	char nonce[44];		/* OpenID Connect nonce, likewise */
	char *redirect_uri;	/* malloc'd */
};

/* What a redirect carried (query parameters, decoded), malloc'd. */
struct mb_code_redirect {
	char *code;		/* secret */
	char *state;
	char *error;
	char *error_description;
};

/* A token-endpoint reply (code or device grant).  Strings malloc'd. */
struct mb_grant_out {
	char *access_token;	/* secret; NULL if the reply had none */
	char *refresh_token;	/* secret; NULL if none */
	char *scope;		/* as granted, NULL if not said */
	long expires_in;	/* -1 if unknown */
	char *id_token;		/* OpenID Connect id_token, or NULL; secret */
	char *error;		/* the provider's error code, if refused */
	char *message;		/* secret-free sentence on failure */
};

/* Fills s with a fresh verifier and state from getrandom(2) and sets
 * the redirect URI.  0, or -1 with *error_r. */
int mb_code_session_init(struct mb_code_session *s, const char *redirect_uri,
			 char **error_r);
/* Wipes and frees; safe twice. */
void mb_code_session_clear(struct mb_code_session *s);
/* BASE64URL(SHA-256(in)) without padding into out[44]: exposed for the
 * tests (tests/unit/test-flow-code.c). */
void mb_code_s256(const char *in, char out[44]);
/* The scope to ask for: the account's, and with check_identity what
 * brings an id_token naming the user (openid email; Microsoft also
 * profile, for preferred_username).  malloc'd. */
char *mb_code_scope(const struct mb_account *acct);
/* The authorization URL: the account's authorize_endpoint with
 * response_type=code, client_id, redirect_uri, scope (mb_code_scope()),
 * state, code_challenge(_method=S256), login_hint = the account's user,
 * with check_identity the nonce, and for Google access_type=offline and
 * prompt=consent.  malloc'd, NULL when the account has no
 * authorize_endpoint. */
char *mb_code_auth_url(const struct mb_account *acct,
		       const struct mb_code_session *s);
/* Refuses, before any request, a configuration that cannot produce a
 * refresh token (Microsoft without offline_access in scope) or that has
 * no such endpoint.  0, or -1 with *error_r. */
int mb_code_check_account(const struct mb_account *acct, bool device,
			  char **error_r);
/* Parses a query string (the part after '?', up to any '#').  A
 * parameter given twice is refused (RFC 6749 3.1).  0 or -1. */
int mb_code_parse_query(const char *query, struct mb_code_redirect *r);
void mb_code_redirect_clear(struct mb_code_redirect *r);
/* The redirect carries this session's state (compared in constant
 * time). */
bool mb_code_state_matches(const struct mb_code_redirect *r,
			   const struct mb_code_session *s);
/* Judges a redirect: the provider's error (with advice), a missing or
 * wrong state, a missing code.  MB_AUTH_OK, or another status with
 * *error_r (secret-free). */
enum mb_auth_status mb_code_check_redirect(const struct mb_account *acct,
					   const struct mb_code_redirect *r,
					   const struct mb_code_session *s,
					   char **error_r);

/* One POST of fields to the token endpoint (secrets: the values to mask
 * in any message, NULL-terminated).  MB_AUTH_OK with out's tokens; with
 * the provider's error: out->error and out->message, and a status that
 * says what kind of failure it is (authorization_pending and slow_down
 * come back as MB_AUTH_TRANSIENT with out->error set). */
enum mb_auth_status mb_grant_request(const struct mb_account *acct,
				     const char *url,
				     const char *const *fields,
				     const char *const *secrets,
				     struct mb_grant_out *out);
void mb_grant_out_clear(struct mb_grant_out *out);
/* The status a provider's error code means for authorize (advice.h has
 * the sentence). */
enum mb_auth_status mb_grant_error_status(const char *error, long aadsts);

/* Exchanges code at the token endpoint and stores the tokens: under the
 * account's lock, with the new state file reserved before the code is
 * spent (a full disk or read-only directory: nothing attempted).  With
 * check_identity, only when the reply's id_token names the account's
 * user and carries s's nonce.  Prints the summary.  MB_AUTH_OK, or
 * another status after logging why. */
enum mb_auth_status mb_code_redeem(const struct mb_account *acct,
				   const struct mb_code_session *s,
				   const char *code);
/* One token-endpoint request (fields, secrets as for mb_grant_request())
 * under the account's lock, with the next state file reserved first; a
 * reply that carries tokens (or only a refresh token) is stored at once
 * and the summary printed, unless check_identity finds its id_token
 * missing, invalid (nonce: the one sent, or NULL when none was), or
 * naming someone else than the account's user (MB_AUTH_DENIED or
 * MB_AUTH_CLIENT, logged).  MB_AUTH_OK when stored; otherwise nothing
 * was stored and g says why (g->message NULL for a local failure, which
 * is logged).  Clear g with mb_grant_out_clear(). */
enum mb_auth_status mb_grant_redeem(const struct mb_account *acct,
				    const char *const *fields,
				    const char *const *secrets,
				    const char *nonce,
				    struct mb_grant_out *g);
/* Before the user is asked to do anything: the state directory can take
 * the new state (the same check as when storing, then released).
 * MB_AUTH_OK, or MB_AUTH_LOCAL after logging why. */
enum mb_auth_status mb_grant_check_writable(const struct mb_account *acct);

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call before
 * any other thread exists) and starts a thread that waits for them: it
 * then cancels network I/O and sleeps (cancel.h) and makes
 * mb_auth_signal_fd() readable.  0 or -1. */
int mb_auth_signals_start(void);
/* Readable once a signal arrived (-1 before mb_auth_signals_start()). */
int mb_auth_signal_fd(void);
/* The signal received, 0 if none. */
int mb_auth_signal(void);

/* The three user flows (flow-loopback.c, flow-paste.c, flow-device.c).
 * Each prints what the user must do on standard output, waits at most
 * timeout seconds (device: also no longer than the code lives), stores
 * the tokens and prints the summary. */
struct mb_auth_opts {
	long timeout;		/* seconds, > 0 */
	bool no_browser;	/* loopback: never start a browser */
	const char *redirect_uri; /* paste: NULL for the default */
};
enum mb_auth_status mb_authorize_loopback(const struct mb_account *acct,
					  const struct mb_auth_opts *o);
enum mb_auth_status mb_authorize_paste(const struct mb_account *acct,
				       const struct mb_auth_opts *o);
enum mb_auth_status mb_authorize_device(const struct mb_account *acct,
					const struct mb_auth_opts *o);

#endif
