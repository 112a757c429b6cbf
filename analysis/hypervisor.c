#include "analysis/hypervisor.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/domain.h"
#include "analysis/json_reader.h"

#define MS_NS INT64_C(1000000)

/* Where a value came from, for messages. */
struct source {
	const char *path;
	int line;
	char *err;
	size_t errlen;
};

static int out_of_range(const struct source *s, const char *what, long long v)
{
	snprintf(s->err, s->errlen, "%s: line %d: %s %lld is out of range", s->path, s->line, what,
		 v);
	return -ERANGE;
}

static void add_source(struct report_hypervisor *h, const char *kind)
{
	size_t n = strlen(h->sources);

	if (!strstr(h->sources, kind))
		snprintf(h->sources + n, sizeof(h->sources) - n, "%s%s", n ? "," : "", kind);
}

/* A count or a duration in ms (scale 1 or MS_NS), kept if none was given. */
static int set_value(struct opt_i64 *f, int64_t v, int64_t scale, const struct source *s,
		     const char *what)
{
	/* the value as the report holds it (ns for a duration: 2^53 ns is 104
	 * days) within COUNT_MAX, so sums and differences of them cannot wrap */
	if (v < 0 || (uint64_t)v > COUNT_MAX / (uint64_t)scale)
		return out_of_range(s, what, v);
	if (!f->set)
		*f = opt_some(v * scale);
	return 0;
}

static int set_stamp(struct opt_i64 *f, int64_t ns, const struct source *s, const char *what)
{
	if (!stamp_valid(ns))
		return out_of_range(s, what, ns);
	if (!f->set)
		*f = opt_some(ns);
	return 0;
}

static int json_value(const struct json_doc *d, int node, const char *path, struct opt_i64 *f,
		      int64_t scale, const struct source *s)
{
	int64_t v;

	if (!json_doc__fixed(d, json_doc__path(d, node, path), 0, &v))
		return 0;
	return set_value(f, v, scale, s, path);
}

/* QEMU's query-migrate reply. */
static int read_query_migrate(const struct json_doc *d, int node, struct report_hypervisor *h,
			      const struct source *s)
{
	const char *status = json_doc__str(d, json_doc__get(d, node, "status"));
	int rc;

	add_source(h, "query-migrate");
	if (status && !h->status[0])
		snprintf(h->status, sizeof(h->status), "%s", status);
	if ((rc = json_value(d, node, "total-time", &h->total_time_ns, MS_NS, s)) ||
	    (rc = json_value(d, node, "downtime", &h->downtime_ns, MS_NS, s)) ||
	    (rc = json_value(d, node, "setup-time", &h->setup_time_ns, MS_NS, s)) ||
	    (rc = json_value(d, node, "ram.postcopy-requests", &h->postcopy_requests, 1, s)))
		return rc;
	return json_value(d, node, "postcopy-blocktime", &h->postcopy_blocktime_ns, MS_NS, s);
}

/* One QMP event: its stamp is seconds and microseconds since the epoch. */
static int read_event(const struct json_doc *d, const char *event, struct report_hypervisor *h,
		      const struct source *s)
{
	int64_t sec, usec, ns;
	const char *status;

	add_source(h, "qmp-events");
	if (!json_doc__fixed(d, json_doc__path(d, 0, "timestamp.seconds"), 0, &sec) ||
	    !json_doc__fixed(d, json_doc__path(d, 0, "timestamp.microseconds"), 0, &usec))
		return 0;
	/* QMP's microseconds are those of its second (gettimeofday's) */
	if (usec < 0 || usec > 999999)
		return out_of_range(s, "event time stamp (us)", (long long)usec);
	if (stamp_from_parts(sec, usec * 1000, &ns))
		return out_of_range(s, "event time stamp (s)", (long long)sec);
	if (!strcmp(event, "STOP"))
		return set_stamp(&h->stop_ns, ns, s, "STOP");
	/* the destination's RESUME after the source's STOP (a source that
	 * resumes after a failed migration comes later still) */
	if (!strcmp(event, "RESUME") && h->stop_ns.set && ns >= h->stop_ns.v)
		return set_stamp(&h->resume_ns, ns, s, "RESUME");
	if (strcmp(event, "MIGRATION"))
		return 0;
	status = json_doc__str(d, json_doc__path(d, 0, "data.status"));
	if (!status)
		return 0;
	if (!strcmp(status, "postcopy-active"))
		return set_stamp(&h->postcopy_start_ns, ns, s, "postcopy-active");
	if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
	    !strcmp(status, "cancelled")) {
		if (!h->status[0])
			snprintf(h->status, sizeof(h->status), "%s", status);
		if (!strcmp(status, "completed"))
			return set_stamp(&h->completed_ns, ns, s, "completed");
	}
	return 0;
}

/* A query-migrate reply: an object whose status is one of QEMU's
 * MigrationStatus (qapi/migration.json); its figures are the source's
 * (total-time, ram), while the destination, of an incoming migration,
 * answers its status alone, or with postcopy-blocktime. */
static bool is_query_migrate(const struct json_doc *d, int node)
{
	static const char *const statuses[] = {
		"none", "setup", "cancelling", "cancelled", "active", "postcopy-active",
		"postcopy-paused", "postcopy-recover-setup", "postcopy-recover", "completed",
		"failed", "colo", "pre-switchover", "device", "wait-unplug",
	};
	const char *status;

	if (json_doc__type(d, node) != JSON_OBJECT ||
	    !(status = json_doc__str(d, json_doc__get(d, node, "status"))))
		return false;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!strcmp(status, statuses[i]))
			return true;
	return false;
}

