#!/bin/bash
# Test lab: real QEMU live migrations on this machine, inside network
# namespaces, captured the way an operator would capture them, with the
# faults of the field reports. One command per scenario:
#
#   tests/lab/run.sh SCENARIO OUTDIR [ARGS...] [OPTIONS...]
#
# Scenarios (tests/lab/README.md has the details and the choices made):
#   baseline                one migration cn1 -> cn2
#   back-and-forth          cn1 -> cn2, then cn2 -> cn1: two in one capture
#   loss RATE               RATE % of the stream's frames dropped (switch port)
#   corrupt RATE            ... corrupted
#   duplicate RATE          ... duplicated
#   lost-announce           the switch drops the guest's RARP/GARP/NA from cn2
#   no-announce             destination QEMU with announce-rounds 0
#   port-not-ready [SECS]   the switch drops all of the guest's frames from cn2
#                           for SECS (5) s after the first one, then the lab
#                           asks for announce-self (Nova's workaround)
#   dst-silent              cn2's tap drops every frame to the guest: requests
#                           reach the destination NIC, nothing answers
#   return-path             the switch drops the guest's echo replies from cn2
#   dirty [MBPS]            the guest dirties MBPS (48) MB/s of 16 MB;
#                           max-bandwidth 32 MB/s: never converges, cancelled
#   vlan, vxlan             baseline with the guest network on 802.1Q VLAN 100,
#                           or in VXLAN VNI 100 between the compute nodes
#   ipv6                    baseline with an IPv6 guest, probed by ping -6 too
#   postcopy [AFTER_S]      the dirty guest (48 MB/s of 16 MB) migrated with
#                           postcopy-ram: migrate-start-postcopy AFTER_S (0.05)
#                           s after migrate, postcopy bandwidth 16 MB/s
#   multifd [N]             baseline with N (4) multifd channels
#   tls                     baseline over TLS: a throwaway CA and certificates
#                           made at run time (openssl), tls-creds-x509 objects
#   evacuate [N]            N (3) guests on cn1 all moved to cn2 at once, as a
#                           drained host's (nova host-evacuate-live); each its
#                           own QEMU pair, tap, MAC, address and migration port
#                           (49152 + k, as libvirt gives each its own), the
#                           controller pinging every guest (ping-K.log)
#   early-cutover [S]       S (0.5) s after migrate the switch sends the
#                           guest's MAC to cn2's port (a static FDB entry): the
#                           network moves before the guest resumes there
#   announce-without-ip     only QEMU's RARPs announce the guest (virtio-net
#                           guest_announce=off, no IPv6) and cn2's switch port
#                           stops learning: the RARPs are flooded, not learned
#   slow-guest [PCT [S]]    from QEMU's RESUME on cn2 its QEMU gets PCT (5) %
#                           of one CPU (a cgroup quota) for S (4) s: the guest
#                           answers, late
#
# Options:
#   --interval S        probe interval (MSL_PROBE_INTERVAL, default 0.01)
#   --before S          steady probes before the migration (default 2)
#   --after S           observation after it (MSL_AFTER; default 3, 10 for
#                       lost-announce/no-announce, HOLD+7 for port-not-ready)
#   --net flat|vlan|vxlan, --ipv6    combine a layout/IPv6 with any scenario
#   --mtu N             every lab link's MTU (default 9000)
#   --snaplen N         tcpdump snap length (default 128)
#   --at PORT:DIR[,..]  where loss/corrupt/duplicate act (default p-cn2:egress)
#   --guest-ipv6        lost-announce, no-announce, port-not-ready: keep the
#                       guest's IPv6 (its NA/RS/MLD frames relearn the switch)
#   --no-announce-self  port-not-ready: no announce-self on the destination
#                       once the hold is over (then it stays unreachable)
#   --back-after S      back-and-forth: seconds between the migrations (3)
#   --wss MB --auto-converge --xbzrle
#                       dirty (--dirty): working set, capabilities
#   --max-bandwidth MBPS --downtime-limit MS
#                       QEMU's precopy bandwidth cap and downtime limit (any
#                       scenario; dirty: 32 MB/s by default)
#   --mig-timeout S     migration timeout (MSL_MIG_TIMEOUT; 120; dirty: 20, or 60 with
#                       --auto-converge/--xbzrle)
#   --port N            the migration port (49152; e.g. 7000: outside libvirt's
#                       49152-49215)
#   --postcopy S        postcopy with any scenario: postcopy-ram on both QEMUs,
#                       postcopy-blocktime on the destination,
#                       migrate-start-postcopy S s after migrate
#   --postcopy-bandwidth MBPS   max-postcopy-bandwidth (16)
#   --multifd N         multifd with N channels with any scenario (not with
#                       postcopy: QEMU 7.2's destination aborts at the end)
#   --tls               the migration over TLS with any scenario
#   --serial S          evacuate: one migration after another, S s apart
#   --dirty MBPS        the dirtying guest (guest/dirty.c) with any scenario
#                       (--wss MB: its working set, 16)
#   --http              the guest serves HTTP (busybox httpd) and echo; the
#                       controller requests a page every 10 ms (curl,
#                       its own timing log http.log: start_ns end_ns ok|fail)
#                       and keeps an echo connection sending a line every 10 ms
#   --no-icmp           the guest ignores ping (icmp_echo_ignore_all), as many
#                       cloud guests do: with --http, its requests are the probes;
#                       with --arp, arping's
#   --arp               the controller also runs arping (iputils: one ARP
#                       request a second, unicast once answered; arping.log)
#   --guest-append ARGS more for the guest kernel's command line
#                       (MSL_GUEST_APPEND), e.g. init_on_free=1: the guest
#                       zeroes what it frees, QEMU sends those pages as zero
#                       pages (a stream of 56 MB instead of 75)
#
# OUTDIR receives cn1.pcap cn2.pcap ctl.pcap (tcpdump on each NIC eth0),
# scenario.json (what ran and what came of it), query-migrate.json (and
# query-migrate-N.json per migration; query-migrate-N-destination.json: the
# destination's, with postcopy's blocktime), ping.log (ping6.log), qmp-*.log (QMP
# transcripts with QEMU's events), fault-N.json (msl-fault's counters), the
# guests' serial logs and the QEMU/tcpdump/msl-fault stderr.
#
# Needs root, Debian 12 and the packages tests/deps.sh names for "lab" (make demo
# and make test install them; a missing one stops the run at its first step).
# QEMU runs with TCG: KVM hangs the guest on this kind of machine.
set -eu

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
for f in common guest net vlan qemu tls observe fault record scenarios; do
	# shellcheck source=/dev/null
	. "$LAB/lib/$f.sh"
