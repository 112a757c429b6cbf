/*
 * domain - the range of every value that enters the analyzer from a file: time
 * stamps, clock offsets and counts. Each is checked once, where it enters
 * (capture_reader: packet stamps; analyzer: stamps and counter times moved
 * onto the reference clock; capture_counters: the agent's counters), so that
 * no later sum, difference or product of them can overflow int64_t and no
 * figure downstream needs a clamp.
 *
 * Stamps: int64_t nanoseconds since 1970-01-01T00:00:00Z (UTC), in
 * [STAMP_MIN_NS, STAMP_MAX_NS]:
 *   - 0 is excluded: throughout the analyzer 0 means "no time" (not seen,
 *     absent, unknown), and pcapng's Simple Packet Block, which carries no
 *     stamp, reads as 0 through libpcap. A stamp of 0 would be taken for
 *     "never" (an announce round seen at 0 read as not seen, and so on), so
 *     it is refused at the reader, as is anything before it.
 *   - 2^62 ns (2116-02-20T23:53:38Z) bounds it above, so the sum of two stamps
 *     and the difference of any two (below 2^62 in size) fit in int64_t with
 *     room for padding a plot by a multiple of its span.
 *   A real capture is stamped by a clock set to the present: libpcap's classic
 *   pcap reads seconds as a signed 32-bit number (1901..2038), pcapng and
 *   nanosecond pcap reach further; both ends of the domain lie decades from
 *   any capture of a live migration.
 * Clock offsets: an offset moves a stamp onto the reference clock; the moved
 *   stamp must again be a stamp (stamp_shift), else the capture's clock and
 *   the reference's cannot both be right.
 * Counts (packets, bytes, segments from the agent's counters): at most
 *   COUNT_MAX = 2^53, 8 PiB or 9e15 packets for one flow direction, more than
 *   any migration stream carries (a guest's memory and disks, sent a few
 *   times over), and the largest integer a JSON reader holding numbers as
 *   doubles keeps exactly. The sum of 1024 of them stays below 2^63.
 * Rates: bit/s in int64_t (9.2 Ebit/s at most); a rate no link reaches is
 *   not a figure (rate_bps fails).
 *
 * Errors: functions returning int give 0 or -ERANGE; *out is written only on
 * success.
 */
#ifndef MIGSCOPE_DOMAIN_H
#define MIGSCOPE_DOMAIN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_S INT64_C(1000000000)
#define STAMP_MIN_NS INT64_C(1)
#define STAMP_MAX_NS ((INT64_C(1) << 62) - 1)
#define COUNT_MAX (UINT64_C(1) << 53)

static inline bool stamp_valid(int64_t t)
{
	return t >= STAMP_MIN_NS && t <= STAMP_MAX_NS;
}

/* sec + frac_ns as a stamp. frac_ns is taken as it comes, outside 0..1e9-1
 * too (a writer that puts 1,000,000 in a microsecond field means the next
 * second; libpcap hands a classic pcap's fraction over signed): only the
 * stamp they make must be in the domain. */
static inline int stamp_from_parts(int64_t sec, int64_t frac_ns, int64_t *out)
{
	int64_t ns;

	if (__builtin_mul_overflow(sec, NS_PER_S, &ns) || __builtin_add_overflow(ns, frac_ns, &ns) ||
	    !stamp_valid(ns))
		return -ERANGE;
	*out = ns;
	return 0;
}

/* t moved onto the reference clock: t - offset_ns, which must be a stamp. */
static inline int stamp_shift(int64_t t, int64_t offset_ns, int64_t *out)
{
	int64_t r;

	if (__builtin_sub_overflow(t, offset_ns, &r) || !stamp_valid(r))
		return -ERANGE;
	*out = r;
	return 0;
}

static inline bool count_valid(uint64_t n)
{
	return n <= COUNT_MAX;
}

/* bytes over ns as bit/s, the way the reports have always computed it
 * (double, truncated); false when ns <= 0 or the rate does not fit int64_t. */
static inline bool rate_bps(uint64_t bytes, int64_t ns, int64_t *out)
{
	double r;

	if (ns <= 0)
		return false;
	r = (double)bytes * 8e9 / (double)ns;
	if (!(r < 0x1p63))
		return false;
	*out = (int64_t)r;
	return true;
}

/* The domain as people read it, for messages. */
#define STAMP_RANGE_TEXT "after 1970-01-01T00:00:00Z and before 2116-02-20T23:53:38Z"

#endif
