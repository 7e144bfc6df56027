/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/store-files.h"

static char dir[] = "/tmp/mb-test-store.XXXXXX";

static int
count_entries(const char *d, const char *prefix)
{
	DIR *dh = opendir(d);
	struct dirent *e;
	int n = 0;

	if (dh == NULL)
		return -1;
	while ((e = readdir(dh)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(dh);
	return n;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		exit(1);
	chmod(path, mode);
}

/* Leftover temporary files: the newest complete state newer than the
 * state file is adopted, the others removed, foreign files left alone. */
static void
test_recover(const struct mb_account *acct, const char *sdir)
{
	char p[600], old_tmp[600], new_tmp[600], junk[600], odd[600];
	struct mb_state st, got;
	char *err = NULL;
	int n;

	memset(&st, 0, sizeof(st));
	st.refresh_token = strdup("rt-on-disk");
	tap_is_int(mb_files_write(acct, &st, &err), 0, "recover: base state");
	free(err);
	err = NULL;
	snprintf(old_tmp, sizeof(old_tmp), "%s/%s.json.tmp-aaaaaa", sdir,
		 acct->name);
	snprintf(new_tmp, sizeof(new_tmp), "%s/%s.json.tmp-bbbbbb", sdir,
		 acct->name);
	snprintf(junk, sizeof(junk), "%s/%s.json.tmp-cccccc", sdir,
		 acct->name);
	snprintf(odd, sizeof(odd), "%s/%s.json.tmp-dddddd", sdir, acct->name);
	snprintf(p, sizeof(p), "{\"version\": 1, \"refresh_token\": "
		 "\"rt-old\", \"generation\": %lld}\n", st.generation);
	put(old_tmp, p, 0600);
	snprintf(p, sizeof(p), "{\"version\": 1, \"refresh_token\": "
		 "\"rt-rotated\", \"generation\": %lld}\n",
		 st.generation + 1);
	put(new_tmp, p, 0600);
	/* A reserved file a crash left half-written. */
	put(junk, "{\"version\": 1, \"refresh_tok", 0600);
	/* Not ours to touch: readable by others. */
	put(odd, "{\"version\": 1, \"generation\": 99}\n", 0644);
	n = mb_files_recover(acct, &err);
	tap_is_int(n, 1, "recover: one state adopted");
	free(err);
	err = NULL;
	tap_is_int(mb_files_read(acct, false, &got, &err), MB_STORE_FOUND,
		   "recover: state readable");
	tap_is_str(got.refresh_token, "rt-rotated",
		   "recover: the newer state (rotated token) adopted");
	mb_state_clear(&got);
	tap_ok(access(old_tmp, F_OK) < 0, "recover: older one removed");
	tap_ok(access(junk, F_OK) < 0, "recover: incomplete one removed");
	tap_ok(access(odd, F_OK) == 0, "recover: a foreign file left alone");
	unlink(odd);
	tap_is_int(count_entries(sdir, "alice@example.com.json.tmp-"), 0,
		   "recover: no temporary file left");
	mb_state_clear(&st);
	free(err);
}

/* A state file as mailbearer wrote it before the state had a module of
 * its own (every field set, json-c 0.16's layout): it still loads, and is
 * written again byte for byte the same; so does one from before
 * last_asked. */
static const char today_file[] =
	"{\n"
	"  \"version\":1,\n"
	"  \"refresh_token\":\"1//0rt-AbC_def.ghi~jkl+mno/pqr=\",\n"
	"  \"access_token\":\"ya29.at-XyZ\",\n"
	"  \"expires_at\":1796550000,\n"
	"  \"scope\":\"https://mail.google.com/ openid \\\"q\\\" "
	"\\\\ caf\xc3\xa9\",\n"
	"  \"rejected\":true,\n"
	"  \"needs_authorize\":true,\n"
	"  \"client_problem\":false,\n"
	"  \"reason\":\"the provider refused the refresh token; run "
	"`mailbearer authorize a`\",\n"
	"  \"last_refresh\":1796546400,\n"
	"  \"last_error\":\"the provider answered HTTP 400 "
	"\\\"invalid_grant\\\" (Bad Request): x\",\n"
	"  \"updated\":1796546401,\n"
	"  \"last_forced\":1796546300,\n"
	"  \"last_asked\":1796546320,\n"
	"  \"generation\":42,\n"
	"  \"refresh_since\":1796000000,\n"
	"  \"unanswered_at\":1796546350\n"
	"}\n";

static void
test_compat(const struct mb_account *acct, const char *sdir)
{
	struct mb_state st;
	char p[600], *err = NULL, *text, *old;

	snprintf(p, sizeof(p), "%s/%s.json", sdir, acct->name);
	put(p, today_file, 0600);
	tap_is_int(mb_files_read(acct, false, &st, &err), MB_STORE_FOUND,
		   "compat: a state file of the previous version loads");
	free(err);
	tap_ok(st.refresh_token != NULL &&
	       strcmp(st.refresh_token,
		      "1//0rt-AbC_def.ghi~jkl+mno/pqr=") == 0 &&
	       st.access_token != NULL &&
	       strcmp(st.access_token, "ya29.at-XyZ") == 0,
	       "compat: its tokens");
	tap_ok(st.expires_at == 1796550000 && st.last_refresh == 1796546400 &&
	       st.updated == 1796546401 && st.last_forced == 1796546300 &&
	       st.last_asked == 1796546320 &&
	       st.refresh_since == 1796000000 &&
	       st.unanswered_at == 1796546350 && st.generation == 42,
	       "compat: its times and generation");
	tap_ok(st.rejected && st.needs_authorize && !st.client_problem,
	       "compat: its flags");
	tap_ok(st.scope != NULL && strcmp(st.scope, "https://mail.google.com/ "
	       "openid \"q\" \\ caf\xc3\xa9") == 0 && st.reason != NULL &&
	       st.last_error != NULL, "compat: its texts");
	text = mb_state_encode(&st);
	tap_is_str(text, today_file, "compat: encoded again, the same bytes");
	free(text);
	mb_state_clear(&st);
	/* Older still: before last_asked, a field that is then 0. */
	text = strdup(today_file);
	if (text == NULL || (old = strstr(text, "  \"last_asked\"")) == NULL)
		abort();	/* the constant above has it */
	memmove(old, strchr(old, '\n') + 1, strlen(strchr(old, '\n')));
	put(p, text, 0600);
	free(text);
	tap_is_int(mb_files_read(acct, false, &st, &err), MB_STORE_FOUND,
		   "compat: a state file without last_asked loads");
	free(err);
	tap_ok(st.last_asked == 0 && st.last_forced == 1796546300,
	       "compat: ... last_asked 0, the rest as written");
	mb_state_clear(&st);
}

/* A read kept open tells whether the state file is still the one read
 * (token.c reads the state once per refresh with it). */
static void
test_seen(const struct mb_account *acct, const char *sdir)
{
	struct mb_store_seen seen = MB_STORE_SEEN_INIT;
	struct mb_state st;
	struct timespec old[2] = { { time(NULL) - 3600, 0 },
				   { time(NULL) - 3600, 0 } };
	char p[600], *err = NULL;
	FILE *f;

	tap_ok(!mb_files_seen_current(acct, &seen), "seen: nothing read");
	memset(&st, 0, sizeof(st));
	st.refresh_token = strdup("rt-seen");
	tap_is_int(mb_files_write(acct, &st, &err), 0, "seen: a state");
	mb_state_clear(&st);
	tap_is_int(mb_files_read_seen(acct, &st, &seen, &err), MB_STORE_FOUND,
		   "seen: read");
	tap_ok(seen.fd >= 0 && mb_files_seen_current(acct, &seen),
	       "seen: the file read is current");
	tap_is_int(mb_files_write(acct, &st, &err), 0, "seen: written anew");
	tap_ok(!mb_files_seen_current(acct, &seen),
	       "seen: a state written since is not the one read");
	mb_store_seen_close(&seen);
	mb_state_clear(&st);
	snprintf(p, sizeof(p), "%s/%s.json", sdir, acct->name);
	/* Written in place (by hand), even to the same length, later than
	 * the clock's tick that wrote it: an hour ago here. */
	if (utimensat(AT_FDCWD, p, old, 0) < 0)
		tap_diag("cannot set the times of %s", p);
	mb_files_read_seen(acct, &st, &seen, &err);
	f = fopen(p, "r+");
	if (f == NULL || fputc(' ', f) == EOF || fclose(f) != 0)
		tap_diag("cannot rewrite %s", p);
	tap_ok(!mb_files_seen_current(acct, &seen),
	       "seen: a file written in place is not current");
	mb_store_seen_close(&seen);
	mb_store_seen_close(&seen);
	tap_is_int(seen.fd, -1, "seen: closed (twice is fine)");
	mb_state_clear(&st);
	unlink(p);
	mb_files_read_seen(acct, &st, &seen, &err);
	tap_is_int(seen.fd, -1, "seen: nothing kept when nothing is found");
	free(err);
}

int
main(void)
{
	struct mb_account acct;
	struct mb_state st, got;
	char sdir[256], path[512], *err = NULL;
	char name[] = "alice@example.com";
	struct stat sb;
	ino_t ino;
	int fd = -1, r;
	pid_t pid;
	int pipefd[2];
	char c;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("no temporary directory");
	snprintf(sdir, sizeof(sdir), "%s/a/b/state", dir);
	memset(&acct, 0, sizeof(acct));
	acct.name = name;
	acct.state_dir = sdir;
	snprintf(path, sizeof(path), "%s/alice@example.com.json", sdir);

	/* Missing. */
	r = mb_files_read(&acct, false, &got, &err);
	tap_is_int(r, MB_STORE_MISSING, "no file: missing");
	tap_ok(stat(sdir, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	       "state dir created 0700 (with parents)");

	/* Round trip. */
	memset(&st, 0, sizeof(st));
	st.refresh_token = strdup("rt-1");
	st.access_token = strdup("at-1");
	st.expires_at = 2000000000;
	st.scope = strdup("https://mail.google.com/");
	st.rejected = true;
	st.needs_authorize = true;
	st.client_problem = true;
	st.reason = strdup("because \"quoted\"\nnewline");
	st.last_refresh = 1900000000;
	st.last_error = strdup("HTTP 500");
	tap_is_int(mb_files_write(&acct, &st, &err), 0, "write");
	tap_ok(st.updated > 0, "updated set by write");
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	       "state file 0600");
	ino = sb.st_ino;
	r = mb_files_read(&acct, false, &got, &err);
	tap_is_int(r, MB_STORE_FOUND, "read back");
	tap_is_str(got.refresh_token, "rt-1", "refresh_token");
	tap_is_str(got.access_token, "at-1", "access_token");
	tap_is_int(got.expires_at, 2000000000, "expires_at");
	tap_is_str(got.scope, "https://mail.google.com/", "scope");
	tap_ok(got.rejected && got.needs_authorize && got.client_problem,
	       "flags");
	tap_is_str(got.reason, "because \"quoted\"\nnewline", "reason");
	tap_is_int(got.last_refresh, 1900000000, "last_refresh");
	tap_is_str(got.last_error, "HTTP 500", "last_error");
	tap_is_int(got.updated, st.updated, "updated");
	mb_state_clear(&got);
	tap_ok(got.refresh_token == NULL && got.expires_at == 0,
	       "clear zeroes");

	/* Atomic replace: a new inode, no temporary left behind. */
	free(st.access_token);
	st.access_token = strdup("at-2");
	st.refresh_token[3] = '2';
	tap_is_int(mb_files_write(&acct, &st, &err), 0, "second write");
	tap_ok(stat(path, &sb) == 0 && sb.st_ino != ino,
	       "file replaced by rename, not rewritten in place");
	tap_is_int(count_entries(sdir, "alice@example.com.json.tmp"), 0,
		   "no temporary file left");
	r = mb_files_read(&acct, false, &got, &err);
	tap_ok(r == MB_STORE_FOUND && got.access_token &&
	       strcmp(got.access_token, "at-2") == 0 &&
	       strcmp(got.refresh_token, "rt-2") == 0, "new content read");
	mb_state_clear(&got);

	/* Modes: refuse to read secrets others can read. */
	chmod(path, 0644);
	r = mb_files_read(&acct, false, &got, &err);
	tap_is_int(r, MB_STORE_ERROR, "0644 state file refused");
	tap_ok(err && strstr(err, "chmod 600") && strstr(err, path),
	       "message says chmod 600 FILE");
	free(err);
	err = NULL;
	chmod(path, 0600);
	chmod(sdir, 0755);
	r = mb_files_read(&acct, false, &got, &err);
	tap_is_int(r, MB_STORE_ERROR, "0755 state dir refused");
	tap_ok(err && strstr(err, "chmod 700") && strstr(err, sdir),
	       "message says chmod 700 DIR");
	free(err);
	err = NULL;
	tap_ok(mb_files_write(&acct, &st, &err) < 0,
	       "no write into an open directory either");
	free(err);
	err = NULL;
	chmod(sdir, 0700);

	/* Corrupt: reported, kept aside (never overwritten), not lost. */
	put(path, "{\"version\": 1, \"refresh_token\": ", 0600);
	r = mb_files_read(&acct, false, &got, &err);
	tap_is_int(r, MB_STORE_CORRUPT, "truncated JSON is corrupt");
	tap_ok(access(path, F_OK) == 0, "left in place without the lock");
	free(err);
	err = NULL;
	r = mb_files_read(&acct, true, &got, &err);
	tap_is_int(r, MB_STORE_CORRUPT, "corrupt again");
	tap_ok(access(path, F_OK) != 0, "moved away");
	tap_is_int(count_entries(sdir, "alice@example.com.json.corrupt-"), 1,
		   "kept as .corrupt-<time>");
	tap_ok(err && strstr(err, ".json.corrupt-") &&
	       strstr(err, "mailbearer import alice@example.com") &&
	       strstr(err, "mailbearer authorize"),
	       "message names the copy and the fix");
	tap_diag("%s", err ? err : "");
	free(err);
	err = NULL;
	put(path, "{\"version\": 1, \"expires_at\": \"soon\"}", 0600);
	r = mb_files_read(&acct, true, &got, &err);
	tap_is_int(r, MB_STORE_CORRUPT, "wrong type is corrupt");
	tap_ok(err && strstr(err, "expires_at"), "names the field");
	tap_is_int(count_entries(sdir, "alice@example.com.json.corrupt-"), 2,
		   "second corrupt file does not overwrite the first");
	free(err);
	err = NULL;
	put(path, "[1,2]", 0600);
	tap_is_int(mb_files_read(&acct, true, &got, &err), MB_STORE_CORRUPT,
		   "not an object");
	free(err);
	err = NULL;
	put(path, "{\"version\": 1, \"refresh_token\": \"a\\u0001b\"}", 0600);
	tap_is_int(mb_files_read(&acct, true, &got, &err), MB_STORE_CORRUPT,
		   "control character in a token");
	free(err);
	err = NULL;
	put(path, "{\"version\": 2}", 0600);
	tap_is_int(mb_files_read(&acct, true, &got, &err), MB_STORE_CORRUPT,
		   "unknown version");
	free(err);
	err = NULL;
	put(path, "{\"version\": 1}\n", 0600);
	tap_is_int(mb_files_read(&acct, true, &got, &err), MB_STORE_FOUND,
		   "minimal state is fine");
	tap_ok(got.refresh_token == NULL, "no refresh token");
	mb_state_clear(&got);

	/* The lock is exclusive across processes. */
	tap_is_int(mb_files_lock(&acct, &fd, &err), 0, "lock");
	if (pipe(pipefd) < 0)
		tap_skip_all("no pipe");
	pid = fork();
	if (pid == 0) {
		char lp[600];
		int lfd, ok;

		snprintf(lp, sizeof(lp), "%s/alice@example.com.lock", sdir);
		lfd = open(lp, O_RDWR);
		ok = lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0;
		c = ok ? 'y' : 'n';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	c = 'n';
	if (read(pipefd[0], &c, 1) != 1)
		c = '?';
	waitpid(pid, NULL, 0);
	tap_ok(c == 'y', "another process cannot take the lock");
	mb_files_unlock(&fd);
	tap_is_int(fd, -1, "unlock resets the fd");
	snprintf(path, sizeof(path), "%s/alice@example.com.lock", sdir);
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0,
	       "lock file private");

	test_recover(&acct, sdir);
	test_compat(&acct, sdir);
	test_seen(&acct, sdir);
	mb_state_clear(&st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		tap_diag("cleanup failed");
	return tap_done();
}
