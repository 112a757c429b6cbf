#!/bin/bash
# migscope capture on a veth pair in a throwaway network namespace: a fixture
# is sent onto one end (tests/capture/inject.c) while the agent watches the
# other. The file must be complete after SIGINT, open in tshark, and its exact
# counters must equal what `migscope analyze` finds in the fixture itself;
# after exit nothing of ours stays attached (tcx and tc clsact); a ring buffer
# too small for the burst counts its drops and the counters still match;
# a local TCP sender's stream (TSO skbs) is counted exactly with its headers
# read in place; a missing interface, a second agent on the NIC and a
# non-root user get one-line errors and exit 2. Needs root: without it the
# suite fails.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$BUILD/migscope
INJECT=$BUILD/tools/msc-inject
FIXTURE=fixtures/synthetic/baseline-cn1.pcap

if [ "$(id -u)" != 0 ]; then
	not_ok "capture: needs root (CAP_BPF, CAP_NET_ADMIN, network namespaces)"
	exit 1
fi
NS=msc-cap-$$
TMP=$(mktemp -d /tmp/msc-capture-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-a" 2>/dev/null
	ip netns del "$NS-b" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$TMP" # KEEP=1: leave the files for a look
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
# The agent gets SIGINT, so $! must be its pid: ip netns exec forks and a
# backgrounded shell function is a subshell, so it runs under nsenter (which
# execs it), called directly.

# no addresses at all: the frames are only observed, never answered; IPv6 off
# so the kernel's own ND/MLD frames do not mix in
quiet_veth_ns "$NS" || {
	not_ok "capture: veth pair in namespace $NS"
	exit 1
}

# start_capture NAME ARGS...: the agent in the background until attached
start_capture() {
	local name=$1; shift
	agent_start "$NS" "$TMP/$name.err" -i vb --node cn1 "$@" || return 1
	CAP_PID=$AGENT_PID
	PIDS+=("$CAP_PID")
}
stop_capture() { # -> exit status of the agent; 124 if SIGINT did not end it
	AGENT_PID=$CAP_PID
	agent_stop INT
}
# The agent's programs: the ones that appeared while this test's agent ran
# (another session's agent may be loaded too).
IDS_BEFORE=$(msc_ids)
new_ids() { comm -13 <(echo "$IDS_BEFORE") <(msc_ids) | grep .; }
json_of() { "$MIGSCOPE" analyze --format json "src=$1" 2>/dev/null; }
field() { jq -r "$2" <<<"$1"; }

want=$(json_of "$FIXTURE")
W_OUT=$(field "$want" '.migrations[0].stream.out_bytes')
W_WIRE=$(field "$want" '.migrations[0].stream.out_wire_bytes')
W_RETX=$(field "$want" '.migrations[0].stream.retransmitted_segments')
W_RARP=$(field "$want" '.migrations[0].announce.rarp | length')
FRAMES=$(tshark -r "$FIXTURE" 2>/dev/null | wc -l)

# --- tcx: inject, SIGINT, compare -------------------------------------------
# (set-up steps: a failure is "not ok", success no test of its own)
if start_capture tcx -w "$TMP/cap.pcapng"; then
	grep -q "(tcx" "$TMP/tcx.err" && ok "capture: tcx links on a 6.6+ kernel" ||
		not_ok "capture: tcx links on a 6.6+ kernel" "$(cat "$TMP/tcx.err")"
	# a second agent on the same NIC
	in_ns "$MIGSCOPE" capture -i vb -w "$TMP/second.pcapng" 2>"$TMP/second.err"
	rc=$?
	if [ $rc = 2 ] && grep -q "already holds vb" "$TMP/second.err" && [ "$(wc -l <"$TMP/second.err")" = 1 ]; then
		ok "capture: a second migscope on the NIC is refused (exit 2, one line)"
	else
		not_ok "capture: a second migscope on the NIC is refused" "rc=$rc $(cat "$TMP/second.err")"
	fi
	MINE=$(new_ids)
	[ -n "$MINE" ] || not_ok "capture: programs loaded while running"
	sent=$(in_ns "$INJECT" va "$FIXTURE")
	[ "$sent" = "$FRAMES" ] || not_ok "capture: every fixture frame injected" "expected $FRAMES, got $sent"
	sleep 0.3
	stop_capture
	expect_eq "capture: exit 0 after SIGINT" 0 $?
else
	not_ok "capture: attaches to vb" "$(cat "$TMP/tcx.err")"
fi
left=$(comm -12 <(echo "${MINE:-}") <(msc_ids) | grep .)
if [ -n "$left" ]; then not_ok "capture: no program of ours left after exit" "still loaded: ids $left"
else ok "capture: no program of ours left after exit"; fi
expect_eq "capture: bpftool net show lists nothing on vb" "" \
	"$(in_ns bpftool net show dev vb 2>/dev/null | grep -v -E '^(xdp|tc|flow_dissector|netfilter):$|^$')"
expect_eq "capture: file mode 0600" 600 "$(stat -c %a "$TMP/cap.pcapng" 2>/dev/null)"
tshark -r "$TMP/cap.pcapng" >"$TMP/tshark.txt" 2>"$TMP/tshark.err"
rc=$?
if [ $rc = 0 ] && [ -s "$TMP/tshark.txt" ]; then ok "capture: tshark opens the file"
else not_ok "capture: tshark opens the file" "rc=$rc $(head -3 "$TMP/tshark.err")"; fi
got=$(json_of "$TMP/cap.pcapng")
expect_eq "capture: out_bytes equal analyze of the fixture" "$W_OUT" "$(field "$got" '.migrations[0].stream.out_bytes')"
expect_eq "capture: out_wire_bytes equal" "$W_WIRE" "$(field "$got" '.migrations[0].stream.out_wire_bytes')"
expect_eq "capture: retransmitted segments equal" "$W_RETX" "$(field "$got" '.migrations[0].stream.retransmitted_segments')"
# injected frames come from no socket of this node: the tracer names none of
# the flows while the NIC saw data sent again, so the NIC's count stays
"$MIGSCOPE" analyze "src=$TMP/cap.pcapng" 2>&1 >/dev/null | grep -q "retransmit tracer saw none" &&
	ok "capture: a tracer blind to the sender leaves the NIC's retransmit count" ||
	not_ok "capture: a tracer blind to the sender leaves the NIC's retransmit count"
expect_eq "capture: bytes from the exact counters" counters "$(field "$got" '.migrations[0].stream.bytes_source')"
expect_eq "capture: every RARP recorded" "$W_RARP" "$(field "$got" '.migrations[0].announce.rarp | length')"
# RARP spacing (QEMU's 50/150/250/350 ms schedule) survives only as the order
# of events here: injection is paced, not replayed in real time.
# stream frames are cut after the TCP header: no guest memory in the file
big=$(tshark -r "$TMP/cap.pcapng" -Y 'tcp.len > 0 and frame.cap_len > 66' 2>/dev/null | wc -l)
expect_eq "capture: stream frames cut after the TCP header" 0 "$big"

# --- tc clsact fallback: attached while running, nothing left after -----------
if start_capture tc -w "$TMP/tc.pcapng.gz" --attach tc; then
	n=$(in_ns tc filter show dev vb ingress 2>/dev/null | grep -c msc_ingress)
	expect_eq "capture: clsact filter attached (--attach tc)" 1 "$n"
	in_ns "$INJECT" va "$FIXTURE" >/dev/null
	sleep 0.3
	stop_capture
	expect_eq "capture: exit 0 after SIGINT (tc)" 0 $?
	left=$(in_ns tc filter show dev vb ingress; in_ns tc filter show dev vb egress)
	expect_eq "capture: tc filter show lists nothing after exit" "" "$left"
	got=$(json_of "$TMP/tc.pcapng.gz")
	expect_eq "capture: .gz file, counters equal (tc)" "$W_OUT" "$(field "$got" '.migrations[0].stream.out_bytes')"
else
	not_ok "capture: clsact filter attached (--attach tc)" "$(cat "$TMP/tc.err")"
fi

# --- a ring buffer too small: drops counted, counters exact -------------------
if start_capture ring -w "$TMP/ring.pcapng" --ring-size 4096; then
	kill -STOP "$CAP_PID" # nobody drains: the burst overflows the ring
	in_ns "$INJECT" va "$FIXTURE" >/dev/null
	kill -CONT "$CAP_PID"
	sleep 0.3
	stop_capture
	drops=$(sed -n 's/.* \([0-9]*\) events lost.*/\1/p' "$TMP/ring.err")
	if [ "${drops:-0}" -gt 0 ]; then ok "capture: ring-buffer drops counted ($drops)"
	else not_ok "capture: ring-buffer drops counted" "$(cat "$TMP/ring.err")"; fi
	got=$(json_of "$TMP/ring.pcapng")
	expect_eq "capture: counters exact despite drops" "$W_OUT" "$(field "$got" '.migrations[0].stream.out_bytes')"
	"$MIGSCOPE" analyze "src=$TMP/ring.pcapng" 2>&1 >/dev/null | grep -q "events were lost" &&
		ok "capture: analyze reports the lost events" ||
		not_ok "capture: analyze reports the lost events"
else
	not_ok "capture: ring-buffer drops counted" "$(cat "$TMP/ring.err")"
fi

# --- a local TCP sender: TSO skbs, counted exactly and parsed in place --------
# Injected frames are linear; a socket's are not: TCP hands the NIC 64 KiB
# skbs whose linear part is just their headers and keeps a clone of each.
# The agent on the sender's NIC must count their payload exactly and read
# their headers where they are (pulling them in copied every cloned head,
# ~400 ns a packet: it did so for 51850 of 51858 frames before).
if ip netns add "$NS-a" && ip netns add "$NS-b" &&
	ip link add "${NS}a" netns "$NS-a" type veth peer name "${NS}b" netns "$NS-b" &&
	ip -n "$NS-a" addr add 198.18.205.1/24 dev "${NS}a" &&
	ip -n "$NS-b" addr add 198.18.205.2/24 dev "${NS}b" &&
	ip -n "$NS-a" link set "${NS}a" up && ip -n "$NS-b" link set "${NS}b" up &&
	ip netns exec "$NS-b" iperf3 -s -1 -p 49152 -D -I "$TMP/iperf3.pid" >"$TMP/iperf3.err" 2>&1; then
	sleep 0.3
	# tcpdump beside the agent is the oracle: tshark's sum of the TCP
	# lengths of what the NIC sent (iperf3's own count is what it wrote, and
	# the end of a -n test may discard some of it unsent)
	nsenter --net="/run/netns/$NS-a" tcpdump -i "${NS}a" -s 128 --immediate-mode -n -w "$TMP/tcp.pcap" \
		tcp port 49152 2>"$TMP/tcpdump.err" &
	TCPDUMP=$!
	PIDS+=("$TCPDUMP")
	nsenter --net="/run/netns/$NS-a" "$MIGSCOPE" capture -i "${NS}a" -w "$TMP/tcp.pcapng" \
		2>"$TMP/tcp.err" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	for _ in $(seq 50); do
		grep -q attached "$TMP/tcp.err" && grep -q "listening on" "$TMP/tcpdump.err" && break
		sleep 0.1
	done
	ip netns exec "$NS-a" iperf3 -c 198.18.205.2 -p 49152 -n 64M >/dev/null 2>&1
	stop_capture
	expect_eq "capture: exit 0 after a TCP stream" 0 $?
	sleep 0.2
	kill -INT "$TCPDUMP"
	wait "$TCPDUMP"
	line=$(grep -ao 'iface name=[[:print:]]*' "$TMP/tcp.pcapng" | head -1)
	out=$(sed -n 's/.* frames_out=\([0-9]*\).*/\1/p' <<<"$line")
	pulled=$(sed -n 's/.* heads_pulled=\([0-9]*\).*/\1/p' <<<"$line")
	# the data connection: the flow to the port carrying the most payload
	read -r sport got <<<"$(grep -ao 'flow src=198.18.205.1 [[:print:]]*dport=49152 [[:print:]]*' \
		"$TMP/tcp.pcapng" | sed -n 's/.* sport=\([0-9]*\) .* payload_bytes=\([0-9]*\).*/\1 \2/p' |
		sort -k2 -n | tail -1)"
	want=$(tshark -r "$TMP/tcp.pcap" -Y "ip.src == 198.18.205.1 and tcp.srcport == ${sport:-0}" \
		-T fields -e tcp.len 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')
	if [ "${want:-0}" -gt 60000000 ]; then
		expect_eq "capture: a TCP sender's TSO stream counted exactly (tshark: $want B)" "$want" "$got"
	else
		not_ok "capture: a TCP sender's TSO stream counted exactly" "tshark counted ${want:-nothing}: $(tail -2 "$TMP/tcpdump.err")"
	fi
	if [ "${out:-0}" -gt 100 ] && [ "${pulled:-x}" -le $((out / 100)) ] 2>/dev/null; then
		ok "capture: a TCP sender's headers read in place ($pulled of $out frames out pulled)"
	else
		not_ok "capture: a TCP sender's headers read in place (at most 1 % pulled)" "${line:-no counters line}"
	fi
else
	not_ok "capture: TCP stream between two namespaces" "$(cat "$TMP/iperf3.err" 2>/dev/null)"
fi

# --- errors --------------------------------------------------------------------
in_ns "$MIGSCOPE" capture -i nosuch0 -w "$TMP/x.pcapng" 2>"$TMP/missing.err"
rc=$?
if [ $rc = 2 ] && grep -q "no such interface: nosuch0" "$TMP/missing.err"; then
	ok "capture: missing interface, exit 2"
else
	not_ok "capture: missing interface, exit 2" "rc=$rc $(cat "$TMP/missing.err")"
fi
[ -e "$TMP/x.pcapng" ] && not_ok "capture: no file left for a failed start" ||
	ok "capture: no file left for a failed start"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$MIGSCOPE" capture -i lo -w /tmp/msc-nobody-$$.pcapng 2>"$TMP/nobody.err"
	rc=$?
	if [ $rc = 2 ] && grep -q "needs root" "$TMP/nobody.err"; then
		ok "capture: without root, a clear error and exit 2"
	else
		not_ok "capture: without root, a clear error and exit 2" "rc=$rc $(cat "$TMP/nobody.err")"
	fi
	rm -f /tmp/msc-nobody-$$.pcapng
else
	not_ok "capture: without root: setpriv (util-linux) is installed"
fi
in_ns "$MIGSCOPE" capture -w "$TMP/y.pcapng" 2>/dev/null
expect_eq "capture: no interface given, exit 2" 2 $?
