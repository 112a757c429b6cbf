#!/bin/bash
# Source and destination told apart by timing, on the real lab fixtures
# (analysis/roles.c). Unlabelled, every fixture's
# migrations must get the captures QEMU migrated between, with no warning:
# the round trip between the lab's compute NICs (6.8-29 us) is beyond the
# noise (2 us and the stamps' resolution). One capture given twice has no
# round trip at all: the roles are a guess, and the report must say so,
# naming the captures and their delays (tests/unit/test_roles.c has the
# threshold's edges).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$(realpath "$BUILD/migscope")
TMP=$(mktemp -d /tmp/msl-roles-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

CLOSE='timing cannot tell'
n=0
for dir in fixtures/lab/*/; do
	name=$(basename "$dir")
	truth=$dir/truth.json
	[ -f "$truth" ] || continue
	n=$((n + 1))
	read -r cn1 cn2 ctl < <(jq -r '.vantages | "\(.cn1) \(.cn2) \(.ctl)"' "$truth")
	(cd "$dir" && "$MIGSCOPE" analyze --format json "$cn1" "$cn2" "ctl=$ctl") \
		>"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	if [ $rc -gt 1 ] || ! jq -e .migrations "$TMP/$name.json" >/dev/null 2>&1; then
		not_ok "$name: analyze unlabelled" "exit $rc: $(head -3 "$TMP/$name.err")"
		continue
	fi
	want=$(jq -c '.vantages as $v | [.migrations[] | {src: $v[.from], dst: $v[.to]}]' "$truth")
	got=$(jq -c '[.migrations[] | {src: .vantage.src, dst: .vantage.dst}]' "$TMP/$name.json")
	expect_eq "$name: unlabelled captures get QEMU's source and destination" "$want" "$got"
	expect_eq "$name: clear timing, no warning that it could not decide" "" \
		"$(jq -r --arg c "$CLOSE" '.warnings[] | select(contains($c))' "$TMP/$name.json")"
done
[ "$n" -gt 0 ] || not_ok "lab fixtures present in fixtures/lab (make fixtures)"

# The destination's capture twice: both minimum delays the same. The delay is
# derived here without migscope: tshark's ack_rtt (an ACK's time after the
# data segment it covers exactly, as assign_roles times it), its minimum over
# the ACKs the destination sends from the migration port; the noise is the
# 2 us floor plus the stamps' resolution a side (pcap magic a1b23c4d: ns).
FIX=fixtures/lab/baseline
delay_us=$(tshark -r "$FIX/cn2.pcap.gz" -Y 'tcp.analysis.ack_rtt and tcp.srcport >= 49152 and tcp.srcport <= 49215' \
	-T fields -e tcp.analysis.ack_rtt 2>/dev/null | sort -g | head -1 | awk 'NF { printf "%.3f", $1 * 1e6 }')
magic=$(gzip -dc "$FIX/cn2.pcap.gz" | head -c 4 | od -An -tx1 | tr -d ' ')
case $magic in 4d3cb2a1 | a1b23c4d) tick_us=0.001 ;; *) tick_us=1 ;; esac
noise_us=$(awk -v t="$tick_us" 'BEGIN { printf "%.3f", 2 + 2 * t }')
[ -n "$delay_us" ] || not_ok "twice: tshark finds the destination's ACK delays in $FIX/cn2.pcap.gz"
(cd "$FIX" && "$MIGSCOPE" analyze --format json cn2.pcap.gz cn2.pcap.gz ctl=ctl.pcap.gz) \
	>"$TMP/twice.json" 2>"$TMP/twice.err"
rc=$?
if [ $rc -gt 1 ] || ! jq -e .migrations "$TMP/twice.json" >/dev/null 2>&1; then
	not_ok "twice: analyze one capture given twice" "exit $rc: $(head -3 "$TMP/twice.err")"
else
	# the guess itself comes from the handshake: not what is checked here
	w=$(jq -r --arg c "$CLOSE" '.warnings[] | select(contains($c))' "$TMP/twice.json")
	expect_eq "twice: JSON warns that timing cannot decide, with both delays and the way out" \
		"migration 1: timing cannot tell cn2.pcap.gz from cn2.pcap.gz (data-to-ACK delay $delay_us vs $delay_us us, within $noise_us us of noise); guessed ROLE and ROLE: label them src=/dst=" \
		"$(sed -E 's/guessed (src|dst) and (src|dst)/guessed ROLE and ROLE/' <<<"$w")"
	expect_eq "twice: still one source and one destination capture" '["ctl","dst","src"]' \
		"$(jq -c '[.inputs[].vantage] | sort' "$TMP/twice.json")"
fi
# the text report gives its warnings on stderr
(cd "$FIX" && "$MIGSCOPE" analyze cn2.pcap.gz cn2.pcap.gz ctl=ctl.pcap.gz) >/dev/null 2>"$TMP/text.err"
check "twice: the text report warns on stderr" grep -q "^migscope: warning: .*$CLOSE cn2.pcap.gz" "$TMP/text.err"

# Labelled, the same captures are not a guess: no warning.
(cd "$FIX" && "$MIGSCOPE" analyze --format json src=cn2.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz) \
	>"$TMP/labelled.json" 2>/dev/null
expect_eq "twice, labelled src=/dst=: no warning" "" \
	"$(jq -r --arg c "$CLOSE" '.warnings[]? | select(contains($c))' "$TMP/labelled.json")"
exit 0
