/* SPDX-License-Identifier: MIT */
#ifndef MB_CONF_ETCD_H
#define MB_CONF_ETCD_H

/* The global keys of a fleet (mailbearer.conf(5), doc/fleet.md): store
 * and the etcd_* keys, state_key_file.  conf.c reads the lines; this
 * checks them and builds struct mb_etcd_conf. */

#include "conf.h"

enum mb_etcd_key {
	MB_EK_STORE, MB_EK_ENDPOINTS, MB_EK_CA_FILE, MB_EK_CERT_FILE,
	MB_EK_KEY_FILE, MB_EK_USER, MB_EK_PASSWORD_FILE, MB_EK_PREFIX,
	MB_EK_STATE_KEY_FILE, MB_EK_COUNT
};

/* The global lines as read: value (NULL: not set), its line, and the
 * directory relative paths are taken from. */
struct mb_etcd_raw {
	const char *value[MB_EK_COUNT];
	unsigned line[MB_EK_COUNT];
	const char *dir;
};

/* The key's name in the file ("etcd_endpoints"). */
const char *mb_etcd_key_name(enum mb_etcd_key k);
/* Checks and builds: 0 with *out (NULL when no etcd key is set) and
 * *store_etcd_r, or -1 with *line_r and *error_r (malloc'd, without the
 * file name).  A store = etcd without etcd_endpoints or state_key_file,
 * an http:// endpoint, a prefix not starting and ending with "/", a
 * certificate without its key, a password file open to others are
 * refused. */
int mb_etcd_conf_build(const struct mb_etcd_raw *raw,
		       struct mb_etcd_conf **out, bool *store_etcd_r,
		       unsigned *line_r, char **error_r);
/* Wipes the password, frees everything; *c becomes NULL. */
void mb_etcd_conf_free(struct mb_etcd_conf **c);

#endif
