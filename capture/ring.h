/*
 * ring - the flight recorder's files: `migscope capture -C/-G/-W` writes a
 * bounded ring of capture files, and keeps the files around each migration
 * out of it, in a directory per migration, so that a long evacuation cannot
 * rotate away the evidence of its first guest (design §9).
 *
 * Names: -w DIR/STEM.EXT (EXT from STEM's first dot: ".pcapng", ".pcapng.gz")
 * gives ring files DIR/STEM.NNNNNN.EXT, NNNNNN counting up for ever (a
 * restarted agent goes on after the highest one there and counts the files
 * it finds against -W). A migration's files go to KEEP/STEM-YYYYmmddTHHMMSSZ/
 * (the UTC second its stream was first seen), which `migscope analyze` takes
 * as one vantage (analysis/capture_dir.h).
 *
 * A migration (an "episode") runs from the first stream event to the last
 * one followed by `margin` without any; streams closer than that (an
 * evacuation) share one directory. A ring file whose time range meets
 * [first - margin, last + margin] is kept: at the first event, the closed
 * files of the last `margin` move at once; later ones as they close.
 *
 * Bounds: at most `files` ring files (the oldest is deleted when a new one
 * closes); kept directories together at most `keep_bytes` (the oldest whole
 * directory goes first; a single migration larger than the bound stops
 * being kept, its later files rotate with the ring, said once on stderr).
 * Files are the writer's (mode 0600); directories are made 0700.
 *
 * Times are UTC nanoseconds (the files' clock). The agent calls
 * __due after each write, and when it is true closes the file, calls
 * __closed and opens __path() again. Nothing here writes capture data.
 *
 * Ownership: __open returns a handle released by __close (NULL-safe); paths
 * returned point into it, valid until the next call. Errors: __open returns
 * NULL with errno set and one line in err; the others return 0 or -errno
 * with one line in err (the ring stays usable: a file that could not be
 * moved stays in the ring).
 */
#ifndef MIGSCOPE_CAPTURE_RING_H
#define MIGSCOPE_CAPTURE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring_opts {
	const char *path;       /* -w DIR/STEM.EXT */
	uint64_t file_bytes;    /* -C: a new file past this size; 0: none */
	int64_t file_ns;        /* -G: a new file after this long; 0: none */
	int files;              /* -W: ring files kept, >= 2 */
	const char *keep_dir;   /* NULL: DIR/migrations */
	int64_t margin_ns;      /* kept before the first and after the last stream event */
	uint64_t keep_bytes;    /* bound of every kept directory together */
};

struct ring_stats {
	int ring_files;
	uint64_t ring_bytes;
	int kept_dirs, kept_files;
	uint64_t kept_bytes;
	uint64_t deleted_files;     /* rotated out of the ring */
	uint64_t deleted_kept_dirs; /* kept directories removed for the bound */
};

struct ring;

struct ring *ring__open(const struct ring_opts *o, char *err, size_t errlen);
/* The file to write now. */
const char *ring__path(const struct ring *r);
/* True when the file being written should end: its size, or its age at now_ns. */
bool ring__due(const struct ring *r, int64_t start_ns, int64_t now_ns, uint64_t bytes);
/* The file from __path ended, closed, holding [start_ns, end_ns]: kept or
 * rotated, the ring and the kept directories brought within their bounds,
 * and __path names the next one. */
int ring__closed(struct ring *r, int64_t start_ns, int64_t end_ns, uint64_t bytes, char *err,
		 size_t errlen);
/* A migration stream's event at now_ns: 1 when it begins a migration (a
 * new directory), 0 when it continues one, or -errno. */
int ring__stream(struct ring *r, int64_t now_ns, char *err, size_t errlen);
/* The directory of the latest migration kept, NULL when none (or it
 * outgrew --keep-max). */
const char *ring__keep_path(const struct ring *r);
/* That migration's window: its first stream event less the margin, its
 * last plus the margin. False when there is none. */
bool ring__window(const struct ring *r, int64_t *from_ns, int64_t *to_ns);
/* True while files written at now_ns are kept (within the window). */
bool ring__keeping(const struct ring *r, int64_t now_ns);
void ring__stats(const struct ring *r, struct ring_stats *out);
void ring__close(struct ring *r);

#endif
