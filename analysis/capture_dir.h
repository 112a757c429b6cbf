/*
 * capture_dir - a directory given where a capture is expected: one vantage
 * recorded as several files (the agent's ring, a kept migration directory,
 * tcpdump -C/-G/-W output). Its captures are the regular, non-hidden files
 * that start with a pcap, pcapng or gzip magic, in name order by
 * strverscmp(3), so cn1.000009 comes before cn1.000010 and tcpdump's file9
 * before file10; every other file (notes, a hook's marks) is passed over.
 *
 * Ownership: __list fills a list that __free releases. Errors: 0, or -errno
 * with one line in err (-ENOENT: no capture in the directory).
 */
#ifndef MIGSCOPE_CAPTURE_DIR_H
#define MIGSCOPE_CAPTURE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_dir {
	char **paths; /* "DIR/NAME", in reading order */
	int n;
};

/* A stretch of time worth reading (UTC ns, the files' clock). */
struct time_window {
	int64_t from_ns, to_ns;
};

/* True when path names a directory (a missing path is not one). */
bool capture_dir__is_dir(const char *path);
int capture_dir__list(const char *dir, struct capture_dir *out, char *err, size_t errlen);
void capture_dir__free(struct capture_dir *d);
/*
 * Keeps the files whose span meets one of the nw windows: a file spans from
 * its first packet to the next file's first (the last one, on for ever), as
 * a ring's or tcpdump -C/-G's files follow each other. A day of files is
 * then read only around its migrations. nw 0: all kept. A file without a
 * packet to read (empty, or not a capture after all) holds nothing to
 * analyze and goes too.
 * Returns 0, or -ENOENT with a line in err when no file is left.
 */
int capture_dir__select(struct capture_dir *d, const struct time_window *w, int nw, char *err,
			size_t errlen);

#endif
