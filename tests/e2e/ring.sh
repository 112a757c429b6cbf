#!/bin/bash
# The flight recorder: `migscope capture` as the service runs it (-C/-G/-W,
# --keep, --metrics) on a veth pair in a throwaway network namespace. An
# idle node rotates its ring within -W files; a migration injected in the
# middle (fixtures/synthetic/baseline-cn1.pcap) has its files moved out of the
# ring into a directory of their own, with the margin before and after, and
# `migscope analyze DIR` reads that directory as one vantage: the same exact
# bytes as the fixture. The ring never holds more than -W files, every file
# is 0600, the kept directory survives later rotations, the agent's metrics
# pass promtool, and SIGTERM ends it with exit 0 and nothing attached.
# Also: --keep-max removes the oldest kept directory; a restarted agent
# numbers on and counts the files it finds. Needs root.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$(realpath "$BUILD/migscope") # agent_start's (tests/lib.sh)
INJECT=$(realpath "$BUILD/tools/msc-inject")
FIXTURE=fixtures/synthetic/baseline-cn1.pcap

if [ "$(id -u)" != 0 ]; then
	not_ok "ring: needs root (CAP_BPF, CAP_NET_ADMIN, network namespaces)"
	exit 1
fi
NS=msc-ring-$$
TMP=$(mktemp -d /tmp/msc-ring-XXXXXX)
CAP_PID=
cleanup() {
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
quiet_veth_ns "$NS" || {
	not_ok "ring: veth pair in namespace $NS"
	exit 1
}

start_agent() { # LOG ARGS...: the agent in the background until attached
	local log=$1; shift
	agent_start "$NS" "$log" -i vb --node cn1 "$@" || return 1
	CAP_PID=$AGENT_PID
}
stop_agent() { # SIGTERM, as systemd stops it -> exit status, 124 if it hung
	local rc
	AGENT_PID=$CAP_PID
	agent_stop TERM
	rc=$?
	CAP_PID=
	return $rc
}
ring_files() { find "$1" -maxdepth 1 -name 'cn1.[0-9]*.pcapng' | wc -l; }

want=$("$MIGSCOPE" analyze --format json "src=$FIXTURE" 2>/dev/null)
W_OUT=$(jq -r '.migrations[0].stream.out_bytes' <<<"$want")
W_RARP=$(jq -r '.migrations[0].announce.rarp | length' <<<"$want")
W_MAC=$(jq -r '.migrations[0].guest.mac' <<<"$want")
# the domain XML libvirtd hands its qemu hook (dist/libvirt-hook-qemu)
DOMAIN_XML="<domain type='kvm'>
  <name>web \"1\"</name>
  <uuid>6f1e0c2a-5b7d-4e3a-9c1f-2a4b6c8d0e1f</uuid>
  <devices>
    <interface type='bridge'>
      <mac address='$(tr a-f A-F <<<"$W_MAC")'/>
    </interface>
  </devices>
</domain>"

R=$TMP/ring
mkdir -p "$R"
if start_agent "$TMP/agent.log" -w "$R/cn1.pcapng" -G 1 -W 3 --keep-margin 2 \
	--metrics "$TMP/agent.prom"; then
	max=0
	for _ in $(seq 8); do # 4 s idle: the ring turns over
		n=$(ring_files "$R"); [ "$n" -gt "$max" ] && max=$n
		sleep 0.5
	done
	expect_eq "ring: an idle node's ring stays at -W 3 files" 3 "$max"
	# libvirtd on the destination, as the incoming migration begins
	MIGSCOPE_MARKS=$R/domains.log dist/libvirt-hook-qemu 'web "1"' migrate begin - <<<"$DOMAIN_XML" >"$TMP/hook.out"
	expect_eq "hook: exit 0, nothing on stdout (libvirt keeps its XML)" "0:" "$?:$(cat "$TMP/hook.out")"
	MIGSCOPE_MARKS=$R/domains.log dist/libvirt-hook-qemu other started begin - <<<"$DOMAIN_XML"
	expect_eq "hook: one mark, for the migration only" 1 "$(wc -l <"$R/domains.log")"
	in_ns "$INJECT" va "$FIXTURE" >/dev/null
	for _ in $(seq 12); do # 6 s: past the margin after, several rotations
		n=$(ring_files "$R"); [ "$n" -gt "$max" ] && max=$n
		sleep 0.5
	done
	expect_eq "ring: never more than -W 3 files in the ring" 3 "$max"
	stop_agent
	expect_eq "ring: exit 0 after SIGTERM" 0 $?
else
	not_ok "ring: the agent starts with -G 1 -W 3" "$(cat "$TMP/agent.log")"
fi
KEPT=$(find "$R/migrations" -mindepth 1 -maxdepth 1 -type d)
expect_eq "ring: one kept directory for the migration" 1 "$(grep -c . <<<"$KEPT")"
grep -q "keeping its files in $KEPT" "$TMP/agent.log" &&
	ok "ring: the log names the kept directory" ||
	not_ok "ring: the log names the kept directory" "$(cat "$TMP/agent.log")"
nk=$(find "$KEPT" -name '*.pcapng' | wc -l)
check "ring: the margin's files are kept with the migration's ($nk files)" test "$nk" -ge 3
modes=$(find "$R" -type f -name '*.pcapng' -printf '%m\n' | sort -u)
expect_eq "ring: every capture file is 0600" 600 "$modes"
expect_eq "ring: kept directory 0700" 700 "$(stat -c %a "$KEPT")"
got=$("$MIGSCOPE" analyze --format json "src=$KEPT" 2>"$TMP/analyze.err")
expect_eq "ring: analyze DIR finds the one migration" 1 "$(jq '.migrations | length' <<<"$got")"
expect_eq "ring: its bytes equal the fixture's (exact counters)" "$W_OUT" \
	"$(jq -r '.migrations[0].stream.out_bytes' <<<"$got")"
expect_eq "ring: bytes from the counters" counters "$(jq -r '.migrations[0].stream.bytes_source' <<<"$got")"
expect_eq "ring: every RARP in the kept files" "$W_RARP" "$(jq -r '.migrations[0].announce.rarp | length' <<<"$got")"
expect_eq "ring: the hook's mark copied into the kept directory" 1 "$(wc -l <"$KEPT/domains.log")"
expect_eq "ring: analyze DIR names the guest's libvirt domain" 'web "1"' \
	"$(jq -r '.migrations[0].guest.domain' <<<"$got")"
expect_eq "ring: ... and its UUID" 6f1e0c2a-5b7d-4e3a-9c1f-2a4b6c8d0e1f \
	"$(jq -r '.migrations[0].guest.uuid' <<<"$got")"
# the ring's own files hold no migration
rest=$("$MIGSCOPE" analyze --format json "src=$R" 2>/dev/null | jq '.migrations | length')
expect_eq "ring: the ring's remaining files hold no migration" 0 "$rest"
if out=$(promtool check metrics <"$TMP/agent.prom" 2>&1); then
	ok "ring: the agent's --metrics pass promtool"
else
	not_ok "ring: the agent's --metrics pass promtool" "$out"
fi
grep -q '^migscope_capture_kept_migrations{node="cn1"} 1$' "$TMP/agent.prom" &&
	ok "ring: metrics count the kept migration" ||
	not_ok "ring: metrics count the kept migration" "$(grep kept "$TMP/agent.prom")"
grep -q '^migscope_capture_ring_files{node="cn1"} [0-3]$' "$TMP/agent.prom" &&
	ok "ring: metrics show the ring's files" || not_ok "ring: metrics show the ring's files"
left=$(in_ns bpftool net show dev vb 2>/dev/null | grep -v -E '^(xdp|tc|flow_dissector|netfilter):$|^$')
expect_eq "ring: nothing attached after SIGTERM" "" "$left"

# --- a day of files: read only around the migration -------------------------
# the node's ring and kept files in one directory, and a prober's directory
# of tcpdump -G files (probes alone): an hour before, ten minutes before, an
# hour after. The agent's counters say when the migration was: of the
# prober's files only the one whose span (to the next file's first packet)
# meets a minute around it is read; the migration's bytes stay exact.
D=$TMP/day
mkdir -p "$D/cn1" "$D/prober"
cp "$KEPT"/*.pcapng "$R"/cn1.[0-9]*.pcapng "$D/cn1/"
PROBES=fixtures/synthetic/baseline-ctl.pcap
mig=
for f in $(ls "$KEPT"/*.pcapng | sort -V); do # the first kept file with a frame
	mig=$(tshark -r "$f" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
	[ -n "$mig" ] && break
done
p0=$(tshark -r "$PROBES" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
shift=$(awk -v m="$mig" -v p="$p0" 'BEGIN { printf "%d", m - p }')
editcap -t $((shift - 3600)) "$PROBES" "$D/prober/ctl-1.pcap"
editcap -t $((shift - 600)) "$PROBES" "$D/prober/ctl-2.pcap"
editcap -t $((shift + 3600)) "$PROBES" "$D/prober/ctl-3.pcap"
probe_pkts=$(capinfos -c -M "$PROBES" 2>/dev/null | awk '/Number of packets/ { print $NF }')
day=$("$MIGSCOPE" analyze --format json "src=$D/cn1" "ctl=$D/prober" 2>/dev/null)
expect_eq "ring: a day's files: the migration's bytes, exact" "$W_OUT" \
	"$(jq -r '.migrations[0].stream.out_bytes' <<<"$day")"
expect_eq "ring: a day's files: of the prober's three files only the one around the migration read" \
	"$probe_pkts" "$(jq -r '.inputs[1].packets' <<<"$day")"

# --- restart, and the kept directories' bound --------------------------------
last=$(find "$R" -maxdepth 1 -name 'cn1.[0-9]*.pcapng' | sort -V | tail -1)
kb=$(du -sb "$KEPT" | cut -f1)
# a bound below two migrations: the second one's directory pushes out the first
if start_agent "$TMP/agent2.log" -w "$R/cn1.pcapng" -G 1 -W 3 --keep-margin 1 \
	--keep-max "$((kb * 3 / 2 / 1024))k"; then
	first=$(sed -n 's/.*writing \([^ ]*\) (a ring.*/\1/p' "$TMP/agent2.log")
	newest=$(printf '%s\n' "$last" "$first" | sort -V | tail -1)
	check "ring: a restarted agent numbers after the files it finds ($(basename "$first"))" \
		test "$newest" = "$first" -a "$first" != "$last"
	sleep 1.5
	n=$(ring_files "$R")
	check "ring: ... and counts them against -W ($n files)" test "$n" -le 3
	in_ns "$INJECT" va "$FIXTURE" >/dev/null
	sleep 3.5
	stop_agent
	expect_eq "ring: exit 0 after the second SIGTERM" 0 $?
else
	not_ok "ring: the agent restarts on its ring" "$(cat "$TMP/agent2.log")"
fi
dirs=$(find "$R/migrations" -mindepth 1 -maxdepth 1 -type d)
expect_eq "ring: --keep-max left one kept directory" 1 "$(grep -c . <<<"$dirs")"
check "ring: the newer migration's directory stayed" test "$dirs" != "$KEPT"
total=$(du -sb "$R/migrations" | cut -f1)
check "ring: kept bytes within --keep-max ($total)" test "$total" -le $((kb * 3 / 2 + 8192))
got=$("$MIGSCOPE" analyze --format json "src=$dirs" 2>/dev/null)
expect_eq "ring: the second kept migration analyzes with exact bytes" "$W_OUT" \
	"$(jq -r '.migrations[0].stream.out_bytes' <<<"$got")"

# --- usage ------------------------------------------------------------------
"$MIGSCOPE" capture -i vb -w "$TMP/x.pcapng" -G 5 2>"$TMP/usage.err"
rc=$?
if [ $rc = 2 ] && grep -q -- "-W N" "$TMP/usage.err" && [ "$(wc -l <"$TMP/usage.err")" = 1 ]; then
	ok "ring: -G without -W is refused (exit 2, one line)"
else
	not_ok "ring: -G without -W is refused" "rc=$rc $(cat "$TMP/usage.err")"
fi
