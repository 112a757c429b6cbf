# Sourced by tests/lab/run.sh: the project's eBPF fault injector (msl-fault,
# tests/lab/fault.bpf.c) on the switch's ports. Never on the compute NICs: each NIC
# capture shows what its host really sent and received.
# shellcheck shell=bash

FAULTS=()       # msl-fault's JSON stats lines, one per injector
FAULT_N=0

# The injector binary: $MSL_FAULT, relative to the repo root unless absolute.
fault_binary() {
	STEP=fault-binary
	local f=${MSL_FAULT:-build/msl-fault}
	case $f in /*) ;; *) f=$REPO/$f ;; esac
	[ -x "$f" ] || die "this scenario needs the fault injector, not found at $f (make build/msl-fault, or set MSL_FAULT)"
	MSL_FAULT_BIN=$f
}

# fault_start PORT DIR ARGS...: msl-fault on switch port PORT (ingress or
# egress), in the background until fault_stop_all; waits until attached.
# PORT NODE/IFACE is an interface inside a compute node instead (cn2/tap0:
# the host's datapath to the guest; never the NIC, whose capture must show
# what the host really sent and received).
fault_start() {
	local port=$1 dir=$2 role ns=$NS_SW; shift 2
	case $port in */*) ns=$P-${port%%/*} port=${port#*/} ;; esac
	STEP=fault-start
	FAULT_N=$((FAULT_N + 1))
	role=fault-$FAULT_N
	say "fault $FAULT_N: msl-fault -i $port --$dir $*"
	bg "$role" "$ns" "$OUT/fault-$FAULT_N.json" "$OUT/fault-$FAULT_N.stderr" \
		"$MSL_FAULT_BIN" -i "$port" "--$dir" "$@"
	local pid=${PID_OF[$role]}
	for _ in $(seq 100); do
		grep -q 'msl-fault: attached' "$OUT/fault-$FAULT_N.stderr" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	die "msl-fault -i $port --$dir $* did not attach: $(tail -3 "$OUT/fault-$FAULT_N.stderr")"
}

# Stop every injector (SIGTERM: it detaches and prints its stats line).
fault_stop_all() {
	local i line
	STEP=fault-stop
	for ((i = 1; i <= FAULT_N; i++)); do
		STOP_SIG=TERM stop_roles "fault-$i"
		line=$(grep -m1 '^{' "$OUT/fault-$i.json" 2>/dev/null || true)
		if [ -n "$line" ] && jq -e . >/dev/null 2>&1 <<<"$line"; then
			FAULTS+=("$line")
		else
			say "warning: msl-fault $i printed no stats: $(tail -2 "$OUT/fault-$i.stderr" | tr '\n' ' ')"
			FAULTS+=("{\"error\":\"no stats line\",\"n\":$i}")
		fi
	done
}
