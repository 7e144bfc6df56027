/* SPDX-License-Identifier: MIT */
#ifndef MB_CONF_H
#define MB_CONF_H

/* The helper's configuration: an INI file, one [section] per account,
 * described in mailbearer.conf(5); the parser lives in conf.c. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How the access token is obtained.  The authorization code and device
 * flows of `mailbearer authorize` produce refresh tokens: those accounts
 * are MB_FLOW_REFRESH_TOKEN. */
enum mb_flow {
	MB_FLOW_REFRESH_TOKEN = 0,
	/* RFC 6749 4.4, app-only: no user, no refresh token; each access
	 * token is requested with the client's own credentials. */
	MB_FLOW_CLIENT_CREDENTIALS,
	/* Google service account with domain-wide delegation: each access
	 * token comes from the RFC 7523 JWT-bearer grant, an assertion
	 * signed with the key in service_account_file naming user as
	 * sub; no refresh token. */
	MB_FLOW_SERVICE_ACCOUNT,
};

/* reply_timeout's default, seconds. */
#define MB_REPLY_TIMEOUT_DEFAULT 300

/* store = etcd: the cluster every host of a fleet shares (fleet.h,
 * doc/fleet.md).  The global keys etcd_*, state_key_file. */
struct mb_etcd_conf {
	char **endpoints;	/* https://HOST:PORT, at least one */
	size_t n_endpoints;
	char *ca_file;		/* NULL: system CAs */
	char *cert_file;	/* client certificate and key, or NULL */
	char *key_file;
	char *user;		/* etcd_user, or NULL */
	char *password;		/* from etcd_password_file; secret */
	char *prefix;		/* "/mailbearer/": starts and ends with / */
	char *state_key_file;	/* the AES-256-GCM key, absolute path */
};

struct mb_fleet;

struct mb_account {
	char *name;		/* section name: the account */
	char *user;		/* login name for XOAUTH2 (default: name) */
	char *provider;		/* "google" | "microsoft" | "generic" */
	char *token_endpoint;	/* https:// URL */
	char *authorize_endpoint;
	char *device_endpoint;
	/* RFC 7009 revocation (Google's preset; Microsoft has none for
	 * refresh tokens); NULL when none */
	char *revocation_endpoint;
	/* run through /bin/sh -c when the account starts or stops needing
	 * attention (notify.h); NULL when none */
	char *notify;
	long notify_after;	/* seconds of failing refreshes (3600) */
	char *scope;
	char *client_id;
	char *client_secret;	/* NULL if none; wiped on free */
	enum mb_flow flow;	/* flow = (refresh_token) */
	/* Certificate credentials (RFC 7523 client assertion), both set or
	 * neither; absolute paths.  The key file is mode-checked like
	 * client_secret_file, and read at each use, never kept. */
	char *client_certificate_file;
	char *client_key_file;
	/* flow = service_account: Google's JSON key (absolute path),
	 * mode-checked like client_key_file and read at each use */
	char *service_account_file;
	char *ca_file;		/* NULL: system CAs */
	char *state_dir;	/* where <name>.json lives */
	long refresh_margin;	/* seconds before expiry to refresh (600) */
	/* SO_PEERCRED access control for `mailbearer serve`: uids that may
	 * ask for this account's token ("allow = postfix alice 1001").  The
	 * uid running serve and root are always allowed. */
	uid_t *allow_uids;
	size_t n_allow_uids;
	char *tenant;		/* microsoft: common|organizations|... */
	long connect_timeout;	/* seconds (10) */
	/* seconds a caller's request may take until it has been sent
	 * (30); once sent, the reply is awaited up to reply_timeout */
	long timeout;
	/* seconds a request already sent is listened to for its reply
	 * (MB_REPLY_TIMEOUT_DEFAULT, at least timeout): the provider may
	 * be carrying it out, and abandoning it may spend the grant */
	long reply_timeout;
	/* rotation = strict (Microsoft's default): each refresh token is
	 * good for one answered request, so one whose request went
	 * unanswered is never sent again automatically */
	bool rotation_strict;
	/* check_identity = yes: authorize asks for an OpenID Connect
	 * id_token (openid in the request's scope) and stores nothing
	 * unless it names user (flow-code.c, id-token.c) */
	bool check_identity;
	unsigned line;		/* line of the [section] header */
	/* why this account cannot get tokens: a file of its own
	 * (client_secret_file, ca_file, certificate, key) that cannot be
	 * used, with the file, the line and the fix; NULL when it can.
	 * Only this account fails (a refresh, authorize); the
	 * configuration loads and the other accounts are served. */
	char *unusable;
	/* store = etcd: the fleet every account of the file shares; NULL
	 * for store = files (state_dir) */
	struct mb_fleet *fleet;
};

