#ifndef MB_SERVE_H
#define MB_SERVE_H

/* `mailbearer serve`: option parsing, listening sockets (own or from
 * systemd socket activation), signals and the main loop.  argv[0] is the
 * command name ("serve"); options follow.  Returns the process exit
 * status (<sysexits.h>, as the other commands): 0 after a clean
 * SIGTERM/SIGINT shutdown, EX_USAGE (64), EX_CONFIG (78) when the config
 * cannot be loaded, EX_OSERR (71) when a socket cannot be set up. */
int mb_cmd_serve(int argc, char **argv);

#endif
