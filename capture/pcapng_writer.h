/*
 * pcapng_writer - writes a pcapng file (draft-ietf-opsawg-pcapng): one
 * Section Header Block, Interface Description Blocks (nanosecond
 * if_tsresol), Enhanced Packet Blocks and Interface Statistics Blocks.
 * A path ending in ".gz" is gzip-compressed through zlib. The file is
 * created with mode 0600 (captures hold addresses of tenants' guests).
 *
 * Ownership: __open returns a handle that __close releases (NULL-safe);
 * every string argument is copied into the file, none is kept.
 * Order: add every interface before the first packet that names it.
 * Errors: __open returns NULL with errno set and one line in err. The other
 * functions return 0 or -errno; a write error is sticky and also returned by
 * __close, which always frees the handle. The per-packet path (__packet)
 * does no allocation.
 */
#ifndef MIGSCOPE_PCAPNG_WRITER_H
#define MIGSCOPE_PCAPNG_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* epb_flags direction bits (pcapng §4.3.1) */
enum { PCAPNG_EPB_INBOUND = 1, PCAPNG_EPB_OUTBOUND = 2 };

enum { PCAPNG_LINKTYPE_ETHERNET = 1 };

struct pcapng_writer;

/* The statistics of one interface at the end of a capture (ISB options). A
 * comment longer than one option holds is split over several opt_comment
 * options at line ends; a reader concatenates them in order. */
struct pcapng_if_stats {
	uint64_t start_ns, end_ns;
	uint64_t ifrecv;       /* frames the interface passed to us */
	uint64_t ifdrop;       /* frames we should have written and lost */
	uint64_t filteraccept; /* frames we chose to write */
	const char *comment;   /* NULL: none */
};

struct pcapng_writer *pcapng_writer__open(const char *path, const char *userappl,
					  const char *comment, char *err, size_t errlen);
/* Returns the new interface's id (>= 0) or -errno. */
int pcapng_writer__add_interface(struct pcapng_writer *w, const char *name,
				 const char *description, uint16_t linktype, uint32_t snaplen);
int pcapng_writer__packet(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			  const void *data, uint32_t caplen, uint32_t wirelen, uint32_t epb_flags);
int pcapng_writer__stats(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			 const struct pcapng_if_stats *s);
/* Pushes buffered blocks to the file (gzip: a sync flush), so a reader or
 * a crash sees whole blocks. */
int pcapng_writer__flush(struct pcapng_writer *w);
int pcapng_writer__close(struct pcapng_writer *w);
/* Bytes written so far, before compression: a gzip file on disk is smaller,
 * so a bound on this bounds the file. */
uint64_t pcapng_writer__bytes(const struct pcapng_writer *w);

#endif
