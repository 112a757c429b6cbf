#!/bin/bash
# The committed lab fixtures (fixtures/lab/NAME, real QEMU migrations stored
# by `make fixtures`) against their truth, without root: truth.json, which
# tests/lab/truth.sh computed from the lab's uncut captures (tshark, ping log,
# QEMU's figures), must be what it computes from the stored, cut files today
# (msl-cut changed nothing tshark reads), and migscope's report must agree
# with it
# (tests/lab/check.sh). Every scenario tests/lab/fixtures.sh stores must be
# there.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$BUILD/migscope

mapfile -t names < <(sed -n 's/^\t"\([^|]*\)|.*/\1/p' tests/lab/fixtures.sh)
[ ${#names[@]} -gt 0 ] || { not_ok "lab fixtures: scenario list read from tests/lab/fixtures.sh"; exit 1; }
for name in "${names[@]}"; do
	dir=fixtures/lab/$name
	if [ ! -s "$dir/truth.json" ]; then
		not_ok "$name: fixture present ($dir; make fixtures)"
		continue
	fi
	kb=$(du -sk "$dir" | cut -f1)
	check "$name: fixture is small ($kb KB <= 1024 KB)" test "$kb" -le 1024
	if diff <(tests/lab/truth.sh "$dir" 2>&1) "$dir/truth.json" >/tmp/labfix-$$.diff; then
		ok "$name: truth.json (from the uncut captures) is what truth.sh computes from the stored, cut files"
	else
		not_ok "$name: truth.json (from the uncut captures) is what truth.sh computes from the stored, cut files" "$(head -6 /tmp/labfix-$$.diff)"
	fi
	rm -f /tmp/labfix-$$.diff
	# no guest memory in the repository: msl-cut keeps 8 bytes of the first
	# data segment (QEMU's stream magic) and no payload of the others
	for f in "$dir"/*.pcap.gz; do
		most=$(tshark -r "$f" -Y 'tcp.len > 0 and tcp.port >= 49152 and tcp.port <= 49215' -T fields \
			-e tcp.len -e frame.len -e frame.cap_len 2>/dev/null |
			awk -F'\t' '{ k = $1 - ($2 - $3); if (k > m) m = k } END { print m + 0 }')
		check "$name: $(basename "$f") holds at most 8 stream payload bytes per segment ($most)" test "$most" -le 8
	done
	bash tests/lab/check.sh "$MIGSCOPE" "$dir" "$name"
done
exit 0
