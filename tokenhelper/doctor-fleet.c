/* SPDX-License-Identifier: MIT */
#include <config.h>

/* doctor's checks of a fleet's cluster (doc/fleet.md), when the
 * configuration has the etcd keys: the endpoints answer over TLS, the
 * cluster has its quorum, this host may write under the prefix, and
 * state_key_file opens every state etcd holds. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "fleet.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

/* The endpoints and the quorum; false when the rest cannot be checked. */
static bool
doc_fleet_health(struct mb_doctor *d, struct mb_fleet *f)
{
	struct mb_etcd_health h;
	char *key = mb_fleet_accounts_prefix(f);
	bool quorum;

	mb_etcd_health(f->etcd, key, &h);
	free(key);
	if (h.n_answering == h.n_endpoints)
		mb_doc_report(d, MB_DOC_PASS, "etcd", NULL, "%zu/%zu endpoints "
			      "answer over TLS (etcd %s): %s", h.n_answering,
			      h.n_endpoints, h.version ? h.version : "?",
			      h.detail);
	else
		mb_doc_report(d, h.n_answering > 0 ? MB_DOC_WARN : MB_DOC_FAIL,
			      "etcd", "start the nodes that do not answer, or "
			      "correct etcd_endpoints, etcd_ca_file or the "
			      "client certificate as the message says",
			      "%zu/%zu endpoints answer: %s", h.n_answering,
			      h.n_endpoints, h.detail);
	if (h.quorum)
		mb_doc_report(d, MB_DOC_PASS, "etcd quorum", NULL, "a "
			      "linearizable read succeeded");
	else
		mb_doc_report(d, MB_DOC_FAIL, "etcd quorum", "bring back a "
			      "majority of the cluster's nodes; until then "
			      "refreshes of rotating accounts wait and valid "
			      "tokens are still served (doc/fleet.md)",
			      "the cluster has no quorum (no linearizable "
			      "read)");
	quorum = h.quorum;
	mb_etcd_health_clear(&h);
	if (!quorum) {
		mb_doc_report(d, MB_DOC_SKIP, "etcd permissions", NULL,
			      "not checked without quorum");
		mb_doc_report(d, MB_DOC_SKIP, "state key", NULL, "%s (key id "
			      "%s) loads; the states are not checked without "
			      "quorum", f->conf->state_key_file, f->key.id);
	}
	return quorum;
}

/* A key written and deleted under the prefix: PREFIX "check/HOST-PID". */
static void
doc_fleet_write(struct mb_doctor *d, struct mb_fleet *f)
{
	static const char value[] = "mailbearer doctor write test";
	char *host = mb_store_host(), *key, *p, *err = NULL;
	struct mb_etcd_op put = { MB_ETCD_OP_PUT, NULL, value,
				  sizeof(value) - 1, 0 };
	struct mb_etcd_op del = { MB_ETCD_OP_DELETE, NULL, NULL, 0, 0 };
	enum mb_etcd_result r;
	bool won;

	for (p = host; *p != '\0'; p++)
		if (*p == ' ' || *p == '/')
			*p = '-';
	key = mb_xasprintf("%scheck/%s", f->conf->prefix, host);
	put.key = del.key = key;
	r = mb_etcd_txn(f->etcd, NULL, 0, &put, 1, NULL, 0, &won, NULL, NULL,
			NULL, &err);
	if (r == MB_ETCD_OK) {
		free(err);
		err = NULL;
		r = mb_etcd_txn(f->etcd, NULL, 0, &del, 1, NULL, 0, &won,
				NULL, NULL, NULL, &err);
	}
	if (r == MB_ETCD_OK)
		mb_doc_report(d, MB_DOC_PASS, "etcd permissions", NULL,
			      "%s written and deleted", key);
	else
		mb_doc_report(d, MB_DOC_FAIL, "etcd permissions", r ==
			      MB_ETCD_DENIED ? "give etcd_user a role with "
			      "readwrite on the prefix (doc/fleet.md, \"etcd: "
			      "users, roles, certificates\")" : "as the message "
			      "says",
			      "cannot write %s: %s", key, err ? err : "?");
	free(err);
	free(key);
	free(host);
}

