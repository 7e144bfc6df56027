/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/cli.h"
#include "tokenhelper/store-files.h"
#include "tokenhelper/conf.h"
#include "ipc-proto.h"
#include "tokenhelper/token-cache.h"

/* serve's token cache (tokenhelper/token-cache.c) driven by a fake clock:
 * every entry point takes `now`, jobs go to a fake runner that records
 * them, and the test brings them back with the result it chooses.  The
 * "disk" is a table the fake peek reads. */

#define T0	((time_t)1700000000)
#define LINE	(MB_IPC_LINE_MAX + 1)

/* One generic account; state_dir is set in memory after loading. */
#define ACCT(name)	"[" name "]\nprovider = generic\n" \
			"token_endpoint = https://127.0.0.1:1/token\n" \
			"client_id = c\n"

static char dir[] = "/tmp/mb-test-token-cache.XXXXXX";
static char dir2[600];

/* --- the fake runner and disk -------------------------------------------- */

#define MAX_JOBS 64
#define MAX_DISK 16

static struct {
	struct mb_cache_job *run[MAX_JOBS];	/* started, not back */
	size_t n_run;
	unsigned started;		/* ever */
	bool refuse;			/* start() fails */
	struct {
		char name[64];
		char token[128];
		time_t got, exp;
	} disk[MAX_DISK];
	size_t n_disk;
	unsigned peeks;
} F;

static void
fake_reset(void)
{
	memset(&F, 0, sizeof(F));
}

static bool
fake_start(void *ctx, struct mb_cache_job *job)
{
	(void)ctx;
	if (F.refuse || F.n_run == MAX_JOBS)
		return false;
	F.run[F.n_run++] = job;
	F.started++;
	return true;
}

static bool
fake_peek(void *ctx, const struct mb_account *acct, struct mb_access *out)
{
	(void)ctx;
	F.peeks++;
	for (size_t i = 0; i < F.n_disk; i++) {
		if (strcmp(F.disk[i].name, acct->name) != 0)
			continue;
		out->token = strdup(F.disk[i].token);
		out->obtained_at = F.disk[i].got;
		out->expires_at = F.disk[i].exp;
		return out->token != NULL;
	}
	return false;
}

/* The account's token on "disk" from now on (replacing any). */
static void
disk_set(const char *name, const char *token, time_t got, time_t exp)
{
	size_t i;

	for (i = 0; i < F.n_disk; i++) {
		if (strcmp(F.disk[i].name, name) == 0)
			break;
	}
	if (i == F.n_disk) {
		if (F.n_disk == MAX_DISK)
			abort();
		F.n_disk++;
	}
	snprintf(F.disk[i].name, sizeof(F.disk[i].name), "%s", name);
	snprintf(F.disk[i].token, sizeof(F.disk[i].token), "%s", token);
	F.disk[i].got = got;
	F.disk[i].exp = exp;
}

/* The job started last (and not back yet), taken off the list. */
static struct mb_cache_job *
job_take(void)
{
	if (F.n_run == 0)
		return NULL;
	return F.run[--F.n_run];
}

/* The running job for account name, taken off the list. */
static struct mb_cache_job *
job_take_for(const char *name)
{
	for (size_t i = 0; i < F.n_run; i++) {
		struct mb_cache_job *j = F.run[i];

		if (strcmp(mb_cache_job_account(j)->name, name) == 0) {
			memmove(&F.run[i], &F.run[i + 1],
				(F.n_run - i - 1) * sizeof(F.run[0]));
			F.n_run--;
			return j;
		}
	}
	return NULL;
}

/* Brings j back: st MB_TOKEN_OK with token (got, exp), or another status
 * with text as its error. */
static void
job_finish(struct mb_cache *c, struct mb_cache_job *j,
	   enum mb_token_status st, const char *text, time_t got, time_t exp,
	   bool pending, time_t now)
{
	struct mb_cache_result *r;

	if (j == NULL) {
		tap_diag("no job to finish");
		return;
	}
	r = mb_cache_job_result(j);
	r->st = st;
	if (st == MB_TOKEN_OK) {
		r->a.token = strdup(text);
		r->a.obtained_at = got;
		r->a.expires_at = exp;
	} else {
		free(r->error);
		r->error = text != NULL ? strdup(text) : NULL;
	}
	r->pending = pending;
	mb_cache_job_done(c, j, now);
}

/* Every job still out comes back as it was made (a transient failure). */
static void
jobs_drain(struct mb_cache *c, time_t now)
{
	struct mb_cache_job *j;

	while ((j = job_take()) != NULL)
		mb_cache_job_done(c, j, now);
}

/* --- configurations ------------------------------------------------------ */

static void
write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
}

/* text loaded, every account's state_dir set to dir. */
static struct mb_config *
conf_load(const char *text)
{
	char path[700], *err = NULL;
	struct mb_config *cfg = NULL;

	snprintf(path, sizeof(path), "%s/conf", dir);
	write_conf(path, text);
	if (mb_config_load(path, &cfg, &err) < 0) {
		tap_diag("config: %s", err);
		exit(1);
	}
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		free(cfg->accounts[i].state_dir);
		cfg->accounts[i].state_dir = strdup(dir);
		if (cfg->accounts[i].state_dir == NULL)
			abort();
	}
	return cfg;
}

static struct mb_account *
conf_account(struct mb_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	}
	abort();
}

static struct mb_cache *
cache_new(struct mb_config *cfg, long keepalive)
{
	struct mb_cache_options o = { .keepalive = keepalive };
	struct mb_cache_runner r = { fake_start, fake_peek, NULL };
	struct mb_cache *c = mb_cache_new(&cfg, &o, &r);

	if (c == NULL || cfg != NULL) {
		tap_diag("mb_cache_new failed");
		exit(1);
	}
	return c;
}

static struct mb_cache *
cache_open(const char *text, long keepalive)
{
	return cache_new(conf_load(text), keepalive);
}

static void
cache_close(struct mb_cache **c, time_t now)
{
	jobs_drain(*c, now);
	if (mb_cache_jobs(*c) != 0)
		tap_diag("%u job(s) still counted at the end",
			 mb_cache_jobs(*c));
	mb_cache_free(c);
}

/* --- clients ------------------------------------------------------------- */

struct client {
	struct mb_cache_waiter w;
	int answers;		/* answer() calls */
	char line[LINE];	/* what answer() gave */
	char out[LINE];		/* the immediate answer */
	long wait_ms;
};

static void
client_answer(struct mb_cache_waiter *w, const char *line)
{
	struct client *cl = (struct client *)w;

	cl->answers++;
	snprintf(cl->line, sizeof(cl->line), "%s", line);
}