done

RID=$$                                  # run id: part of every name we create
P=msl-$RID                              # prefix of namespaces and root-ns links
NS_SW=$P-sw NS_CTL=$P-ctl NS_CN1=$P-cn1 NS_CN2=$P-cn2
CACHE=${MSL_CACHE:-/tmp/migscope-lab-cache}
GUEST_MAC=52:54:00:12:34:56
GUEST_TAP=tap0                          # evacuate: guest K on tapK (with_guest)
MIG_PORT=49152                          # first port of libvirt's migration range
BOOT_TIMEOUT=${MSL_BOOT_TIMEOUT:-120}   # TCG boot: 10-40 s usually
QEMU_ACCEL=${MSL_QEMU_ACCEL:-tcg}        # KVM hangs the guest here
QEMU_MEM=${MSL_QEMU_MEM:-131076K}        # 128 MiB + 4 KiB: see README (TCG dirty-page bug)

STEP=init                               # the step running, named on failure
PIDS=()                                 # every background process we started
declare -A PID_OF=()                    # the same by role
declare -A HOST_IP=()
RUNDIR=""                               # QMP sockets and FIFOs (per run)

# settings: defaults, then the scenario's, then the options'
INTERVAL=${MSL_PROBE_INTERVAL:-0.01}
BEFORE=2 AFTER_SET=${MSL_AFTER:-} MTU=9000 SNAPLEN=128 NET=flat IPV6=0
FAULT_AT=p-cn2:egress FAULT_SPECS=() GUEST_IPV6_KEEP=0 GUEST_NO_IPV6=0
QUIET_GUEST=0 BOOT_REPLY_US=0 ANNOUNCE_SELF=1 HOLD="" BACK_AFTER=3 MIGRATION_COUNT=1 POST_MIGRATION=""
DURING_MIGRATION="" EARLY_S="" NIC_OPTS="" STARVE_PCT="" STARVE_S="" STARVE_CG=""
DIRTY_MBPS="" DIRTY_WSS=0 DIRTY_WSS_SET="" MAX_BANDWIDTH="" DOWNTIME_LIMIT="" AUTO_CONVERGE=0 XBZRLE=0
MIG_PARAMS="" DST_PARAMS="" MIG_TIMEOUT_SET=${MSL_MIG_TIMEOUT:-} CANCEL_ON_TIMEOUT=0
HTTP=0 NO_ICMP=0 ARP=0 POSTCOPY_AFTER="" POSTCOPY_BW=16 MULTIFD=0 TLS=0 TLS_DIR="" GUEST_APPEND=${MSL_GUEST_APPEND:-}
EXPECT_REACHABLE=true EXPECT_STATUS=completed NOTES=""
EVAC_GUESTS=1 EVAC_GAP=""

