/*
 * libFuzzer target: a file of what the hypervisor recorded (analyze -H:
 * query-migrate JSON, a QMP event log, virsh domjobinfo or job-completed
 * text; analysis/hypervisor.h). The bytes are read alone, then read again
 * into the same record (files add up), and finally given to analyze() beside
 * a small real capture of one migration (hv_capture.inc), so the figures
 * reach the outage, the verdict and every renderer.
 *
 * Checks besides the sanitizers: an error is one line, never none; what a
 * file that was accepted holds is in the value domain (analysis/domain.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analysis/analyzer.h"
#include "analysis/domain.h"
#include "analysis/hypervisor.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/hv_capture.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const char *err)
{
	if (rc && (!err[0] || strchr(err, '\n')))
		__builtin_trap(); /* an error is one line, never none */
}

static void check_stamp(struct opt_i64 v)
{
	if (v.set && !stamp_valid(v.v))
		__builtin_trap();
}

static void check_span(struct opt_i64 v)
{
	if (v.set && (v.v < 0 || (uint64_t)v.v > COUNT_MAX))
		__builtin_trap();
}

static void check_domain(const struct report_hypervisor *h)
{
	check_stamp(h->stop_ns);
	check_stamp(h->resume_ns);
	check_stamp(h->postcopy_start_ns);
	check_stamp(h->completed_ns);
	check_span(h->total_time_ns);
	check_span(h->downtime_ns);
	check_span(h->setup_time_ns);
	check_span(h->postcopy_blocktime_ns);
	if (h->postcopy_requests.set &&
	    (h->postcopy_requests.v < 0 || !count_valid((uint64_t)h->postcopy_requests.v)))
		__builtin_trap();
	if (!memchr(h->sources, 0, sizeof(h->sources)) || !memchr(h->status, 0, sizeof(h->status)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hv_path[FUZZ_PATH_LEN], cap_path[FUZZ_PATH_LEN], err[512] = "";
	struct report_hypervisor h;
	struct analyze_config cfg;
	struct report rep;
	int hv_fd, cap_fd, rc;

	hv_fd = fuzz_file__open("hypervisor", data, size, hv_path);
	if (hv_fd < 0)
		return 0;
	memset(&h, 0, sizeof(h));
	rc = hypervisor_read(hv_path, &h, err, sizeof(err));
	check_error(rc, err);
	if (!rc) {
		check_domain(&h);
		err[0] = 0;
		rc = hypervisor_read(hv_path, &h, err, sizeof(err));
		check_error(rc, err);
		check_domain(&h);
	}

	cap_fd = fuzz_file__open("capture", hv_capture, hv_capture_len, cap_path);
	if (cap_fd < 0) {
		fuzz_file__close(hv_fd);
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (portset_parse(&cfg.ports, PORTSET_DEFAULT))
		__builtin_trap();
	cfg.paths[0] = cap_path;
	cfg.ninputs = 1;
	cfg.hypervisor_paths[0] = hv_path;
	cfg.nhypervisor = 1;
	err[0] = 0;
	rc = analyze(&cfg, &rep, err, sizeof(err));
	check_error(rc, err);
	if (!rc)
		fuzz_render_all(&rep);
	report_free(&rep);
	fuzz_file__close(cap_fd);
	fuzz_file__close(hv_fd);
	return 0;
}