/* A TOKEN request for name: true if answered at once (cl->out). */
static bool
ask(struct mb_cache *c, const char *name, time_t now, struct client *cl)
{
	struct mb_cache_entry *e = NULL;
	const struct mb_account *a = mb_cache_find(c, name, &e);

	memset(cl, 0, sizeof(*cl));
	cl->w.answer = client_answer;
	if (a == NULL || e == NULL) {
		tap_diag("no account %s", name);
		return true;
	}
	return mb_cache_answer_token(c, a, e, now, &cl->w, &cl->wait_ms,
				     cl->out, sizeof(cl->out));
}

/* A REJECTED report of token for name; the answer in out. */
static void
report(struct mb_cache *c, const char *name, const char *token,
       const char *login, bool act, time_t now, char *out)
{
	struct mb_cache_entry *e = NULL;
	const struct mb_account *a = mb_cache_find(c, name, &e);

	out[0] = '\0';
	if (a == NULL) {
		tap_diag("no account %s", name);
		return;
	}
	mb_cache_answer_rejected(c, a, e, token, login, 1000, act, now, out,
				 LINE);
}

static const char *
ok_line(const char *token, time_t exp)
{
	static char buf[4][LINE];
	static int n;
	char *b = buf[n++ % 4];

	if (mb_ipc_format_ok(b, LINE, (long long)exp, token) < 0)
		snprintf(b, LINE, "(cannot format OK %s)", token);
	return b;
}

static const char *
err_line(enum mb_ipc_err code, const char *text)
{
	static char buf[4][LINE];
	static int n;
	char *b = buf[n++ % 4];

	if (mb_ipc_format_err(b, LINE, code, text) < 0)
		snprintf(b, LINE, "(cannot format ERR %s)", text);
	return b;
}

static const char *
done_line(void)
{
	static char buf[LINE];

	mb_ipc_format_done(buf, sizeof(buf));
	return buf;
}

/* The last started job is of kind for account name (not taken). */
static void
is_job(enum mb_cache_job_kind kind, const char *name, const char *what)
{
	struct mb_cache_job *j = F.n_run > 0 ? F.run[F.n_run - 1] : NULL;

	if (!tap_ok(j != NULL && mb_cache_job_kind(j) == kind &&
		    strcmp(mb_cache_job_account(j)->name, name) == 0,
		    "%s: a %d job for %s", what, (int)kind, name) &&
	    j != NULL)
		tap_diag("got kind %d for %s", (int)mb_cache_job_kind(j),
			 mb_cache_job_account(j)->name);
}

/* --- cold start ---------------------------------------------------------- */

static void
test_cold_valid(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA1", T0 - 100, T0 + 3500);
	mb_cache_warm(c, T0);
	tap_is_int(F.peeks, 1, "warm: the state is peeked once");
	tap_ok(ask(c, "a", T0, &cl), "valid on disk: answered at once");
	tap_is_str(cl.out, ok_line("tokA1", T0 + 3500),
		   "valid on disk: OK with the disk's token");
	tap_is_int(F.started, 0, "valid on disk: no job");
	/* used, due at T0 + 2900: the scheduler looks again in 60 s */
	tap_is_int(mb_cache_tick(c, T0), T0 + 60, "tick: next in 60 s");
	tap_is_int(F.started, 0, "valid on disk: no job at the tick");
	tap_is_int(mb_cache_jobs(c), 0, "no job counted");
	cache_close(&c, T0);
}

static void
test_cold_margin(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	/* 300 s left of 3600, margin 600: due */
	disk_set("a", "tokM", T0 - 3300, T0 + 300);
	mb_cache_warm(c, T0);
	mb_cache_tick(c, T0);
	tap_is_int(F.started, 0, "in the margin, unused: no job at the tick");
	tap_ok(ask(c, "a", T0 + 1, &cl), "in the margin: answered at once");
	tap_is_str(cl.out, ok_line("tokM", T0 + 300),
		   "in the margin: served");
	tap_is_int(F.started, 1, "in the margin: one job");
	is_job(MB_JOB_PROACTIVE, "a", "in the margin");
	tap_is_int(mb_cache_jobs(c), 1, "one job counted");
	tap_ok(ask(c, "a", T0 + 2, &cl), "while it runs: answered at once");
	tap_is_str(cl.out, ok_line("tokM", T0 + 300),
		   "while it runs: the old token");
	tap_is_int(F.started, 1, "while it runs: no second job");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokN", T0 + 3, T0 + 3603,
		   false, T0 + 3);
	tap_is_int(mb_cache_jobs(c), 0, "back: no job counted");
	ask(c, "a", T0 + 4, &cl);
	tap_is_str(cl.out, ok_line("tokN", T0 + 3603),
		   "after the refresh: the new token");
	tap_is_int(F.started, 1, "after the refresh: no job");
	cache_close(&c, T0 + 5);
}

static void
test_cold_none(void)
{
	struct mb_cache *c;
	struct client cl, cl2;
	char out[LINE];

	fake_reset();
	c = cache_open(ACCT("a") ACCT("b") ACCT("t") "timeout = 5\n", 0);
	mb_cache_warm(c, T0);
	tap_is_int(F.peeks, 3, "warm: each account peeked");
	tap_ok(!ask(c, "a", T0, &cl), "no token: the client waits");
	tap_is_int(cl.wait_ms, MB_CACHE_WAIT_MS, "no token: wait 20 s");
	tap_is_int(F.started, 1, "no token: one job");
	is_job(MB_JOB_LOAD, "a", "no token");
	tap_is_int(cl.answers, 0, "not answered yet");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokC", T0 + 1, T0 + 3601,
		   false, T0 + 1);
	tap_is_int(cl.answers, 1, "the waiter is answered once");
	tap_is_str(cl.line, ok_line("tokC", T0 + 3601),
		   "the waiter gets the new token");
	tap_ok(ask(c, "a", T0 + 2, &cl2), "then answered at once");
	tap_is_str(cl2.out, ok_line("tokC", T0 + 3601), "from memory");
	tap_is_int(F.started, 1, "no second job");

	/* the account's timeout, if shorter, bounds the wait */
	tap_ok(!ask(c, "t", T0, &cl), "timeout 5: the client waits");
	tap_is_int(cl.wait_ms, 5000, "timeout 5: wait 5 s");
	jobs_drain(c, T0);

	/* the client's deadline */
	tap_ok(!ask(c, "b", T0, &cl), "b: the client waits");
	mb_cache_unwait(c, &cl.w, out, sizeof(out));
	tap_has_str(out, "MAILBEARER1 ERR unavailable account b has no "
		    "valid access token yet", "deadline: ERR unavailable");
	tap_has_str(out, "the refresh goes on in the background",
		    "deadline: the refresh goes on");
	tap_ok(cl.w.e == NULL, "deadline: the waiter is off");
	snprintf(out, sizeof(out), "untouched");
	mb_cache_unwait(c, &cl.w, out, sizeof(out));
	tap_is_str(out, "untouched", "unwait of a waiter that is off: no-op");
	job_finish(c, job_take_for("b"), MB_TOKEN_OK, "tokB", T0, T0 + 3600,
		   false, T0 + 20);
	tap_is_int(cl.answers, 0, "a waiter taken off is not answered");
	ask(c, "b", T0 + 21, &cl);
	tap_is_str(cl.out, ok_line("tokB", T0 + 3600),
		   "b: the refresh went on");
	cache_close(&c, T0 + 30);
}