usage() {
	[ $# -gt 0 ] && echo "$0: $*" >&2
	echo "usage: $0 SCENARIO OUTDIR [ARGS...] [OPTIONS...]   (scenarios: $SCENARIOS; see the head of $0)" >&2
	exit 2
}

num() { # OPTION VALUE: a non-negative number
	awk -v v="$2" 'BEGIN { exit !(v ~ /^[0-9]*\.?[0-9]+$/) }' || usage "$1 needs a number, got '$2'"
	echo "$2"
}

parse_args() {
	SCENARIO=${1:-} OUT=${2:-}
	[ -n "$SCENARIO" ] && [ -n "$OUT" ] || usage
	case " $SCENARIOS " in *" $SCENARIO "*) ;; *) usage "unknown scenario '$SCENARIO'" ;; esac
	case $OUT in -*) usage "OUTDIR missing" ;; esac
	shift 2
	SARGS=() OPTS=()
	while [ $# -gt 0 ]; do
		case $1 in
		--*) OPTS+=("$1") ;;
		*) SARGS+=("$1"); shift; continue ;;
		esac
		case $1 in
		--interval) INTERVAL=$(num "$1" "${2:-}") ;;
		--before) BEFORE=$(num "$1" "${2:-}") ;;
		--after) AFTER_SET=$(num "$1" "${2:-}") ;;
		--net) NET=${2:-} ;;
		--mtu) MTU=$(num "$1" "${2:-}") ;;
		--snaplen) SNAPLEN=$(num "$1" "${2:-}") ;;
		--at) FAULT_AT=${2:-} ;;
		--back-after) BACK_AFTER=$(num "$1" "${2:-}") ;;
		--wss) DIRTY_WSS_SET=$(num "$1" "${2:-}") ;;
		--max-bandwidth) MAX_BANDWIDTH=$(num "$1" "${2:-}") ;;
		--downtime-limit) DOWNTIME_LIMIT=$(num "$1" "${2:-}") ;;
		--mig-timeout) MIG_TIMEOUT_SET=$(num "$1" "${2:-}") ;;
		--port) MIG_PORT=$(num "$1" "${2:-}") ;;
		--postcopy) POSTCOPY_AFTER=$(num "$1" "${2:-}") ;;
		--postcopy-bandwidth) POSTCOPY_BW=$(num "$1" "${2:-}") ;;
		--multifd) MULTIFD=$(num "$1" "${2:-}") ;;
		--dirty) DIRTY_MBPS=$(num "$1" "${2:-}") ;;
		--guest-append) GUEST_APPEND=${2:-} ;;
		--serial) EVAC_GAP=$(num "$1" "${2:-}") ;;
		--ipv6) IPV6=1; shift; continue ;;
		--guest-ipv6) GUEST_IPV6_KEEP=1; shift; continue ;;
		--announce-self) ANNOUNCE_SELF=1; shift; continue ;;
		--no-announce-self) ANNOUNCE_SELF=0; shift; continue ;;
		--auto-converge) AUTO_CONVERGE=1; shift; continue ;;
		--xbzrle) XBZRLE=1; shift; continue ;;
		--tls) TLS=1; shift; continue ;;
		--http) HTTP=1; shift; continue ;;
		--no-icmp) NO_ICMP=1; shift; continue ;;
		--arp) ARP=1; shift; continue ;;
		*) usage "unknown option $1" ;;
		esac
		[ $# -ge 2 ] || usage "$1 needs a value"
		OPTS+=("$2")
		shift 2
	done
	case $NET in flat | vlan | vxlan) ;; *) usage "--net flat|vlan|vxlan, got '$NET'" ;; esac
	[ "$NO_ICMP" = 0 ] || [ "$HTTP" = 1 ] || [ "$ARP" = 1 ] || usage "--no-icmp needs --http or --arp: the guest's requests or arping are then its probes"
	"scenario_$SCENARIO" "${SARGS[@]}"
	mode_setup
	AFTER=${AFTER_SET:-3}
	MIG_TIMEOUT=${MIG_TIMEOUT_SET:-120}
	MIG_TIMEOUT_SET=$MIG_TIMEOUT
	[ "$IPV6" = 1 ] && [ "$GUEST_NO_IPV6" = 1 ] && usage "--ipv6 and a guest without IPv6 (lost-announce without --guest-ipv6)"
	return 0
}