/* One JSON document: an event, a query-migrate reply (bare or in
 * "return"), or anything else (another reply: skipped). */
static int read_json(const struct json_doc *d, struct report_hypervisor *h, bool *known,
		     const struct source *s)
{
	const char *event = json_doc__str(d, json_doc__get(d, 0, "event"));
	int ret = json_doc__get(d, 0, "return");

	if (event) {
		*known = true;
		return read_event(d, event, h, s);
	}
	if (ret >= 0 && is_query_migrate(d, ret)) {
		*known = true;
		return read_query_migrate(d, ret, h, s);
	}
	if (is_query_migrate(d, 0)) {
		*known = true;
		return read_query_migrate(d, 0, h, s);
	}
	return 0;
}

/* "Total downtime:   4     ms" or "downtime: 4" or "downtime=4": the key's
 * whole number, when the line holds that key (case apart). */
static bool text_value(const char *line, const char *key, int64_t *v)
{
	size_t klen = strlen(key);
	const char *p = line;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, key, klen) || (p[klen] != ':' && p[klen] != '='))
		return false;
	p += klen + 1;
	errno = 0;
	*v = strtoll(p, &end, 10);
	return end != p && !errno;
}

/* virsh domjobinfo --completed, or the job-completed event as virsh prints
 * it: libvirt's figures, in ms. */
static const struct {
	const char *key;
	size_t field;
	int64_t scale;
} TEXT_KEYS[] = {
	{ "Time elapsed", offsetof(struct report_hypervisor, total_time_ns), MS_NS },
	{ "Total downtime", offsetof(struct report_hypervisor, downtime_ns), MS_NS },
	{ "Setup time", offsetof(struct report_hypervisor, setup_time_ns), MS_NS },
	{ "Postcopy requests", offsetof(struct report_hypervisor, postcopy_requests), 1 },
	{ "time_elapsed", offsetof(struct report_hypervisor, total_time_ns), MS_NS },
	{ "downtime", offsetof(struct report_hypervisor, downtime_ns), MS_NS },
	{ "setup_time", offsetof(struct report_hypervisor, setup_time_ns), MS_NS },
	{ "memory_postcopy_requests", offsetof(struct report_hypervisor, postcopy_requests), 1 },
};

static int read_text_line(const char *line, struct report_hypervisor *h, bool *known,
			  const struct source *s)
{
	const char *p = line;
	int64_t v;
	int rc;

	if (strstr(line, "Job type:")) {
		*known = true;
		add_source(h, "domjobinfo");
		while (*p && *p != ':')
			p++;
		while (*p == ':' || isspace((unsigned char)*p))
			p++;
		if (!strncasecmp(p, "completed", 9) && !h->status[0])
			snprintf(h->status, sizeof(h->status), "completed");
		else if (!strncasecmp(p, "failed", 6) && !h->status[0])
			snprintf(h->status, sizeof(h->status), "failed");
		return 0;
	}
	if (strstr(line, "job-completed")) {
		*known = true;
		add_source(h, "job-completed");
		if (!h->status[0])
			snprintf(h->status, sizeof(h->status), "completed");
		return 0;
	}
	for (size_t k = 0; k < sizeof(TEXT_KEYS) / sizeof(TEXT_KEYS[0]); k++) {
		if (!text_value(line, TEXT_KEYS[k].key, &v))
			continue;
		rc = set_value((struct opt_i64 *)((char *)h + TEXT_KEYS[k].field), v,
			       TEXT_KEYS[k].scale, s, TEXT_KEYS[k].key);
		if (rc)
			return rc;
		/* the key alone tells the format when the heading was cut off */
		if (!h->sources[0])
			add_source(h, isupper((unsigned char)TEXT_KEYS[k].key[0]) ? "domjobinfo"
										   : "job-completed");
		*known = true;
		return 0;
	}
	return 0;
}

int hypervisor_read(const char *path, struct report_hypervisor *out, char *err, size_t errlen)
{
	struct source s = { .path = path, .err = err, .errlen = errlen };
	struct json_doc *d = NULL;
	char line[4096], jerr[256];
	bool known = false;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* a whole JSON document (query-migrate as QEMU or the lab wrote it) */
	if (!json_doc__load(path, &d, jerr, sizeof(jerr))) {
		s.line = 1;
		rc = read_json(d, out, &known, &s);
		json_doc__free(d);
		fclose(f);
		goto done;
	}
	/* else line by line: QMP's JSON lines, or virsh's text */
	while (!rc && fgets(line, sizeof(line), f)) {
		s.line++;
		if (line[0] == '{') {
			if (!json_doc__parse(line, strlen(line), &d, jerr, sizeof(jerr)))
				rc = read_json(d, out, &known, &s);
			json_doc__free(d);
			d = NULL;
		} else {
			rc = read_text_line(line, out, &known, &s);
		}
	}
	fclose(f);
done:
	if (!rc && !known) {
		snprintf(err, errlen, "%s: neither QEMU's query-migrate or QMP events nor virsh's "
			 "domjobinfo or job-completed event", path);
		rc = -EINVAL;
	}
	return rc;
}