/* warm finds nothing: the first tick loads (start-up), only there */
static void
test_cold_tick(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a") ACCT("b"), 0);
	disk_set("b", "tokB", T0, T0 + 3600);
	mb_cache_warm(c, T0);
	mb_cache_tick(c, T0);
	tap_is_int(F.started, 1, "start-up tick: one job");
	is_job(MB_JOB_LOAD, "a", "start-up tick");
	tap_ok(!ask(c, "a", T0, &cl), "a client waits for the start-up load");
	tap_is_int(F.started, 1, "and starts no second job");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokA", T0, T0 + 3600, false,
		   T0 + 1);
	tap_is_str(cl.line, ok_line("tokA", T0 + 3600),
		   "the start-up load answers it");
	mb_cache_tick(c, T0 + 2);
	tap_is_int(F.started, 1, "loaded: no job at the next tick");
	cache_close(&c, T0 + 2);
}

/* --- single flight ------------------------------------------------------- */

static void
test_single_flight(void)
{
	struct mb_cache *c;
	struct client cl[5], one;
	bool all = true;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	for (int i = 0; i < 5; i++)
		all = !ask(c, "a", T0 + i, &cl[i]) && all;
	tap_ok(all, "5 requests, no token: all wait");
	tap_is_int(F.started, 1, "5 requests: one job");
	tap_is_int(mb_cache_jobs(c), 1, "5 requests: one job counted");
	/* one leaves in the middle of the list */
	mb_cache_unwait(c, &cl[2].w, one.out, sizeof(one.out));
	job_finish(c, job_take(), MB_TOKEN_OK, "tokS", T0, T0 + 3600, false,
		   T0 + 5);
	for (int i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		tap_is_int(cl[i].answers, 1, "each waiter answered once");
		tap_is_str(cl[i].line, ok_line("tokS", T0 + 3600),
			   "each waiter gets the token");
	}
	tap_is_int(cl[2].answers, 0, "the one that left is not answered");
	all = true;
	for (int i = 0; i < 5; i++)
		all = ask(c, "a", T0 + 6, &cl[i]) && all;
	tap_ok(all, "then 5 requests are answered at once");
	tap_is_int(F.started, 1, "and start nothing");
	cache_close(&c, T0 + 6);
}

/* --- back-off ------------------------------------------------------------ */

static void
test_backoff_request(void)
{
	struct mb_cache *c;
	struct client cl;
	const char *down = err_line(MB_IPC_ERR_UNAVAILABLE, "endpoint down");

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "endpoint down", 0, 0,
		   false, T0);
	tap_is_str(cl.line, down, "transient: the waiter gets the error");
	tap_ok(ask(c, "a", T0 + 5, &cl), "within 10 s: answered at once");
	tap_is_str(cl.out, down, "within 10 s: the error");
	tap_is_int(F.started, 1, "within 10 s: no job");
	tap_ok(ask(c, "a", T0 + 9, &cl), "at 9 s: answered at once");
	tap_is_int(F.started, 1, "at 9 s: no job");
	tap_ok(!ask(c, "a", T0 + MB_CACHE_REQUEST_RETRY, &cl),
	       "at 10 s: the client waits");
	tap_is_int(F.started, 2, "at 10 s: a new job");
	is_job(MB_JOB_LOAD, "a", "at 10 s");
	job_finish(c, job_take(), MB_TOKEN_ERROR, "bad config", 0, 0, false,
		   T0 + 10);
	tap_is_str(cl.line, err_line(MB_IPC_ERR_INTERNAL, "bad config"),
		   "an error: ERR internal");
	cache_close(&c, T0 + 10);
}

/* The scheduler retries a used token's proactive refresh at 30 s, then
 * doubling to at most an hour. */
static void
test_backoff_sched(void)
{
	static const long want[] = { 30, 60, 120, 240, 480, 960, 1920, 3600,
				     3600 };
	struct mb_cache *c;
	struct client cl;
	time_t now = T0;
	bool quiet = true, kicked = true, next = true;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA", T0 - 3000, T0 + 600);	/* due at T0 */
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	tap_is_str(cl.out, ok_line("tokA", T0 + 600), "due: served");
	is_job(MB_JOB_PROACTIVE, "a", "due");
	job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "down", 0, 0, false,
		   now);
	ask(c, "a", now + 1, &cl);
	tap_is_str(cl.out, ok_line("tokA", T0 + 600),
		   "failed proactive refresh: still served");
	tap_is_int(F.started, 1, "failed proactive refresh: no job at once");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unsigned before = F.started;
		time_t t;

		t = mb_cache_tick(c, now + want[i] - 1);
		if (F.started != before) {
			quiet = false;
			tap_diag("back-off %zu: a job before %ld s", i,
				 want[i]);
		}
		if (t != now + want[i]) {
			next = false;
			tap_diag("back-off %zu: tick wants %lld, not %lld", i,
				 (long long)(t - now), (long long)want[i]);
		}
		mb_cache_tick(c, now + want[i]);
		if (F.started != before + 1 || F.n_run != 1 ||
		    mb_cache_job_kind(F.run[0]) != MB_JOB_PROACTIVE) {
			kicked = false;
			tap_diag("back-off %zu: no proactive job at %ld s", i,
				 want[i]);
		}
		now += want[i];
		job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "down", 0, 0,
			   false, now);
	}
	tap_ok(quiet, "back-off: no job before its time");
	tap_ok(next, "back-off: the tick asks to be called at its time");
	tap_ok(kicked, "back-off: 30, 60, ... 3600, 3600 s");
	cache_close(&c, now);
}

/* A new state file (authorize, import) lets a request retry at once. */
static void
test_backoff_new_state(void)
{
	struct mb_cache *c;
	struct client cl;
	char path[700];

	fake_reset();
	c = cache_open(ACCT("s"), 0);
	mb_cache_warm(c, T0);
	ask(c, "s", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_NEEDS_AUTHORIZE, "authorize s", 0,
		   0, false, T0);
	tap_is_str(cl.line, err_line(MB_IPC_ERR_NEEDS_AUTHORIZE,
				     "authorize s"), "needs-authorize: ERR");
	tap_ok(ask(c, "s", T0 + 1, &cl), "same state: answered at once");
	tap_is_int(F.started, 1, "same state: no job");
	snprintf(path, sizeof(path), "%s/s.json", dir);
	write_conf(path, "{}\n");
	tap_ok(!ask(c, "s", T0 + 2, &cl), "new state file: the client waits");
	tap_is_int(F.started, 2, "new state file: a job at once");
	is_job(MB_JOB_LOAD, "s", "new state file");
	unlink(path);
	cache_close(&c, T0 + 2);
}

