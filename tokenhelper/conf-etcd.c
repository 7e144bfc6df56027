/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "conf-etcd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "errstr.h"
#include "safe-open.h"
#include "wipe.h"
#include "xalloc.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_PASSWORD_MAX 1024

static const char *const ek_names[MB_EK_COUNT] = {
	[MB_EK_STORE] = "store",
	[MB_EK_ENDPOINTS] = "etcd_endpoints",
	[MB_EK_CA_FILE] = "etcd_ca_file",
	[MB_EK_CERT_FILE] = "etcd_cert_file",
	[MB_EK_KEY_FILE] = "etcd_key_file",
	[MB_EK_USER] = "etcd_user",
	[MB_EK_PASSWORD_FILE] = "etcd_password_file",
	[MB_EK_PREFIX] = "etcd_prefix",
	[MB_EK_STATE_KEY_FILE] = "state_key_file",
};

const char *
mb_etcd_key_name(enum mb_etcd_key k)
{
	return ek_names[k];
}

void
mb_etcd_conf_free(struct mb_etcd_conf **cp)
{
	struct mb_etcd_conf *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->user);
	mb_free_secret(&c->password);
	free(c->prefix);
	free(c->state_key_file);
	free(c);
	*cp = NULL;
}

static char *
ek_path(const struct mb_etcd_raw *raw, enum mb_etcd_key k)
{
	const char *v = raw->value[k];

	if (v == NULL)
		return NULL;
	if (v[0] == '/')
		return mb_xstrdup(v);
	return mb_xasprintf("%s/%s", raw->dir, v);
}

/* etcd_endpoints: "URL, URL ...", https:// only, no path. */
static int
ek_endpoints(const char *v, struct mb_etcd_conf *c, char **error_r)
{
	char *copy = mb_xstrdup(v), *save = NULL, *tok;
	int ret = 0;

	c->endpoints = mb_xcalloc(ETCD_MAX_ENDPOINTS, sizeof(char *));
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t len = strlen(tok);

		while (len > 8 && tok[len - 1] == '/')
			tok[--len] = '\0';
		if (strncasecmp(tok, "https://", 8) != 0 || len == 8 ||
		    strchr(tok + 8, '/') != NULL) {
			*error_r = mb_xasprintf("etcd_endpoints: \"%s\" is "
				"not an https://HOST:PORT URL (the fleet's "
				"state travels only over TLS)", tok);
			ret = -1;
			break;
		}
		if (c->n_endpoints == ETCD_MAX_ENDPOINTS) {
			*error_r = mb_xasprintf("etcd_endpoints: more than "
				"%d endpoints", ETCD_MAX_ENDPOINTS);
			ret = -1;
			break;
		}
		c->endpoints[c->n_endpoints++] = mb_xstrdup(tok);
	}
	if (ret == 0 && c->n_endpoints == 0) {
		*error_r = mb_xstrdup("etcd_endpoints names no endpoint");
		ret = -1;
	}
	free(copy);
	return ret;
}

/* A file the administrator names: regular, readable now; secret: closed
 * to group and others. */
