#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "reports/html.h"
#include "reports/units.h"

void html_esc(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fputs("&#xFFFD;", out);
			else
				fputc(*p, out);
		}
	}
}

void html_escf(FILE *out, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	html_esc(out, buf);
}

const char *html_ms(struct opt_i64 ns, char *buf, size_t len)
{
	size_t used;

	if (!ns.set)
		return "n/a";
	format_ms(ns.v, buf, len);
	used = strlen(buf);
	snprintf(buf + used, len - used, " ms");
	return buf;
}

const char *html_digits(uint64_t v, char *buf, size_t len)
{
	char digits[32];
	size_t n, g = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v);
	for (size_t i = 0; i < n && g + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[g++] = ' ';
		buf[g++] = digits[i];
	}
	if (len)
		buf[g < len ? g : len - 1] = '\0';
	return buf;
}

double html_tick_step(double lo, double hi, int want)
{
	double raw = (hi - lo) / (want > 0 ? want : 1), mag, f;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

double html_tick_first(double lo, double step)
{
	return ceil(lo / step - 1e-9) * step;
}

const char *html_vantage_name(const char *vantage)
{
	if (!vantage)
		return "?";
	if (!strcmp(vantage, "src"))
		return "source NIC";
	if (!strcmp(vantage, "dst"))
		return "destination NIC";
	if (!strcmp(vantage, "ctl"))
		return "prober";
	return vantage;
}