struct mb_config {
	char *path;			/* the file read */
	struct mb_account *accounts;
	size_t n_accounts;
	/* Private to conf.c.  index: open addressing by account name,
	 * slot = account index + 1, 0 = empty (mb_config_account and the
	 * parser's duplicate check in O(1), not a scan per account).
	 * shared: one copy of each distinct non-secret string value of
	 * the accounts (endpoints, client_id, ca_file..., not state_dir,
	 * mostly identical across 10,000 accounts); the accounts point
	 * into it, and mb_config_free frees each string once.  An
	 * account's user equal to its name is the name itself. */
	/* the global etcd_* keys, or NULL when none is set; store_etcd:
	 * store = etcd (then etcd is set) */
	struct mb_etcd_conf *etcd;
	bool store_etcd;
	/* store = etcd: the fleet's client and key, made at load */
	struct mb_fleet *fleet;
	size_t *index;
	size_t index_mask;
	char **shared;
	size_t shared_mask, n_shared;
};

/* The largest configuration file read, in bytes.  It is read whole into
 * memory once, at start-up and at a reload, and freed after parsing, so
 * the bound is on a transient allocation.  A generic account with every
 * per-account setting and long paths takes about 250 to 600 bytes (the
 * benchmark's take 250): 16 MiB leaves room for 10,000 such accounts
 * (serve's documented scale, tests/bench) with a comment block each,
 * while a file that is not a configuration (a log or an image named by
 * mistake) is still refused before it is read.  The earlier 1 MiB
 * stopped at about 4,000 generic accounts. */
#define MB_CONFIG_MAX_SIZE (16 * 1024 * 1024)

/* Reads and validates the file at path.  Returns 0 and a config the
 * caller frees with mb_config_free(), or -1 with *error_r set to a
 * malloc'd message naming the file and line (caller frees).  The file,
 * client_secret_file and ca_file must be regular files: a FIFO or a
 * device is refused, never waited on. */
int mb_config_load(const char *path, struct mb_config **cfg_r,
		   char **error_r);
/* The default path: $MAILBEARER_CONFIG, else the per-user file if it
 * exists, else the system file.  Returns a malloc'd string. */
char *mb_config_default_path(void);
/* word is one of the space-separated words of scope (NULL: none). */
bool mb_scope_has(const char *scope, const char *word);
/* NULL if there is no such account. */
const struct mb_account *mb_config_account(const struct mb_config *cfg,
					   const char *name);
/* The compiled-in system file: $sysconfdir/mailbearer/mailbearer.conf. */
const char *mb_config_system_path(void);
/* The state directory used when an account sets no state_dir: the
 * system one ($localstatedir/lib/mailbearer) for the system config file,
 * else $XDG_STATE_HOME/mailbearer (~/.local/state/mailbearer).  Returns a
 * malloc'd string, or NULL if no home directory can be found. */
char *mb_config_default_state_dir(bool system);
/* "refresh_token", "client_credentials" or "service_account", as in the
 * configuration. */
const char *mb_flow_name(enum mb_flow flow);
/* The flow is app-only: each access token is requested anew with the
 * client's own credentials, nothing is stored and there is no refresh
 * token to authorize, import, keep alive or revoke (client_credentials,
 * service_account). */
static inline bool
mb_flow_app_only(enum mb_flow flow)
{
	return flow == MB_FLOW_CLIENT_CREDENTIALS ||
	       flow == MB_FLOW_SERVICE_ACCOUNT;
}
/* Frees everything, wipes secrets, sets *cfg to NULL.  NULL-safe. */
void mb_config_free(struct mb_config **cfg);

#endif
