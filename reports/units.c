#include "reports/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

static void format_fixed(int64_t v, int64_t unit, int decimals_div, char *out, size_t len)
{
	const char *sign = v < 0 ? "-" : "";
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	snprintf(out, len, "%s%" PRIu64 ".%03" PRIu64, sign, a / (uint64_t)unit,
		 (a % (uint64_t)unit) / (uint64_t)decimals_div);
}

void format_us(int64_t ns, char *out, size_t len)
{
	format_fixed(ns, 1000, 1, out, len);
}

void format_ms(int64_t ns, char *out, size_t len)
{
	format_fixed(ns, 1000000, 1000, out, len);
}

void format_time(int64_t ns, char *out, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char day[32];

	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, len, "%s.%09" PRId64, day, ns % 1000000000);
}
