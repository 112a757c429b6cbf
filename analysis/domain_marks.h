/*
 * domain_marks - what the hypervisor's management layer knows of a guest
 * that the network does not: its libvirt domain name and UUID next to its
 * MACs. The libvirt hook shipped with migscope (dist/libvirt-hook-qemu)
 * appends a line per incoming migration to the agent's directory
 * (/var/lib/migscope/domains.log); the agent copies the lines of a kept
 * migration into its directory, and `migscope analyze DIR` names each
 * migrated guest with them.
 *
 * A line:  migscope-mark v1 ts_ns=N op=OP domain=NAME uuid=UUID macs=MAC[,MAC...]
 * (NAME percent-encodes '%', space, tab and newline; ts_ns is UTC). Other
 * lines, and keys a later version adds, are skipped.
 *
 * Ownership: __read fills a list that __free releases. Errors: 0 (a missing
 * file is an empty list), or -errno with one line in err.
 */
#ifndef MIGSCOPE_DOMAIN_MARKS_H
#define MIGSCOPE_DOMAIN_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MARKS_MAGIC "migscope-mark v1"
#define MARKS_FILE "domains.log"

enum { MARK_NAME_LEN = 128, MARK_UUID_LEN = 37, MARK_MAX_MACS = 16, MARKS_MAX = 65536 };

struct domain_mark {
	int64_t ts_ns;
	char domain[MARK_NAME_LEN]; /* decoded */
	char uuid[MARK_UUID_LEN];
	uint8_t macs[MARK_MAX_MACS][6];
	int nmacs;
};

struct domain_marks {
	struct domain_mark *v;
	int n, cap;
};

/* One line: 0, or -EINVAL when it is not a mark. */
int domain_mark__parse(const char *line, struct domain_mark *m);
/* Appends path's marks to *out. */
int domain_marks__read(const char *path, struct domain_marks *out, char *err, size_t errlen);
/* The mark naming mac nearest in time to near_ns; NULL when none does. */
const struct domain_mark *domain_marks__find(const struct domain_marks *m, const uint8_t mac[6],
					     int64_t near_ns);
void domain_marks__free(struct domain_marks *m);

#endif
