/*
 * portset - a set of TCP ports as a 64 Kibit bitmap: O(1) membership on the
 * per-packet path. Parsed from "49152-49215,16509,16514".
 */
#ifndef MIGSCOPE_PORTSET_H
#define MIGSCOPE_PORTSET_H

#include <stdbool.h>
#include <stdint.h>

struct portset {
	uint64_t bits[65536 / 64];
};

/* libvirt's migration range and libvirtd's tunnelled-migration ports */
#define PORTSET_DEFAULT "49152-49215,16509,16514"

int portset_parse(struct portset *set, const char *spec);

static inline bool portset_has(const struct portset *set, uint16_t port)
{
	return set->bits[port >> 6] >> (port & 63) & 1;
}

static inline void portset_add(struct portset *set, uint16_t port)
{
	set->bits[port >> 6] |= UINT64_C(1) << (port & 63);
}

#endif
