#include "reports/units.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* v / unit with three decimals, rounded half away from zero when `round`
 * (for people), else the exact leading digits. */
static void format_fixed(int64_t v, uint64_t unit, bool round, char *out, size_t len)
{
	const char *sign = v < 0 ? "-" : "";
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, milli = unit / 1000;

	if (round)
		a += milli / 2;
	snprintf(out, len, "%s%" PRIu64 ".%03" PRIu64, sign, a / unit, (a % unit) / milli);
}

void format_us(int64_t ns, char *out, size_t len)
{
	format_fixed(ns, 1000, false, out, len);
}

void format_ms(int64_t ns, char *out, size_t len)
{
	format_fixed(ns, 1000000, true, out, len);
}

const char *format_duration(int64_t ns, char *out, size_t len)
{
	if (ns >= 1000000000 || ns <= -1000000000)
		snprintf(out, len, "%.3f s", (double)ns / 1e9);
	else
		snprintf(out, len, "%.3f ms", (double)ns / 1e6);
	return out;
}

void format_time(int64_t ns, char *out, size_t len)
{
	/* floor division: times before 1970 still read forwards */
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	struct tm tm;
	time_t t;
	char day[32];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, len, "%s.%09" PRId64, day, frac);
}