/* Appends name to the list *l ("a, b"). */
static void
doc_fleet_add(char **l, const char *name)
{
	char *n = mb_xasprintf("%s%s%s", *l ? *l : "", *l ? ", " : "", name);

	free(*l);
	*l = n;
}

/* state_key_file opens every state: the accounts sealed under another
 * key id, and those that do not open, are named. */
static void
doc_fleet_key(struct mb_doctor *d, struct mb_fleet *f)
{
	char *prefix = mb_fleet_accounts_prefix(f), *err = NULL;
	char *other = NULL, *bad = NULL, *account, *what, *plain;
	const char *v;
	struct mb_etcd_kv *kvs = NULL;
	size_t n = 0, i, len, states = 0;

	if (mb_etcd_list(f->etcd, prefix, false, false, &kvs, &n, NULL,
			 &err) != MB_ETCD_OK) {
		mb_doc_report(d, MB_DOC_FAIL, "state key", "as the message "
			      "says", "cannot read the states under %s: %s",
			      prefix, err);
		free(err);
		free(prefix);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!mb_fleet_split_key(f, kvs[i].key, &account, &what))
			continue;
		v = (const char *)kvs[i].value;
		if (strcmp(what, "state") != 0) {
			/* not a sealed value */
		} else if (kvs[i].value_len > 13 &&
			   strncmp(v, "mb1.", 4) == 0 && v[12] == '.' &&
			   strncmp(v + 4, f->key.id, 8) != 0) {
			char *s = mb_xasprintf("%s (key id %.8s)", account,
					       v + 4);

			doc_fleet_add(&other, s);
			free(s);
			states++;
		} else if (mb_seal_open(&f->key, account, "state", v,
					kvs[i].value_len, &plain, &len,
					&err) < 0) {
			doc_fleet_add(&bad, account);
			free(err);
			err = NULL;
			states++;
		} else {
			mb_wipe(plain, len);
			free(plain);
			states++;
		}
		free(account);
		free(what);
	}
	mb_etcd_kvs_free(kvs, n);
	if (other != NULL)
		mb_doc_report(d, MB_DOC_FAIL, "state key", "install the "
			      "fleet's key as state_key_file on this host, or "
			      "finish `mailbearer store rekey` (doc/fleet.md)",
			      "%s (key id %s) cannot open the state of %s",
			      f->conf->state_key_file, f->key.id, other);
	if (bad != NULL)
		mb_doc_report(d, MB_DOC_FAIL, "state key", "`mailbearer "
			      "authorize` (or import) each of them again",
			      "the state of %s is sealed with this key (id %s) "
			      "but does not open: altered, or copied from "
			      "another account", bad, f->key.id);
	if (other == NULL && bad == NULL)
		mb_doc_report(d, MB_DOC_PASS, "state key", NULL, "%s (key id "
			      "%s) opens the %zu state(s) under %s",
			      f->conf->state_key_file, f->key.id, states,
			      prefix);
	free(other);
	free(bad);
	free(prefix);
}

void
mb_doc_check_fleet(struct mb_doctor *d, const struct mb_config *cfg)
{
	struct mb_fleet *own = NULL, *f = cfg->fleet;
	char *err = NULL;

	if (cfg->etcd == NULL)
		return;
	if (f == NULL) {
		/* store = files with the etcd keys: before a migration */
		own = f = mb_fleet_new(cfg->etcd, &err);
		if (f == NULL) {
			mb_doc_report(d, MB_DOC_FAIL, "state key", "as the "
				      "message says", "%s", err);
			free(err);
			return;
		}
	}
	if (doc_fleet_health(d, f)) {
		doc_fleet_write(d, f);
		doc_fleet_key(d, f);
	}
	mb_fleet_free(&own);
}
