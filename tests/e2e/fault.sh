#!/bin/bash
# msl-fault on a real switch port, as the lab uses it: three throwaway
# namespaces (a Linux bridge "switch", hosts a and b on veths, addresses from
# 198.18.0.0/15), msl-fault on b's port, traffic from a. Each fault shows up
# where a receiver would see it: drop as ping loss (exactly the frames
# msl-fault counts), duplicate as ping's DUP!, corrupt as the receiver's
# checksum errors (and a TCP transfer that still arrives intact), hold as a
# gap of the hold's length. After every exit nothing is left on the port.
# Needs root; without it one "not ok" says so rather than passing.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
FAULT=$BUILD/msl-fault
P=mslf-$$ # not msl-<pid>-: the lab removes those as stale leftovers of its own
SW=$P-sw A=$P-a B=$P-b
T=$(mktemp -d)
FPIDS=()

cleanup() {
	local pid ns
	for pid in "${FPIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${FPIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "$SW" "$A" "$B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" != 0 ]; then
	not_ok "fault e2e: needs root (network namespaces, tc, BPF); not run"
	exit 0
fi
if [ ! -x "$FAULT" ]; then
	not_ok "fault e2e: $FAULT not built (make $FAULT)"
	exit 0
fi

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# switch: br0 with ports pa, pb; a and b: eth0. Offloads off as in the lab,
# so checksums are computed (and checked) in software; no IPv6 and static
# neighbours, so the pings are the only frames on the wire.
topology() {
	local ns
	for ns in "$SW" "$A" "$B"; do
		ip netns add "$ns" || return 1
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$SW" link add name br0 type bridge &&
		ip -n "$SW" link set br0 up &&
		ip -n "$A" link add name eth0 type veth peer name pa netns "$SW" &&
		ip -n "$B" link add name eth0 type veth peer name pb netns "$SW" || return 1
	for p in pa pb; do
		ip -n "$SW" link set "$p" master br0 up || return 1
		nsx "$SW" ethtool -K "$p" tx off tso off gso off gro off >/dev/null 2>&1
	done
	ip -n "$A" addr add 198.18.0.1/24 dev eth0 && ip -n "$A" link set eth0 up &&
		ip -n "$B" addr add 198.18.0.2/24 dev eth0 && ip -n "$B" link set eth0 up || return 1
	nsx "$A" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
	nsx "$B" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
	MAC_A=$(nsx "$A" cat /sys/class/net/eth0/address)
	MAC_B=$(nsx "$B" cat /sys/class/net/eth0/address)
	ip -n "$A" neigh replace 198.18.0.2 lladdr "$MAC_B" dev eth0 nud permanent &&
		ip -n "$B" neigh replace 198.18.0.1 lladdr "$MAC_A" dev eth0 nud permanent
}

# start NAME ARGS...: msl-fault in the switch namespace until stop; waits
# for its "attached" line. FPID is its pid: ip netns exec execs it, and a
# simple command in the background is exec'd by bash's child (a function
# would keep a bash in between, and a signal would stop that bash only).
start() {
	local name=$1; shift
	ip netns exec "$SW" "$FAULT" "$@" >"$T/$name.json" 2>"$T/$name.err" &
	FPID=$!
	FPIDS+=("$FPID")
	for _ in $(seq 100); do
		grep -q '^msl-fault: attached' "$T/$name.err" && return 0
		kill -0 "$FPID" 2>/dev/null || break
		sleep 0.05
	done
	not_ok "$name: msl-fault attached" "$(cat "$T/$name.err")"
	return 1
}

# stop PID [SIG]: the exit status of msl-fault
stop() {
	kill "-${2:-TERM}" "$1"
	wait "$1"
}

# field NAME KEY: from msl-fault's JSON line
field() { jq -r ".$2" "$T/$1.json"; }

# port_clean NAME DEV: no filter left in either direction, no clsact qdisc
# (it was created by msl-fault), and msl-fault's stats line is JSON
port_clean() {
	local left
	left=$(nsx "$SW" tc filter show dev "$2" ingress; nsx "$SW" tc filter show dev "$2" egress)
	expect_eq "$1: no tc filter left on $2" "" "$left"
	if nsx "$SW" tc qdisc show dev "$2" | grep -q clsact; then
		not_ok "$1: the clsact qdisc msl-fault created is gone"
	else
		ok "$1: the clsact qdisc msl-fault created is gone"
	fi
	check "$1: one JSON line on stdout" jq -e '.iface and .applied != null' "$T/$1.json"
}

# ping_ab N INTERVAL: pings from a to b; sets TX, RX, DUPS
ping_ab() {
	nsx "$A" ping -n -c "$1" -i "$2" -W 1 198.18.0.2 >"$T/ping" 2>&1
	TX=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping")
	RX=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping")
	DUPS=$(grep -c 'DUP!' "$T/ping")
	: "${TX:=0}" "${RX:=0}"
}

icmp_csum_errors() { # NS: Icmp InCsumErrors of that namespace
	nsx "$1" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["InCsumErrors"] }' /proc/net/snmp
}