/* A request after a failure may start a refresh after
 * MB_CACHE_REQUEST_RETRY even when an expired token is still cached. */
static void
test_backoff_expired(void)
{
	struct mb_cache *c;
	struct client cl;
	time_t now;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA", T0 - 3000, T0 + 600);	/* due at T0 */
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	now = T0;
	/* the provider is down for a while: 30+60+120+240+480 s */
	for (long b = 30; b <= 480; b *= 2) {
		job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "down", 0, 0,
			   false, now);
		now += b;
		mb_cache_tick(c, now);
	}
	job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "down", 0, 0, false,
		   now);
	/* now = T0 + 930: the token expired, next scheduled try in 960 s */
	tap_ok(ask(c, "a", now + 1, &cl), "expired, failed: answered at once");
	tap_is_str(cl.out, err_line(MB_IPC_ERR_UNAVAILABLE, "down"),
		   "expired, failed: the error");
	ask(c, "a", now + MB_CACHE_REQUEST_RETRY, &cl);
	tap_ok(F.n_run == 1, "expired, failed: a request 10 s later starts a "
	       "refresh");
	cache_close(&c, now + 20);
}

/* --- the margin ---------------------------------------------------------- */

static void
test_margin(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA", T0, T0 + 3600);	/* due at T0 + 3000 */
	mb_cache_warm(c, T0);
	tap_is_int(mb_cache_tick(c, T0), T0 + 60, "unused: next tick in 60 s");
	mb_cache_tick(c, T0 + 3000);
	tap_is_int(F.started, 0, "unused token: no proactive refresh");
	ask(c, "a", T0 + 3001, &cl);
	tap_is_str(cl.out, ok_line("tokA", T0 + 3600), "due: served");
	is_job(MB_JOB_PROACTIVE, "a", "used and due, on the answer");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokB", T0 + 3001, T0 + 6601,
		   false, T0 + 3001);

	/* tokB: due at T0 + 6001 */
	ask(c, "a", T0 + 3100, &cl);
	tap_is_str(cl.out, ok_line("tokB", T0 + 3600 + 3001), "tokB served");
	tap_is_int(F.started, 1, "tokB fresh: no job");
	tap_is_int(mb_cache_tick(c, T0 + 6000), T0 + 6001,
		   "used: the tick wants refresh_at");
	tap_is_int(F.started, 1, "one second early: no job");
	mb_cache_tick(c, T0 + 6001);
	tap_is_int(F.started, 2, "at refresh_at: a job");
	is_job(MB_JOB_PROACTIVE, "a", "at refresh_at, by the tick");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokC", T0 + 6001, T0 + 9601,
		   false, T0 + 6001);
	mb_cache_tick(c, T0 + 9001);
	tap_is_int(F.started, 2, "a new token is unused again: no job");
	cache_close(&c, T0 + 9001);
}

/* A token due as soon as it arrives (expiry known, issue time not) does
 * not make the scheduler spin. */
static void
test_margin_due_at_arrival(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_OK, "tokD", 0, T0 + 300, false,
		   T0);
	tap_is_str(cl.line, ok_line("tokD", T0 + 300),
		   "due at arrival: served");
	tap_is_int(mb_cache_tick(c, T0), T0 + 30, "tick: back in 30 s");
	tap_is_int(mb_cache_tick(c, T0 + 29), T0 + 30, "tick at 29 s: 30 s");
	ask(c, "a", T0 + 29, &cl);
	tap_is_str(cl.out, ok_line("tokD", T0 + 300), "served at 29 s");
	tap_is_int(F.started, 1, "no job before 30 s");
	mb_cache_tick(c, T0 + 30);
	tap_is_int(F.started, 2, "at 30 s: a job");
	is_job(MB_JOB_PROACTIVE, "a", "due at arrival, 30 s later");
	cache_close(&c, T0 + 30);
}

/* --- stale --------------------------------------------------------------- */

/* A proactive refresh that comes back with the token it had: kept, and
 * the scheduler waits before it tries again. */
static void
test_stale(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA", T0 - 3000, T0 + 600);	/* due at T0 */
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	is_job(MB_JOB_PROACTIVE, "a", "due");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokA", T0 - 3000, T0 + 600,
		   false, T0 + 1);
	ask(c, "a", T0 + 2, &cl);
	tap_is_str(cl.out, ok_line("tokA", T0 + 600), "stale: token kept");
	tap_is_int(F.started, 1, "stale: no job on the next request");
	mb_cache_tick(c, T0 + 30);
	tap_is_int(F.started, 1, "stale: no job at 29 s");
	mb_cache_tick(c, T0 + 31);
	tap_is_int(F.started, 2, "stale: retried at 30 s");
	cache_close(&c, T0 + 31);
}

/* The same through mb_cache_job_run() and the real token core (its
 * stale flag is set there): the cache holds tokX (issued 3050 s ago,
 * due), the state file a valid tokY issued 3100 s ago and not due, which
 * the core hands out without a network request.  Real
 * clock: the core reads time() itself. */
static void
test_stale_run(void)
{
	struct mb_cache *c;
	struct mb_cache_entry *e;
	const struct mb_account *a;
	struct mb_state st;
	struct client cl;
	char *err = NULL;
	time_t now = time(NULL);

	fake_reset();
	c = cache_open(ACCT("run"), 0);
	a = mb_cache_find(c, "run", &e);
	memset(&st, 0, sizeof(st));
	st.refresh_token = strdup("rt");
	st.access_token = strdup("tokY");
	st.expires_at = now + 3600;
	st.last_refresh = now - 3100;
	if (!tap_ok(a != NULL && mb_files_write(a, &st, &err) == 0,
		    "real core: state written"))
		tap_diag("%s", err != NULL ? err : "no account");
	free(err);
	mb_state_clear(&st);
	disk_set("run", "tokX", now - 3050, now + 550);
	mb_cache_warm(c, now);
	ask(c, "run", now, &cl);
	tap_is_str(cl.out, ok_line("tokX", now + 550), "real core: served");
	is_job(MB_JOB_PROACTIVE, "run", "real core");
	if (F.n_run == 1) {
		struct mb_cache_job *j = job_take();

		mb_cache_job_run(j);
		tap_is_int(mb_cache_job_result(j)->st, MB_TOKEN_OK,
			   "real core: OK with an older token");
		mb_cache_job_done(c, j, now);
	}
	ask(c, "run", now, &cl);
	tap_is_str(cl.out, ok_line("tokY", now + 3600),
		   "real core, stale: the valid token is served");
	/* the state's token is another one than the cached one: a result,
	 * not a stale refresh, so no back-off (a stale one backs off 30 s) */
	tap_ok(mb_cache_tick(c, now) > now + MB_CACHE_BACKOFF_MIN,
	       "real core: the state's other token is no stale result");
	tap_is_int(F.started, 1, "real core, stale: no job");
	cache_close(&c, now);
}

