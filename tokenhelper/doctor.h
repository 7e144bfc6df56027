/* SPDX-License-Identifier: MIT */
#ifndef MB_DOCTOR_H
#define MB_DOCTOR_H

/* `mailbearer doctor`: checks of a whole set-up, each printed as one line
 * "PASS|FAIL|SKIP  name: what was found[; fix: what to do]".  The checks
 * live in doctor-*.c by theme; cmd-doctor.c runs them in order. */

#include <stdbool.h>

#include "conf.h"

enum mb_doc_result {
	MB_DOC_PASS,
	MB_DOC_FAIL,
	MB_DOC_SKIP,
	/* something to look at that does not stop the set-up working
	 * (one etcd node of several down): not a failure */
	MB_DOC_WARN,
};

struct mb_doctor {
	const char *socket_path;	/* --socket, else the plugin's rule */
	const char *postfix_dir;	/* --postfix-config, NULL: default */
	const char *login_url;		/* --login, NULL: no login */
	const char *login_ca;		/* --ca-file for --login */
	const struct mb_config *cfg;	/* NULL when it does not load */
	unsigned n_fail, n_pass, n_skip, n_warn;
};

/* Prints one check's line and counts it.  fix may be NULL; neither text
 * may hold a secret. */
void mb_doc_report(struct mb_doctor *d, enum mb_doc_result r,
		   const char *name, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* doctor-sasl.c: libsasl2 lists XOAUTH2 and OAUTHBEARER from
 * libmailbearer.so in the directories it really scans, and ours is the
 * one it chooses. */
void mb_doc_check_sasl(struct mb_doctor *d);

/* doctor-postfix.c: when postconf exists and Postfix uses SASL, its
 * password table, mechanism filter, TLS options and chroot. */
void mb_doc_check_postfix(struct mb_doctor *d);

/* doctor-fleet.c: when cfg has the etcd keys, the cluster: endpoints
 * (TLS), quorum, a write under the prefix, and state_key_file opening
 * every state. */
void mb_doc_check_fleet(struct mb_doctor *d, const struct mb_config *cfg);

/* doctor-net.c: a TLS connection to the account's token endpoint with the
 * configured CA (no token request), and the --login of the URL with the
 * token (never shown). */
void mb_doc_check_endpoint(struct mb_doctor *d, const struct mb_account *a);
/* true for the schemes --login accepts: imap, imaps, smtp, smtps. */
bool mb_doc_login_url_ok(const char *url);
void mb_doc_check_login(struct mb_doctor *d, const struct mb_account *a,
			const char *token);

#endif
