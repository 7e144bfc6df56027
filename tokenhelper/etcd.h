/* SPDX-License-Identifier: MIT */
#ifndef MB_ETCD_H
#define MB_ETCD_H

/* A client of etcd v3 through its gRPC-JSON gateway (POST /v3/... with
 * JSON over HTTPS, http.h): the key-value calls the fleet store needs
 * (range, put, delete, compare-and-swap transactions), leases, and the
 * cluster's health.  Keys and values are bytes (base64 on the wire);
 * revisions are etcd's (64-bit, as strings on the wire).
 *
 * Each call tries the endpoints in turn, starting with the last that
 * answered, until one answers: a node that is down, or that lost the
 * cluster's quorum ("no leader", a timed-out proposal), hands the call to
 * the next.  With etcd_user, the authentication token is obtained once
 * and again when etcd says it expired.  Thread-safe. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct mb_etcd_conf;

enum mb_etcd_result {
	MB_ETCD_OK = 0,
	/* no endpoint could do it: down, unreachable, or without quorum
	 * (the message says which); nothing was changed */
	MB_ETCD_UNAVAILABLE,
	/* refused: authentication, permission; the message names the fix */
	MB_ETCD_DENIED,
	/* a reply that is not etcd's, or a local problem (TLS files) */
	MB_ETCD_ERROR,
};

struct mb_etcd;

/* One key as etcd holds it. */
struct mb_etcd_kv {
	char *key;		/* NUL-terminated (our keys are text) */
	unsigned char *value;	/* malloc'd, NUL-terminated too; wiped */
	size_t value_len;
	long long create_revision;	/* 0: no such key */
	long long mod_revision;
	long long lease;		/* 0: none */
};

/* The client for conf (kept, not copied).  Never fails: nothing is
 * connected until a call. */
struct mb_etcd *mb_etcd_new(const struct mb_etcd_conf *conf);
void mb_etcd_free(struct mb_etcd **e);

/* One key: MB_ETCD_OK with *kv filled (kv->create_revision 0 when the key
 * does not exist), *rev_r (may be NULL) the cluster's revision.
 * serializable: answered by any node from its own copy, without quorum
 * (possibly behind); else linearizable (needs quorum). */
enum mb_etcd_result mb_etcd_get(struct mb_etcd *e, const char *key,
				bool serializable, struct mb_etcd_kv *kv,
				long long *rev_r, char **error_r);
/* Every key under prefix, in key order: *kvs_r (mb_etcd_kvs_free) and
 * *n_r; keys_only leaves the values out. */
enum mb_etcd_result mb_etcd_list(struct mb_etcd *e, const char *prefix,
				 bool serializable, bool keys_only,
				 struct mb_etcd_kv **kvs_r, size_t *n_r,
				 long long *rev_r, char **error_r);
void mb_etcd_kv_clear(struct mb_etcd_kv *kv);
void mb_etcd_kvs_free(struct mb_etcd_kv *kvs, size_t n);

/* A transaction of at most a few comparisons and operations. */
enum mb_etcd_cmp_target {
	MB_ETCD_CMP_CREATE,	/* the key's create_revision (0: absent) */
	MB_ETCD_CMP_MOD,	/* its mod_revision */
	MB_ETCD_CMP_LEASE,	/* the lease it is attached to */
};
struct mb_etcd_cmp {
	const char *key;
	enum mb_etcd_cmp_target target;
	long long value;	/* must be EQUAL */
};
enum mb_etcd_op_kind {
	MB_ETCD_OP_PUT,
	MB_ETCD_OP_DELETE,
	MB_ETCD_OP_GET,		/* its result in the txn's kvs */
};
struct mb_etcd_op {
	enum mb_etcd_op_kind kind;
	const char *key;
	const void *value;	/* PUT */
	size_t value_len;
	long long lease;	/* PUT: 0 none */
};
/* All cmps hold: the success ops run, *succeeded_r true; else the
 * failure ops.  The GET ops' keys are returned in order in *kvs_r and *n_r
 * (one entry per GET, create_revision 0 when absent; NULL allowed when
 * there is none).  *rev_r (may be NULL): the revision after. */
enum mb_etcd_result mb_etcd_txn(struct mb_etcd *e,
				const struct mb_etcd_cmp *cmps, size_t n_cmps,
				const struct mb_etcd_op *ok, size_t n_ok,
				const struct mb_etcd_op *fail, size_t n_fail,
				bool *succeeded_r, struct mb_etcd_kv **kvs_r,
				size_t *n_r, long long *rev_r,
				char **error_r);

/* A lease of ttl seconds: its id in *id_r. */
enum mb_etcd_result mb_etcd_lease_grant(struct mb_etcd *e, long ttl,
					long long *id_r, char **error_r);
/* Renews it: *ttl_r the seconds left (0: it had expired). */
enum mb_etcd_result mb_etcd_lease_keepalive(struct mb_etcd *e, long long id,
					    long *ttl_r, char **error_r);
/* Ends it now, deleting the keys attached to it. */
enum mb_etcd_result mb_etcd_lease_revoke(struct mb_etcd *e, long long id,
					 char **error_r);

/* What doctor and status say about the cluster. */
struct mb_etcd_health {
	size_t n_endpoints;
	size_t n_answering;	/* endpoints whose status answered */
	bool quorum;		/* a linearizable read succeeded */
	char *version;		/* of the first answering node, or NULL */
	char *detail;		/* per endpoint: "URL: ok" / "URL: why" */
};
/* Asks every endpoint's status, then one linearizable read of key. */
void mb_etcd_health(struct mb_etcd *e, const char *key,
		    struct mb_etcd_health *h);
void mb_etcd_health_clear(struct mb_etcd_health *h);

/* Watches every key under prefix from revision start (0: now), calling
 * on_event for each change (kv->value NULL for a delete) until it
 * returns non-zero, the connection ends (then MB_ETCD_OK or
 * MB_ETCD_UNAVAILABLE: the caller watches again from the revision after
 * the last event it saw) or max_seconds pass, or mb_cancel_all() is
 * called, or within a second of *stop becoming true (stop may be NULL:
 * serve's watch stops so on a reload).  *last_rev_r: the revision of the
 * last event or progress seen (the caller's next start is that + 1). */
enum mb_etcd_result mb_etcd_watch(struct mb_etcd *e, const char *prefix,
				  long long start, long max_seconds,
				  int (*on_event)(void *ctx,
						  const struct mb_etcd_kv *kv),
				  void *ctx, const atomic_bool *stop,
				  long long *last_rev_r, char **error_r);

#endif
