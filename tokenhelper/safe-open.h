/* SPDX-License-Identifier: MIT */
#ifndef MB_SAFE_OPEN_H
#define MB_SAFE_OPEN_H

/* Opening a file that must be a regular file (the configuration, a
 * secret or key file, a state, lock or notify file), once for the whole
 * helper.  Whatever the policy, a device, FIFO, socket or directory is
 * never opened (opening some devices has side effects, a FIFO would block
 * the reader): the path is looked at first, opened with O_NONBLOCK (a
 * FIFO swapped in meanwhile cannot stall open), and what was opened is
 * judged again (fstat) before O_NONBLOCK is cleared. */

#include <sys/stat.h>
#include <sys/types.h>

/* The policy, explicit at each call (flags, or-ed). */
enum mb_open_policy {
	/* a symbolic link is refused (ELOOP): the state directory's files */
	MB_OPEN_NOFOLLOW = 0,
	/* a symbolic link is followed: files the administrator names (the
	 * configuration, client_secret_file, keys), which packaging or a
	 * secret store may link */
	MB_OPEN_FOLLOW = 1,
	/* a missing file (ENOENT) is no error: -1 with no message */
	MB_OPEN_MISSING_OK = 2,
};

/* Opens path with flags (O_CLOEXEC and O_NOCTTY added) and mode (for
 * O_CREAT).  label names the file in messages ("the state file PATH",
 * "the configuration").  Returns the descriptor, with *st_r filled when
 * not NULL, or -1 with *error_r malloc'd (NULL for a missing file under
 * MB_OPEN_MISSING_OK) and errno that of the failure (EINVAL: not a
 * regular file). */
int mb_open_regular(const char *path, int flags, mode_t mode,
		    unsigned policy, const char *label, struct stat *st_r,
		    char **error_r);
/* What a file of this mode is, for messages ("a FIFO (named pipe)"). */
const char *mb_file_kind(mode_t mode);

#endif
