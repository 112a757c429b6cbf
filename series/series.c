#include "series/series.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/analyzer.h"
#include "analysis/stats.h"
#include "analysis/json_reader.h"

#define REPORT_SCHEMA_PREFIX "migscope.report.v"
/* a directory is scanned for its report among this many JSON files */
enum { MAX_DIR_JSON = 64 };

struct series_table {
	struct series_row *rows;
	int nrows, cap;
	struct series_group *groups;
	int ngroups;
};

static const struct {
	const char *title, *csv;
	bool time;
} COLS[SERIES_NCOLS] = {
	[SERIES_MIGRATION_TIME] = { "migration time", "migration_time_us", true },
	[SERIES_DOWNTIME] = { "downtime", "downtime_us", true },
	[SERIES_SILENCE] = { "guest silence", "guest_silence_us", true },
	[SERIES_OUT_BYTES] = { "out bytes", "out_bytes", false },
	[SERIES_IN_BYTES] = { "in bytes", "in_bytes", false },
	[SERIES_RETX] = { "retransmits", "retransmitted_segments", false },
	[SERIES_LOST] = { "lost probes", "lost_probes", false },
	[SERIES_FLOWS_STALLED] = { "stalled flows", "guest_flows_stalled", false },
	[SERIES_STALL_MAX] = { "longest stall", "stall_max_us", true },
	[SERIES_RESPONSE_PAUSE] = { "p99 pause", "response_p99_pause_us", true },
	[SERIES_RESPONSE_AFTER] = { "p99 after", "response_p99_after_us", true },
};

const char *series_col_title(enum series_col c)
{
	return COLS[c].title;
}

const char *series_col_csv(enum series_col c)
{
	return COLS[c].csv;
}

bool series_col_is_time(enum series_col c)
{
	return COLS[c].time;
}

struct series_table *series_table__new(void)
{
	return calloc(1, sizeof(struct series_table));
}

void series_table__free(struct series_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->groups);
	free(t);
}

int series_table__nrows(const struct series_table *t)
{
	return t->nrows;
}

const struct series_row *series_table__row(const struct series_table *t, int i)
{
	return &t->rows[i];
}

int series_table__ngroups(const struct series_table *t)
{
	return t->ngroups;
}

const struct series_group *series_table__group(const struct series_table *t, int i)
{
	return &t->groups[i];
}

static struct series_row *new_row(struct series_table *t, const char *setting, const char *run,
				  int migration)
{
	struct series_row *r;

	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct series_row *rows = realloc(t->rows, (size_t)cap * sizeof(*rows));

		if (!rows)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->setting, sizeof(r->setting), "%s", setting);
	snprintf(r->run, sizeof(r->run), "%s", run);
	r->migration = migration;
	snprintf(r->verdict, sizeof(r->verdict), "none");
	return r;
}

void series_setting_of(const char *name, char *out, size_t len)
{
	size_t n = strlen(name), d = n;

	while (d > 0 && isdigit((unsigned char)name[d - 1]))
		d--;
	/* digits after "-" or "-r", with something left before them */
	if (d < n && d > 1 && name[d - 1] == 'r' && name[d - 2] == '-' && d > 2)
		n = d - 2;
	else if (d < n && d > 1 && name[d - 1] == '-')
		n = d - 1;
	snprintf(out, len, "%.*s", (int)n, name);
}

/* The last component of a path, without trailing slashes. */
static void base_name(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(out, len, "%s", basename(copy));
}

/* ---- from a report ----------------------------------------------------- */

