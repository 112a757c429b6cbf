# Sourced by tests/lab/run.sh: what each scenario changes, and the run itself.
# shellcheck shell=bash
#
# A scenario sets variables (scenario_NAME), then run_scenario does the same
# steps for all: topology, boot on cn1, destination on cn2, faults on the
# switch, captures and probes, BEFORE s of steady probes, the migration(s),
# AFTER s of observation, scenario.json.

SCENARIOS="baseline back-and-forth loss corrupt duplicate lost-announce no-announce port-not-ready dst-silent return-path dirty vlan vxlan ipv6 postcopy multifd tls evacuate early-cutover announce-without-ip slow-guest"

# check_percent ARG: a rate in percent (0 < r <= 100)
check_percent() {
	awk -v r="$1" 'BEGIN { exit !(r ~ /^[0-9]*\.?[0-9]+$/ && r > 0 && r <= 100) }' ||
		usage "rate must be a percentage in (0, 100], got '$1'"
}

# The stream faults: at every FAULT_AT point (PORT:DIR), matching the
# migration stream (both directions of its TCP connection pass the filter;
# which frames a point sees depends on its direction: p-cn2 egress sees the
# data segments on their way to the destination, p-cn1 egress the ACKs).
stream_fault() {
	local kind=$1 rate=$2 at
	check_percent "$rate"
	for at in ${FAULT_AT//,/ }; do
		case $at in
		p-cn1:ingress | p-cn1:egress | p-cn2:ingress | p-cn2:egress) ;;
		*) usage "--at takes PORT:DIR with PORT p-cn1|p-cn2 and DIR ingress|egress, got '$at'" ;;
		esac
		FAULT_SPECS+=("${at%%:*} ${at#*:} --kind $kind --match stream --rate $rate --ports $MIG_PORT-$MIG_PORT")
	done
}

scenario_baseline() { :; }

scenario_back-and-forth() {
	MIGRATION_COUNT=2
	NOTES="two migrations: cn1 -> cn2, then after ${BACK_AFTER}s cn2 -> cn1 into a fresh -incoming QEMU on cn1 (the first source QEMU quit once its migration completed, as libvirt does)"
}

