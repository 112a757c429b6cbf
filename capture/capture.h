/*
 * capture - `migscope capture`: the live agent's command line and main loop.
 * Attaches bpf/pkt.bpf.c to the NICs (capture/pkt.h), writes every event's
 * frame head to a pcapng file (capture/pcapng_writer.h) until SIGINT/SIGTERM
 * or --duration, then detaches and writes the exact counters and ring-buffer
 * drops into each interface's statistics block (format: COUNTERS_MAGIC
 * below, read back by analysis/capture_counters.h).
 *
 * capture_main() returns the process exit status: 0 done, 2 usage, input or
 * setup error (one line on stderr).
 */
#ifndef MIGSCOPE_CAPTURE_H
#define MIGSCOPE_CAPTURE_H

int capture_main(int argc, char **argv);

#endif
