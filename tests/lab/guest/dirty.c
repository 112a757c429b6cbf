/*
 * dirty: the lab guest's memory-dirtying workload (tests/lab, scenario "dirty").
 *
 *   dirty MBPS [WSS_MB]
 *
 * Allocates a working set of WSS_MB megabytes (default 32), touches all of it
 * once, then dirties MBPS megabytes per second of it, forever: every 10 ms it
 * writes one 64-bit counter into each of the next MBPS*1MiB/4KiB/100 pages,
 * walking the working set round-robin. Every written page is a dirty page for
 * QEMU's migration (4 KiB each), so the dirty rate is MBPS MiB/s whatever is
 * written; one word per page is also what XBZRLE encodes best (a few bytes per
 * page), which the lab's xbzrle option shows.
 *
 * Paced in 10 ms ticks; a tick missed because the vCPU did not run (QEMU's
 * auto-converge throttles it) is lost, so the rate falls with the CPU time
 * the guest gets, as a real workload's does. Every 5 s it prints the rate it
 * really achieved on the console (serial log). MBPS=0 only touches once.
 *
 * Built by tests/lab/lib/guest.sh with "gcc -static -O2" into the initramfs;
 * started by the guest's /init when the kernel command line has msl.dirty=.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096UL
#define TICK_NS 10000000L /* 10 ms */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dirty MBPS [WSS_MB]\n");
		return 2;
	}
	double mbps = atof(argv[1]);
	unsigned long wss_mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 32;
	if (mbps < 0 || wss_mb == 0) {
		fprintf(stderr, "dirty: bad arguments\n");
		return 2;
	}
	size_t size = wss_mb << 20, pages = size / PAGE;
	unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("dirty: mmap");
		return 1;
	}
	memset(mem, 1, size); /* no zero pages: every page is sent in full */
	FILE *con = fopen("/dev/console", "w");
	if (!con)
		con = stderr;
	setvbuf(con, NULL, _IOLBF, 0);
	fprintf(con, "dirty: %lu MB working set, target %.1f MB/s\n", wss_mb, mbps);

	double per_tick = mbps * (double)(1UL << 20) / PAGE / (1e9 / TICK_NS);
	double credit = 0, t_report = now_s();
	size_t next = 0;
	uint64_t counter = 0, written = 0;
	struct timespec tick;
	clock_gettime(CLOCK_MONOTONIC, &tick);
	for (;;) {
		credit += per_tick;
		while (credit >= 1) {
			uint64_t *w = (uint64_t *)(mem + next * PAGE + (counter % (PAGE / 8)) * 8);
			*w = ++counter;
			next = next + 1 == pages ? 0 : next + 1;
			credit -= 1;
			written++;
		}
		double t = now_s();
		if (t - t_report >= 5) {
			fprintf(con, "dirty: %.1f MB/s achieved (target %.1f)\n",
				(double)written * PAGE / (1 << 20) / (t - t_report), mbps);
			written = 0;
			t_report = t;
		}
		tick.tv_nsec += TICK_NS;
		if (tick.tv_nsec >= 1000000000L) {
			tick.tv_nsec -= 1000000000L;
			tick.tv_sec++;
		}
		/*
		 * More than one tick behind (the vCPU did not run: QEMU's
		 * auto-converge throttling, or TCG too slow): those ticks are
		 * lost, not caught up. So the dirty rate follows the CPU time
		 * the guest gets, as a real workload's does.
		 */
		struct timespec cur;
		clock_gettime(CLOCK_MONOTONIC, &cur);
		if ((cur.tv_sec - tick.tv_sec) * 1000000000L + (cur.tv_nsec - tick.tv_nsec) > TICK_NS) {
			tick = cur;
			credit = 0;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
	}
}
