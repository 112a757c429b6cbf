# Sourced by tests/lab/run.sh: messages, packages, process control, cleanup.
# shellcheck shell=bash

say() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAILED at step '$STEP': $*"; exit 1; }
now_us() { local t; t=$(date +%s%6N); echo "$t"; }

# For foreground commands only. A background job must call "ip netns exec"
# itself: "nsx ... &" would fork a subshell, $! would be the subshell's pid and
# a signal sent to it would never reach the real process.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

check_packages() {
	STEP=packages
	# the packages are named and installed in one place (tests/deps.sh: make demo and
	# make test install them first); here only a clear word on what is missing
	"$REPO/tests/deps.sh" --check lab 2>"$RUNDIR/deps.err" || die "$(cat "$RUNDIR/deps.err")"
}

# bg ROLE NS OUTFILE ERRFILE CMD...: start CMD in namespace NS (or the root
# namespace if NS is "-") in the background, remembered for cleanup. "ip netns
# exec" execs, so $! is the command's own pid.
bg() {
	local role=$1 ns=$2 out=$3 err=$4; shift 4
	if [ "$ns" = - ]; then
		"$@" </dev/null >"$out" 2>"$err" &
	else
		ip netns exec "$ns" "$@" </dev/null >"$out" 2>"$err" &
	fi
	PIDS+=($!)
	PID_OF[$role]=$!
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# stop_pids PID...: SIGINT (ping prints its statistics, tcpdump flushes its
# buffer, QEMU quits), up to 5 s to exit, then SIGKILL. STOP_SIG=TERM for
# programs that may not catch SIGINT (a background job of a non-interactive
# shell starts with SIGINT ignored).
stop_pids() {
	local pid alive sig=${STOP_SIG:-INT}
	for pid in "$@"; do kill "-$sig" "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		alive=0
		for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		kill -0 "$pid" 2>/dev/null && { say "pid $pid ignored SIG$sig: killed"; kill -KILL "$pid" 2>/dev/null; }
		wait "$pid" 2>/dev/null || true
	done
}

# stop_roles ROLE...: stop_pids on the processes of those roles still known.
stop_roles() {
	local r pids=()
	for r in "$@"; do
		[ -n "${PID_OF[$r]:-}" ] && pids+=("${PID_OF[$r]}")
	done
	[ ${#pids[@]} -gt 0 ] && stop_pids "${pids[@]}"
	for r in "$@"; do unset "PID_OF[$r]"; done
}

# --- cleanup ---------------------------------------------------------------------

# Kill the processes inside one namespace (all started by this script, or by an
# earlier run of it), then delete it. Its veths, bridges, taps, VXLAN and VLAN
# devices and tc filters go with it.
delete_ns() {
	local ns=$1 pid
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
		sleep 0.1
	done
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
}

run_alive() { # RID: is that a live run of this script?
	[ "$1" = "$RID" ] && return 0
	[ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'lab/run\.sh'
}

# Leftovers of an earlier run that was killed (kill -9, reboot of the shell):
# namespaces, root-namespace links and run directories msl-<rid>-* whose run
# is no longer alive. Killing a namespace's processes also ends that run's
# QEMUs (whose QMP socat sessions then end) and msl-fault. A run still alive
# (a concurrent one) is left alone.
clean_stale() {
	STEP=clean-stale
	local ns rid link dir
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^msl-[0-9]*-' || true); do
		rid=${ns#msl-}; rid=${rid%%-*}
		run_alive "$rid" && continue
		say "removing stale namespace $ns"
		delete_ns "$ns"
	done
	for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep '^msl-[0-9]*-' || true); do
		rid=${link#msl-}; rid=${rid%%-*}
		run_alive "$rid" && continue
		say "removing stale link $link"
		ip link del "$link" 2>/dev/null || true
	done
	for dir in /tmp/msl-[0-9]*.*; do
		[ -d "$dir" ] || continue
		rid=${dir#/tmp/msl-}; rid=${rid%%.*}
		run_alive "$rid" || rm -rf "$dir"
	done
}

cleanup() {
	local rc=$? l
	trap - EXIT INT TERM
	set +e
	# A signal handled while a redirected function call runs ("f >/dev/null")
	# would leave that redirection on for us: write to the original streams.
	exec 1>&3 2>&4
	[ $rc -ne 0 ] && [ "$STEP" != finished ] && say "cleaning up after failure at step '$STEP' (exit $rc)"
	# everything we started, with SIGINT first so the captures are complete
	# (msl-fault: SIGTERM)
	for l in "${!PID_OF[@]}"; do
		case $l in fault-*) STOP_SIG=TERM stop_roles "$l" 2>/dev/null ;; esac
	done
	[ ${#PIDS[@]} -gt 0 ] && stop_pids "${PIDS[@]}" 2>/dev/null
	delete_ns "$NS_CN1"; delete_ns "$NS_CN2"; delete_ns "$NS_CTL"; delete_ns "$NS_SW"
	# slow-guest's CPU quota group, empty once its QEMU is gone
	[ -n "${STARVE_CG:-}" ] && [ -d "$STARVE_CG" ] && rmdir "$STARVE_CG" 2>/dev/null
	# veth ends still in the root namespace if we failed between add and move
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$P-" || true); do
		ip link del "$l" 2>/dev/null
	done
	[ -n "$RUNDIR" ] && rm -rf "$RUNDIR"
	exit $rc
}