static void rows_from_report(struct series_row *r, const struct report_migration *m)
{
	r->v[SERIES_MIGRATION_TIME] = m->stream.migration_time_ns;
	r->v[SERIES_DOWNTIME] = m->downtime.probe_gap_ns;
	r->v[SERIES_SILENCE] = m->downtime.guest_silence_ns;
	if (m->stream.at_src.present)
		r->v[SERIES_OUT_BYTES] = opt_some((int64_t)m->stream.at_src.payload_bytes);
	if (m->stream.at_dst.present)
		r->v[SERIES_IN_BYTES] = opt_some((int64_t)m->stream.at_dst.payload_bytes);
	r->v[SERIES_RETX] = m->stream.retx_segments;
	r->v[SERIES_LOST] = m->loss.lost_probes;
	if (m->traffic.flows)
		r->v[SERIES_FLOWS_STALLED] = opt_some(m->traffic.stalled);
	r->v[SERIES_STALL_MAX] = m->traffic.stall_max_ns;
	r->v[SERIES_RESPONSE_PAUSE] = m->traffic.responses[PHASE_PAUSE].p99_ns;
	r->v[SERIES_RESPONSE_AFTER] = m->traffic.responses[PHASE_AFTER].p99_ns;
	snprintf(r->verdict, sizeof(r->verdict), "%s", m->verdict.code ? m->verdict.code : "none");
}

/* ---- a lab run directory ------------------------------------------------ */

/* The scenario, its arguments and its options: "port-not-ready 2
 * --no-announce-self" is another experiment than "port-not-ready 2". */
static int lab_setting(const struct json_doc *d, char *out, size_t len)
{
	static const char *const lists[] = { "args", "options" };
	const char *name = json_doc__str(d, json_doc__get(d, 0, "scenario"));
	size_t used;

	if (!name)
		return -EINVAL;
	used = (size_t)snprintf(out, len, "%s", name);
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		int list = json_doc__get(d, 0, lists[l]);

		for (int i = 0; i < json_doc__len(d, list) && used < len; i++) {
			const char *word = json_doc__str(d, json_doc__at(d, list, i));

			if (word)
				used += (size_t)snprintf(out + used, len - used, " %s", word);
		}
	}
	return 0;
}

