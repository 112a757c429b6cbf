/*
 * Unit tests of analysis/domain_marks.c: the libvirt hook's lines
 * (dist/libvirt-hook-qemu) parsed, names percent-decoded, an unknown UUID
 * left empty, anything else refused; a file read with its stray lines passed
 * over; the mark of a MAC nearest a migration chosen when a guest migrated
 * twice under two names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/domain_marks.h"

static void parses_the_hooks_line(void **state)
{
	struct domain_mark m;
	const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02 };

	(void)state;
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=1796481419561725182 op=migrate "
					    "domain=web%201%25 uuid=0e5d4c2a-1111-2222-3333-4444"
					    "55556666 macs=52:54:00:aa:bb:01,52:54:00:aa:bb:02\n",
					    &m),
			 0);
	assert_int_equal(m.ts_ns, INT64_C(1796481419561725182));
	assert_string_equal(m.domain, "web 1%");
	assert_string_equal(m.uuid, "0e5d4c2a-1111-2222-3333-444455556666");
	assert_int_equal(m.nmacs, 2);
	assert_memory_equal(m.macs[1], mac2, 6);
	/* keys in another order, a key of a later version, no uuid known */
	assert_int_equal(domain_mark__parse("migscope-mark v1 macs=52:54:00:aa:bb:01 extra=1 "
					    "uuid=- ts_ns=5 domain=a", &m), 0);
	assert_string_equal(m.uuid, "");
	assert_string_equal(m.domain, "a");
}

static void refuses_what_is_not_a_mark(void **state)
{
	struct domain_mark m;

	(void)state;
	assert_int_equal(domain_mark__parse("", &m), -EINVAL);
	assert_int_equal(domain_mark__parse("migscope-mark v2 ts_ns=5 macs=52:54:00:aa:bb:01", &m),
			 -EINVAL);
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=5", &m), -EINVAL);
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=x macs=52:54:00:aa:bb:01", &m),
			 -EINVAL);
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=5 macs=zz", &m), -EINVAL);
	/* an escape that would put a NUL in the name */
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=5 domain=a%00b "
					    "macs=52:54:00:aa:bb:01", &m), -EINVAL);
	assert_int_equal(domain_mark__parse("migscope-mark v1 ts_ns=5 domain=a%4 "
					    "macs=52:54:00:aa:bb:01", &m), -EINVAL);
}

static void reads_a_file_and_finds_the_nearest(void **state)
{
	char path[] = "/tmp/msc-test-marks-XXXXXX", err[256];
	struct domain_marks dm = { 0 };
	const struct domain_mark *m;
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 };
	const uint8_t other[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x09 };
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("migscope-mark v1 ts_ns=1000 op=migrate domain=first uuid=u1 macs=52:54:00:aa:bb:01\n"
	      "a stray line\n"
	      "migscope-mark v1 ts_ns=9000 op=migrate domain=renamed uuid=u1 macs=52:54:00:aa:bb:01\n",
	      f);
	fclose(f);
	assert_int_equal(domain_marks__read(path, &dm, err, sizeof(err)), 0);
	assert_int_equal(dm.n, 2);
	m = domain_marks__find(&dm, mac, 2000);
	assert_non_null(m);
	assert_string_equal(m->domain, "first");
	m = domain_marks__find(&dm, mac, 8000);
	assert_string_equal(m->domain, "renamed");
	assert_null(domain_marks__find(&dm, other, 1000));
	domain_marks__free(&dm);
	unlink(path);
	/* no file: no marks, no error */
	assert_int_equal(domain_marks__read(path, &dm, err, sizeof(err)), 0);
	assert_int_equal(dm.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_hooks_line),
		cmocka_unit_test(refuses_what_is_not_a_mark),
		cmocka_unit_test(reads_a_file_and_finds_the_nearest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
