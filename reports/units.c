#include "reports/units.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The decimal digits of v, written backwards ending at end; returns the
 * first. printf's machinery costs more than the rest of rendering JSON. */
static char *digits_back(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* [from, end) into out as snprintf would: cut to len - 1, terminated. */
static size_t copy_out(const char *from, const char *end, char *out, size_t len)
{
	size_t n = (size_t)(end - from), kept = n < len ? n : len ? len - 1 : 0;

	if (len) {
		memcpy(out, from, kept);
		out[kept] = 0;
	}
	return n;
}

/* v / unit with three decimals, rounded half away from zero when `round`
 * (for people), else the exact leading digits. */
static void format_fixed(int64_t v, uint64_t unit, bool round, char *out, size_t len)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, milli = unit / 1000, frac;
	char text[32], *end = text + sizeof(text), *p = end;

	if (round)
		a += milli / 2;
	frac = (a % unit) / milli;
	*--p = (char)('0' + frac % 10);
	*--p = (char)('0' + frac / 10 % 10);
	*--p = (char)('0' + frac / 100);
	*--p = '.';
	p = digits_back(a / unit, p);
	if (v < 0)
		*--p = '-';
	copy_out(p, end, out, len);
}

size_t format_int(int64_t v, char *out, size_t len)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char text[24], *end = text + sizeof(text), *p = digits_back(a, end);

	if (v < 0)
		*--p = '-';
	return copy_out(p, end, out, len);
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