/* The capture file of a vantage (cn1, cn2, ctl) in the directory. */
static int vantage_path(const struct json_doc *d, const char *dir, const char *vantage,
			char *out, size_t len)
{
	const char *file = json_doc__str(d, json_doc__get(d, json_doc__get(d, 0, "vantages"), vantage));

	if (!file || strchr(file, '/'))
		return -EINVAL;
	if ((size_t)snprintf(out, len, "%s/%s", dir, file) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int lab_config(const struct json_doc *d, const char *dir, struct analyze_config *cfg,
		      char (*paths)[PATH_MAX], char *err, size_t errlen)
{
	int mig = json_doc__at(d, json_doc__get(d, 0, "migrations"), 0);
	const char *from = json_doc__str(d, json_doc__get(d, mig, "from"));
	const char *to = json_doc__str(d, json_doc__get(d, mig, "to"));
	const char *mac = json_doc__str(d, json_doc__path(d, 0, "guest.mac"));
	const char *ip = json_doc__str(d, json_doc__path(d, 0, "guest.ipv4"));
	const char *role[3] = { "src", "dst", "ctl" }, *vantage[3];
	char ports[64], guest[96];
	int64_t port;

	vantage[0] = from ? from : "cn1";
	vantage[1] = to ? to : "cn2";
	vantage[2] = "ctl";
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < 3; i++) {
		if (vantage_path(d, dir, vantage[i], paths[i], PATH_MAX)) {
			if (i == 2)
				break; /* a run without a prober capture */
			snprintf(err, errlen, "%s/scenario.json: no capture file named for %s", dir,
				 vantage[i]);
			return -EINVAL;
		}
		cfg->paths[cfg->ninputs] = paths[i];
		cfg->labels[cfg->ninputs++] = role[i];
	}
	snprintf(ports, sizeof(ports), "%s", PORTSET_DEFAULT);
	if (json_doc__fixed(d, json_doc__path(d, 0, "migration_setup.port"), 0, &port) && port > 0 &&
	    port < 65536)
		snprintf(ports, sizeof(ports), "%s,%d", PORTSET_DEFAULT, (int)port);
	if (portset_parse(&cfg->ports, ports))
		return -EINVAL;
	/* an evacuation's run (tests/lab/run.sh evacuate): every guest's row */
	if (mac && json_doc__len(d, json_doc__get(d, 0, "guests")) <= 1) {
		snprintf(guest, sizeof(guest), "%s%s%s", mac, ip ? "," : "", ip ? ip : "");
		if (guest_spec_parse(guest, cfg->guest_mac, &cfg->guest_ip)) {
			snprintf(err, errlen, "%s/scenario.json: guest '%s' is not MAC[,IP]", dir, guest);
			return -EINVAL;
		}
		cfg->guest_mac_set = true;
	}
	return 0;
}

static int add_lab_dir(struct series_table *t, const char *dir, const char *setting, FILE *warn,
		       char *err, size_t errlen)
{
	char path[PATH_MAX], derived[SERIES_NAME_LEN], run[SERIES_NAME_LEN], inner[512];
	char paths[3][PATH_MAX];
	struct analyze_config cfg;
	struct json_doc *d = NULL;
	struct report rep;
	struct series_row *row;
	int rc;

	memset(&rep, 0, sizeof(rep));
	snprintf(path, sizeof(path), "%s/scenario.json", dir);
	rc = json_doc__load(path, &d, err, errlen);
	if (rc)
		return rc;
	if (lab_setting(d, derived, sizeof(derived))) {
		snprintf(err, errlen, "%s: no scenario name", path);
		rc = -EINVAL;
		goto cleanup;
	}
	rc = lab_config(d, dir, &cfg, paths, err, errlen);
	if (rc)
		goto cleanup;
	rc = analyze(&cfg, &rep, inner, sizeof(inner));
	if (rc) {
		snprintf(err, errlen, "%s: %s", dir, inner);
		goto cleanup;
	}
	for (int i = 0; warn && i < rep.nwarnings; i++)
		fprintf(warn, "migscope: warning: %s: %s\n", dir, rep.warnings[i]);
	base_name(dir, run, sizeof(run));
	for (int m = 0; m < (rep.nmigrations ? rep.nmigrations : 1); m++) {
		row = new_row(t, setting ? setting : derived, run, m + 1);
		if (!row) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto cleanup;
		}
		if (rep.nmigrations)
			rows_from_report(row, &rep.migrations[m]);
	}
cleanup:
	report_free(&rep);
	json_doc__free(d);
	return rc;
}

/* ---- a report JSON ------------------------------------------------------- */

static bool is_report(const struct json_doc *d)
{
	const char *schema = json_doc__str(d, json_doc__get(d, 0, "schema"));

	return schema && !strncmp(schema, REPORT_SCHEMA_PREFIX, strlen(REPORT_SCHEMA_PREFIX));
}

static struct opt_i64 fixed_at(const struct json_doc *d, int node, const char *path, int decimals)
{
	int64_t v;

	return json_doc__fixed(d, json_doc__path(d, node, path), decimals, &v) ? opt_some(v)
									       : (struct opt_i64){ 0 };
}

