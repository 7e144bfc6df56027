#ifndef MB_SERVE_H
#define MB_SERVE_H

/* `mailbearer serve`: option parsing, listening sockets (own or from
 * systemd socket activation), signals and the main loop.  argv[0] is the
 * command name ("serve"); options follow.  Returns the process exit
 * status: 0 after a clean SIGTERM/SIGINT shutdown, 1 on a runtime error,
 * 2 on a usage error. */
int mb_cmd_serve(int argc, char **argv);

#endif
