/* SPDX-License-Identifier: MIT */
#ifndef MB_OWNER_H
#define MB_OWNER_H

/*
 * Who must run mailbearer for a state directory, and how an administrator
 * says so: the one place every fix text gets the command from.
 *
 * The state directory's owner is the user whose commands may write it
 * (authorize, import, token --refresh, revoke): files another user wrote
 * there would be that user's, and serve could not read them.  Fix texts
 * therefore say "mailbearer ..." when the owner is the user running this
 * command and one who logs in, and "runuser -u OWNER -- mailbearer ..."
 * otherwise (the packaged layout: /var/lib/mailbearer belongs to the
 * system user mailbearer, which has no login shell; root runs the
 * commands through runuser, which minimal Debian has, unlike sudo).
 */

#include <stdbool.h>
#include <sys/types.h>

/* "mailbearer" or "runuser -u OWNER -- mailbearer" for state_dir (NULL,
 * or a directory that does not exist yet: "mailbearer").  malloc'd. */
char *mb_owner_command(const char *state_dir);
/* "runuser -u NAME -- mailbearer": the one spelling of running
 * mailbearer as NAME, for every fix text.  malloc'd. */
char *mb_owner_run_as(const char *name);
/* text with every "`mailbearer " made "`runuser -u OWNER -- mailbearer "
 * when mb_owner_command() says so: the advice stored in a state file
 * (written by serve, as the owner) shown to whoever reads it.  malloc'd. */
char *mb_owner_advice(const char *state_dir, const char *text);
/* The name of uid into buf (size bytes), or "uid N" when it has none. */
const char *mb_owner_name(uid_t uid, char *buf, size_t size);
/* true when uid is a system account: a login shell of nologin or false
 * (the packaged mailbearer), so a person reaches it through runuser. */
bool mb_owner_is_service(uid_t uid);

#endif
