/*
 * Unit tests of reading what the hypervisor recorded (analysis/hypervisor.c):
 * each format as QEMU, virsh and the lab write it, files adding up, and the
 * files that are none of them or hold values out of range.
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

#include "analysis/hypervisor.h"

#define MS INT64_C(1000000)

static int read_text(const char *text, struct report_hypervisor *h, char *err, size_t errlen)
{
	char path[] = "/tmp/msc-hv-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	rc = hypervisor_read(path, h, err, errlen);
	unlink(path);
	return rc;
}

static void read_ok(const char *text, struct report_hypervisor *h)
{
	char err[256] = "";

	if (read_text(text, h, err, sizeof(err)))
		fail_msg("%s", err);
}

/* QEMU's query-migrate, as the lab stores it (bare) and as QMP replies. */
static void test_query_migrate(void **state)
{
	struct report_hypervisor h = { 0 }, w = { 0 };

	(void)state;
	read_ok("{\n  \"status\": \"completed\",\n  \"setup-time\": 2,\n  \"downtime\": 4,\n"
		"  \"total-time\": 3627,\n  \"ram\": {\"postcopy-requests\": 39},\n"
		"  \"postcopy-blocktime\": 1750\n}\n", &h);
	assert_string_equal(h.sources, "query-migrate");
	assert_string_equal(h.status, "completed");
	assert_int_equal(h.total_time_ns.v, 3627 * MS);
	assert_int_equal(h.downtime_ns.v, 4 * MS);
	assert_int_equal(h.setup_time_ns.v, 2 * MS);
	assert_int_equal(h.postcopy_requests.v, 39);
	assert_int_equal(h.postcopy_blocktime_ns.v, 1750 * MS);
	read_ok("{\"return\": {\"status\": \"completed\", \"total-time\": 762, \"downtime\": 23}}", &w);
	assert_int_equal(w.downtime_ns.v, 23 * MS);
	assert_false(w.setup_time_ns.set);
}

/* The destination's query-migrate of an incoming postcopy migration (as QEMU
 * 7.2 answers it, the lab stores it): its status and blocktime only, added
 * to the source's figures. */
static void test_query_migrate_destination(void **state)
{
	struct report_hypervisor h = { 0 };

	(void)state;
	read_ok("{\"status\": \"completed\", \"total-time\": 4199, \"downtime\": 8}", &h);
	read_ok("{\n  \"postcopy-blocktime\": 3530,\n  \"status\": \"completed\",\n"
		"  \"postcopy-vcpu-blocktime\": [\n    3530\n  ]\n}\n", &h);
	assert_string_equal(h.sources, "query-migrate");
	assert_int_equal(h.total_time_ns.v, 4199 * MS);
	assert_int_equal(h.downtime_ns.v, 8 * MS);
	assert_int_equal(h.postcopy_blocktime_ns.v, 3530 * MS);
	assert_false(h.postcopy_requests.set);
	/* a precopy's destination: its status alone */
	memset(&h, 0, sizeof(h));
	read_ok("{\n  \"status\": \"completed\"\n}\n", &h);
	assert_string_equal(h.sources, "query-migrate");
	assert_string_equal(h.status, "completed");
	assert_false(h.total_time_ns.set);
}

/* A QMP transcript: our commands' replies, QEMU's events with its stamps. */
static void test_qmp_events(void **state)
{
	struct report_hypervisor h = { 0 };

	(void)state;
	read_ok("{\"QMP\": {\"version\": {}}}\n"
		"{\"return\": {}}\n"
		"{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 10}, \"event\": "
		"\"MIGRATION\", \"data\": {\"status\": \"setup\"}}\n"
		"{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 500000}, \"event\": "
		"\"STOP\"}\n"
		"{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 500100}, \"event\": "
		"\"MIGRATION\", \"data\": {\"status\": \"postcopy-active\"}}\n"
		"{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 504000}, \"event\": "
		"\"RESUME\"}\n"
		"{\"return\": {\"status\": \"completed\", \"total-time\": 3627, \"downtime\": 4}}\n"
		"{\"timestamp\": {\"seconds\": 1700000005, \"microseconds\": 0}, \"event\": "
		"\"MIGRATION\", \"data\": {\"status\": \"completed\"}}\n", &h);
	assert_string_equal(h.sources, "qmp-events,query-migrate");
	assert_int_equal(h.stop_ns.v, INT64_C(1700000001500000000));
	assert_int_equal(h.postcopy_start_ns.v, INT64_C(1700000001500100000));
	assert_int_equal(h.resume_ns.v, INT64_C(1700000001504000000));
	assert_int_equal(h.completed_ns.v, INT64_C(1700000005000000000));
	assert_int_equal(h.total_time_ns.v, 3627 * MS);
	assert_string_equal(h.status, "completed");
}

/* virsh domjobinfo --completed, then libvirt's event, into one record: a
 * field the first gave stays. */
static void test_virsh(void **state)
{
	struct report_hypervisor h = { 0 };

	(void)state;
	read_ok("Job type:         Completed\n"
		"Operation:        Outgoing migration\n"
		"Time elapsed:     3627         ms\n"
		"Time elapsed w/o network: 3620         ms\n"
		"Data processed:   57.932 MiB\n"
		"Postcopy requests: 39\n"
		"Total downtime:   4            ms\n"
		"Downtime w/o network: 3            ms\n"
		"Setup time:       2            ms\n", &h);
	assert_string_equal(h.sources, "domjobinfo");
	assert_string_equal(h.status, "completed");
	assert_int_equal(h.total_time_ns.v, 3627 * MS);
	assert_int_equal(h.downtime_ns.v, 4 * MS);
	assert_int_equal(h.setup_time_ns.v, 2 * MS);
	assert_int_equal(h.postcopy_requests.v, 39);
	read_ok("event 'job-completed' for domain 'vm1':\n"
		"\toperation: 2\n\ttime_elapsed: 9999\n\ttime_elapsed_net: 9998\n"
		"\tdowntime: 5\n\tsetup_time: 3\n", &h);
	assert_string_equal(h.sources, "domjobinfo,job-completed");
	assert_int_equal(h.total_time_ns.v, 3627 * MS);
	assert_int_equal(h.downtime_ns.v, 4 * MS);
}

static void test_refused(void **state)
{
	struct report_hypervisor h = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(read_text("hello\n", &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither QEMU's query-migrate"));
	/* QMP's microseconds past their second (F9: overflowed into ns) */
	assert_int_equal(read_text("{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": "
				   "1000000}, \"event\": \"STOP\"}\n", &h, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "event time stamp (us) 1000000 is out of range"));
	/* a status that is none of QEMU's: some other tool's JSON */
	assert_int_equal(read_text("{\"status\": \"ok\", \"total-time\": 5}", &h, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(read_text("{\"status\": \"completed\", \"total-time\": -5}", &h, err,
				   sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "total-time -5 is out of range"));
	assert_int_equal(read_text("{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
				   "\"event\": \"STOP\"}\n{\"x\":1}\n", &h, err, sizeof(err)),
			 -ERANGE);
	assert_int_equal(hypervisor_read("/nonexistent/qm.json", &h, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/qm.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_migrate),
		cmocka_unit_test(test_query_migrate_destination),
		cmocka_unit_test(test_qmp_events),
		cmocka_unit_test(test_virsh),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
