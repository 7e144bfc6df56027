#include <config.h>

/* A stand-in for the token core (conf.h, token.h, log.h) so that
 * tokenhelper/cmd-serve.c, listener.c and token-cache.c can be tested
 * on their own:
 * tests/mb-fake-serve is `mailbearer serve` linked against this file.
 *
 * Config: "[account]" sections with keys
 *   allow = UID...        uids besides root and our own
 *   user = NAME           the login name the tokens are for (the name)
 *   lifetime = SECONDS    of each new token (3600)
 *   margin = SECONDS      refresh_margin (600)
 *   fail = none | transient | authorize | error
 *   delay_ms = N          time one refresh takes (200); cut short when
 *                         serve cancels (mb_cancelled()), like a transfer
 *   hang_from = N         refresh number N and later take 60 s (a token
 *                         endpoint that hangs), also cut short by cancel
 * Each refresh appends "begin ACCOUNT" when it starts and "refresh ACCOUNT
 * TOKEN" when it ends to CONFIG.count, and
 * "OVERLAP ACCOUNT" when two refreshes of one account run at once (the
 * server must serialise them).  Token state is per process, like a state
 * file that survives reloads. */

#include "cancel.h"
#include "conf.h"
#include "expiry.h"
#include "log.h"
#include "cmd.h"
#include "notify.h"
#include "store.h"
#include "token.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fake_extra {
	long lifetime;
	long delay_ms;
	long hang_from;
	char fail[16];
};

#define FAKE_MAX 16

static struct {
	char name[256];
	char token[64];
	time_t expires_at;
	time_t obtained_at;
	int n;
	bool busy;
	struct fake_extra x;
} fake_state[FAKE_MAX];
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static char fake_count_path[4096];

void
mb_log_init(const char *ident, bool to_syslog, bool verbose)
{
}

void
mb_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_DEBUG)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "mb-fake-serve[%d]: ", level);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

bool
mb_log_verbose(void)
{
	return false;
}

void
mb_log_timestamps(bool on)
{
}

char *
mb_config_default_path(void)
{
	return strdup("/nonexistent/fake.conf");
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static struct fake_extra *
fake_slot(const char *name)
{
	for (int i = 0; i < FAKE_MAX; i++) {
		if (strcmp(fake_state[i].name, name) == 0)
			return &fake_state[i].x;
		if (fake_state[i].name[0] == '\0') {
			snprintf(fake_state[i].name, sizeof(fake_state[i].name),
				 "%s", name);
			return &fake_state[i].x;
		}
	}
	return NULL;
}

int
mb_config_load(const char *path, struct mb_config **cfg_r, char **error_r)
{
	FILE *f = fopen(path, "r");
	struct mb_config *cfg;
	struct mb_account *a = NULL;
	char line[1024];
	unsigned lineno = 0;

	*cfg_r = NULL;
	if (f == NULL) {
		if (asprintf(error_r, "%s: %s", path, strerror(errno)) < 0)
			*error_r = NULL;
		return -1;
	}
	cfg = calloc(1, sizeof(*cfg));
	cfg->path = strdup(path);
	cfg->accounts = calloc(FAKE_MAX, sizeof(*cfg->accounts));
	snprintf(fake_count_path, sizeof(fake_count_path), "%s.count", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq, *k, *v;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[' && cfg->n_accounts < FAKE_MAX) {
			char *end = strchr(s, ']');

			if (end == NULL)
				goto bad;
			*end = '\0';
			a = &cfg->accounts[cfg->n_accounts++];
			a->name = strdup(s + 1);
			a->refresh_margin = 600;
			a->allow_uids = calloc(16, sizeof(uid_t));
			continue;
		}
		eq = strchr(s, '=');
		if (a == NULL || eq == NULL)
			goto bad;
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (strcmp(k, "allow") == 0) {
			for (char *t = strtok_r(v, " ", &eq); t != NULL &&
			     a->n_allow_uids < 16; t = strtok_r(NULL, " ", &eq))
				a->allow_uids[a->n_allow_uids++] =
					(uid_t)strtol(t, NULL, 10);
		} else if (strcmp(k, "margin") == 0) {
			a->refresh_margin = strtol(v, NULL, 10);
		} else if (strcmp(k, "user") == 0) {
			free(a->user);
			a->user = strdup(v);
		} else if (strcmp(k, "lifetime") == 0 ||
			   strcmp(k, "delay_ms") == 0 ||
			   strcmp(k, "hang_from") == 0 ||
			   strcmp(k, "fail") == 0) {
			/* handled below, per account */
			pthread_mutex_lock(&fake_lock);
			struct fake_extra *x = fake_slot(a->name);
			if (x != NULL) {
				if (strcmp(k, "lifetime") == 0)
					x->lifetime = strtol(v, NULL, 10);
				else if (strcmp(k, "delay_ms") == 0)
					x->delay_ms = strtol(v, NULL, 10);
				else if (strcmp(k, "hang_from") == 0)
					x->hang_from = strtol(v, NULL, 10);
				else
					snprintf(x->fail, sizeof(x->fail),
						 "%s", v);
			}
			pthread_mutex_unlock(&fake_lock);
		} else {
			goto bad;
		}
	}
	fclose(f);
	*cfg_r = cfg;
	return 0;
bad:
	fclose(f);
	if (asprintf(error_r, "%s:%u: syntax error", path, lineno) < 0)
		*error_r = NULL;
	mb_config_free(&cfg);
	return -1;
}

const struct mb_account *
mb_config_account(const struct mb_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	}
	return NULL;
}

