/*
 * capture_reader - one capture file read packet by packet, or a directory's
 * captures (analysis/capture_dir.h) read one after another as one vantage.
 * The files of a directory must share a link type; one that cannot be read
 * ends the directory there, like a cut record (__stopped_early names it).
 *
 * Reads pcap and pcapng through libpcap, nanosecond stamps, and either of them
 * gzip-compressed (detected by magic, not by name) through zlib. Memory stays
 * at libpcap's one-record buffer whatever the file size.
 *
 * Ownership: __open returns a handle released by __close (NULL-safe). The data
 * of a packet returned by __next belongs to the reader and stays valid until
 * the next __next or __close on the same reader.
 * Errors: __open returns NULL with errno set and a one-line reason in err.
 * __next returns 1 for a packet, 0 at the end, -EIO on a broken record before
 * any packet was read; a broken record after the first packet ends the file
 * early (0) and __stopped_early() says why, so a capture cut mid-record is
 * analyzed up to its last complete packet. A record whose stamp is outside
 * the analyzer's time domain (analysis/domain.h: 1970 excluded .. 2116) is
 * -ERANGE wherever it is, and stays so: it is a wrong clock or a corrupt
 * file, not a cut one, and a record skipped from the middle of a capture
 * would bias what is measured (a probe counted lost that was not);
 * __stopped_early() names the packet and its stamp.
 */
#ifndef MIGSCOPE_CAPTURE_READER_H
#define MIGSCOPE_CAPTURE_READER_H

#include <stddef.h>
#include <stdint.h>

struct capture_reader;

struct capture_packet {
	int64_t ts_ns; /* a stamp (analysis/domain.h) */
	uint32_t caplen;
	uint32_t wirelen;
	const uint8_t *data;
};

struct capture_reader *capture_reader__open(const char *path, char *err, size_t errlen);
/* The same, a directory read only in the files that meet one of the nw
 * windows (capture_dir__select); a file is read whole. */
struct time_window;
struct capture_reader *capture_reader__open_windows(const char *path, const struct time_window *w,
						   int nw, char *err, size_t errlen);
int capture_reader__next(struct capture_reader *r, struct capture_packet *pkt);
int capture_reader__linktype(const struct capture_reader *r);
/* NULL, or why reading stopped before the end of the file */
const char *capture_reader__stopped_early(const struct capture_reader *r);
uint64_t capture_reader__packets(const struct capture_reader *r);
/* The stamps' resolution: the coarsest power of ten, 1 s down to 1 ns, that
 * divides every stamp read so far (1 s before the first packet). */
int64_t capture_reader__tick_ns(const struct capture_reader *r);
void capture_reader__close(struct capture_reader *r);

#endif