static void row_from_json(struct series_row *r, const struct json_doc *d, int m)
{
	const char *verdict = json_doc__str(d, json_doc__path(d, m, "verdict.code"));

	/* microseconds with three decimals: exact nanoseconds */
	r->v[SERIES_MIGRATION_TIME] = fixed_at(d, m, "stream.migration_time_us", 3);
	r->v[SERIES_DOWNTIME] = fixed_at(d, m, "downtime.probe_gap_us", 3);
	r->v[SERIES_SILENCE] = fixed_at(d, m, "downtime.guest_silence_us", 3);
	r->v[SERIES_OUT_BYTES] = fixed_at(d, m, "stream.out_bytes", 0);
	r->v[SERIES_IN_BYTES] = fixed_at(d, m, "stream.in_bytes", 0);
	r->v[SERIES_RETX] = fixed_at(d, m, "stream.retransmitted_segments", 0);
	r->v[SERIES_LOST] = fixed_at(d, m, "loss.lost_probes", 0);
	if (fixed_at(d, m, "guest_flows_summary.flows", 0).v > 0)
		r->v[SERIES_FLOWS_STALLED] = fixed_at(d, m, "guest_flows_summary.stalled", 0);
	r->v[SERIES_STALL_MAX] = fixed_at(d, m, "guest_flows_summary.stall_max_us", 3);
	r->v[SERIES_RESPONSE_PAUSE] = fixed_at(d, m, "responses.pause.p99_us", 3);
	r->v[SERIES_RESPONSE_AFTER] = fixed_at(d, m, "responses.after.p99_us", 3);
	snprintf(r->verdict, sizeof(r->verdict), "%s", verdict ? verdict : "none");
}

/* run: the directory's name for report.json (or a directory), else the
 * file's name less .json; setting: the directory's name less a run suffix. */
static void report_names(const char *file, const char *dir_given, char *run, size_t runlen,
			 char *setting, size_t setlen)
{
	char real[PATH_MAX], copy[PATH_MAX], dir[SERIES_NAME_LEN], stem[SERIES_NAME_LEN];
	size_t n;

	if (!realpath(file, real))
		snprintf(real, sizeof(real), "%s", file);
	snprintf(copy, sizeof(copy), "%s", real);
	snprintf(dir, sizeof(dir), "%s", basename(dirname(copy)));
	base_name(real, stem, sizeof(stem));
	n = strlen(stem);
	if (n > 5 && !strcmp(stem + n - 5, ".json"))
		stem[n - 5] = '\0';
	snprintf(run, runlen, "%s", dir_given || !strcmp(stem, "report") ? dir : stem);
	series_setting_of(dir, setting, setlen);
}

static int add_report(struct series_table *t, const char *file, const struct json_doc *d,
		      const char *dir_given, const char *setting, char *err, size_t errlen)
{
	char run[SERIES_NAME_LEN], derived[SERIES_NAME_LEN];
	int migs = json_doc__get(d, 0, "migrations"), n = json_doc__len(d, migs);

	if (json_doc__type(d, migs) != JSON_ARRAY) {
		snprintf(err, errlen, "%s: a migscope report without a migrations list", file);
		return -EINVAL;
	}
	/* a row per migration: a report lists at most what one analysis keeps,
	 * and a forged one must not make a 16 MiB file cost gigabytes of rows */
	if (n > MAX_GROUPS) {
		snprintf(err, errlen, "%s: %d migrations, more than one analysis reports (%d)", file,
			 n, MAX_GROUPS);
		return -EINVAL;
	}
	report_names(file, dir_given, run, sizeof(run), derived, sizeof(derived));
	for (int m = 0; m < (n ? n : 1); m++) {
		struct series_row *row = new_row(t, setting ? setting : derived, run, m + 1);

		if (!row) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (n)
			row_from_json(row, d, json_doc__at(d, migs, m));
	}
	return 0;
}

