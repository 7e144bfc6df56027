/* SPDX-License-Identifier: MIT */
#ifndef MB_ERRTEXT_H
#define MB_ERRTEXT_H

/* strerror() for the helper's threads: mb_strerror() (common/errstr.h)
 * into a buffer of the calling thread, valid until that thread's next
 * call.  Not in common/: the plugin keeps no thread-local state. */
const char *mb_errstr(int err);

#endif
