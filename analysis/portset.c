#include "analysis/portset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, char **end, unsigned long *port)
{
	errno = 0;
	*port = strtoul(s, end, 10);
	if (*end == s || errno || *port == 0 || *port > 65535)
		return -EINVAL;
	return 0;
}

int portset_parse(struct portset *set, const char *spec)
{
	const char *p = spec;
	unsigned long lo, hi;
	char *end;

	memset(set, 0, sizeof(*set));
	if (!*p)
		return -EINVAL;
	while (*p) {
		if (parse_port(p, &end, &lo))
			return -EINVAL;
		hi = lo;
		if (*end == '-' && parse_port(end + 1, &end, &hi))
			return -EINVAL;
		if (hi < lo || (*end && *end != ','))
			return -EINVAL;
		for (unsigned long port = lo; port <= hi; port++)
			set->bits[port >> 6] |= 1ull << (port & 63);
		if (*end == ',' && !end[1])
			return -EINVAL; /* a trailing empty element */
		p = *end ? end + 1 : end;
	}
	return 0;
}
