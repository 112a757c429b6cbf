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
# agent_start NS LOG ARGS...: `$MIGSCOPE capture ARGS` in network namespace
# NS in the background (under nsenter, which execs it: $! is the agent, the
# signals reach it), stderr to LOG, until it says it is attached; its pid in
# AGENT_PID. 1 when it did not attach (LOG on stderr).
agent_start() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" "$MIGSCOPE" capture "$@" 2>"$log" &
	AGENT_PID=$!
	for _ in $(seq 50); do
		grep -q attached "$log" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}
# agent_stop SIGNAL: sends it to AGENT_PID -> the agent's exit status, 124
# when it had not ended 10 s later (then killed)
agent_stop() {
	kill "-$1" "$AGENT_PID"
	for _ in $(seq 100); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID"
		wait "$AGENT_PID"
		return 124
	fi
	wait "$AGENT_PID"
}
# quiet_veth_ns NS: a network namespace NS with a veth pair va <-> vb, up,
# no addresses and IPv6 off (the kernel's own ND/MLD frames stay out of what
# an agent on vb sees). 1 when the kernel refused a step.
quiet_veth_ns() {
	ip netns add "$1" &&
		ip -n "$1" link add va type veth peer name vb &&
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$1" link set va up && ip -n "$1" link set vb up
}
