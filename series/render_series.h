/*
 * render_series - `migscope series` tables: every run's row, then per setting
 * and migration number the mean, median and p95 over its runs. Text for
 * people (times in ms, bytes exact); CSV for tabulating (times in µs with
 * exact decimals, like analyze --format csv), one table where a `row` column
 * tells run rows ("run") from statistics ("mean", "median", "p95").
 * Both write to a caller-owned FILE and return 0 or -EIO. The table must have
 * been summarized (series_table__summarize).
 */
#ifndef MIGSCOPE_RENDER_SERIES_H
#define MIGSCOPE_RENDER_SERIES_H

#include <stdio.h>

#include "series/series.h"

int render_series_text(const struct series_table *t, FILE *out);
int render_series_csv(const struct series_table *t, FILE *out);

#endif