/* --- REJECTED reports ---------------------------------------------------- */

static void
test_rejected(void)
{
	struct mb_cache *c;
	struct client cl;
	char out[LINE];

	fake_reset();
	c = cache_open(ACCT("r") "user = me@example.com\n", 0);
	disk_set("r", "tokR", T0, T0 + 3600);
	mb_cache_warm(c, T0);
	ask(c, "r", T0, &cl);
	tap_is_str(cl.out, ok_line("tokR", T0 + 3600), "before: served");

	report(c, "r", "tokR", NULL, true, T0, out);
	tap_is_str(out, done_line(), "report: DONE");
	tap_is_int(F.started, 1, "report: one job");
	is_job(MB_JOB_REJECTED, "r", "report");
	ask(c, "r", T0 + 1, &cl);
	tap_is_str(cl.out, ok_line("tokR", T0 + 3600),
		   "while the forced refresh runs: still served");
	report(c, "r", "tokR", NULL, true, T0 + 1, out);
	tap_is_str(out, done_line(), "second report: DONE");
	tap_is_int(F.started, 1, "second report while it runs: no job");
	job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "down", 0, 0, false,
		   T0 + 2);
	ask(c, "r", T0 + 2, &cl);
	tap_is_str(cl.out, ok_line("tokR", T0 + 3600),
		   "after a failed forced refresh: still served");
	/* serve starts a forced refresh for a report whenever none runs;
	 * the token core's once-a-minute rule (the state's last_forced,
	 * shared with `mailbearer token --refresh`) decides whether it
	 * asks the provider */
	report(c, "r", "tokR", NULL, true, T0 + 3, out);
	tap_is_int(F.started, 2, "a report after it ended: a job");
	is_job(MB_JOB_REJECTED, "r", "after it ended");
	for (time_t t = T0 + 10; t < T0 + MB_TOKEN_FORCE_INTERVAL; t += 7)
		report(c, "r", "tokR", NULL, true, t, out);
	tap_is_int(F.started, 2, "reports while it runs: no job");
	/* the core refused within the minute: a failure, token kept */
	job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "at most one a minute",
		   0, 0, false, T0 + 59);
	ask(c, "r", T0 + 59, &cl);
	tap_is_str(cl.out, ok_line("tokR", T0 + 3600),
		   "after the core's refusal: still served");
	/* stale: the same token comes back from a forced refresh */
	report(c, "r", "tokR", NULL, true, T0 + 61, out);
	tap_is_int(F.started, 3, "a report 60 s later: a job");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokR", T0, T0 + 3600, false,
		   T0 + 61);
	ask(c, "r", T0 + 62, &cl);
	tap_is_str(cl.out, ok_line("tokR", T0 + 3600),
		   "after a stale forced refresh: still served");
	/* the scheduler starts the deferred forced refresh by itself once
	 * the minute after the last one is over, and not before */
	tap_ok(mb_cache_tick(c, T0 + 100) > T0 + 100,
	       "the scheduler: nothing before the minute is over");
	tap_is_int(F.started, 3, "... no job");
	report(c, "r", "tokR", NULL, true, T0 + 120, out);
	tap_is_int(F.started, 4, "a report when no refresh runs: a job");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokS", T0 + 120, T0 + 3720,
		   false, T0 + 121);
	ask(c, "r", T0 + 122, &cl);
	tap_is_str(cl.out, ok_line("tokS", T0 + 3720), "then the new token");

	report(c, "r", "tokR", NULL, true, T0 + 300, out);
	tap_is_str(out, done_line(), "an old token's report: DONE");
	tap_is_int(F.started, 4, "an old token's report: no job");

	report(c, "r", "tokS", "other@example.com", true, T0 + 300, out);
	tap_has_str(out, "MAILBEARER1 ERR login-mismatch ",
		    "another login: ERR login-mismatch");
	tap_has_str(out, "\"me@example.com\"", "the message names the user");
	tap_is_int(F.started, 4, "another login: no job");

	report(c, "r", "tokS", "ME@Example.COM", false, T0 + 300, out);
	tap_is_str(out, done_line(), "act=false: DONE");
	tap_is_int(F.started, 4, "act=false: no job");

	report(c, "r", "tokS", "ME@Example.COM", true, T0 + 300, out);
	tap_is_str(out, done_line(), "the user's login (any case): DONE");
	tap_is_int(F.started, 5, "the user's login: a job");
	is_job(MB_JOB_REJECTED, "r", "the user's login");
	job_finish(c, job_take(), MB_TOKEN_NEEDS_AUTHORIZE,
		   "run mailbearer authorize r", 0, 0, false, T0 + 301);
	tap_ok(ask(c, "r", T0 + 302, &cl), "needs-authorize: answered");
	tap_is_str(cl.out, err_line(MB_IPC_ERR_NEEDS_AUTHORIZE,
				    "run mailbearer authorize r"),
		   "needs-authorize: the token is not served any more");
	tap_is_int(F.started, 5, "needs-authorize: no job at once");
	cache_close(&c, T0 + 302);
}

/* --- too short-lived tokens ---------------------------------------------- */

static void
short_token(time_t got)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_OK, "tokShort", got, T0 + 5, false,
		   T0);
	tap_is_int(cl.answers, 1, "5 s token: the waiter is answered");
	tap_has_str(cl.line, "MAILBEARER1 ERR unavailable ",
		    "5 s token: not served");
	tap_has_str(cl.line, "less than 10 s left", "5 s token: says why");
	if (got != 0)
		tap_has_str(cl.line, "expires 5 s after it was issued",
			    "5 s token: its lifetime");
	/* each request 1 s apart; a job that starts brings the same kind
	 * of token back at once */
	for (time_t t = T0 + 1; t <= T0 + 3; t++) {
		ask(c, "a", t, &cl);
		if (F.n_run > 0)
			job_finish(c, job_take(), MB_TOKEN_OK, "tokShort",
				   got != 0 ? t : 0, t + 5, false, t);
		if (cl.answers == 0)
			tap_lacks_str(cl.out, " OK ",
				      "5 s token: still not served");
		else
			tap_lacks_str(cl.line, " OK ",
				      "5 s token: still not served");
	}
	tap_ok(F.started == 1, "5 s token%s: not asked for again by each "
	       "request", got != 0 ? " with its issue time" : "");
	cache_close(&c, T0 + 3);
	if (got != 0)
		return;
	/* with no issue time, the retry comes 30 s later */
	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_OK, "tokShort", 0, T0 + 5, false,
		   T0);
	ask(c, "a", T0 + 29, &cl);
	tap_is_int(F.started, 1, "5 s token: no job at 29 s");
	tap_ok(!ask(c, "a", T0 + 30, &cl), "5 s token: at 30 s the client "
	       "waits");
	tap_is_int(F.started, 2, "5 s token: at 30 s a new job");
	is_job(MB_JOB_LOAD, "a", "5 s token at 30 s");
	cache_close(&c, T0 + 30);
}

