/* units - exact fixed-point renderings of nanosecond quantities. */
#ifndef MIGSCOPE_UNITS_H
#define MIGSCOPE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* -42 -> "-42", as printf's %lld; returns the length (out cut to len - 1
 * and terminated, as snprintf) */
size_t format_int(int64_t v, char *out, size_t len);
/* 1234567 ns -> "1234.567" (microseconds, exact) */
void format_us(int64_t ns, char *out, size_t len);
/* 1234567 ns -> "1.235" (milliseconds for people, rounded to the microsecond) */
void format_ms(int64_t ns, char *out, size_t len);
/* a duration in the evidence's words: "18.412 s" from a second on, else
 * "4.210 ms". Returns out. */
const char *format_duration(int64_t ns, char *out, size_t len);
/* epoch ns -> "2026-11-22 21:00:01.123456789" UTC */
void format_time(int64_t ns, char *out, size_t len);

#endif
