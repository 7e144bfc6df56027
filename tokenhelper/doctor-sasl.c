/* SPDX-License-Identifier: MIT */
#include <config.h>

/* doctor: what libsasl2 itself loads.  libsasl2 is initialised here as a
 * mail client would (no path callback: its own SASL_PATH or compiled-in
 * directory), a verify-file callback records every plugin file it opens,
 * and sasl_client_plugin_info() lists the mechanisms in the order
 * sasl_client_start() tries them (libsasl2 keeps them sorted by strength,
 * doc/plugin.md), each with its plugin's name.  libsasl2 names a plugin
 * after its file: the base name without "lib" and from the first dot on,
 * which maps each mechanism back to the file that provides it. */

#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "doctor.h"
#include "xalloc.h"

#ifndef MB_PLUGINDIR
#define MB_PLUGINDIR "/usr/lib/sasl2"
#endif

#define DOC_MAX_FILES 256
#define DOC_MAX_MECHS 256

struct doc_sasl {
	char *files[DOC_MAX_FILES];	/* plugin files, in load order */
	size_t n_files;
	char *plug[DOC_MAX_MECHS];	/* plugin name of each mechanism */
	char *mech[DOC_MAX_MECHS];	/* in libsasl2's preference order */
	size_t n_mechs;
};

static struct doc_sasl doc_sasl;

static int
doc_verifyfile(void *context, const char *file, sasl_verify_type_t type)
{
	if (type == SASL_VRFY_PLUGIN && doc_sasl.n_files < DOC_MAX_FILES)
		doc_sasl.files[doc_sasl.n_files++] = mb_xstrdup(file);
	return SASL_OK;
}

static void
doc_info(client_sasl_mechanism_t *m, sasl_info_callback_stage_t stage,
	 void *rock)
{
	if (stage != SASL_INFO_LIST_MECH || m == NULL || m->plug == NULL ||
	    doc_sasl.n_mechs >= DOC_MAX_MECHS)
		return;
	doc_sasl.plug[doc_sasl.n_mechs] =
		mb_xstrdup(m->plugname ? m->plugname : "?");
	doc_sasl.mech[doc_sasl.n_mechs++] =
		mb_xstrdup(m->plug->mech_name ? m->plug->mech_name : "?");
}

/* The file libsasl2 named plugname (NULL if none was recorded). */
static const char *
doc_plugin_file(const char *plugname)
{
	char *copy, *base, *dot;
	bool same;
	size_t i;

	for (i = 0; i < doc_sasl.n_files; i++) {
		copy = mb_xstrdup(doc_sasl.files[i]);
		base = basename(copy);
		if (strncmp(base, "lib", 3) == 0)
			base += 3;
		dot = strchr(base, '.');
		if (dot != NULL)
			*dot = '\0';
		same = strcmp(base, plugname) == 0;
		free(copy);
		if (same)
			return doc_sasl.files[i];
	}
	return NULL;
}

/* The directory of the first plugin file libsasl2 opened, or NULL. */
static char *
doc_first_dir(void)
{
	char *copy, *dir;

	if (doc_sasl.n_files == 0)
		return NULL;
	copy = mb_xstrdup(doc_sasl.files[0]);
	dir = mb_xstrdup(dirname(copy));
	free(copy);
	return dir;
}

/* The directories libsasl2 scans, as its default path callback finds
 * them: $SASL_PATH unless set-uid, else its compiled-in directory, known
 * from where it loaded its plugins (configure's plugindir otherwise). */
static char *
doc_scanned(void)
{
	const char *env = getenv("SASL_PATH");
	char *dir, *s;

	if (env != NULL && getuid() == geteuid() && getgid() == getegid())
		return mb_xasprintf("SASL_PATH=%s", env);
	dir = doc_first_dir();
	s = mb_xasprintf("its built-in directory %s", dir ? dir :
			 MB_PLUGINDIR);
	free(dir);
	return s;
}

/* Index of the first mechanism named mech, and of the first one of ours
 * (-1 when none). */