static void
test_short(void)
{
	short_token(0);
	short_token(T0);
}

/* --- keep-alive ---------------------------------------------------------- */

static void
test_keepalive(void)
{
	struct mb_config *cfg;
	struct mb_cache *c;
	const long ka = 86400;

	fake_reset();
	cfg = conf_load(ACCT("rt") ACCT("cc"));
	conf_account(cfg, "cc")->flow = MB_FLOW_CLIENT_CREDENTIALS;
	c = cache_new(cfg, ka);
	disk_set("rt", "tokRT", T0 - 100, T0 + 3500);
	disk_set("cc", "tokCC", T0 - 100, T0 + 3500);
	mb_cache_warm(c, T0);
	tap_is_int(mb_cache_tick(c, T0), T0 + 60, "keep-alive: tick in 60 s");
	tap_is_int(mb_cache_tick(c, T0 - 100 + ka - 1), T0 - 100 + ka,
		   "keep-alive: the tick wants its time");
	tap_is_int(F.started, 0, "keep-alive: none early");
	mb_cache_tick(c, T0 - 100 + ka);
	tap_is_int(F.started, 1, "keep-alive: one job (not for the "
		   "client_credentials account)");
	is_job(MB_JOB_KEEPALIVE, "rt", "keep-alive");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokRT2", T0 - 100 + ka,
		   T0 - 100 + ka + 3600, false, T0 - 100 + ka);
	mb_cache_tick(c, T0 - 100 + 2 * ka - 1);
	tap_is_int(F.started, 1, "keep-alive: counted from the new token");
	mb_cache_tick(c, T0 - 100 + 2 * ka);
	tap_is_int(F.started, 2, "keep-alive: again a day later");
	is_job(MB_JOB_KEEPALIVE, "rt", "keep-alive, second");
	cache_close(&c, T0 - 100 + 2 * ka);

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	disk_set("a", "tokA", T0 - 100, T0 + 3500);
	mb_cache_warm(c, T0);
	mb_cache_tick(c, T0 + 400 * 86400L);
	tap_is_int(F.started, 0, "keepalive 0: never");
	cache_close(&c, T0);
}

/* --- reload -------------------------------------------------------------- */

static void
test_reload(void)
{
	struct mb_cache *c;
	struct mb_config *cfg;
	struct client ca, cb, cw, cw2, cm, cn;
	struct mb_cache_entry *e;

	fake_reset();
	c = cache_open(ACCT("a") ACCT("b") ACCT("w") ACCT("m") ACCT("na"), 0);
	disk_set("a", "tokA", T0, T0 + 3600);
	disk_set("m", "tokM", T0, T0 + 3600);
	disk_set("na", "tokNA", T0, T0 + 3600);
	mb_cache_warm(c, T0);
	/* na's grant dies; its state file still holds the access token */
	report(c, "na", "tokNA", NULL, true, T0, ca.out);
	job_finish(c, job_take(), MB_TOKEN_NEEDS_AUTHORIZE, "authorize na",
		   0, 0, false, T0 + 5);
	tap_ok(!ask(c, "b", T0, &cb), "b waits");
	tap_ok(!ask(c, "w", T0, &cw), "w waits");
	tap_is_int(F.started, 3, "three jobs");

	/* the disk changes; a and w stay, b goes, m moves, n comes */
	disk_set("a", "tokA-disk", T0 + 5, T0 + 3605);
	disk_set("m", "tokM2", T0 + 5, T0 + 3605);
	disk_set("n", "tokN", T0 + 5, T0 + 3605);
	cfg = conf_load(ACCT("a") ACCT("w") ACCT("m") ACCT("n") ACCT("na"));
	free(conf_account(cfg, "m")->state_dir);
	conf_account(cfg, "m")->state_dir = strdup(dir2);
	mb_cache_reload(c, &cfg, T0 + 10);
	tap_ok(cfg == NULL, "reload takes the configuration");
	tap_ok(mb_cache_find(c, "b", &e) == NULL && e == NULL,
	       "reload: b is gone");
	tap_ok(mb_cache_config(c)->n_accounts == 5, "reload: 5 accounts");
	ask(c, "na", T0 + 11, &cn);
	tap_is_str(cn.out, err_line(MB_IPC_ERR_NEEDS_AUTHORIZE,
				    "authorize na"),
		   "reload: a refused grant's token is not read back");
	tap_is_int(F.started, 3, "reload: na within 10 s of its failure: "
		   "no job");
	ask(c, "a", T0 + 11, &ca);
	tap_is_str(ca.out, ok_line("tokA", T0 + 3600),
		   "same name and state_dir: the cached token is kept");
	ask(c, "m", T0 + 11, &cm);
	tap_is_str(cm.out, ok_line("tokM2", T0 + 3605),
		   "another state_dir: a new entry, warmed from disk");
	ask(c, "n", T0 + 11, &cn);
	tap_is_str(cn.out, ok_line("tokN", T0 + 3605),
		   "a new account: warmed from disk");
	tap_ok(!ask(c, "w", T0 + 11, &cw2), "w: still waiting");
	tap_is_int(F.started, 3, "w: the running job is kept, none started");
	tap_is_int(mb_cache_jobs(c), 2, "two jobs counted");
	job_finish(c, job_take_for("w"), MB_TOKEN_OK, "tokW", T0 + 12,
		   T0 + 3612, false, T0 + 12);
	tap_is_int(cw.answers, 1, "w: the waiter from before the reload");
	tap_is_str(cw.line, ok_line("tokW", T0 + 3612), "w: answered OK");
	tap_is_int(cw2.answers, 1, "w: the waiter from after the reload");
	ask(c, "w", T0 + 13, &cw);
	tap_is_str(cw.out, ok_line("tokW", T0 + 3612),
		   "w: the token is in the new generation");
	/* the old generation lives until b's job is back */
	job_finish(c, job_take_for("b"), MB_TOKEN_OK, "tokB", T0 + 14,
		   T0 + 3614, false, T0 + 14);
	tap_is_int(mb_cache_jobs(c), 0, "b's job back: no job counted");
	tap_is_int(cb.answers, 1, "b: its waiter is answered");
	tap_is_str(cb.line, ok_line("tokB", T0 + 3614), "b: with the token");
	mb_cache_tick(c, T0 + 15);
	tap_is_int(F.started, 3, "after the reload: no job at the tick");
	cache_close(&c, T0 + 15);
}