scenario_loss() {
	[ $# -ge 1 ] || usage "loss needs a RATE in percent (e.g. loss 2)"
	stream_fault drop "$1"
	NOTES="msl-fault drops $1 % of the migration stream's frames at $FAULT_AT (switch port)"
}

scenario_corrupt() {
	[ $# -ge 1 ] || usage "corrupt needs a RATE in percent"
	stream_fault corrupt "$1"
	NOTES="msl-fault corrupts $1 % of the migration stream's frames at $FAULT_AT; every checksum is verified in software (offloads off), so the receiver drops them"
}

scenario_duplicate() {
	[ $# -ge 1 ] || usage "duplicate needs a RATE in percent"
	stream_fault duplicate "$1"
	NOTES="msl-fault duplicates $1 % of the migration stream's frames at $FAULT_AT"
}

# The switch drops the guest's announcements (QEMU's RARPs, the guest
# kernel's GARP and unsolicited NA) arriving from the destination, for the
# whole run. The guest has no IPv6 here (ipv6.disable=1, unless --guest-ipv6):
# a Linux guest with IPv6 also sends MLD reports when it is told to announce,
# and any frame from the guest relearns the switch.
scenario_lost-announce() {
	QUIET_GUEST=1
	FAULT_SPECS+=("p-cn2 ingress --kind drop --match announce --guest $GUEST_MAC")
	[ "$GUEST_IPV6_KEEP" = 1 ] || GUEST_NO_IPV6=1
	: "${AFTER_SET:=10}"
	EXPECT_REACHABLE=null # false, unless a reply in flight relearns the switch (seen in about half the runs)
	[ "$GUEST_NO_IPV6" = 1 ] || EXPECT_REACHABLE=true
	NOTES="msl-fault drops the guest's RARP/GARP/NA on p-cn2 ingress for the whole run; the switch keeps the guest on p-cn1 unless another frame of the guest relearns it (a reply to a request in flight across the switchover$([ "$GUEST_NO_IPV6" = 1 ] && echo '; guest IPv6 disabled, so no MLD reports' || echo ', an MLD report'))"
}

# The destination QEMU never announces: announce-rounds 0. In QEMU 7.2 that
# also stops virtio-net's GUEST_ANNOUNCE (its timer uses the same
# parameters): no RARP, no GARP/NA from the guest kernel on QEMU's request.
# A guest with IPv6 still sent one unsolicited NA right after resuming (seen
# in the captures), which relearns the switch; so, as in lost-announce, the
# guest has no IPv6 unless --guest-ipv6.
scenario_no-announce() {
	QUIET_GUEST=1
	DST_PARAMS='{"announce-rounds":0}'
	[ "$GUEST_IPV6_KEEP" = 1 ] || GUEST_NO_IPV6=1
	: "${AFTER_SET:=10}"
	EXPECT_REACHABLE=null # false, unless a reply in flight relearns the switch (seen in about half the runs)
	[ "$GUEST_NO_IPV6" = 1 ] || EXPECT_REACHABLE=true
	NOTES="destination QEMU with announce-rounds 0 (migrate-set-parameters): no RARP and no virtio-net guest announce (GARP/NA); $([ "$GUEST_NO_IPV6" = 1 ] && echo 'guest IPv6 disabled: the guest emits nothing by itself' || echo 'guest IPv6 kept: its unsolicited NA after resuming relearns the switch')"
}

# The switch port to the destination drops every frame from the guest for
# HOLD seconds after the guest's first frame on it (a port not yet bound):
# QEMU's announcements (about 1.3 s) and the guest's GARP go into the void,
# requests keep going to cn1. Then, by default, the lab asks the destination
# QEMU for announce-self, as Nova's [workarounds]
# enable_qemu_monitor_announce_self does once the port is bound: replies
# resume only after the hold. --no-announce-self: nothing announces after
# the hold and the guest stays unreachable. As in lost-announce the guest is
# quiet (no IPv6 unless --guest-ipv6: its router solicitations, every few
# seconds, would relearn the switch at a time of their own).
scenario_port-not-ready() {
	QUIET_GUEST=1
	HOLD=${1:-5}
	awk -v h="$HOLD" 'BEGIN { exit !(h ~ /^[0-9]*\.?[0-9]+$/ && h > 0) }' || usage "port-not-ready SECONDS: a positive number, got '$HOLD'"
	FAULT_SPECS+=("p-cn2 ingress --kind hold --match guest --guest $GUEST_MAC --hold $HOLD")
	[ "$GUEST_IPV6_KEEP" = 1 ] || GUEST_NO_IPV6=1
	: "${AFTER_SET:=$(awk -v h="$HOLD" 'BEGIN { printf "%d", h + 6.999 }')}"
	local how
	if [ "$ANNOUNCE_SELF" = 1 ]; then
		POST_MIGRATION=announce_self_after_hold
		EXPECT_REACHABLE=true
		how="then the lab asks the destination QEMU for announce-self (Nova's enable_qemu_monitor_announce_self once the port is bound)"
	else
		EXPECT_REACHABLE=false
		how="nothing announces after the hold"
	fi
	[ "$GUEST_NO_IPV6" = 1 ] || EXPECT_REACHABLE=true
	NOTES="msl-fault holds (drops) every frame from the guest on p-cn2 ingress for ${HOLD}s after its first one; $how; $([ "$GUEST_NO_IPV6" = 1 ] && echo 'guest IPv6 disabled' || echo 'guest IPv6 kept: its own router solicitations relearn the switch')"
}

# The network moves before the guest (a port claimed early, an early GARP):
# S s (default 0.5) after the migrate command, the switch gets a static
# forwarding entry for the guest's MAC on cn2's port, while the guest still
# runs on cn1. Requests go to cn2 and are lost until the guest resumes
# there; the entry stays right after that.
scenario_early-cutover() {
	EARLY_S=${1:-0.5}
	awk -v h="$EARLY_S" 'BEGIN { exit !(h ~ /^[0-9]*\.?[0-9]+$/) }' || usage "early-cutover SECONDS: a number, got '$EARLY_S'"
	DURING_MIGRATION=early_fdb_move
	NOTES="${EARLY_S}s after migrate, a static FDB entry on the switch sends the guest's MAC to cn2's port while the guest still runs on cn1 (the network moved before the guest)"
}

early_fdb_move() {
	(
		sleep "$EARLY_S"
		nsx "$NS_SW" bridge fdb replace "$GUEST_MAC" dev p-cn2 master static
		now_us >"$OUT/early-cutover.us"
	) &
	PIDS+=($!)
}

# Only QEMU's RARPs announce the guest, and the network does not move it on
# them. The guest's virtio-net has guest_announce=off (so the guest kernel
# sends no GARP or NA after resuming) and no IPv6 (no NA, RS or MLD of its
# own). When the migration starts, cn2's switch port stops learning: QEMU's
# RARPs are flooded to every port but teach the switch nothing, which is what
# a fabric that learns locations from IP-carrying announcements only (EVPN
# with ARP suppression, OVN's port bindings) does with a RARP. The guest's
# MAC stays on cn1's port: requests keep going there.
scenario_announce-without-ip() {
	QUIET_GUEST=1
	NIC_OPTS=",guest_announce=off"
	GUEST_NO_IPV6=1
	DURING_MIGRATION=stop_learning_at_dst
	: "${AFTER_SET:=5}"
	# false, unless a request queued in the guest across the pause is
	# answered after the resume (as in lost-announce)
	EXPECT_REACHABLE=null
	NOTES="both QEMUs' virtio-net with guest_announce=off and a guest without IPv6: only QEMU's RARPs announce it; cn2's switch port stops learning when the migration starts (its host's MAC kept by a static entry), so the RARPs are flooded but not learned, as a fabric that learns only IP-carrying announcements treats them; requests keep going to cn1"
}

# What the port learned so far (cn2's own addresses: the stream's data goes
# there) is kept as static entries; then the port learns nothing more.
stop_learning_at_dst() {
	local mac
	for mac in $(nsx "$NS_SW" bridge fdb show brport p-cn2 | awk '!/permanent|static/ { print $1 }'); do
		[ "$mac" = "$GUEST_MAC" ] || nsx "$NS_SW" bridge fdb replace "$mac" dev p-cn2 master static
	done
	nsx "$NS_SW" bridge link set dev p-cn2 learning off
	now_us >"$OUT/learning-off.us"
}

# The destination starves the guest: from QEMU's RESUME event on cn2, its
# QEMU process gets PCT (5) % of one CPU for S (4) s, a cgroup CPU quota
# over a 100 ms period (what a CPU limit or an overcommitted host gives a
# guest). Requests reach it and are answered, late; then the quota is
# lifted. cgroup v1's cpu controller or cgroup v2's, whichever the host has.
scenario_slow-guest() {
	STARVE_PCT=${1:-5}
	STARVE_S=${2:-4}
	awk -v p="$STARVE_PCT" 'BEGIN { exit !(p ~ /^[0-9]+$/ && p >= 1 && p <= 100) }' || usage "slow-guest PCT: 1-100, got '$STARVE_PCT'"
	awk -v s="$STARVE_S" 'BEGIN { exit !(s ~ /^[0-9]*\.?[0-9]+$/ && s > 0) }' || usage "slow-guest PCT S: S a positive number of seconds, got '$STARVE_S'"
	cpu_cgroup_root >/dev/null || usage "slow-guest needs a cgroup cpu controller (/sys/fs/cgroup/cpu or cgroup v2 with cpu)"
	DURING_MIGRATION=starve_dst_after_resume
	: "${AFTER_SET:=$(awk -v s="$STARVE_S" 'BEGIN { printf "%d", s + 2.999 }')}"
	NOTES="from QEMU's RESUME on cn2, its QEMU gets ${STARVE_PCT}% of one CPU (a cgroup CPU quota, 100 ms period) for ${STARVE_S}s: the guest answers late, then the quota is lifted"
}

# The cpu controller's directory, and whether it is v1 (cpu.cfs_quota_us)
# or v2 (cpu.max): "v1 DIR" or "v2 DIR".
cpu_cgroup_root() {
	if [ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		echo "v1 /sys/fs/cgroup/cpu"
	elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		echo "v2 /sys/fs/cgroup"
	else
		return 1
	fi
}

starve_dst_after_resume() {
	local kind root
	read -r kind root < <(cpu_cgroup_root)
	STARVE_CG=$root/msl-$RID
	(
		local pid=${PID_OF[qemu-dst]} quota=$((STARVE_PCT * 1000))
		until grep -q '"event": *"RESUME"' "$OUT/qmp-dst.log" 2>/dev/null; do sleep 0.005; done
		mkdir "$STARVE_CG"
		if [ "$kind" = v1 ]; then
			echo 100000 >"$STARVE_CG/cpu.cfs_period_us"
			echo "$quota" >"$STARVE_CG/cpu.cfs_quota_us"
		else
			grep -qw cpu "$root/cgroup.subtree_control" || echo +cpu >"$root/cgroup.subtree_control"
			echo "$quota 100000" >"$STARVE_CG/cpu.max"
		fi
		echo "$pid" >"$STARVE_CG/cgroup.procs"
		now_us >"$OUT/starve-from.us"
		sleep "$STARVE_S"
		echo "$pid" >"$root/cgroup.procs"
		now_us >"$OUT/starve-to.us"
		rmdir "$STARVE_CG"
	) &
	PIDS+=($!)
}

# After the hold: QMP announce-self on the destination (5 rounds, 50 ms to
# 550 ms apart, QEMU's defaults), a margin after the hold's end.
announce_self_after_hold() {
	local m=${MIGRATIONS[0]} end_us wait_s
	end_us=$(jq -r .lab_seen_end_us <<<"$m")
	wait_s=$(awk -v e="$end_us" -v n="$(now_us)" -v h="$HOLD" 'BEGIN { w = h + 0.5 - (n - e) / 1e6; printf "%.2f", (w > 0 ? w : 0) }')
	sleep "$wait_s"
	STEP=announce-self
	say "announce-self on the destination (the port is bound now)"
	qmp_ok dst '{"execute":"announce-self","arguments":{"initial":50,"max":550,"rounds":5,"step":100}}' announce-self
	AFTER=$(awk -v a="$AFTER" -v w="$wait_s" 'BEGIN { a -= w; print (a > 3 ? a : 3) }')
}

# The destination host's datapath to the guest is missing: msl-fault drops
# every frame leaving cn2's tap0 towards the guest, which is what a tap left
# out of the bridge or a missing OVS flow looks like from outside. Nothing is
# there to drop before the guest resumes on cn2; then QEMU's RARPs and the
# guest's GARPs leave cn2 (the other direction) and relearn the switch,
# requests reach cn2's NIC, and no reply ever leaves it.
scenario_dst-silent() {
	FAULT_SPECS+=("cn2/tap0 egress --kind drop --match all")
	EXPECT_REACHABLE=false
	NOTES="msl-fault drops every frame leaving cn2's tap0 towards the guest (the destination's datapath to the guest missing); announcements leave cn2, requests reach its NIC, nothing answers"
}

# The way back is broken: the switch drops the guest's echo replies arriving
# from cn2 (p-cn2 ingress). Before the migration the replies come from cn1
# and pass; after it QEMU's RARPs relearn the switch, requests reach cn2, the
# guest answers, and its replies leave cn2's NIC and die in the switch.
scenario_return-path() {
	FAULT_SPECS+=("p-cn2 ingress --kind drop --match echo-reply --guest $GUEST_MAC")
	EXPECT_REACHABLE=false
	NOTES="msl-fault drops the guest's echo replies on p-cn2 ingress for the whole run: after the migration they leave cn2's NIC and never reach ctl"
}

# The guest dirties RATE MB/s (default 48) of a WSS MB working set (default
# 16) while the migration runs with max-bandwidth (default 32 MB/s): each
# pass finds the whole working set dirty again. Without auto-converge or
# xbzrle it never converges: migrate_cancel after --mig-timeout (default
# 20 s; 60 s when it is expected to complete) and the guest stays on cn1.
scenario_dirty() {
	DIRTY_MBPS=${1:-48}
	awk -v r="$DIRTY_MBPS" 'BEGIN { exit !(r ~ /^[0-9]*\.?[0-9]+$/) }' || usage "dirty RATE: MB/s, got '$DIRTY_MBPS'"
	: "${DIRTY_WSS_SET:=16}"
	DIRTY_WSS=$DIRTY_WSS_SET
	local bw=${MAX_BANDWIDTH:-32}
	MIG_PARAMS=$(jq -cn --argjson bw "$bw" --arg dl "${DOWNTIME_LIMIT:-}" \
		'{"max-bandwidth": ($bw * 1048576 | floor)} + (if $dl == "" then {} else {"downtime-limit": ($dl | tonumber)} end)')
	CANCEL_ON_TIMEOUT=1
	if [ "$AUTO_CONVERGE" = 1 ] || [ "$XBZRLE" = 1 ] ||
		awk -v r="$DIRTY_MBPS" -v b="$bw" 'BEGIN { exit !(r < b) }'; then
		EXPECT_STATUS=completed
		: "${MIG_TIMEOUT_SET:=60}"
	else
		EXPECT_STATUS=cancelled
		: "${MIG_TIMEOUT_SET:=20}"
	fi
	NOTES="guest dirties $DIRTY_MBPS MB/s in $DIRTY_WSS MB; max-bandwidth $bw MB/s; auto-converge $AUTO_CONVERGE, xbzrle $XBZRLE; not completed within ${MIG_TIMEOUT_SET}s: migrate_cancel"
}

scenario_vlan() { NET=vlan; }
scenario_vxlan() { NET=vxlan; }
scenario_ipv6() { IPV6=1; }

# Postcopy, as nova (live_migration_permit_post_copy), KubeVirt
# (allowPostCopy) and libvirt (--postcopy) run it: the dirtying guest
# (guest/dirty.c, 48 MB/s of 16 MB unless --dirty/--wss say otherwise) is
# migrated with postcopy-ram on both QEMUs (postcopy-blocktime on the
# destination: QEMU measures how long the guest waited for its pages), and
# AFTER_S (0.05) s after migrate the lab sends migrate-start-postcopy: the
# guest stops on the source, resumes on the destination at once, and its
# pages follow, on request (the return path's page requests) and in the
# background, at max-postcopy-bandwidth (16 MB/s, --postcopy-bandwidth): a
# postcopy phase of seconds. A late switch (e.g. 1.5) comes after some
# precopy passes. --postcopy S gives any other scenario the same.
scenario_postcopy() {
	[ $# -ge 1 ] && POSTCOPY_AFTER=$(num "postcopy AFTER_S" "$1")
	: "${POSTCOPY_AFTER:=0.05}"
	: "${DIRTY_MBPS:=48}"
}

# Multifd (libvirt --parallel): N (4) channels beside the main one, each its
# own TCP connection to the same port. --multifd N gives any scenario the same.
scenario_multifd() {
	[ "$MULTIFD" = 0 ] && MULTIFD=4
	[ $# -ge 1 ] && MULTIFD=$1
	return 0
}

# TLS (libvirt --tls): certificates made at run time (lib/tls.sh), QEMU's
# tls-creds-x509 objects, the tls-creds migration parameter. --tls gives any
# scenario the same.
scenario_tls() { TLS=1; }

# A drained host (nova host-evacuate-live, a libvirt script): N (3) guests
# on cn1, each with its own QEMU pair, tap, MAC (52:54:00:12:34:56 + K),
# address (198.18.0.100 + K) and migration port (49152 + K: libvirt gives
# each incoming QEMU its own), all migrated to cn2 at once, or one after
# another S s apart with --serial S; ctl pings every guest (ping.log for
# guest 0, ping-K.log for the others).
scenario_evacuate() {
	EVAC_GUESTS=${1:-3}
	[[ $EVAC_GUESTS =~ ^[2-6]$ ]] || usage "evacuate takes 2 to 6 guests, got '$EVAC_GUESTS'"
	[ "$NET" = flat ] && [ "$IPV6" = 0 ] || usage "evacuate runs on the flat IPv4 layout"
	[ -z "$POSTCOPY_AFTER" ] && [ "$MULTIFD" = 0 ] && [ "$TLS" = 0 ] && [ -z "$DIRTY_MBPS" ] ||
		usage "evacuate moves plain precopy guests (no --postcopy, --multifd, --tls, --dirty)"
	NOTES="evacuation: $EVAC_GUESTS guests cn1 -> cn2, $([ -n "$EVAC_GAP" ] && echo "one after another, ${EVAC_GAP}s apart" || echo "all at once"); guest K: MAC 52:54:00:12:34:$(printf %02x $((0x56)))+K, 198.18.0.(100+K), tapK, port 49152+K, pinged by its own ping"
}

# with_guest K CMD...: CMD as guest K (bash's dynamic scope: every function
# CMD calls sees these).
with_guest() {
	local k=$1; shift
	local GUEST_TAP=tap$k MIG_PORT=$((49152 + k)) GUEST_MAC GUEST_IP
	GUEST_MAC=$(printf '52:54:00:12:34:%02x' $((0x56 + k)))
	GUEST_IP=198.18.0.$((100 + k))
	"$@"
}

# migrate_guest K: guest K's migration, its record (MIGRATIONS) naming the
# guest and its ping log.
migrate_guest() {
	local k=$1 log=ping.log last
	[ "$k" -gt 0 ] && log=ping-$k.log
	with_guest "$k" migrate "src$k" "dst$k" cn1 cn2
	last=$((${#MIGRATIONS[@]} - 1))
	MIGRATIONS[$last]=$(jq -c --arg mac "$(printf '52:54:00:12:34:%02x' $((0x56 + k)))" 		--arg ip "198.18.0.$((100 + k))" --arg log "$log" 		'. + {guest: {mac: $mac, ipv4: $ip, ping_log: $log}}' <<<"${MIGRATIONS[$last]}")
}

run_evacuation() {
	local k pids=() f
	build_topology
	for ((k = 0; k < EVAC_GUESTS; k++)); do with_guest "$k" boot_guest "src$k" cn1; done
	for ((k = 0; k < EVAC_GUESTS; k++)); do with_guest "$k" start_incoming "dst$k" cn2; done
	start_captures
	start_pings
	start_evacuation_pings
	STEP=before
	sleep "$BEFORE"
	if [ -n "$EVAC_GAP" ]; then
		for ((k = 0; k < EVAC_GUESTS; k++)); do
			[ "$k" -gt 0 ] && sleep "$EVAC_GAP"
			migrate_guest "$k"
			qemu_quit "src$k"
		done
	else
		# all at once: each migration in a subshell of its own (the QMP
		# sessions are inherited), numbered K+1 by the records before it
		for ((k = 0; k < EVAC_GUESTS; k++)); do
			(
				MIGRATIONS=()
				for ((j = 0; j < k; j++)); do MIGRATIONS+=("{}"); done
				migrate_guest "$k"
				printf '%s\n' "${MIGRATIONS[$k]}" >"$RUNDIR/migration-$k.json"
			) &
			pids+=($!)
		done
		wait "${pids[@]}" || true
		for ((k = 0; k < EVAC_GUESTS; k++)); do
			f=$RUNDIR/migration-$k.json
			[ -s "$f" ] || die "guest $k's migration did not complete (see the lines above)"
			MIGRATIONS+=("$(cat "$f")")
		done
		for ((k = 0; k < EVAC_GUESTS; k++)); do qemu_quit "src$k"; done
	fi
	STEP=observe
	sleep "$AFTER"
	stop_observers
}

# The migration modes every scenario can take (--postcopy, --multifd, --tls,
# --port, --dirty), after the scenario's own settings: the migration
# parameters they need, what they cannot be combined with, the notes.
mode_setup() {
	local more=() p=${MIG_PARAMS:-} m
	if ! [[ $MIG_PORT =~ ^[0-9]+$ && $MIG_PORT -ge 1 && $MIG_PORT -le 65535 ]]; then
		usage "--port takes a TCP port, got '$MIG_PORT'"
	fi
	if ! [[ $MULTIFD =~ ^[0-9]+$ && $MULTIFD -le 255 ]]; then
		usage "multifd channels: 1..255 (QEMU's range), got '$MULTIFD'"
	fi
	# QEMU 7.2 takes both capabilities, then the destination aborts as the
	# postcopy migration completes ("util/yank.c:107:
	# yank_unregister_instance: Assertion `QLIST_EMPTY(&entry->yankfns)'
	# failed", tried: postcopy 0.3 --multifd 2) and the guest never answers
	[ -n "$POSTCOPY_AFTER" ] && [ "$MULTIFD" != 0 ] &&
		usage "postcopy and multifd: QEMU 7.2's destination aborts when such a migration completes (see lib/scenarios.sh)"
	if [ -n "$DIRTY_MBPS" ] && [ "$DIRTY_WSS" = 0 ]; then
		DIRTY_WSS=${DIRTY_WSS_SET:-16}
	fi
	# max-bandwidth and downtime-limit: dirty sets them itself, elsewhere
	# only when asked for
	[ -n "$p" ] || p='{}'
	MIG_PARAMS=$(jq -cn --argjson p "$p" --arg bw "$MAX_BANDWIDTH" --arg dl "$DOWNTIME_LIMIT" \
		--argjson mf "$MULTIFD" --arg pc "$POSTCOPY_AFTER" --arg pbw "$POSTCOPY_BW" '
		$p
		+ (if $bw == "" or ($p | has("max-bandwidth")) then {} else {"max-bandwidth": ($bw | tonumber * 1048576 | floor)} end)
		+ (if $dl == "" or ($p | has("downtime-limit")) then {} else {"downtime-limit": ($dl | tonumber)} end)
		+ (if $mf > 0 then {"multifd-channels": $mf} else {} end)
		+ (if $pc == "" then {} else {"max-postcopy-bandwidth": ($pbw | tonumber * 1048576 | floor)} end)')
	[ "$MIG_PARAMS" = '{}' ] && MIG_PARAMS=""
	if [ -n "$POSTCOPY_AFTER" ]; then
		POSTCOPY_AFTER_US=$(awk -v a="$POSTCOPY_AFTER" 'BEGIN { printf "%d", a * 1e6 }')
		# a migration switched to postcopy cannot be cancelled: it completes or fails
		EXPECT_STATUS=completed CANCEL_ON_TIMEOUT=0
		more+=("postcopy-ram on both QEMUs, postcopy-blocktime on the destination, migrate-start-postcopy ${POSTCOPY_AFTER}s after migrate, max-postcopy-bandwidth $POSTCOPY_BW MB/s")
	fi
	[ "$MULTIFD" != 0 ] && more+=("multifd with $MULTIFD channels (each a TCP connection to port $MIG_PORT)")
	[ "$TLS" = 1 ] && more+=("TLS: a throwaway CA and x509 certificates made at run time with openssl, tls-creds-x509 on both QEMUs, migration parameter tls-creds")
	[ "$MIG_PORT" != 49152 ] && more+=("migration port $MIG_PORT")
	if [ -n "$DIRTY_MBPS" ] && [ "$SCENARIO" != dirty ]; then
		more+=("the guest dirties $DIRTY_MBPS MB/s in $DIRTY_WSS MB")
	fi
	for m in "${more[@]}"; do NOTES=${NOTES:+$NOTES; }$m; done
	return 0
}

# A guest that says nothing by itself after the switchover. The guest learnt
# ctl's MAC from ctl's ARP request at boot (a STALE entry); its first echo
# reply put that entry in DELAY, and 5 s later it sends a unicast ARP probe
# to ctl. From the destination, that probe relearns the switch. So the
# scenarios that need a silent guest migrate only once that probe is done
# (6.5 s after the guest's first answer): the entry is then REACHABLE for
# 15-45 s and the guest sends nothing while no request reaches it.
wait_guest_quiet() {
	local w
	w=$(awk -v b="$BOOT_REPLY_US" -v n="$(now_us)" 'BEGIN { w = 6.5 - (n - b) / 1e6; printf "%.2f", (w > 0 ? w : 0) }')
	[ "$w" = 0.00 ] && return 0
	say "waiting ${w}s more: the guest's ARP probe for ctl (5 s after boot) must come before the migration"
	sleep "$w"
}

run_scenario() {
	local spec
	if [ "$EVAC_GUESTS" -gt 1 ]; then
		run_evacuation
		return
	fi
	build_topology
	[ "$TLS" = 1 ] && tls_setup
	boot_guest src cn1
	start_incoming dst cn2
	for spec in "${FAULT_SPECS[@]}"; do
		# shellcheck disable=SC2086
		fault_start $spec
	done
	start_captures
	start_pings
	STEP=before
	sleep "$BEFORE"                  # "before" phase: steady probes
	[ "$QUIET_GUEST" = 1 ] && wait_guest_quiet
	[ -n "$DURING_MIGRATION" ] && "$DURING_MIGRATION"
	migrate src dst cn1 cn2
	if [ "$(jq -r .status <<<"${MIGRATIONS[0]}")" = completed ]; then
		qemu_quit src               # libvirt ends the source once it has succeeded
	else
		qemu_quit dst               # a cancelled incoming QEMU has exited already
	fi
	[ -n "$POST_MIGRATION" ] && "$POST_MIGRATION"
	if [ "$MIGRATION_COUNT" = 2 ]; then
		sleep "$BACK_AFTER"
		start_incoming back cn1
		migrate dst back cn2 cn1
		qemu_quit dst
	fi
	STEP=observe
	sleep "$AFTER"                   # "after" phase
	stop_observers
	if [ "$FAULT_N" -gt 0 ]; then fault_stop_all; fi
}
