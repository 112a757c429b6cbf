#!/bin/bash
# Clock alignment on a real lab capture (issue 5): the lab's hosts share one
# clock, so moving every stamp of one capture by a known offset (editcap -t)
# makes a capture whose true offset is known. migscope must recover it within
# max(100 us, its own uncertainty), and every figure of the report must be the
# same as with the unshifted captures: the offset is estimated from the
# packets themselves, so it moves by exactly the shift.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$(realpath "$BUILD/migscope")
FIX=fixtures/lab/baseline
TMP=$(mktemp -d /tmp/msl-clock-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

for f in cn1.pcap.gz cn2.pcap.gz ctl.pcap.gz; do
	[ -f "$FIX/$f" ] || { not_ok "clock: lab fixture $FIX/$f present (make fixtures)"; exit 1; }
done
command -v editcap >/dev/null || { not_ok "clock: editcap (tshark's package) installed"; exit 1; }

# The report without its inputs (paths, clock fields): what must not move. A
# vantage names its capture by path: the shifted one is a temporary file.
figures() {
	jq -S 'del(.inputs) | walk(if type == "string" and test("\\.pcap") then "CAPTURE" else . end)' "$1"
}

analyze() { # OUT SRC DST CTL
	"$MIGSCOPE" analyze --format json -o "$1" "src=$2" "dst=$3" "ctl=$4" 2>"$1.err"
	local rc=$?
	[ $rc -le 1 ] && jq -e .migrations "$1" >/dev/null 2>&1 && return 0
	echo "analyze exit $rc: $(cat "$1.err")"
	return 1
}

if ! msg=$(analyze "$TMP/ref.json" "$FIX/cn1.pcap.gz" "$FIX/cn2.pcap.gz" "$FIX/ctl.pcap.gz"); then
	not_ok "clock: analyze the unshifted baseline" "$msg"
	exit 1
fi
figures "$TMP/ref.json" >"$TMP/ref.fig"

# NODE SHIFT_S SHIFT_NS
for spec in "cn2 0.0375 37500000" "cn2 -2 -2000000000" "cn2 0.000003 3000" \
	"ctl 0.0375 37500000" "ctl -2 -2000000000"; do
	read -r node shift_s shift_ns <<<"$spec"
	shifted=$TMP/$node$shift_s.pcap
	if ! editcap -t "$shift_s" "$FIX/$node.pcap.gz" "$shifted" 2>"$TMP/editcap.err"; then
		not_ok "clock: editcap -t $shift_s $node" "$(cat "$TMP/editcap.err")"
		continue
	fi
	src=$FIX/cn1.pcap.gz dst=$FIX/cn2.pcap.gz ctl=$FIX/ctl.pcap.gz
	[ "$node" = cn2 ] && dst=$shifted
	[ "$node" = ctl ] && ctl=$shifted
	out=$TMP/$node$shift_s.json
	if ! msg=$(analyze "$out" "$src" "$dst" "$ctl"); then
		not_ok "clock: $node shifted by $shift_s s analyzed" "$msg"
		continue
	fi
	idx=$([ "$node" = cn2 ] && echo 1 || echo 2)
	# the reference run's own estimate (the lab's true offset is 0) plus the shift
	base=$(jq ".inputs[$idx].clock_offset_ns" "$TMP/ref.json")
	read -r got unc < <(jq -r ".inputs[$idx] | \"\(.clock_offset_ns) \(.clock_uncertainty_ns)\"" "$out")
	check "clock: $node +$shift_s s recovered as $got ns +- $unc ns (within max(100 us, uncertainty))" \
		jq -en --argjson g "$got" --argjson u "$unc" --argjson s "$shift_ns" \
		'(($g - $s) | fabs) <= ([100000, $u] | max)'
	expect_eq "clock: $node +$shift_s s moves the estimate by exactly the shift" \
		"$((base + shift_ns))" "$got"
	if diff <(figures "$out") "$TMP/ref.fig" >"$TMP/diff"; then
		ok "clock: $node +$shift_s s: every figure as unshifted"
	else
		not_ok "clock: $node +$shift_s s: every figure as unshifted" "$(head -20 "$TMP/diff")"
	fi
done
exit 0