/* --- pending writes ------------------------------------------------------ */

static void
test_pending(void)
{
	struct mb_cache *c;
	struct client cl;

	fake_reset();
	c = cache_open(ACCT("p"), 0);
	mb_cache_warm(c, T0);
	ask(c, "p", T0, &cl);
	job_finish(c, job_take(), MB_TOKEN_OK, "tokP", T0, T0 + 3600, true,
		   T0);
	tap_is_str(cl.line, ok_line("tokP", T0 + 3600),
		   "pending write: the token is served");
	tap_is_int(mb_cache_tick(c, T0), T0 + MB_CACHE_FLUSH_RETRY,
		   "pending write: the tick wants 30 s");
	mb_cache_tick(c, T0 + MB_CACHE_FLUSH_RETRY - 1);
	tap_is_int(F.started, 1, "pending write: no job at 29 s");
	mb_cache_tick(c, T0 + MB_CACHE_FLUSH_RETRY);
	tap_is_int(F.started, 2, "pending write: a job at 30 s");
	is_job(MB_JOB_LOAD, "p", "pending write");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokP", T0, T0 + 3600, false,
		   T0 + 31);
	mb_cache_tick(c, T0 + 100);
	tap_is_int(F.started, 2, "written: no more jobs");
	ask(c, "p", T0 + 100, &cl);
	tap_is_str(cl.out, ok_line("tokP", T0 + 3600), "written: served");
	cache_close(&c, T0 + 100);
}

/* --- stop, runner failures ----------------------------------------------- */

static void
test_stop(void)
{
	struct mb_cache *c;
	struct client cl[3], late;
	const char *bye = err_line(MB_IPC_ERR_UNAVAILABLE,
				   "mailbearer serve is shutting down");

	fake_reset();
	c = cache_open(ACCT("x") ACCT("y") ACCT("z"), 0);
	disk_set("z", "tokZ", T0, T0 + 3600);
	mb_cache_warm(c, T0);
	ask(c, "x", T0, &cl[0]);
	ask(c, "x", T0, &cl[1]);
	ask(c, "y", T0, &cl[2]);
	tap_is_int(mb_cache_jobs(c), 2, "jobs: 2");
	mb_cache_stop(c, T0);
	for (int i = 0; i < 3; i++) {
		tap_is_int(cl[i].answers, 1, "stop: each answered once");
		tap_is_str(cl[i].line, bye, "stop: shutting down");
	}
	tap_is_int(mb_cache_jobs(c), 2, "stop: the jobs are still out");
	tap_ok(ask(c, "x", T0 + 1, &late), "after stop: answered at once");
	tap_is_str(late.out, bye, "after stop: shutting down");
	ask(c, "z", T0 + 1, &late);
	tap_is_str(late.out, ok_line("tokZ", T0 + 3600),
		   "after stop: a valid token is still served");
	mb_cache_tick(c, T0 + 5000);
	tap_is_int(F.started, 2, "after stop: nothing starts");
	mb_cache_job_done(c, job_take(), T0 + 2);
	tap_is_int(mb_cache_jobs(c), 1, "one job back: 1");
	mb_cache_job_done(c, job_take(), T0 + 2);
	tap_is_int(mb_cache_jobs(c), 0, "both back: 0");
	for (int i = 0; i < 3; i++)
		tap_is_int(cl[i].answers, 1, "no second answer");
	cache_close(&c, T0 + 2);

	fake_reset();
	c = cache_open(ACCT("a"), 0);
	mb_cache_warm(c, T0);
	F.refuse = true;
	tap_ok(ask(c, "a", T0, &late), "the runner refuses: answered");
	tap_is_str(late.out, err_line(MB_IPC_ERR_INTERNAL, "cannot start a "
				      "refresh (serve's log says why)"),
		   "the runner refuses: ERR internal");
	tap_is_int(mb_cache_jobs(c), 0, "the runner refuses: no job counted");
	cache_close(&c, T0);
}

/* --- look-ups ------------------------------------------------------------ */

static void
test_lookup(void)
{
	const size_t n = 10000;
	size_t size = n * 128 + 64, len = 0;
	char *text = malloc(size), name[32];
	struct mb_cache *c;
	struct mb_cache_entry *e, *e0 = NULL;
	bool found = true, distinct = true;

	if (text == NULL)
		abort();
	fake_reset();
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len,
					"[acct%05zu]\nprovider = generic\n"
					"token_endpoint = https://127.0.0.1:1"
					"/t\nclient_id = c\n%s", i,
					i == 7 ? "allow = 4242\n" :
					i == n - 1 ? "allow = 5000, 4244\n" :
					"");
	c = cache_open(text, 0);
	free(text);
	mb_cache_warm(c, T0);
	tap_is_int(F.peeks, (long long)n, "10,000 accounts peeked once each");
	for (size_t i = 0; i < n; i++) {
		const struct mb_account *a;

		snprintf(name, sizeof(name), "acct%05zu", i);
		e = NULL;
		a = mb_cache_find(c, name, &e);
		if (a == NULL || e == NULL || strcmp(a->name, name) != 0 ||
		    a != &mb_cache_config(c)->accounts[i]) {
			if (found)
				tap_diag("%s not found", name);
			found = false;
		}
		if (i == 0)
			e0 = e;
		else if (e == e0)
			distinct = false;
	}
	tap_ok(found, "each of 10,000 accounts found");
	tap_ok(distinct, "each has its own entry");
	e = e0;
	tap_ok(mb_cache_find(c, "acct10000", &e) == NULL && e == NULL,
	       "unknown name: NULL");
	e = e0;
	tap_ok(mb_cache_find(c, "", &e) == NULL && e == NULL,
	       "empty name: NULL");
	e = e0;
	tap_ok(mb_cache_find(c, "acct0000", &e) == NULL && e == NULL,
	       "a prefix: NULL");
	e = e0;
	tap_ok(mb_cache_find(c, "ACCT00000", &e) == NULL && e == NULL,
	       "another case: NULL");
	tap_ok(mb_cache_uid_known(c, 4242), "uid allowed for one account");
	tap_ok(mb_cache_uid_known(c, 5000) && mb_cache_uid_known(c, 4244),
	       "uids allowed for the last account");
	tap_ok(!mb_cache_uid_known(c, 4243) && !mb_cache_uid_known(c, 1) &&
	       (geteuid() == 65000 || !mb_cache_uid_known(c, 65000)),
	       "unknown uids");
	tap_ok(mb_cache_uid_known(c, 0), "root");
	tap_ok(mb_cache_uid_known(c, geteuid()), "serve's own uid");
	cache_close(&c, T0);
}

