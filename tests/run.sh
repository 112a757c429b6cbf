#!/bin/bash
# Runs every test layer and ends with one line: "N passed, N failed".
# Layers: cmocka unit tests (plain and under ASan+UBSan), then the shell
# suites in tests/e2e (golden fixtures, tshark agreement, bad input, CLI).
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # NAME: tally the TAP lines in $log, echo failures in full
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-34s %4d passed, %d failed\n' "$1" "$p" "$f"
	[ "$f" -gt 0 ] && grep -A3 '^not ok ' "$log" | sed 's/^/    /'
	return 0
}

for bin in "$BUILD"/tests/test_* "$BUILD"/tests-asan/test_*; do
	[ -x "$bin" ] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1 "$bin" >"$log" 2>&1
	rc=$?
	# a crash or sanitizer abort after some "ok" lines must still fail
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		echo "not ok - $bin exited $rc" >>"$log"
		tail -5 "$log" >&2
	fi
	count "${bin#"$BUILD"/}"
done
for suite in tests/e2e/*.sh; do
	bash "$suite" "$BUILD" >"$log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && echo "not ok - $suite exited $rc" >>"$log"
	count "$suite"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