main() {
	parse_args "$@"
	[ "$(id -u)" = 0 ] || { echo "$0: needs root (namespaces, taps, tc)" >&2; exit 2; }
	exec 3>&1 4>&2               # the original stdout/stderr, for cleanup
	# One run at a time: TCG needs both cores, and a run starved by another
	# measures the starvation (MSL_LAB_PARALLEL=1 allows concurrent runs).
	if [ "${MSL_LAB_PARALLEL:-0}" != 1 ]; then
		exec 9>/run/lock/migscope-lab.lock
		flock -n 9 || { say "waiting for another lab run to finish"; flock 9; }
	fi
	trap cleanup EXIT
	set -E
	trap 'say "command failed (exit $?): $BASH_COMMAND"' ERR
	trap 'exit 130' INT
	trap 'exit 143' TERM
	STARTED_US=$(now_us)
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	rm -f "$OUT"/{cn1,cn2,ctl}.pcap "$OUT"/query-migrate*.json "$OUT"/ping*.log "$OUT"/scenario.json \
		"$OUT"/qmp-*.log "$OUT"/fault-*.json "$OUT"/fault-*.stderr "$OUT"/serial-*.log "$OUT"/qemu-*.std*
	RUNDIR=$(mktemp -d "/tmp/msl-$RID.XXXXXX")
	check_packages
	[ ${#FAULT_SPECS[@]} -gt 0 ] && fault_binary
	clean_stale
	net_plan
	pick_kernel
	build_initramfs
	say "scenario $SCENARIO${SARGS[*]:+ ${SARGS[*]}}${OPTS[*]:+ ${OPTS[*]}}"
	run_scenario
	write_scenario_json
	STEP=finished
	summary
}

main "$@"