/* --- store = etcd -------------------------------------------------------- */

/* A configuration of a fleet (every account's fleet set): the key file
 * in dir; nothing connects to the endpoint. */
static struct mb_cache *
fleet_open(const char *accounts)
{
	char path[700], text[2048];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state.key", dir);
	f = fopen(path, "w");
	if (f == NULL || fwrite("0123456789abcdef0123456789abcdef", 1, 32,
				f) != 32 || fclose(f) != 0 ||
	    chmod(path, 0600) < 0) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	snprintf(text, sizeof(text), "store = etcd\n"
		 "etcd_endpoints = https://127.0.0.1:1\n"
		 "state_key_file = %s\n\n%s", path, accounts);
	return cache_open(text, 0);
}

/* Offers name's token (got, exp) from another host: true if taken. */
static bool
offer(struct mb_cache *c, const char *name, const char *token, time_t got,
      time_t exp, time_t now)
{
	struct mb_access a = { strdup(token), exp, got, false };
	bool taken = mb_cache_offer(c, name, &a, now);

	tap_ok(taken == (a.token == NULL), "offer of %s: taken, or left",
	       token);
	free(a.token);
	return taken;
}

/* Another host's newer token is served; an older one, one about to
 * expire, or the same is not; a waiting client gets it; the proactive
 * refresh it makes unneeded is not made. */
static void
test_fleet_offer(void)
{
	struct mb_cache *c;
	struct client cl, w;
	unsigned before;

	fake_reset();
	c = fleet_open(ACCT("a") ACCT("b"));
	disk_set("a", "tokA", T0 - 100, T0 + 3500);	/* due at T0 + 1900 */
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	tap_is_str(cl.out, ok_line("tokA", T0 + 3500), "fleet: tokA served");
	tap_ok(offer(c, "a", "tokB", T0 - 100, T0 + 3500, T0),
	       "another token expiring at the same second is taken");
	ask(c, "a", T0, &cl);
	tap_is_str(cl.out, ok_line("tokB", T0 + 3500), "... and served");
	tap_ok(!offer(c, "a", "tokA", T0 - 200, T0 + 3400, T0),
	       "one that expires earlier is not");
	tap_ok(!offer(c, "a", "tokB", T0 - 100, T0 + 3500, T0),
	       "the same one is not taken again");
	tap_ok(!offer(c, "a", "tokC", T0 - 3590, T0 + 5, T0),
	       "one with less than the minimum left is not");
	tap_ok(!offer(c, "nosuch", "tokC", T0, T0 + 3600, T0),
	       "an account not configured here is not");
	/* b has nothing: a client waits for its load, another host's token
	 * answers it */
	tap_ok(!ask(c, "b", T0, &w), "b: the client waits");
	is_job(MB_JOB_LOAD, "b", "b's load");
	tap_ok(offer(c, "b", "tokD", T0, T0 + 3600, T0 + 1),
	       "b: another host's token taken while the load runs");
	tap_is_int(w.answers, 1, "b: the waiting client answered");
	tap_is_str(w.line, ok_line("tokD", T0 + 3600), "... with it");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokD", T0, T0 + 3600, false,
		   T0 + 1);
	/* a's refresh is due at T0 + 1900; another host's at T0 + 1800
	 * moves it */
	before = F.started;
	tap_ok(offer(c, "a", "tokE", T0 + 1800, T0 + 5400, T0 + 1800),
	       "a: the token another host refreshed before the due time");
	mb_cache_tick(c, T0 + 1900);
	tap_is_int(F.started, before, "no proactive refresh of ours");
	cache_close(&c, T0 + 1900);
}

/* While the cluster does not answer, a fleet account's failed refresh
 * is tried again every 30 s at most; when it answers again, at once. */
static void
test_fleet_down(void)
{
	struct mb_cache *c;
	struct client cl;
	time_t now = T0;
	bool capped = true;

	fake_reset();
	c = fleet_open(ACCT("a"));
	disk_set("a", "tokA", T0 - 3000, T0 + 600);	/* due at T0 */
	mb_cache_warm(c, T0);
	ask(c, "a", T0, &cl);
	is_job(MB_JOB_PROACTIVE, "a", "due");
	tap_ok(mb_cache_job_done(c, job_take(), now),
	       "a fleet account's failed refresh: serve asks the watch");
	mb_cache_fleet(c, false, "no leader", now);
	for (int i = 0; i < 5; i++) {
		unsigned before = F.started;

		mb_cache_tick(c, now + MB_CACHE_FLEET_RETRY);
		if (F.started != before + 1) {
			capped = false;
			tap_diag("attempt %d: no job after %d s", i,
				 MB_CACHE_FLEET_RETRY);
			break;
		}
		now += MB_CACHE_FLEET_RETRY;
		job_finish(c, job_take(), MB_TOKEN_TRANSIENT, "etcd", 0, 0,
			   false, now);
	}
	tap_ok(capped, "etcd down: the back-off stops at %d s",
	       MB_CACHE_FLEET_RETRY);
	mb_cache_fleet(c, true, NULL, now + 1);
	mb_cache_tick(c, now + 1);
	tap_is_int(F.n_run, 1, "etcd back: the refresh is tried at once");
	job_finish(c, job_take(), MB_TOKEN_OK, "tokB", now + 1, now + 3601,
		   false, now + 1);
	ask(c, "a", now + 2, &cl);
	tap_is_str(cl.out, ok_line("tokB", now + 3601), "... and served");
	cache_close(&c, now + 2);
}

int
main(void)
{
	char cmd[700];

	unsetenv("MB_TEST_FLUSH_RETRY");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir2, sizeof(dir2), "%s/other", dir);
	if (mkdir(dir2, 0700) < 0) {
		perror("mkdir");
		return 1;
	}
	setenv("XDG_STATE_HOME", dir, 1);

	test_cold_valid();
	test_cold_margin();
	test_cold_none();
	test_cold_tick();
	test_single_flight();
	test_backoff_request();
	test_backoff_sched();
	test_backoff_expired();
	test_backoff_new_state();
	test_margin();
	test_margin_due_at_arrival();
	test_stale();
	test_stale_run();
	test_rejected();
	test_short();
	test_keepalive();
	test_reload();
	test_pending();
	test_stop();
	test_lookup();
	test_fleet_offer();
	test_fleet_down();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
	return tap_done();
}
