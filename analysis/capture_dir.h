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

struct capture_dir {
	char **paths; /* "DIR/NAME", in reading order */
	int n;
};

/* True when path names a directory (a missing path is not one). */
bool capture_dir__is_dir(const char *path);
int capture_dir__list(const char *dir, struct capture_dir *out, char *err, size_t errlen);
void capture_dir__free(struct capture_dir *d);

#endif
