#!/bin/bash
# migscope replay: the capture agent's eBPF programs run over every fixture
# capture (fixtures/synthetic and, when present, fixtures/lab/*/) with
# BPF_PROG_TEST_RUN must count what `migscope analyze` counts in the same file:
# per direction of the migration hosts, packets, payload and wire bytes
# exactly; the sender's out-of-order segments; the guest's RARP, gratuitous
# ARP and unsolicited NA frames; every frame run, no event lost. Then bad
# input gets one line and exit 2. Needs root (it loads BPF programs): without
# it the suite fails.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
FIXTURES=${2:-fixtures}
MIGSCOPE=$BUILD/migscope

if [ "$(id -u)" != 0 ]; then
	not_ok "replay: needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)"
	exit 1
fi
TMP=$(mktemp -d /tmp/msc-replay-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# What analyze says of one capture, per ordered host pair "src>dst": the
# migration flows' packets, payload and wire bytes (forward from the
# migration's view of this capture, reverse from its reverse_* figures).
# shellcheck disable=SC2016
EXPECTED_PAIRS='[.migrations[] | (.stream.by_vantage.src // .stream.by_vantage.dst) as $v
	| select($v != null)
	| {k: "\(.source)>\(.destination)", p: $v.packets, b: $v.payload_bytes, w: $v.wire_bytes},
	  {k: "\(.destination)>\(.source)", p: $v.reverse_packets, b: $v.reverse_payload_bytes,
	   w: $v.reverse_wire_bytes}]
	| group_by(.k) | map({key: .[0].k, value: {packets: (map(.p) | add),
	  payload_bytes: (map(.b) | add), wire_bytes: (map(.w) | add)}}) | from_entries'
REPLAY_PAIRS='[.flows[] | {k: "\(.src)>\(.dst)", p: .packets, b: .payload_bytes, w: .wire_bytes}]
	| group_by(.k) | map({key: .[0].k, value: {packets: (map(.p) | add),
	  payload_bytes: (map(.b) | add), wire_bytes: (map(.w) | add)}}) | from_entries'
EXPECTED_OOO='[.migrations[] | (.stream.by_vantage.src // .stream.by_vantage.dst) as $v
	| select($v != null) | {k: "\(.source)>\(.destination)", o: $v.retransmitted_segments}]
	| group_by(.k) | map({key: .[0].k, value: (map(.o) | add)}) | from_entries'
REPLAY_OOO='[.flows[] | {k: "\(.src)>\(.dst)", o: .ooo_segments}]
	| group_by(.k) | map({key: .[0].k, value: (map(.o) | add)}) | from_entries'