tcp_csum_errors() { # NS: Tcp InCsumErrors
	nsx "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["InCsumErrors"] }' /proc/net/snmp
}

if ! topology 2>"$T/topology.err"; then
	not_ok "fault e2e: topology" "$(cat "$T/topology.err")"
	exit 0
fi
ping_ab 3 0.05
# set-up: a failure is "not ok", success no test of its own
[ "$RX" = 3 ] || not_ok "baseline: pings cross the bridge" "expected 3 replies, got $RX: $(tail -3 "$T/ping")"

# --- drop 50 % of what b sends: loss ~ 50 %, and exactly the counted frames
N=400
if start drop50 -i pb --ingress --kind drop --match all --rate 50; then
	ping_ab $N 0.005
	stop "$FPID"
	expect_eq "drop50: exit status" 0 "$?"
	D=$(field drop50 dropped)
	awk -v r="$RX" -v n=$N 'BEGIN { exit !(r >= 0.35 * n && r <= 0.65 * n) }' &&
		ok "drop50: loss $((N - RX))/$N is near 50 %" ||
		not_ok "drop50: loss $((N - RX))/$N is near 50 %" "$(tail -3 "$T/ping")"
	expect_eq "drop50: replies received + dropped = sent" "$N" "$((RX + D))"
	expect_eq "drop50: every frame from b matched" "$(field drop50 seen)" "$(field drop50 matched)"
	expect_eq "drop50: rate_ppm" 500000 "$(field drop50 rate_ppm)"
	port_clean drop50 pb
fi

# --- duplicate, both directions of the hook: every reply arrives twice
N=50
for dir in egress ingress; do
	port=pb
	[ $dir = egress ] && port=pa # towards a
	if start dup-$dir -i $port --$dir --kind duplicate --match all; then
		ping_ab $N 0.01
		stop "$FPID"
		expect_eq "dup-$dir: exit status" 0 "$?"
		# the clone goes first; ping quits on its Nth reply, before the
		# last original can show up as a DUP!
		awk -v d="$DUPS" -v n=$N 'BEGIN { exit !(d == n || d == n - 1) }' &&
			ok "dup-$dir: ping saw every reply twice ($DUPS DUP!)" ||
			not_ok "dup-$dir: ping saw every reply twice" "$DUPS DUP! for $N requests"
		expect_eq "dup-$dir: no reply lost" "$N" "$RX"
		expect_eq "dup-$dir: duplicated" "$N" "$(field dup-$dir duplicated)"
		expect_eq "dup-$dir: helper errors" 0 "$(field dup-$dir errors)"
		port_clean dup-$dir $port
	fi
done

# --- corrupt: the receiver's checksum check drops every corrupted reply
N=20
before=$(icmp_csum_errors "$A")
if start corrupt -i pb --kind corrupt --match all; then
	ping_ab $N 0.01
	stop "$FPID"
	expect_eq "corrupt: exit status" 0 "$?"
	# ping's raw socket gets its copy before the kernel's ICMP checks the
	# checksum: it counts the reply, and finds the flipped bit in the data
	# (the last byte of the frame)
	expect_eq "corrupt: ping sees the flipped bit in every reply" "$N" \
		"$(grep -c '^wrong data byte #55' "$T/ping")"
	expect_eq "corrupt: corrupted" "$N" "$(field corrupt corrupted)"
	expect_eq "corrupt: a's ICMP checksum errors" "$N" "$(($(icmp_csum_errors "$A") - before))"
	port_clean corrupt pb
fi

# --- corrupt 2 % of a TCP stream on the migration ports: TCP drops the
# corrupted segments (checksum) and retransmits; the data arrives intact
head -c 4000000 /dev/urandom >"$T/sent"
before=$(tcp_csum_errors "$B")
if start corrupt-stream -i pb --egress --kind corrupt --match stream --rate 2 --ports 49152-49215; then
	nsx "$B" timeout 30 socat -u TCP-LISTEN:49160,reuseaddr "CREATE:$T/received" &
	lpid=$!
	sleep 0.3
	nsx "$A" timeout 30 socat -u "OPEN:$T/sent" TCP:198.18.0.2:49160
	wait "$lpid"
	stop "$FPID"
	expect_eq "corrupt-stream: exit status" 0 "$?"
	if cmp -s "$T/sent" "$T/received"; then
		ok "corrupt-stream: 4 MB arrived intact"
	else
		not_ok "corrupt-stream: 4 MB arrived intact" "$(ls -l "$T/received" 2>&1)"
	fi
	c=$(field corrupt-stream corrupted)
	awk -v c="$c" 'BEGIN { exit !(c > 0) }' && ok "corrupt-stream: $c segments corrupted" ||
		not_ok "corrupt-stream: segments corrupted" "$(cat "$T/corrupt-stream.json")"
	expect_eq "corrupt-stream: b's TCP checksum errors = corrupted" "$c" \
		"$(($(tcp_csum_errors "$B") - before))"
	port_clean corrupt-stream pb