static int add_report_file(struct series_table *t, const char *file, const char *setting,
			   char *err, size_t errlen)
{
	struct json_doc *d;
	int rc = json_doc__load(file, &d, err, errlen);

	if (rc)
		return rc;
	if (!is_report(d)) {
		snprintf(err, errlen, "%s: not a migscope report (no schema %s)", file,
			 REPORT_SCHEMA_PREFIX);
		rc = -EINVAL;
	} else {
		rc = add_report(t, file, d, NULL, setting, err, errlen);
	}
	json_doc__free(d);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The one report JSON in a directory; its name goes into `found`. */
static int find_report(const char *dir, struct json_doc **out, char *found, size_t foundlen,
		       char *err, size_t errlen)
{
	char *names[MAX_DIR_JSON], path[PATH_MAX], ignore[256];
	struct dirent *e;
	int n = 0, reports = 0, rc = 0;
	DIR *dp = opendir(dir);

	*out = NULL;
	if (!dp) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	while ((e = readdir(dp)) && n < MAX_DIR_JSON) {
		size_t len = strlen(e->d_name);

		if (len > 5 && !strcmp(e->d_name + len - 5, ".json") && (names[n] = strdup(e->d_name)))
			n++;
	}
	closedir(dp);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_name);
	for (int i = 0; i < n; i++) {
		struct json_doc *d;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (json_doc__load(path, &d, ignore, sizeof(ignore)))
			continue;
		if (!is_report(d)) {
			json_doc__free(d);
			continue;
		}
		if (reports++) {
			json_doc__free(d);
			continue;
		}
		*out = d;
		snprintf(found, foundlen, "%s", path);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	if (reports == 1)
		return 0;
	json_doc__free(*out);
	*out = NULL;
	if (reports > 1)
		snprintf(err, errlen, "%s: %d migscope report JSONs; name the one to use", dir, reports);
	else
		snprintf(err, errlen, "%s: neither a lab run (scenario.json) nor a directory with a "
			 "migscope report JSON", dir);
	return -EINVAL;
}

int series_table__add(struct series_table *t, const char *path, const char *setting, FILE *warn,
		      char *err, size_t errlen)
{
	char scenario[PATH_MAX], file[PATH_MAX];
	struct json_doc *d;
	struct stat st;
	int rc;

	if (stat(path, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return add_report_file(t, path, setting, err, errlen);
	snprintf(scenario, sizeof(scenario), "%s/scenario.json", path);
	if (!access(scenario, F_OK))
		return add_lab_dir(t, path, setting, warn, err, errlen);
	rc = find_report(path, &d, file, sizeof(file), err, errlen);
	if (rc)
		return rc;
	rc = add_report(t, file, d, path, setting, err, errlen);
	json_doc__free(d);
	return rc;
}

/* ---- statistics ----------------------------------------------------------- */

/*
 * Linear in the rows (F6 of the fuzz findings: 64,000 migrations in one
 * report took 55 s when every row looked its group up among all groups and
 * every group scanned all rows): rows are grouped through a hash of
 * (setting, migration), then listed per group in row order.
 */
struct grouping {
	int *slot;      /* hash slots: group index + 1, 0 empty */
	uint32_t mask;
	int *group_of;  /* per row */
	int *first;     /* per group: where its rows start in `rows`; [ngroups]: nrows */
	int *rows;      /* row indexes, group by group, each in row order */
};

static uint32_t group_hash(const char *setting, int migration)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)setting; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (h ^ (uint32_t)migration) * 16777619u;
}

static void grouping_free(struct grouping *gr)
{
	free(gr->slot);
	free(gr->group_of);
	free(gr->first);
	free(gr->rows);
}

/* Assigns every row its group (new groups in order of first appearance) and
 * lists each group's rows. Returns 0 or -ENOMEM. */
static int group_rows(struct series_table *t, struct grouping *gr)
{
	size_t nslots = 16, n = (size_t)t->nrows;
	int *next;

	while (nslots < 2 * n)
		nslots *= 2;
	gr->mask = (uint32_t)(nslots - 1);
	gr->slot = calloc(nslots, sizeof(*gr->slot));
	gr->group_of = malloc((n + 1) * sizeof(*gr->group_of));
	gr->first = calloc(n + 2, sizeof(*gr->first));
	gr->rows = malloc((n + 1) * sizeof(*gr->rows));
	if (!gr->slot || !gr->group_of || !gr->first || !gr->rows)
		return -ENOMEM;
	for (int i = 0; i < t->nrows; i++) {
		const struct series_row *r = &t->rows[i];
		uint32_t h = group_hash(r->setting, r->migration) & gr->mask;
		int g;

		for (;; h = (h + 1) & gr->mask) {
			g = gr->slot[h] - 1;
			if (g < 0 || (t->groups[g].migration == r->migration &&
				      !strcmp(t->groups[g].setting, r->setting)))
				break;
		}
		if (g < 0) {
			g = t->ngroups++;
			gr->slot[h] = g + 1;
			snprintf(t->groups[g].setting, sizeof(t->groups[g].setting), "%s", r->setting);
			t->groups[g].migration = r->migration;
		}
		t->groups[g].runs++;
		gr->group_of[i] = g;
	}
	/* counting sort by group, stable: each group's rows in row order */
	for (int g = 0; g < t->ngroups; g++)
		gr->first[g + 1] = gr->first[g] + t->groups[g].runs;
	next = malloc(((size_t)t->ngroups + 1) * sizeof(*next));
	if (!next)
		return -ENOMEM;
	memcpy(next, gr->first, (size_t)t->ngroups * sizeof(*next));
	for (int i = 0; i < t->nrows; i++)
		gr->rows[next[gr->group_of[i]]++] = i;
	free(next);
	return 0;
}

/* "ok 3, stale_forwarding 1", codes in order of first appearance. The line
 * holds SERIES_VERDICTS_LEN bytes and each code after the first takes at least
 * 4 of them (", x 1"), so only the first MAX_CODES codes can ever show. */
enum { MAX_CODES = SERIES_VERDICTS_LEN / 4 + 2 };

static void count_verdicts(const struct series_table *t, const struct grouping *gr, int g,
			   struct series_group *grp)
{
	const char *code[MAX_CODES];
	int count[MAX_CODES], ncodes = 0;
	size_t used = 0;

	for (int k = gr->first[g]; k < gr->first[g + 1]; k++) {
		const char *v = t->rows[gr->rows[k]].verdict;
		int c = 0;

		while (c < ncodes && strcmp(code[c], v))
			c++;
		if (c == ncodes) {
			if (ncodes == MAX_CODES)
				continue;
			code[ncodes] = v;
			count[ncodes++] = 0;
		}
		count[c]++;
	}
	grp->verdicts[0] = '\0';
	for (int c = 0; c < ncodes && used < sizeof(grp->verdicts); c++)
		used += (size_t)snprintf(grp->verdicts + used, sizeof(grp->verdicts) - used, "%s%s %d",
					 used ? ", " : "", code[c], count[c]);
}

int series_table__summarize(struct series_table *t)
{
	int64_t *vals = malloc(((size_t)t->nrows + 1) * sizeof(*vals));
	struct grouping gr = { 0 };
	int rc = -ENOMEM;

	free(t->groups);
	t->ngroups = 0;
	t->groups = calloc((size_t)t->nrows + 1, sizeof(*t->groups));
	if (!vals || !t->groups || group_rows(t, &gr))
		goto cleanup;
	for (int g = 0; g < t->ngroups; g++) {
		struct series_group *grp = &t->groups[g];

		for (int c = 0; c < SERIES_NCOLS; c++) {
			struct series_stat *st = &grp->col[c];
			struct stats_summary s;

			st->n = 0;
			for (int k = gr.first[g]; k < gr.first[g + 1]; k++) {
				const struct series_row *r = &t->rows[gr.rows[k]];

				if (r->v[c].set)
					vals[st->n++] = r->v[c].v;
			}
			if (!st->n)
				continue;
			s = stats_summarize(vals, (size_t)st->n);
			st->mean = opt_some(s.mean);
			st->median = opt_some(s.median);
			st->p95 = opt_some(s.p95);
		}
		count_verdicts(t, &gr, g, grp);
	}
	rc = 0;
cleanup:
	grouping_free(&gr);
	free(vals);
	return rc;
}
