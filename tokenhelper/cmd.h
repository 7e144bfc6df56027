/* SPDX-License-Identifier: MIT */
#ifndef MB_CMD_H
#define MB_CMD_H

/* The commands of the `mailbearer` program, one file each (cmd-*.c).
 * argv[0] is the command's name, its options and operands follow; each
 * returns the process exit status (cli.h lists them). */

int mb_cmd_token(int argc, char **argv);
int mb_cmd_import(int argc, char **argv);
int mb_cmd_status(int argc, char **argv);
int mb_cmd_revoke(int argc, char **argv);
/* 0 authorized, 64 usage (also --device for Google), 65 unusable pasted
 * text, 67 unknown account, 75 no answer in time or provider failure,
 * 77 refused (denied, expired, wrong state or code), 78 configuration
 * or state directory, 128+N after signal N (nothing stored). */
int mb_cmd_authorize(int argc, char **argv);
/* 0 when no check failed, 1 when one did, EX_USAGE (64). */
int mb_cmd_doctor(int argc, char **argv);
/* `store migrate` and `store rekey`: 0 when every account was done, 64
 * usage, 67 unknown account, 75 some account not done (its source is
 * untouched), 78 configuration (no etcd keys, unusable key file). */
int mb_cmd_store(int argc, char **argv);
/* 0 after a clean SIGTERM/SIGINT shutdown, EX_USAGE (64), EX_CONFIG (78)
 * when the config cannot be loaded, EX_OSERR (71) when a socket cannot be
 * set up. */
int mb_cmd_serve(int argc, char **argv);

#endif
