#!/bin/bash
# The committed real evacuations (fixtures/lab/evacuate-3: three QEMU guests
# moved cn1 -> cn2 at once; evacuate-3-serial: one after another, 1 s apart;
# tests/lab/run.sh evacuate), without root. Each guest is judged on its own
# against its truth (truth-K.json: tshark, its own ping log, QEMU's figures,
# computed by tests/lab/truth.sh from the lab's uncut captures through
# tests/lab/evacuation_views.sh): that truth must be what the stored, cut
# files give today, and `migscope analyze --guest MAC` must agree with it
# (tests/lab/check.sh: bytes at each NIC, probe gap, announcements, resume,
# silence). The whole evacuation without --guest: one migration per guest,
# each with the guest whose port and bytes are its own, and the summary's
# concurrency.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=$(realpath "${1:-build}")
MIGSCOPE=$BUILD/migscope
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for entry in $(sed -n 's/^EVACUATIONS=(\(.*\))$/\1/p' tests/lab/fixtures.sh | grep -o '"[^|"]*|' | tr -d '"|'); do
	dir=fixtures/lab/$entry
	if [ ! -s "$dir/scenario.json" ]; then
		not_ok "$entry: fixture present ($dir; make fixtures)"
		continue
	fi
	kb=$(du -sk "$dir" | cut -f1)
	check "$entry: fixture is small ($kb KB <= 1536 KB)" test "$kb" -le 1536
	n=$(jq '.guests | length' "$dir/scenario.json")
	serial=$(jq -r '.options | index("--serial") != null' "$dir/scenario.json")
	k=0
	while IFS=$'\t' read -r view mac; do
		if diff <(tests/lab/truth.sh "$view" 2>&1) "$dir/truth-$k.json" >"$T/diff"; then
			ok "$entry guest $k: truth (from the uncut captures) is what truth.sh computes from the stored, cut files"
		else
			not_ok "$entry guest $k: truth from the stored files" "$(head -6 "$T/diff")"
		fi
		cp "$dir/truth-$k.json" "$view/truth.json"
		bash tests/lab/check.sh "$MIGSCOPE" "$view" "$entry guest $k ($mac)" --guest "$mac"
		k=$((k + 1))
	done < <(tests/lab/evacuation_views.sh "$dir" "$T/$entry")
	expect_eq "$entry: a view per guest" "$n" "$k"

	# the whole evacuation in one report
	r=$("$MIGSCOPE" analyze --format json "src=$dir/cn1.pcap.gz" "dst=$dir/cn2.pcap.gz" "ctl=$dir/ctl.pcap.gz" 2>/dev/null)
	expect_eq "$entry: one migration per guest" "$n" "$(jq '.migrations | length' <<<"$r")"
	expect_eq "$entry: the summary counts $n guests" "$n" "$(jq '.evacuation.guests' <<<"$r")"
	# each migration's guest is the one QEMU moved on that port
	want=$(jq -c '[.migrations[] | {port, mac: .guest.mac}] | sort_by(.port)' "$dir/scenario.json")
	got=$(jq -c '[.migrations[] | {port: .stream.channels[0].dst_port, mac: .guest.mac}] | sort_by(.port)' <<<"$r")
	expect_eq "$entry: each migration matched to the guest migrated on its port" "$want" "$got"
	conc=$(jq '.evacuation.max_concurrent' <<<"$r")
	if [ "$serial" = true ]; then
		expect_eq "$entry: one after another: 1 stream at a time" 1 "$conc"
	else
		expect_eq "$entry: all at once: $n streams at a time" "$n" "$conc"
	fi
	expect_eq "$entry: every verdict ok" "[\"ok\"]" "$(jq -c '[.migrations[].verdict.code] | unique' <<<"$r")"
done
exit 0
