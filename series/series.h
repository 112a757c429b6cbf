/*
 * series - `migscope series`: one table across many runs of an experiment,
 * one row per migration of each run, then per setting (and migration number)
 * the mean, median and p95 over its runs.
 *
 * An input is one of:
 *   - a lab run directory (scenario.json beside the captures, as
 *     tests/lab/run.sh leaves it): its captures are analyzed here, in
 *     process, with the roles, guest and port scenario.json names. Setting:
 *     the scenario's name, arguments and options ("loss 2",
 *     "port-not-ready 2 --no-announce-self"); run: the directory's name.
 *   - a directory holding one migscope report JSON (any *.json whose schema
 *     is migscope.report.v1), or such a REPORT.json itself: taken as it is.
 *     Setting: the name of the directory it is in, less a trailing run
 *     suffix -rN or -N ("loss-2-r3" -> "loss-2", "dirty-7" -> "dirty"); run:
 *     that directory's name for report.json or a directory, else the file's
 *     name without .json.
 * An operator's label (series_table__add's `setting`) replaces the derived
 * setting.
 *
 * Ownership: series_table__new returns a table freed by series_table__free
 * (NULL-safe); rows and groups live as long as the table.
 * Errors: 0 or -errno, with one line in err naming the input.
 */
#ifndef MIGSCOPE_SERIES_H
#define MIGSCOPE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "reports/report.h"

enum series_col {
	SERIES_MIGRATION_TIME, /* ns */
	SERIES_DOWNTIME,       /* probe gap, ns */
	SERIES_SILENCE,        /* guest silence, ns */
	SERIES_OUT_BYTES,
	SERIES_IN_BYTES,
	SERIES_RETX,           /* retransmitted segments */
	SERIES_LOST,           /* lost probes */
	SERIES_FLOWS_STALLED,  /* the guest's flows stalled (null: none open across) */
	SERIES_STALL_MAX,      /* the longest of their stalls, ns */
	SERIES_RESPONSE_PAUSE, /* p99 response time of requests begun in the pause, ns */
	SERIES_RESPONSE_AFTER, /* ... begun after the resume, ns */
	SERIES_NCOLS,
};

enum { SERIES_NAME_LEN = 96, SERIES_VERDICT_LEN = 40, SERIES_VERDICTS_LEN = 160 };

struct series_row {
	char setting[SERIES_NAME_LEN];
	char run[SERIES_NAME_LEN];
	int migration;                   /* 1, 2, ... within its run */
	struct opt_i64 v[SERIES_NCOLS];
	char verdict[SERIES_VERDICT_LEN]; /* "none" when no migration was found */
};

struct series_stat {
	int n;                            /* runs with a value (nulls are left out) */
	struct opt_i64 mean, median, p95; /* stats_summarize() */
};

struct series_group {
	char setting[SERIES_NAME_LEN];
	int migration;
	int runs;
	struct series_stat col[SERIES_NCOLS];
	char verdicts[SERIES_VERDICTS_LEN]; /* "ok 3, stale_forwarding 1" */
};

struct series_table;

struct series_table *series_table__new(void);
void series_table__free(struct series_table *t);

/* Adds the runs at path; setting: the operator's label, or NULL to derive it.
 * Warnings of the analysis go to `warn` (may be NULL), one line each. */
int series_table__add(struct series_table *t, const char *path, const char *setting, FILE *warn,
		      char *err, size_t errlen);

int series_table__nrows(const struct series_table *t);
const struct series_row *series_table__row(const struct series_table *t, int i);

/* Groups the rows by setting and migration number, in order of first
 * appearance, and computes their statistics. Returns 0 or -ENOMEM. */
int series_table__summarize(struct series_table *t);
int series_table__ngroups(const struct series_table *t);
const struct series_group *series_table__group(const struct series_table *t, int i);

/* "loss-2-r3" -> "loss-2", "dirty-7" -> "dirty"; other names unchanged. */
void series_setting_of(const char *name, char *out, size_t len);
/* Column names for people and for CSV, and whether a column holds ns. */
const char *series_col_title(enum series_col c);
const char *series_col_csv(enum series_col c);
bool series_col_is_time(enum series_col c);

#endif
