/*
 * run.h: the daemon (`aimeter-agent run`) and its companions `status` and
 * `flush`.
 *
 * run: one libuv loop. File-system events (uv_fs_event on every root
 * directory and its subdirectories) and a periodic rescan trigger a reading
 * pass; the settled events and the reading state go into the spool with one
 * fdatasync; the shipper sends them. The first start enrolls before it
 * reads, so project labels use the organisation's key. SIGTERM and SIGINT
 * persist nothing extra (everything durable already is) and exit cleanly;
 * SIGHUP reloads the configuration; SIGUSR1 flushes. No busy polling: the
 * loop sleeps until an event, a timer or the network wakes it.
 */
#ifndef AM_RUN_H
#define AM_RUN_H

int run_main(int argc, char **argv);
int status_main(int argc, char **argv);
int flush_main(int argc, char **argv);

#endif
