/*
 * The counters' text format (capture_counters.h), both directions: the agent
 * writes it and the analyzer parses it from the same tables of each line's
 * fields, so a field renamed, added or reordered changes both at once.
 */
#include "analysis/capture_counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/domain.h"

/* The 64-bit fields of flow and retransmits lines, in the order written. A
 * count must be present (a line without it is not used); a time or a
 * diagnostic is optional (absent: 0). */
enum field_kind { F_COUNT, F_TIME, F_DIAGNOSTIC };

struct u64_field {
	const char *key;
	size_t off;
	enum field_kind kind;
};

static const struct u64_field FLOW_FIELDS[] = {
	{ "packets", offsetof(struct counter_flow, packets), F_COUNT },
	{ "payload_bytes", offsetof(struct counter_flow, payload_bytes), F_COUNT },
	{ "wire_bytes", offsetof(struct counter_flow, wire_bytes), F_COUNT },
	{ "ooo_segments", offsetof(struct counter_flow, ooo_segments), F_COUNT },
	{ "ooo_bytes", offsetof(struct counter_flow, ooo_bytes), F_COUNT },
	{ "first_ns", offsetof(struct counter_flow, first_ns), F_TIME },
	{ "last_ns", offsetof(struct counter_flow, last_ns), F_TIME },
	{ "last_data_ns", offsetof(struct counter_flow, last_data_ns), F_TIME },
};

static const struct u64_field RETRANS_FIELDS[] = {
	{ "segments", offsetof(struct counter_retrans, segments), F_COUNT },
	{ "bytes", offsetof(struct counter_retrans, bytes), F_COUNT },
	{ "calls", offsetof(struct counter_retrans, calls), F_DIAGNOSTIC },
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static uint64_t *u64_at(void *rec, const struct u64_field *f)
{
	return (uint64_t *)((char *)rec + f->off);
}

/* ---- writing ------------------------------------------------------------- */

static void write_ends(FILE *out, const char *kind, const struct ip_addr *src, uint16_t sport,
		       const struct ip_addr *dst, uint16_t dport)
{
	char s[ADDR_STR_LEN], d[ADDR_STR_LEN];

	ip_format(src, s, sizeof(s));
	ip_format(dst, d, sizeof(d));
	fprintf(out, "%s src=%s sport=%u dst=%s dport=%u", kind, s, sport, d, dport);
}

static void write_u64s(FILE *out, const void *rec, const struct u64_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s=%llu", fields[i].key,
			(unsigned long long)*u64_at((void *)rec, &fields[i]));
}

int counters_write_iface(FILE *out, const struct counter_iface *f)
{
	fprintf(out,
		COUNTERS_MAGIC "\n"
		"iface name=%s ifindex=%u attach=%s frames_in=%llu frames_out=%llu"
		" bytes_in=%llu bytes_out=%llu events=%llu ring_drops=%llu flows_full=%llu"
		" heads_pulled=%llu tai_offset_ns=%lld retrans_tracer=%s\n",
		f->name, f->ifindex, f->attach, (unsigned long long)f->frames_in,
		(unsigned long long)f->frames_out, (unsigned long long)f->bytes_in,
		(unsigned long long)f->bytes_out, (unsigned long long)f->events,
		(unsigned long long)f->ring_drops, (unsigned long long)f->flows_full,
		(unsigned long long)f->heads_pulled, (long long)f->tai_offset_ns,
		f->retrans_tracer ? "yes" : "no");
	return ferror(out) ? -EIO : 0;
}

int counters_write_flow(FILE *out, const struct counter_flow *f)
{
	write_ends(out, "flow", &f->src, f->sport, &f->dst, f->dport);
	write_u64s(out, f, FLOW_FIELDS, NFIELDS(FLOW_FIELDS));
	fprintf(out, " tcp_flags=0x%02x dirs=%s%s%s\n", f->tcp_flags,
		f->dirs & COUNTER_DIR_IN ? "in" : "",
		f->dirs == (COUNTER_DIR_IN | COUNTER_DIR_OUT) ? "," : "",
		f->dirs & COUNTER_DIR_OUT ? "out" : "");
	return ferror(out) ? -EIO : 0;
}

int counters_write_retrans(FILE *out, const struct counter_retrans *r)
{
	write_ends(out, "retransmits", &r->src, r->sport, &r->dst, r->dport);
	write_u64s(out, r, RETRANS_FIELDS, NFIELDS(RETRANS_FIELDS));
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

/* ---- parsing ------------------------------------------------------------- */

/* The value of " key=" in a line, copied into out; false when absent. */
static bool field(const char *line, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), n;
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, " \n");
			if (n >= outlen)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p += klen;
	}
	return false;
}

static bool field_u64(const char *line, const char *key, uint64_t *v)
{
	char buf[32], *end;

	if (!field(line, key, buf, sizeof(buf)))
		return false;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return !errno && !*end && buf[0] != '-';
}

/* A line's src=IP sport=N dst=IP dport=N, which flow and retransmit lines share. */
static bool parse_ends(const char *line, struct ip_addr *src, uint16_t *sport, struct ip_addr *dst,
		       uint16_t *dport)
{
	char s[64], d[64];
	uint64_t sp, dp;

	if (!field(line, "src", s, sizeof(s)) || !field(line, "dst", d, sizeof(d)) ||
	    ip_parse(s, src) || ip_parse(d, dst) || !field_u64(line, "sport", &sp) ||
	    !field_u64(line, "dport", &dp) || sp > 65535 || dp > 65535)
		return false;
	*sport = (uint16_t)sp;
	*dport = (uint16_t)dp;
	return true;
}

