#include <stdio.h>
#include <string.h>

#include "reports/render.h"

const char *announce_kind_name(int kind)
{
	static const char *const names[] = { "RARP", "GARP", "NA" };

	return kind >= 0 && kind <= 2 ? names[kind] : "?";
}

const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}
