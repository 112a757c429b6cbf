#include "analysis/domain_marks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/addr.h"

/* The value of " key=" in line, up to the next space, into out. */
static bool field(const char *line, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key), n;
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=')
			break;
		p += kl;
	}
	if (!p)
		return false;
	p += kl + 1;
	n = strcspn(p, " \n");
	if (n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoded in place; false for a bad escape or a NUL. */
static bool percent_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if (hex(r[1]) < 0 || hex(r[2]) < 0 || (hex(r[1]) | hex(r[2])) == 0)
			return false;
		*w++ = (char)(hex(r[1]) << 4 | hex(r[2]));
		r += 2;
	}
	*w = '\0';
	return true;
}

int domain_mark__parse(const char *line, struct domain_mark *m)
{
	char ts[32], macs[MARK_MAX_MACS * 18 + 1], *end, *tok, *save;
	long long v;

	memset(m, 0, sizeof(*m));
	if (strncmp(line, MARKS_MAGIC " ", strlen(MARKS_MAGIC) + 1))
		return -EINVAL;
	if (!field(line, "ts_ns", ts, sizeof(ts)) || !field(line, "macs", macs, sizeof(macs)))
		return -EINVAL;
	errno = 0;
	v = strtoll(ts, &end, 10);
	if (errno || *end || v <= 0)
		return -EINVAL;
	m->ts_ns = v;
	if (field(line, "domain", m->domain, sizeof(m->domain)) && !percent_decode(m->domain))
		return -EINVAL;
	if (!field(line, "uuid", m->uuid, sizeof(m->uuid)) || !strcmp(m->uuid, "-"))
		m->uuid[0] = '\0';
	for (tok = strtok_r(macs, ",", &save); tok && m->nmacs < MARK_MAX_MACS;
	     tok = strtok_r(NULL, ",", &save))
		if (!mac_parse(tok, m->macs[m->nmacs]))
			m->nmacs++;
	return m->nmacs ? 0 : -EINVAL;
}

int domain_marks__read(const char *path, struct domain_marks *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (getline(&line, &cap, f) > 0) {
		struct domain_mark m;

		if (domain_mark__parse(line, &m))
			continue;
		if (out->n == MARKS_MAX)
			break; /* a log of 65536 migrations: the first are enough to name guests */
		if (out->n == out->cap) {
			int nc = out->cap ? 2 * out->cap : 16;
			struct domain_mark *g = realloc(out->v, (size_t)nc * sizeof(*g));

			if (!g) {
				rc = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				break;
			}
			out->v = g;
			out->cap = nc;
		}
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
	return rc;
}

const struct domain_mark *domain_marks__find(const struct domain_marks *m, const uint8_t mac[6],
					     int64_t near_ns)
{
	const struct domain_mark *best = NULL;
	int64_t best_d = 0;

	for (int i = 0; i < m->n; i++)
		for (int k = 0; k < m->v[i].nmacs; k++) {
			int64_t d = m->v[i].ts_ns > near_ns ? m->v[i].ts_ns - near_ns
							    : near_ns - m->v[i].ts_ns;

			if (memcmp(m->v[i].macs[k], mac, 6))
				continue;
			if (!best || d < best_d) {
				best = &m->v[i];
				best_d = d;
			}
		}
	return best;
}

void domain_marks__free(struct domain_marks *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
