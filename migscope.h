/*
 * migscope - the commands and the exit statuses they share, defined once.
 *
 * migscope.c dispatches argv[1] to a command; each command's main lives in
 * the room that does its work and returns one of these statuses:
 *   analyze  analysis/analyze_main.c  captures -> report
 *   series   series/series_main.c     reports of many runs -> one table
 *   capture  capture/capture.c        the live agent on a compute node
 *   replay   capture/replay.c         the agent's programs over a stored capture
 * argv[0] of a command is its name ("analyze", ...).
 */
#ifndef MIGSCOPE_H
#define MIGSCOPE_H

enum migscope_exit {
	EXIT_DONE = 0,
	EXIT_FINDINGS = 1, /* analyze: a verdict other than ok / insufficient_data */
	EXIT_USAGE = 2,    /* usage, input or setup error: one line on stderr */
};

int analyze_main(int argc, char **argv);
int series_main(int argc, char **argv);
int capture_main(int argc, char **argv);
int replay_main(int argc, char **argv);

#endif