fi

# --- hold 1 s on b's frames (by MAC), stopped with SIGINT (a background job
# starts with SIGINT ignored: msl-fault must catch it anyway)
if start hold -i pb --kind hold --match guest --guest "$MAC_B" --hold 1; then
	ping_ab 250 0.01
	stop "$FPID" INT
	expect_eq "hold: SIGINT, exit status" 0 "$?"
	D=$(field hold dropped)
	expect_eq "hold: replies received + dropped = sent" "$TX" "$((RX + D))"
	# ping's pace varies with the machine: judge the drops by their times
	span=$(jq -r '(.last_applied_ns - .first_applied_ns) / 1e9' "$T/hold.json")
	awk -v d="$D" -v s="$span" 'BEGIN { exit !(d >= 20 && s >= 0.8 && s < 1.0) }' &&
		ok "hold: $D replies dropped over ${span}s, then none" ||
		not_ok "hold: 1 s of replies dropped, then none" "$(cat "$T/hold.json")"
	awk -v r="$RX" 'BEGIN { exit !(r >= 140) }' && ok "hold: replies after the hold ($RX)" ||
		not_ok "hold: replies after the hold" "$RX of $TX"
	port_clean hold pb
fi

# --- two injectors on one port: the one that created the clsact qdisc exits
# first; the other's filter stays and works until it exits itself
if start two-in -i pb --ingress --kind drop --match all --rate 0 &&
	in_pid=$FPID && start two-out -i pb --egress --kind drop --match all; then
	out_pid=$FPID
	stop "$in_pid"
	expect_eq "two: first exits 0" 0 "$?"
	if nsx "$SW" tc filter show dev pb egress | grep -q fault_inject; then
		ok "two: the other direction's filter is still attached"
	else
		not_ok "two: the other direction's filter is still attached"
	fi
	ping_ab 5 0.05
	expect_eq "two: the egress injector still drops" 0 "$RX"
	stop "$out_pid"
	expect_eq "two: second exits 0" 0 "$?"
	left=$(nsx "$SW" tc filter show dev pb ingress; nsx "$SW" tc filter show dev pb egress)
	expect_eq "two: no tc filter left on pb" "" "$left"
	expect_eq "two: the egress injector counted its drops" 5 "$(field two-out dropped)"
	# the (now empty) clsact qdisc stays: its creator left while it was in
	# use, and the other injector did not create it
	nsx "$SW" tc qdisc del dev pb clsact 2>/dev/null
fi

# --- verdicts: a frame msl-fault lets through gets TC_ACT_UNSPEC, so the
# filters after it on the hook still run. The kernel puts a later filter
# first: "first" drops every reply, "second" (run before it) passes all.
if start first -i pb --kind drop --match all && first_pid=$FPID &&
	start second -i pb --kind drop --match all --rate 0; then
	second_pid=$FPID
	ping_ab 5 0.05
	stop "$second_pid"
	stop "$first_pid"
	expect_eq "chain: the filter after a passing one still drops" 0 "$RX"
	expect_eq "chain: the passing one saw every reply" 5 "$(field second seen)"
	expect_eq "chain: the one after it saw them too" 5 "$(field first seen)"
	port_clean first pb
fi

# --- errors: one line on stderr, exit 2, nothing attached
err_case() { # NAME COMMAND...
	local name=$1 rc lines; shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ]; then ok "$name: exit 2, one line"; else
		not_ok "$name: exit 2, one line" "exit $rc: $(head -3 "$T/err")"; fi
}
err_case "no such interface" nsx "$SW" "$FAULT" -i nope0 --kind drop --match all
err_case "bad --rate" nsx "$SW" "$FAULT" -i pb --kind drop --match all --rate 150
err_case "guest without --guest" nsx "$SW" "$FAULT" -i pb --kind drop --match guest
err_case "bad --guest" nsx "$SW" "$FAULT" -i pb --kind drop --match guest --guest 52:54:00:12:34
err_case "hold without --hold" nsx "$SW" "$FAULT" -i pb --kind hold --match all
err_case "unknown option" nsx "$SW" "$FAULT" -i pb --kind drop --match all --frobnicate
if command -v setpriv >/dev/null; then
	err_case "unprivileged" nsx "$SW" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$FAULT" -i pb --kind drop --match all
	grep -q root "$T/err" && ok "unprivileged: says it needs root" ||
		not_ok "unprivileged: says it needs root" "$(cat "$T/err")"
else
	not_ok "unprivileged: setpriv (util-linux) is installed"
fi
left=$(nsx "$SW" tc filter show dev pb ingress; nsx "$SW" tc qdisc show dev pb | grep clsact)
expect_eq "errors: nothing attached to pb" "" "$left"