void
mb_config_free(struct mb_config **cfgp)
{
	struct mb_config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		free(cfg->accounts[i].name);
		free(cfg->accounts[i].user);
		free(cfg->accounts[i].allow_uids);
	}
	free(cfg->accounts);
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

static void
fake_record(const char *what)
{
	int fd = open(fake_count_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (fd >= 0) {
		if (write(fd, what, strlen(what)) < 0)
			perror("write");
		close(fd);
	}
}

/* Sleeps delay_ms in steps, returning early (false) when cancelled. */
static bool
fake_delay(long delay_ms)
{
	for (long left = delay_ms; left > 0; left -= 20) {
		struct timespec ts = { 0, (left < 20 ? left : 20) * 1000000L };

		if (mb_cancelled())
			return false;
		nanosleep(&ts, NULL);
	}
	return !mb_cancelled();
}

static int
fake_index(const char *name)
{
	int i;

	fake_slot(name);
	for (i = 0; i < FAKE_MAX; i++) {
		if (strcmp(fake_state[i].name, name) == 0)
			break;
	}
	return i;
}

/* fake_lock held; the configured failure of slot i, or MB_TOKEN_OK. */
static enum mb_token_status
fake_failure(int i, char **error_r)
{
	if (strcmp(fake_state[i].x.fail, "authorize") == 0) {
		*error_r = strdup("the refresh token was revoked (fake); run "
				  "mailbearer authorize");
		return MB_TOKEN_NEEDS_AUTHORIZE;
	}
	if (strcmp(fake_state[i].x.fail, "transient") == 0) {
		*error_r = strdup("token endpoint unreachable (fake)");
		return MB_TOKEN_TRANSIENT;
	}
	if (strcmp(fake_state[i].x.fail, "error") == 0) {
		*error_r = strdup("state file unreadable (fake)\nsecond line");
		return MB_TOKEN_ERROR;
	}
	return MB_TOKEN_OK;
}

/* fake_lock held, released during the delay.  false if cancelled. */
static bool
fake_refresh(int i, const struct mb_account *acct)
{
	long delay = fake_state[i].x.delay_ms > 0 ?
		fake_state[i].x.delay_ms : 200;
	long hang = fake_state[i].x.hang_from;
	long life = fake_state[i].x.lifetime > 0 ?
		fake_state[i].x.lifetime : 3600;
	char rec[512];
	bool done;

	if (fake_state[i].busy) {
		snprintf(rec, sizeof(rec), "OVERLAP %s\n", acct->name);
		fake_record(rec);
	}
	fake_state[i].busy = true;
	if (hang > 0 && fake_state[i].n + 1 >= hang)
		delay = 60000;
	snprintf(rec, sizeof(rec), "begin %s\n", acct->name);
	fake_record(rec);
	pthread_mutex_unlock(&fake_lock);
	done = fake_delay(delay);
	pthread_mutex_lock(&fake_lock);
	fake_state[i].busy = false;
	if (!done)
		return false;
	fake_state[i].n++;
	snprintf(fake_state[i].token, sizeof(fake_state[i].token),
		 "tok-%s-%d", acct->name, fake_state[i].n);
	fake_state[i].obtained_at = time(NULL);
	fake_state[i].expires_at = fake_state[i].obtained_at + life;
	snprintf(rec, sizeof(rec), "refresh %s %s\n", acct->name,
		 fake_state[i].token);
	fake_record(rec);
	return true;
}

/* The real core's decisions, without a state file: refresh when the
 * one freshness rule says so, when asked to (force), or when the
 * rejected token is still the current one. */
enum mb_token_status
mb_token_get_ex(const struct mb_account *acct, const struct mb_token_req *req,
		struct mb_access *out, char **error_r)
{
	enum mb_token_status st;
	time_t now = time(NULL);
	int i;

	memset(out, 0, sizeof(*out));
	*error_r = NULL;
	pthread_mutex_lock(&fake_lock);
	i = fake_index(acct->name);
	st = fake_failure(i, error_r);
	if (st != MB_TOKEN_OK)
		goto out;
	if (fake_state[i].token[0] == '\0' ||
	    mb_expiry_needs_refresh(now, fake_state[i].expires_at,
				    fake_state[i].obtained_at,
				    acct->refresh_margin) ||
	    (req != NULL && req->force) ||
	    (req != NULL && req->rejected != NULL &&
	     strcmp(req->rejected, fake_state[i].token) == 0)) {
		if (!fake_refresh(i, acct)) {
			*error_r = strdup("cancelled (mailbearer is shutting "
					  "down)");
			st = MB_TOKEN_TRANSIENT;
			goto out;
		}
	}
	out->token = strdup(fake_state[i].token);
	out->expires_at = fake_state[i].expires_at;
	out->obtained_at = fake_state[i].obtained_at;
out:
	pthread_mutex_unlock(&fake_lock);
	return st;
}

enum mb_token_status
mb_token_get(const struct mb_account *acct, const char *rejected,
	     struct mb_access *out, char **error_r)
{
	struct mb_token_req req = { rejected, false, true };

	return mb_token_get_ex(acct, &req, out, error_r);
}

/* No state files here: every stat(2) of one fails alike. */
char *
mb_store_path(const struct mb_account *acct, const char *suffix)
{
	(void)acct;
	(void)suffix;
	return strdup("/nonexistent/fake-state.json");
}

int
mb_token_flush_pending(const struct mb_account *acct, char **error_r)
{
	(void)acct;
	*error_r = NULL;
	return 0;
}

/* serve's notifications (notify.c) are not part of this fake. */
void
mb_notify_observe(const struct mb_account *a, enum mb_token_status st,
		  bool stale, const char *error, bool detach)
{
}

void
mb_access_clear(struct mb_access *a)
{
	if (a == NULL)
		return;
	if (a->token != NULL) {
		mb_wipe(a->token, strlen(a->token));
		free(a->token);
	}
	a->token = NULL;
	a->expires_at = 0;
	a->obtained_at = 0;
}

int
main(int argc, char **argv)
{
	return mb_cmd_serve(argc, argv);
}