# replay follows one guest (--guest): its migrations' announcements (an
# evacuation's captures hold other guests' too)
EXPECTED_ANNOUNCE='[.migrations[] | select((.guest.mac // "") == $g)] as $m
	| {rarp: ([$m[].announce.rarp | length] | add // 0),
	   garp: ([$m[].announce.garp | length] | add // 0),
	   na: ([$m[].announce.na | length] | add // 0)}'
REPLAY_ANNOUNCE='{rarp: .guest_frames.rarp, garp: .guest_frames.garp, na: .guest_frames.unsolicited_na}'

captures=()
for f in "$FIXTURES"/synthetic/*.pcap "$FIXTURES"/synthetic/*.pcap.gz "$FIXTURES"/lab/*/*.pcap \
	"$FIXTURES"/lab/*/*.pcap.gz; do
	[ -f "$f" ] && captures+=("$f")
done
if [ ${#captures[@]} -lt 24 ]; then
	not_ok "replay: the synthetic fixtures are there" "found ${#captures[@]} captures under $FIXTURES"
fi

compared=0 migrations=0
for f in "${captures[@]}"; do
	name=${f#"$FIXTURES"/}
	"$MIGSCOPE" analyze --format json "$f" >"$TMP/a.json" 2>"$TMP/a.err"
	rc=$?
	if [ $rc -gt 1 ]; then
		not_ok "$name: analyze ran" "exit $rc: $(cat "$TMP/a.err")"
		continue
	fi
	guest=$(jq -r '.guest.mac // empty' "$TMP/a.json")
	# a migration analyze found by its shape (a proxy's random port) is one
	# the agent counts once told its port, as an operator would with --ports
	shaped=$(jq -r '[.migrations[] | select(.stream.features | index("proxied"))
		| .stream.channels[].dst_port] | unique | map(tostring) | join(",")' "$TMP/a.json")
	if ! "$MIGSCOPE" replay --format json ${guest:+--guest "$guest"} \
		${shaped:+--ports "49152-49215,16509,16514,$shaped"} "$f" >"$TMP/r.json" 2>"$TMP/r.err" ||
		! jq -e . "$TMP/r.json" >/dev/null 2>&1; then
		not_ok "$name: replay ran" "$(cat "$TMP/r.err")"
		continue
	fi
	compared=$((compared + 1))
	n=$(jq '.migrations | length' "$TMP/a.json")
	migrations=$((migrations + n))
	expect_eq "$name: every frame read and run" \
		"$(jq '.inputs[0].packets' "$TMP/a.json") $(jq '.inputs[0].packets' "$TMP/a.json") 0" \
		"$(jq -r '"\(.frames.read) \(.interface.frames_in + .interface.frames_out) \(.frames.too_short)"' "$TMP/r.json")"
	expect_eq "$name: no event lost, no flow uncounted" "0 0" \
		"$(jq -r '"\(.interface.ring_drops) \(.interface.flows_full)"' "$TMP/r.json")"
	expect_eq "$name: packets, payload and wire bytes per direction ($n migration(s))" \
		"$(jq -cS "$EXPECTED_PAIRS" "$TMP/a.json")" "$(jq -cS "$REPLAY_PAIRS" "$TMP/r.json")"
	want=$(jq -cS "$EXPECTED_OOO" "$TMP/a.json")
	got=$(jq -cS --argjson w "$want" "$REPLAY_OOO | with_entries(select(.key | in(\$w)))" "$TMP/r.json")
	expect_eq "$name: the sender's out-of-order segments" "$want" "$got"
	if [ "$n" -gt 0 ]; then
		expect_eq "$name: the guest's RARP, GARP and NA frames" \
			"$(jq -cS --arg g "$guest" "$EXPECTED_ANNOUNCE" "$TMP/a.json")" \
			"$(jq -cS "$REPLAY_ANNOUNCE" "$TMP/r.json")"
	fi
done
# the comparisons above must have compared something: every stream fixture
# holds at least one migration
# (a precondition of the tests above, not one of its own)
if [ $compared -lt 24 ] || [ $migrations -lt 16 ]; then
	not_ok "replay: every fixture compared" "$compared captures, $migrations migrations"
fi

# --- snapped frames: wire bytes from the original length ----------------------
# the stream frames of the synthetic fixtures are whole; cut them to 96 bytes
# (payload counted from the IP length, wire bytes from the original length)
SNAP=$TMP/snap.pcap
if tcpdump -r "$FIXTURES/synthetic/baseline-cn1.pcap" -s 96 -w "$SNAP" 2>/dev/null &&
	"$MIGSCOPE" replay -f json "$SNAP" >"$TMP/snap.json" 2>"$TMP/snap.err"; then
	"$MIGSCOPE" replay -f json "$FIXTURES/synthetic/baseline-cn1.pcap" >"$TMP/full.json" 2>/dev/null
	expect_eq "replay: a 96-byte snaplen changes no counter" \
		"$(jq -cS '.flows' "$TMP/full.json")" "$(jq -cS '.flows' "$TMP/snap.json")"
else
	not_ok "replay: a 96-byte snaplen changes no counter" "$(cat "$TMP/snap.err")"
fi

# --- bad input ------------------------------------------------------------------
one_line_exit2() { # NAME EXPECTED_TEXT ARGS...
	local name=$1 text=$2; shift 2
	"$MIGSCOPE" replay "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "$text" "$TMP/err"; then
		ok "replay: $name: one line, exit 2"
	else
		not_ok "replay: $name: one line, exit 2" "rc=$rc $(cat "$TMP/err")"
	fi
}
one_line_exit2 "missing file" "No such file" /nonexistent.pcap
printf 'not a capture at all, just text\n' >"$TMP/text.pcap"
one_line_exit2 "not a capture" "text.pcap" "$TMP/text.pcap"
one_line_exit2 "no file given" "give one capture"
one_line_exit2 "two files" "give one capture" a.pcap b.pcap
one_line_exit2 "unknown format" "unknown format" -f xml "$FIXTURES/synthetic/baseline-cn1.pcap"
one_line_exit2 "bad guest" "guest wants" --guest nope "$FIXTURES/synthetic/baseline-cn1.pcap"
head -c 3000 "$FIXTURES/synthetic/baseline-cn1.pcap" >"$TMP/cut.pcap"
"$MIGSCOPE" replay "$TMP/cut.pcap" >/dev/null 2>"$TMP/err"
rc=$?
if [ $rc = 0 ] && grep -q "read stopped after packet" "$TMP/err"; then
	ok "replay: a capture cut mid-record is replayed up to its last packet, with a warning"
else
	not_ok "replay: a capture cut mid-record is replayed up to its last packet" "rc=$rc $(cat "$TMP/err")"
fi
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$MIGSCOPE" replay "$FIXTURES/synthetic/baseline-cn1.pcap" >/dev/null 2>"$TMP/nobody.err"
	rc=$?
	if [ $rc = 2 ] && grep -q "needs root" "$TMP/nobody.err"; then
		ok "replay: without root, a clear error and exit 2"
	else
		not_ok "replay: without root, a clear error and exit 2" "rc=$rc $(cat "$TMP/nobody.err")"
	fi
else
	not_ok "replay: without root: setpriv (util-linux) is installed"
fi
