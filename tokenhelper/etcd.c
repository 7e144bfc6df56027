/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "etcd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "conf.h"
#include "http.h"
#include "json-util.h"
#include "wipe.h"
#include "xalloc.h"

/* Seconds for one call to one endpoint: a node without quorum answers a
 * write or a linearizable read with an error only after etcd's own
 * request timeout (5 s and more), so a call is given up before that and
 * the next endpoint tried. */
#define ETCD_CONNECT_TIMEOUT 3
#define ETCD_CALL_TIMEOUT 4

struct mb_etcd {
	const struct mb_etcd_conf *conf;
	pthread_mutex_t mu;
	size_t good;		/* the endpoint that answered last */
	char *auth;		/* "Authorization: TOKEN", secret; or NULL */
};

struct mb_etcd *
mb_etcd_new(const struct mb_etcd_conf *conf)
{
	struct mb_etcd *e = mb_xcalloc(1, sizeof(*e));

	e->conf = conf;
	pthread_mutex_init(&e->mu, NULL);
	return e;
}

void
mb_etcd_free(struct mb_etcd **ep)
{
	struct mb_etcd *e = *ep;

	if (e == NULL)
		return;
	mb_free_secret(&e->auth);
	pthread_mutex_destroy(&e->mu);
	free(e);
	*ep = NULL;
}

void
mb_etcd_kv_clear(struct mb_etcd_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	if (kv->value != NULL) {
		mb_wipe(kv->value, kv->value_len);
		free(kv->value);
	}
	memset(kv, 0, sizeof(*kv));
}

void
mb_etcd_kvs_free(struct mb_etcd_kv *kvs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mb_etcd_kv_clear(&kvs[i]);
	free(kvs);
}

/* bytes as a base64 JSON string member. */
static void
etcd_add_bytes(struct json_object *o, const char *name, const void *b,
	       size_t len)
{
	size_t size = mb_base64_len(len) + 1;
	char *s = mb_xmalloc(size);

	mb_base64_encode(s, size, b, len);
	json_object_object_add(o, name, json_object_new_string(s));
	mb_wipe(s, size);
	free(s);
}