static void
doc_find(const char *mech, long *first_r, long *ours_r)
{
	size_t i;

	*first_r = *ours_r = -1;
	for (i = 0; i < doc_sasl.n_mechs; i++) {
		if (strcasecmp(doc_sasl.mech[i], mech) != 0)
			continue;
		if (*first_r < 0)
			*first_r = (long)i;
		if (*ours_r < 0 && strcmp(doc_sasl.plug[i], "mailbearer") == 0)
			*ours_r = (long)i;
	}
}

/* The file (else the name) of another plugin providing mech, or NULL. */
static const char *
doc_other(const char *mech)
{
	const char *f;
	size_t i;

	for (i = 0; i < doc_sasl.n_mechs; i++) {
		if (strcasecmp(doc_sasl.mech[i], mech) != 0 ||
		    strcmp(doc_sasl.plug[i], "mailbearer") == 0)
			continue;
		f = doc_plugin_file(doc_sasl.plug[i]);
		return f ? f : doc_sasl.plug[i];
	}
	return NULL;
}

static void
doc_sasl_mech(struct mb_doctor *d, const char *mech, const char *where)
{
	const char *file, *other;
	long first, ours;
	char *fix, *dir;

	doc_find(mech, &first, &ours);
	if (ours < 0) {
		dir = doc_first_dir();
		fix = mb_xasprintf("install libmailbearer.so into %s, or add "
				   "its directory to SASL_PATH",
				   dir ? dir : MB_PLUGINDIR);
		free(dir);
		mb_doc_report(d, MB_DOC_FAIL, "sasl-plugin", fix, "libsasl2 "
			      "(%s) loads no %s from libmailbearer.so", where,
			      mech);
		free(fix);
		return;
	}
	file = doc_plugin_file("mailbearer");
	mb_doc_report(d, MB_DOC_PASS, "sasl-plugin", NULL, "libsasl2 (%s) "
		      "lists %s from %s", where, mech,
		      file ? file : "libmailbearer.so");
	if (first == ours) {
		other = doc_other(mech);
		mb_doc_report(d, MB_DOC_PASS, "sasl-shadow", NULL, "%s: ours "
			      "is the one libsasl2 chooses%s%s%s", mech,
			      other ? " (also provided by " : "",
			      other ? other : "", other ? ", ranked below)" :
			      "");
		return;
	}
	other = doc_plugin_file(doc_sasl.plug[first]);
	fix = mb_xasprintf("remove %s (e.g. apt remove "
			   "libsasl2-modules-kdexoauth2), or limit the "
			   "application's mechanisms (client_mech_list, "
			   "smtp_sasl_mechanism_filter)",
			   other ? other : doc_sasl.plug[first]);
	mb_doc_report(d, MB_DOC_FAIL, "sasl-shadow", fix, "%s: libsasl2 "
		      "chooses plugin %s (%s) before ours", mech,
		      doc_sasl.plug[first], other ? other : "file unknown");
	free(fix);
}

void
mb_doc_check_sasl(struct mb_doctor *d)
{
	static sasl_callback_t cbs[] = {
		{ SASL_CB_VERIFYFILE,
		  (sasl_callback_ft)(void (*)(void))doc_verifyfile, NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	char *where;
	size_t i;
	int r;

	r = sasl_client_init(cbs);
	where = doc_scanned();
	if (r != SASL_OK) {
		mb_doc_report(d, MB_DOC_FAIL, "sasl-plugin", "install "
			      "libsasl2's plugins (libsasl2-modules)",
			      "sasl_client_init failed (%s, %s)",
			      sasl_errstring(r, NULL, NULL), where);
	} else {
		(void)sasl_client_plugin_info(NULL, doc_info, NULL);
		doc_sasl_mech(d, "XOAUTH2", where);
		doc_sasl_mech(d, "OAUTHBEARER", where);
		(void)sasl_client_done();
	}
	for (i = 0; i < doc_sasl.n_files; i++)
		free(doc_sasl.files[i]);
	for (i = 0; i < doc_sasl.n_mechs; i++) {
		free(doc_sasl.plug[i]);
		free(doc_sasl.mech[i]);
	}
	memset(&doc_sasl, 0, sizeof(doc_sasl));
	free(where);
}