/* A value the file holds but the analyzer's domain cannot (analysis/domain.h). */
static int out_of_domain(const struct counters_where *w, const char *key, uint64_t v,
			 const char *what)
{
	snprintf(w->err, w->errlen, "%s: counters block at byte %lld, line %d: %s=%llu is %s",
		 w->path, w->block_off, w->line, key, (unsigned long long)v, what);
	return -ERANGE;
}

/* A count field: absent or unreadable is 1 (the line is not used), a count
 * over COUNT_MAX an error. */
static int count_field(const char *line, const char *key, uint64_t *v,
		       const struct counters_where *w)
{
	if (!field_u64(line, key, v))
		return 1;
	return count_valid(*v) ? 0 : out_of_domain(w, key, *v, "more than any stream carries (2^53)");
}

/* An optional time: absent or unreadable stays 0, a value not a stamp is an
 * error. */
static int time_field(const char *line, const char *key, uint64_t *v,
		      const struct counters_where *w)
{
	if (!field_u64(line, key, v)) {
		*v = 0;
		return 0;
	}
	if (*v && (*v > (uint64_t)STAMP_MAX_NS || !stamp_valid((int64_t)*v)))
		return out_of_domain(w, key, *v, "not a time migscope reads (" STAMP_RANGE_TEXT ")");
	return 0;
}

/* The table's fields of one line into rec: 1 when a count is missing (the
 * line is not used), 0, or -ERANGE. */
static int parse_u64s(const char *line, void *rec, const struct u64_field *fields, size_t n,
		      const struct counters_where *w)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint64_t *v = u64_at(rec, &fields[i]);

		switch (fields[i].kind) {
		case F_COUNT:
			rc = count_field(line, fields[i].key, v, w);
			break;
		case F_TIME:
			rc = time_field(line, fields[i].key, v, w);
			break;
		default: /* read, never summed: any value */
			rc = 0;
			if (!field_u64(line, fields[i].key, v))
				*v = 0;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_flow(const char *line, struct counter_flow *f, const struct counters_where *w)
{
	char dirs[16];
	uint64_t flags;

	memset(f, 0, sizeof(*f));
	if (!parse_ends(line, &f->src, &f->sport, &f->dst, &f->dport))
		return 1;
	if (field_u64(line, "tcp_flags", &flags) && flags <= 0xff)
		f->tcp_flags = (uint8_t)flags;
	if (field(line, "dirs", dirs, sizeof(dirs)))
		f->dirs = (strstr(dirs, "in") ? COUNTER_DIR_IN : 0) |
			  (strstr(dirs, "out") ? COUNTER_DIR_OUT : 0);
	return parse_u64s(line, f, FLOW_FIELDS, NFIELDS(FLOW_FIELDS), w);
}

static int parse_retrans(const char *line, struct counter_retrans *r,
			 const struct counters_where *w)
{
	memset(r, 0, sizeof(*r));
	if (!parse_ends(line, &r->src, &r->sport, &r->dst, &r->dport))
		return 1;
	return parse_u64s(line, r, RETRANS_FIELDS, NFIELDS(RETRANS_FIELDS), w);
}

/* An iface line's count, added to *sum; absent adds nothing. */
static int add_iface_count(const char *line, const char *key, uint64_t *sum,
			   const struct counters_where *w)
{
	uint64_t v;
	int rc = count_field(line, key, &v, w);

	if (rc < 0)
		return rc;
	if (rc)
		return 0;
	if (v > COUNT_MAX - *sum)
		return out_of_domain(w, key, v, "more than 2^53 summed over the interfaces");
	*sum += v;
	return 0;
}

int counters_text__parse(char *text, struct capture_counters *out, struct counters_where *w)
{
	char *line, *next, yes[8];
	int rc = 0;

	if (strncmp(text, COUNTERS_MAGIC "\n", strlen(COUNTERS_MAGIC) + 1))
		return 0;
	out->present = true;
	out->nifaces++;
	w->line = 0;
	/* line by line, empty ones counted too: messages give the line number */
	for (line = text; line && rc >= 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		w->line++;
		if (!strncmp(line, "iface ", 6)) {
			if ((rc = add_iface_count(line, "ring_drops", &out->ring_drops, w)) ||
			    (rc = add_iface_count(line, "flows_full", &out->flows_full, w)) ||
			    (rc = add_iface_count(line, "events", &out->events, w)))
				break;
			if (field(line, "retrans_tracer", yes, sizeof(yes)) && !strcmp(yes, "yes"))
				out->retrans_tracer = true;
		} else if (!strncmp(line, "flow ", 5)) {
			if (out->nflows == COUNTERS_MAX_FLOWS) {
				out->flows_truncated = true;
				continue;
			}
			rc = parse_flow(line, &out->flows[out->nflows], w);
			if (!rc)
				out->nflows++;
		} else if (!strncmp(line, "retransmits ", 12)) {
			if (out->nretrans == COUNTERS_MAX_RETRANS) {
				out->retrans_truncated = true;
				continue;
			}
			rc = parse_retrans(line, &out->retrans[out->nretrans], w);
			if (!rc)
				out->nretrans++;
		}
	}
	return rc < 0 ? rc : 0;
}
