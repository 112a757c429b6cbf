#include <stdio.h>
#include <string.h>

#include "analysis/flows.h"
#include "reports/render.h"

const char *announce_kind_name(int kind)
{
	static const char *const names[] = { "RARP", "GARP", "NA" };

	return kind >= 0 && kind <= 2 ? names[kind] : "?";
}

const char *detect_names(unsigned int detect, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } kinds[] = {
		{ DETECT_PORT, "port" }, { DETECT_QEVM, "qevm" },
		{ DETECT_MULTIFD, "multifd" }, { DETECT_NBD, "nbd" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (detect & kinds[k].bit)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? "," : "", kinds[k].name);
	return buf;
}

int announce_count(const struct report_migration *m, int kind)
{
	const char *inputs[MAX_INPUTS] = { 0 };
	int counts[MAX_INPUTS] = { 0 }, best = 0;

	for (int k = 0; k < m->nannounces; k++) {
		int slot = 0;

		if (m->announces[k].kind != kind)
			continue;
		while (slot < MAX_INPUTS - 1 && inputs[slot] && inputs[slot] != m->announces[k].input)
			slot++;
		inputs[slot] = m->announces[k].input;
		if (++counts[slot] > best)
			best = counts[slot];
	}
	return best;
}
