# Shared by the shell test suites: TAP lines the runner counts.
# ok NAME / not_ok NAME [DETAIL] / check NAME COMMAND...
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
# msc_ids: ids of the loaded migscope capture programs, sorted (tcx links do
# not show in bpftool net; tell one agent's from another's by comparing sets)
msc_ids() {
	bpftool -j prog show 2>/dev/null |
		jq -r '.[] | select(.name == "msc_ingress" or .name == "msc_egress") | .id' | sort
}
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected $2, got $3"; fi
}
# truth_check NAME JSON TRUTHFILE: every ".path value" line of a truth file
# (the fixture generator's) against the report JSON, a not_ok per value that
# differs; sets TRUTH_TOTAL and TRUTH_FAILS for the caller's summary line.
truth_check() {
	local name=$1 json=$2 path want got
	TRUTH_TOTAL=0 TRUTH_FAILS=0
	while read -r path want; do
		TRUTH_TOTAL=$((TRUTH_TOTAL + 1))
		got=$(jq -c "$path" <<<"$json" 2>&1)
		want=$(jq -c . <<<"$want")
		if [ "$got" != "$want" ]; then
			not_ok "$name: $path" "expected $want, got $got"
			TRUTH_FAILS=$((TRUTH_FAILS + 1))
		fi
	done < <(grep '^\.' "$3")
}
