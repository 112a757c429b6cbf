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