/* An int64 as etcd writes it (a string) or a number. */
static long long
etcd_int(struct json_object *o, const char *name)
{
	struct json_object *v;
	const char *s;
	char *end;
	long long n;

	if (!json_object_object_get_ex(o, name, &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? n : 0;
}

/* A member that is JSON true (etcd omits false): a string, a number or
 * anything else a broken gateway sends is not. */
static bool
etcd_true(struct json_object *o, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(o, name, &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

/* A base64 member decoded (NUL-terminated, malloc'd); -1 when it is not
 * base64.  Absent: 0 with *out NULL. */
static int
etcd_bytes(struct json_object *o, const char *name, unsigned char **out,
	   size_t *len_r)
{
	struct json_object *v;
	const char *s;
	size_t len, n;

	*out = NULL;
	*len_r = 0;
	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	len = strlen(s);
	*out = mb_xmalloc(len * 3 / 4 + 1);
	n = mb_base64_decode(*out, len * 3 / 4 + 1, s, len);
	if (n == (size_t)-1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[n] = '\0';
	*len_r = n;
	return 0;
}

static int
etcd_kv_parse(struct json_object *o, struct mb_etcd_kv *kv)
{
	size_t klen;

	memset(kv, 0, sizeof(*kv));
	if (etcd_bytes(o, "key", (unsigned char **)&kv->key, &klen) < 0 ||
	    etcd_bytes(o, "value", &kv->value, &kv->value_len) < 0) {
		mb_etcd_kv_clear(kv);
		return -1;
	}
	if (kv->key == NULL)
		kv->key = mb_xstrdup("");
	kv->create_revision = etcd_int(o, "create_revision");
	kv->mod_revision = etcd_int(o, "mod_revision");
	kv->lease = etcd_int(o, "lease");
	if (kv->value == NULL) {
		kv->value = (unsigned char *)mb_xstrdup("");
		kv->value_len = 0;
	}
	return 0;
}

/* The text of etcd's error reply, bounded and printable. */
static char *
etcd_error_text(struct json_object *o, long status)
{
	struct json_object *v;
	const char *s = NULL;
	char buf[200];
	size_t i;

	if (o != NULL && (json_object_object_get_ex(o, "error", &v) ||
			  json_object_object_get_ex(o, "message", &v)) &&
	    json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	if (s == NULL)
		return mb_xasprintf("HTTP status %ld", status);
	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return mb_xasprintf("%s (HTTP %ld)", buf, status);
}

enum etcd_try {
	TRY_OK,		/* *reply_r is etcd's answer */
	TRY_NEXT,	/* this endpoint cannot: try the next */
	TRY_AUTH,	/* the auth token expired or is missing: renew */
	TRY_DENIED,
	TRY_BAD,
};

/* What an HTTP status and etcd error mean for the call. */
static enum etcd_try
etcd_classify(long status, const char *text)
{
	if (status == 200)
		return TRY_OK;
	if (strstr(text, "invalid auth token") != NULL ||
	    strstr(text, "user name is empty") != NULL)
		return TRY_AUTH;
	if (status == 401 || status == 403 ||
	    strstr(text, "permission denied") != NULL ||
	    strstr(text, "authentication failed") != NULL)
		return TRY_DENIED;
	/* no leader, timed out, unavailable, too many requests... */
	if (status >= 500 || status == 429 || status == 408)
		return TRY_NEXT;
	return TRY_BAD;
}

/* One POST to one endpoint. */
static enum etcd_try
etcd_post(struct mb_etcd *e, size_t i, const char *path, const char *body,
	  const char *auth, long timeout, struct json_object **reply_r,
	  char **why_r)
{
	const struct mb_etcd_conf *c = e->conf;
	struct mb_http_tls tls = { c->ca_file, c->cert_file, c->key_file };
	struct mb_http_limits lim = { ETCD_CONNECT_TIMEOUT, timeout,
				      timeout };
	struct mb_http_reply reply;
	enum mb_http_result hr;
	struct json_object *o;
	enum etcd_try t;
	char *url, *err = NULL;

	*reply_r = NULL;
	url = mb_xasprintf("%s%s", c->endpoints[i], path);
	hr = mb_http_post_json(url, &tls, &lim, body, auth, &reply, NULL,
			       &err);
	free(url);
	if (hr != MB_HTTP_OK) {
		*why_r = err;
		return hr == MB_HTTP_TRANSIENT ? TRY_NEXT : TRY_BAD;
	}
	o = mb_json_parse_all(reply.body, reply.len, &err);
	if (o == NULL) {
		*why_r = mb_xasprintf("%s: not etcd's reply (HTTP %ld, %s)",
				      c->endpoints[i], reply.status, err);
		free(err);
		mb_http_reply_clear(&reply);
		return reply.status >= 500 ? TRY_NEXT : TRY_BAD;
	}
	t = TRY_OK;
	if (reply.status != 200) {
		char *text = etcd_error_text(o, reply.status);

		t = etcd_classify(reply.status, text);
		*why_r = mb_xasprintf("%s: %s", c->endpoints[i], text);
		free(text);
		json_object_put(o);
		o = NULL;
	}
	mb_http_reply_clear(&reply);
	*reply_r = o;
	return t;
}

/* etcd_user's token from /v3/auth/authenticate, as a header line. */
static enum etcd_try
etcd_authenticate(struct mb_etcd *e, size_t i, char **auth_r, char **why_r)
{
	const struct mb_etcd_conf *c = e->conf;
	struct json_object *req = json_object_new_object(), *rep = NULL;
	const char *body;
	enum etcd_try t;
	char *token = NULL;

	json_object_object_add(req, "name", json_object_new_string(c->user));
	json_object_object_add(req, "password",
			       json_object_new_string(c->password));
	body = json_object_to_json_string(req);
	t = etcd_post(e, i, "/v3/auth/authenticate", body, NULL,
		      ETCD_CALL_TIMEOUT, &rep, why_r);
	/* the request's text holds the password */
	mb_json_wipe_const(body);
	mb_json_wipe_member(req, "password");
	json_object_put(req);
	if (t == TRY_OK && mb_json_get_string(rep, "token", &token) != 1) {
		*why_r = mb_xasprintf("%s: etcd's authentication reply has no "
				      "token", c->endpoints[i]);
		t = TRY_BAD;
	}
	if (t == TRY_DENIED || t == TRY_AUTH) {
		char *why = *why_r;

		*why_r = mb_xasprintf("%s; check etcd_user (%s) and "
				      "etcd_password_file", why, c->user);
		free(why);
		t = TRY_DENIED;
	}
	if (token != NULL) {
		*auth_r = mb_xasprintf("Authorization: %s", token);
		mb_free_secret(&token);
	}
	if (rep != NULL) {
		mb_json_wipe_member(rep, "token");
		json_object_put(rep);
	}
	return t;
}

/* The call on each endpoint in turn from the last good one; etcd's
 * answer in *reply_r.  timeout: seconds per endpoint. */
static enum mb_etcd_result
etcd_call(struct mb_etcd *e, const char *path, struct json_object *req,
	  long timeout, struct json_object **reply_r, char **error_r)
{
	const struct mb_etcd_conf *c = e->conf;
	const char *body = json_object_to_json_string(req);
	char *auth = NULL, *why = NULL, *whys = NULL;
	size_t start, k;
	enum etcd_try t = TRY_NEXT;
	bool renewed = false;

	*reply_r = NULL;
	pthread_mutex_lock(&e->mu);
	start = e->good;
	auth = e->auth != NULL ? mb_xstrdup(e->auth) : NULL;
	pthread_mutex_unlock(&e->mu);
	for (k = 0; k < c->n_endpoints; k++) {
		size_t i = (start + k) % c->n_endpoints;

		if (c->user != NULL && auth == NULL) {
			t = etcd_authenticate(e, i, &auth, &why);
			if (t == TRY_OK) {
				pthread_mutex_lock(&e->mu);
				mb_free_secret(&e->auth);
				e->auth = mb_xstrdup(auth);
				pthread_mutex_unlock(&e->mu);
			}
		}
		if (auth != NULL || c->user == NULL)
			t = etcd_post(e, i, path, body, auth, timeout, reply_r,
				      &why);
		if (t == TRY_AUTH && !renewed) {
			/* The token expired: a new one, same endpoint. */
			renewed = true;
			mb_free_secret(&auth);
			free(why);
			why = NULL;
			k--;
			continue;
		}
		if (t == TRY_OK) {
			pthread_mutex_lock(&e->mu);
			e->good = i;
			pthread_mutex_unlock(&e->mu);
			break;
		}
		if (whys == NULL) {
			whys = why;
		} else {
			char *both = mb_xasprintf("%s; %s", whys, why);

			free(whys);
			free(why);
			whys = both;
		}
		why = NULL;
		if (t != TRY_NEXT)
			break;
	}
	mb_free_secret(&auth);
	free(why);
	if (t == TRY_OK) {
		free(whys);
		return MB_ETCD_OK;
	}
	switch (t) {
	case TRY_DENIED:
	case TRY_AUTH:
		*error_r = mb_xasprintf("etcd refused the request: %s (see "
			"the role set-up in doc/fleet.md)", whys);
		free(whys);
		return MB_ETCD_DENIED;
	case TRY_NEXT:
		*error_r = mb_xasprintf("etcd is unavailable: no endpoint "
			"could answer (down, unreachable, or the cluster has "
			"lost its quorum): %s", whys);
		free(whys);
		return MB_ETCD_UNAVAILABLE;
	default:
		*error_r = mb_xasprintf("etcd: %s", whys);
		free(whys);
		return MB_ETCD_ERROR;
	}
}

static struct json_object *
etcd_range_req(const char *key, bool prefix, bool serializable,
	       bool keys_only)
{
	struct json_object *o = json_object_new_object();
	size_t len = strlen(key);

	etcd_add_bytes(o, "key", key, len);
	if (prefix) {
		/* every key that starts with key: its last byte + 1 */
		char *end = mb_xstrdup(key);

		end[len - 1]++;
		etcd_add_bytes(o, "range_end", end, len);
		free(end);
	}
	if (serializable)
		json_object_object_add(o, "serializable",
				       json_object_new_boolean(1));
	if (keys_only)
		json_object_object_add(o, "keys_only",
				       json_object_new_boolean(1));
	return o;
}

/* The kvs of a range reply. */
static int
etcd_range_kvs(struct json_object *rep, struct mb_etcd_kv **kvs_r,
	       size_t *n_r)
{
	struct json_object *arr;
	size_t i, n;

	*kvs_r = NULL;
	*n_r = 0;
	if (!json_object_object_get_ex(rep, "kvs", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	*kvs_r = mb_xcalloc(n, sizeof(**kvs_r));
	for (i = 0; i < n; i++) {
		if (etcd_kv_parse(json_object_array_get_idx(arr, i),
				  &(*kvs_r)[i]) < 0) {
			mb_etcd_kvs_free(*kvs_r, i);
			*kvs_r = NULL;
			return -1;
		}
	}
	*n_r = n;
	return 0;
}

static long long
etcd_header_rev(struct json_object *rep)
{
	struct json_object *h;

	return json_object_object_get_ex(rep, "header", &h) ?
	       etcd_int(h, "revision") : 0;
}

/* The last use of a reply: values it held are wiped. */
static void
etcd_reply_free(struct json_object *rep)
{
	if (rep != NULL)
		json_object_put(rep);
}

enum mb_etcd_result
mb_etcd_list(struct mb_etcd *e, const char *prefix, bool serializable,
	     bool keys_only, struct mb_etcd_kv **kvs_r, size_t *n_r,
	     long long *rev_r, char **error_r)
{
	struct json_object *req, *rep;
	enum mb_etcd_result r;

	*kvs_r = NULL;
	*n_r = 0;
	req = etcd_range_req(prefix, true, serializable, keys_only);
	r = etcd_call(e, "/v3/kv/range", req, ETCD_CALL_TIMEOUT, &rep,
		      error_r);
	json_object_put(req);
	if (r != MB_ETCD_OK)
		return r;
	if (etcd_range_kvs(rep, kvs_r, n_r) < 0) {
		*error_r = mb_xstrdup("etcd: a range reply that is not "
				      "etcd's (bad kvs)");
		r = MB_ETCD_ERROR;
	} else if (rev_r != NULL) {
		*rev_r = etcd_header_rev(rep);
	}
	etcd_reply_free(rep);
	return r;
}

enum mb_etcd_result
mb_etcd_get(struct mb_etcd *e, const char *key, bool serializable,
	    struct mb_etcd_kv *kv, long long *rev_r, char **error_r)
{
	struct json_object *req, *rep;
	struct mb_etcd_kv *kvs = NULL;
	enum mb_etcd_result r;
	size_t n = 0;

	memset(kv, 0, sizeof(*kv));
	req = etcd_range_req(key, false, serializable, false);
	r = etcd_call(e, "/v3/kv/range", req, ETCD_CALL_TIMEOUT, &rep,
		      error_r);
	json_object_put(req);
	if (r != MB_ETCD_OK)
		return r;
	if (etcd_range_kvs(rep, &kvs, &n) < 0 || n > 1) {
		*error_r = mb_xstrdup("etcd: a range reply that is not "
				      "etcd's (bad kvs)");
		r = MB_ETCD_ERROR;
	} else {
		if (n == 1) {
			*kv = kvs[0];
			memset(&kvs[0], 0, sizeof(kvs[0]));
		}
		if (rev_r != NULL)
			*rev_r = etcd_header_rev(rep);
	}
	mb_etcd_kvs_free(kvs, n);
	etcd_reply_free(rep);
	return r;
}

static struct json_object *
etcd_op_json(const struct mb_etcd_op *op)
{
	struct json_object *o = json_object_new_object(), *in;

	switch (op->kind) {
	case MB_ETCD_OP_PUT:
		in = json_object_new_object();
		etcd_add_bytes(in, "key", op->key, strlen(op->key));
		etcd_add_bytes(in, "value", op->value, op->value_len);
		if (op->lease != 0)
			json_object_object_add(in, "lease",
				json_object_new_int64(op->lease));
		json_object_object_add(o, "request_put", in);
		break;
	case MB_ETCD_OP_DELETE:
		in = json_object_new_object();
		etcd_add_bytes(in, "key", op->key, strlen(op->key));
		json_object_object_add(o, "request_delete_range", in);
		break;
	case MB_ETCD_OP_GET:
	default:
		in = etcd_range_req(op->key, false, false, false);
		json_object_object_add(o, "request_range", in);
		break;
	}
	return o;
}

static struct json_object *
etcd_cmp_json(const struct mb_etcd_cmp *c)
{
	static const char *const targets[] = { "CREATE", "MOD", "LEASE" };
	static const char *const fields[] = { "create_revision",
					      "mod_revision", "lease" };
	struct json_object *o = json_object_new_object();

	etcd_add_bytes(o, "key", c->key, strlen(c->key));
	json_object_object_add(o, "target",
			       json_object_new_string(targets[c->target]));
	json_object_object_add(o, "result", json_object_new_string("EQUAL"));
	json_object_object_add(o, fields[c->target],
			       json_object_new_int64(c->value));
	return o;
}

/* The GET results of a txn reply, one per GET op run. */
static int
etcd_txn_gets(struct json_object *rep, size_t n_gets,
	      struct mb_etcd_kv **kvs_r, size_t *n_r)
{
	struct json_object *arr, *one, *rr;
	size_t i, n, g = 0;

	if (n_gets == 0)
		return 0;
	*kvs_r = mb_xcalloc(n_gets, sizeof(**kvs_r));
	if (!json_object_object_get_ex(rep, "responses", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n && g < n_gets; i++) {
		struct mb_etcd_kv *kvs = NULL;
		size_t nk = 0;

		one = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(one, "response_range", &rr))
			continue;
		if (etcd_range_kvs(rr, &kvs, &nk) < 0 || nk > 1) {
			mb_etcd_kvs_free(kvs, nk);
			return -1;
		}
		if (nk == 1)
			(*kvs_r)[g] = kvs[0];
		free(kvs);
		g++;
	}
	*n_r = n_gets;
	return g == n_gets ? 0 : -1;
}

enum mb_etcd_result
mb_etcd_txn(struct mb_etcd *e, const struct mb_etcd_cmp *cmps, size_t n_cmps,
	    const struct mb_etcd_op *ok, size_t n_ok,
	    const struct mb_etcd_op *fail, size_t n_fail, bool *succeeded_r,
	    struct mb_etcd_kv **kvs_r, size_t *n_r, long long *rev_r,
	    char **error_r)
{
	struct json_object *req = json_object_new_object(), *arr, *rep;
	enum mb_etcd_result r;
	size_t i, gets_ok = 0, gets_fail = 0;

	if (kvs_r != NULL) {
		*kvs_r = NULL;
		*n_r = 0;
	}
	*succeeded_r = false;
	arr = json_object_new_array();
	for (i = 0; i < n_cmps; i++)
		json_object_array_add(arr, etcd_cmp_json(&cmps[i]));
	json_object_object_add(req, "compare", arr);
	arr = json_object_new_array();
	for (i = 0; i < n_ok; i++) {
		json_object_array_add(arr, etcd_op_json(&ok[i]));
		gets_ok += ok[i].kind == MB_ETCD_OP_GET;
	}
	json_object_object_add(req, "success", arr);
	arr = json_object_new_array();
	for (i = 0; i < n_fail; i++) {
		json_object_array_add(arr, etcd_op_json(&fail[i]));
		gets_fail += fail[i].kind == MB_ETCD_OP_GET;
	}
	json_object_object_add(req, "failure", arr);
	r = etcd_call(e, "/v3/kv/txn", req, ETCD_CALL_TIMEOUT, &rep,
		      error_r);
	/* The request may hold a sealed value: nothing to wipe in clear. */
	json_object_put(req);
	if (r != MB_ETCD_OK)
		return r;
	*succeeded_r = etcd_true(rep, "succeeded");
	if (rev_r != NULL)
		*rev_r = etcd_header_rev(rep);
	if (kvs_r != NULL &&
	    etcd_txn_gets(rep, *succeeded_r ? gets_ok : gets_fail, kvs_r,
			  n_r) < 0) {
		mb_etcd_kvs_free(*kvs_r, *succeeded_r ? gets_ok : gets_fail);
		*kvs_r = NULL;
		*n_r = 0;
		*error_r = mb_xstrdup("etcd: a transaction reply that is not "
				      "etcd's (bad responses)");
		r = MB_ETCD_ERROR;
	}
	etcd_reply_free(rep);
	return r;
}

/* A lease call: {"NAME": value} to path; etcd's answer in *rep_r
 * (NULL unless MB_ETCD_OK). */
static enum mb_etcd_result
etcd_lease_call(struct mb_etcd *e, const char *path, const char *name,
		long long value, struct json_object **rep_r, char **error_r)
{
	struct json_object *req = json_object_new_object();
	enum mb_etcd_result r;

	json_object_object_add(req, name, json_object_new_int64(value));
	r = etcd_call(e, path, req, ETCD_CALL_TIMEOUT, rep_r, error_r);
	json_object_put(req);
	return r;
}

enum mb_etcd_result
mb_etcd_lease_grant(struct mb_etcd *e, long ttl, long long *id_r,
		    char **error_r)
{
	struct json_object *rep;
	enum mb_etcd_result r;

	r = etcd_lease_call(e, "/v3/lease/grant", "TTL", ttl, &rep, error_r);
	if (r != MB_ETCD_OK)
		return r;
	*id_r = etcd_int(rep, "ID");
	if (*id_r == 0) {
		*error_r = mb_xstrdup("etcd granted no lease (no ID in its "
				      "reply)");
		r = MB_ETCD_ERROR;
	}
	etcd_reply_free(rep);
	return r;
}

enum mb_etcd_result
mb_etcd_lease_keepalive(struct mb_etcd *e, long long id, long *ttl_r,
			char **error_r)
{
	struct json_object *rep, *res;
	enum mb_etcd_result r;

	r = etcd_lease_call(e, "/v3/lease/keepalive", "ID", id, &rep,
			    error_r);
	if (r != MB_ETCD_OK)
		return r;
	/* a stream of one: {"result": {..., "TTL": "15"}} */
	if (!json_object_object_get_ex(rep, "result", &res))
		res = rep;
	*ttl_r = (long)etcd_int(res, "TTL");
	etcd_reply_free(rep);
	return r;
}

enum mb_etcd_result
mb_etcd_lease_revoke(struct mb_etcd *e, long long id, char **error_r)
{
	struct json_object *rep;
	enum mb_etcd_result r;

	r = etcd_lease_call(e, "/v3/lease/revoke", "ID", id, &rep, error_r);
	etcd_reply_free(rep);
	return r;
}

void
mb_etcd_health(struct mb_etcd *e, const char *key, struct mb_etcd_health *h)
{
	const struct mb_etcd_conf *c = e->conf;
	struct mb_etcd_kv kv;
	char *err = NULL;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->n_endpoints = c->n_endpoints;
	h->detail = mb_xstrdup("");
	for (i = 0; i < c->n_endpoints; i++) {
		struct json_object *req = json_object_new_object(), *rep;
		char *why = NULL, *auth = NULL, *line;
		enum etcd_try t = TRY_OK;

		if (c->user != NULL)
			t = etcd_authenticate(e, i, &auth, &why);
		if (t == TRY_OK)
			t = etcd_post(e, i, "/v3/maintenance/status",
				      json_object_to_json_string(req), auth,
				      ETCD_CALL_TIMEOUT, &rep, &why);
		json_object_put(req);
		mb_free_secret(&auth);
		if (t == TRY_OK) {
			h->n_answering++;
			if (h->version == NULL)
				mb_json_get_string(rep, "version",
						   &h->version);
			etcd_reply_free(rep);
		}
		line = mb_xasprintf("%s%s%s: %s", h->detail,
				    h->detail[0] ? "; " : "", c->endpoints[i],
				    t == TRY_OK ? "answers" : why);
		free(h->detail);
		h->detail = line;
		free(why);
	}
	if (mb_etcd_get(e, key, false, &kv, NULL, &err) == MB_ETCD_OK)
		h->quorum = true;
	mb_etcd_kv_clear(&kv);
	free(err);
}

void
mb_etcd_health_clear(struct mb_etcd_health *h)
{
	free(h->version);
	free(h->detail);
	memset(h, 0, sizeof(*h));
}

struct etcd_watch {
	int (*on_event)(void *ctx, const struct mb_etcd_kv *kv);
	void *ctx;
	long long last_rev;
	bool created;
	bool bad;
	bool stopped;
};

static int
etcd_watch_event(struct etcd_watch *w, struct json_object *ev)
{
	struct json_object *kvo, *type;
	struct mb_etcd_kv kv;
	bool del;
	int stop;

	if (!json_object_object_get_ex(ev, "kv", &kvo) ||
	    etcd_kv_parse(kvo, &kv) < 0)
		return -1;
	/* a PUT has no type; anything but the string DELETE is no delete */
	del = json_object_object_get_ex(ev, "type", &type) &&
	      json_object_is_type(type, json_type_string) &&
	      strcmp(json_object_get_string(type), "DELETE") == 0;
	if (del) {
		mb_wipe(kv.value, kv.value_len);
		free(kv.value);
		kv.value = NULL;
		kv.value_len = 0;
	}
	if (kv.mod_revision > w->last_rev)
		w->last_rev = kv.mod_revision;
	stop = w->on_event(w->ctx, &kv);
	mb_etcd_kv_clear(&kv);
	return stop;
}

/* One line of the watch stream: {"result": {header, created?, events?}}
 * or {"error": ...}. */
static int
etcd_watch_line(void *ctx, char *line, size_t len)
{
	struct etcd_watch *w = ctx;
	struct json_object *o, *res, *evs;
	char *err = NULL;
	size_t i, n;
	int stop = 0;

	o = mb_json_parse_all(line, len, &err);
	free(err);
	mb_wipe(line, len);
	if (o == NULL || !json_object_object_get_ex(o, "result", &res)) {
		w->bad = true;
		etcd_reply_free(o);
		return 1;
	}
	if (etcd_true(res, "created"))
		w->created = true;
	if (etcd_true(res, "canceled")) {
		/* compacted past start, or refused: watch again */
		w->bad = true;
		stop = 1;
	}
	if (etcd_header_rev(res) > w->last_rev &&
	    !json_object_object_get_ex(res, "events", &evs))
		w->last_rev = etcd_header_rev(res);
	if (json_object_object_get_ex(res, "events", &evs) &&
	    json_object_is_type(evs, json_type_array)) {
		n = json_object_array_length(evs);
		for (i = 0; i < n && stop == 0; i++)
			stop = etcd_watch_event(w,
				json_object_array_get_idx(evs, i));
		if (stop < 0) {
			w->bad = true;
			stop = 1;
		} else if (stop) {
			w->stopped = true;
		}
	}
	etcd_reply_free(o);
	return stop;
}

enum mb_etcd_result
mb_etcd_watch(struct mb_etcd *e, const char *prefix, long long start,
	      long max_seconds,
	      int (*on_event)(void *ctx, const struct mb_etcd_kv *kv),
	      void *ctx, const atomic_bool *stop, long long *last_rev_r,
	      char **error_r)
{
	const struct mb_etcd_conf *c = e->conf;
	struct mb_http_tls tls = { c->ca_file, c->cert_file, c->key_file };
	struct mb_http_limits lim = { ETCD_CONNECT_TIMEOUT, max_seconds,
				      max_seconds };
	struct json_object *req, *cr;
	struct etcd_watch w;
	enum mb_http_result hr;
	char *url, *auth = NULL, *err = NULL;
	long status = 0;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.on_event = on_event;
	w.ctx = ctx;
	w.last_rev = start > 0 ? start - 1 : 0;
	req = json_object_new_object();
	cr = etcd_range_req(prefix, true, false, false);
	if (start > 0)
		json_object_object_add(cr, "start_revision",
				       json_object_new_int64(start));
	json_object_object_add(req, "create_request", cr);
	pthread_mutex_lock(&e->mu);
	i = e->good;
	pthread_mutex_unlock(&e->mu);
	if (c->user != NULL &&
	    etcd_authenticate(e, i, &auth, &err) != TRY_OK) {
		json_object_put(req);
		*error_r = err;
		return MB_ETCD_UNAVAILABLE;
	}
	url = mb_xasprintf("%s/v3/watch", c->endpoints[i]);
	hr = mb_http_stream(url, &tls, &lim, json_object_to_json_string(req),
			    auth, etcd_watch_line, &w, stop, &status, &err);
	free(url);
	mb_free_secret(&auth);
	json_object_put(req);
	*last_rev_r = w.last_rev;
	/* A watch that was set up ends normally at max_seconds too. */
	if (!w.bad && w.created && (hr != MB_HTTP_OK || status == 200)) {
		free(err);
		return MB_ETCD_OK;
	}
	/* This endpoint failed: the next watch starts on the next one. */
	pthread_mutex_lock(&e->mu);
	if (e->good == i)
		e->good = (i + 1) % c->n_endpoints;
	pthread_mutex_unlock(&e->mu);
	if (err == NULL)
		err = mb_xasprintf("%s: the watch ended (HTTP %ld%s)",
				   c->endpoints[i], status,
				   w.bad ? ", a line that is not etcd's" : "");
	*error_r = err;
	return MB_ETCD_UNAVAILABLE;
}