static int
ek_file(const char *what, const char *path, bool secret, char **error_r)
{
	struct stat st;
	int fd;

	fd = mb_open_regular(path, O_RDONLY, 0, MB_OPEN_FOLLOW, what, &st,
			     error_r);
	if (fd < 0)
		return -1;
	close(fd);
	if (secret && (st.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("%s %s is accessible by group or "
			"others (mode %04o); run: chmod 600 %s", what, path,
			(unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* The one line of etcd_password_file. */
static char *
ek_password(const char *path, char **error_r)
{
	char buf[ETCD_PASSWORD_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	char *pw = NULL;
	int fd;

	fd = mb_open_regular(path, O_RDONLY, 0, MB_OPEN_FOLLOW,
			     "etcd_password_file", &st, error_r);
	if (fd < 0)
		return NULL;
	if ((st.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("etcd_password_file %s is accessible "
			"by group or others (mode %04o); run: chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0 || len > ETCD_PASSWORD_MAX || memchr(buf, '\n', len) ||
	    memchr(buf, '\0', len))
		*error_r = mb_xasprintf("etcd_password_file %s must hold one "
			"line of 1 to %d bytes (the etcd user's password)",
			path, ETCD_PASSWORD_MAX);
	else
		pw = mb_xstrndup(buf, len);
	mb_wipe(buf, sizeof(buf));
	return pw;
}

static int
ek_files(const struct mb_etcd_raw *raw, struct mb_etcd_conf *c,
	 unsigned *line_r, char **error_r)
{
	c->ca_file = ek_path(raw, MB_EK_CA_FILE);
	c->cert_file = ek_path(raw, MB_EK_CERT_FILE);
	c->key_file = ek_path(raw, MB_EK_KEY_FILE);
	c->state_key_file = ek_path(raw, MB_EK_STATE_KEY_FILE);
	if ((c->cert_file == NULL) != (c->key_file == NULL)) {
		*line_r = raw->line[c->cert_file ? MB_EK_CERT_FILE :
				    MB_EK_KEY_FILE];
		*error_r = mb_xstrdup("etcd_cert_file and etcd_key_file go "
				      "together: set both or neither");
		return -1;
	}
	if (c->ca_file != NULL &&
	    ek_file("etcd_ca_file", c->ca_file, false, error_r) < 0) {
		*line_r = raw->line[MB_EK_CA_FILE];
		return -1;
	}
	if (c->cert_file != NULL &&
	    (ek_file("etcd_cert_file", c->cert_file, false, error_r) < 0 ||
	     ek_file("etcd_key_file", c->key_file, true, error_r) < 0)) {
		*line_r = raw->line[MB_EK_CERT_FILE];
		return -1;
	}
	if ((raw->value[MB_EK_USER] == NULL) !=
	    (raw->value[MB_EK_PASSWORD_FILE] == NULL)) {
		*line_r = raw->line[raw->value[MB_EK_USER] ? MB_EK_USER :
				    MB_EK_PASSWORD_FILE];
		*error_r = mb_xstrdup("etcd_user and etcd_password_file go "
				      "together: set both or neither");
		return -1;
	}
	if (raw->value[MB_EK_USER] != NULL) {
		char *path = ek_path(raw, MB_EK_PASSWORD_FILE);

		c->user = mb_xstrdup(raw->value[MB_EK_USER]);
		c->password = ek_password(path, error_r);
		free(path);
		if (c->password == NULL) {
			*line_r = raw->line[MB_EK_PASSWORD_FILE];
			return -1;
		}
	}
	return 0;
}

int
mb_etcd_conf_build(const struct mb_etcd_raw *raw, struct mb_etcd_conf **out,
		   bool *store_etcd_r, unsigned *line_r, char **error_r)
{
	const char *store = raw->value[MB_EK_STORE];
	struct mb_etcd_conf *c;
	bool any = false;
	int k;

	*out = NULL;
	*store_etcd_r = false;
	*line_r = 0;
	if (store != NULL && strcmp(store, "etcd") != 0 &&
	    strcmp(store, "files") != 0) {
		*line_r = raw->line[MB_EK_STORE];
		*error_r = mb_xasprintf("store must be files or etcd, not "
					"\"%s\"", store);
		return -1;
	}
	*store_etcd_r = store != NULL && strcmp(store, "etcd") == 0;
	for (k = MB_EK_ENDPOINTS; k < MB_EK_COUNT; k++)
		any = any || raw->value[k] != NULL;
	if (!any && !*store_etcd_r)
		return 0;
	c = mb_xcalloc(1, sizeof(*c));
	if (raw->value[MB_EK_ENDPOINTS] == NULL ||
	    raw->value[MB_EK_STATE_KEY_FILE] == NULL) {
		*line_r = raw->line[MB_EK_STORE];
		*error_r = mb_xasprintf("the etcd store needs etcd_endpoints "
			"and state_key_file (%s is missing; see "
			"mailbearer.conf(5))",
			raw->value[MB_EK_ENDPOINTS] == NULL ?
			"etcd_endpoints" : "state_key_file");
		goto fail;
	}
	if (ek_endpoints(raw->value[MB_EK_ENDPOINTS], c, error_r) < 0) {
		*line_r = raw->line[MB_EK_ENDPOINTS];
		goto fail;
	}
	c->prefix = mb_xstrdup(raw->value[MB_EK_PREFIX] != NULL ?
			       raw->value[MB_EK_PREFIX] : "/mailbearer/");
	if (c->prefix[0] != '/' || c->prefix[strlen(c->prefix) - 1] != '/') {
		*line_r = raw->line[MB_EK_PREFIX];
		*error_r = mb_xasprintf("etcd_prefix \"%s\" must start and "
					"end with \"/\"", c->prefix);
		goto fail;
	}
	if (ek_files(raw, c, line_r, error_r) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	mb_etcd_conf_free(&c);
	*store_etcd_r = false;
	return -1;
}
