#!/bin/bash
# A drained host at scale: the fixture generator's evacuation of 100 guests,
# 8 at a time on libvirt's ports (each reused by the next wave), every guest
# pinged every 100 ms. Every guest's figures must be the simulation's own
# (its truth file, as golden.sh reads them), the summary too; --guest
# narrows to one guest; text, CSV and OpenMetrics name every guest.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
MIGSCOPE=$BUILD/migscope
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

if ! "$BUILD/migscope-fixturegen" --evacuate "$DIR" evac 100 8 100 2>"$DIR/gen.err"; then
	not_ok "evacuation of 100 guests generated" "$(cat "$DIR/gen.err")"
	exit 0
fi
cd "$DIR" || exit 1
args=(src=evac-cn1.pcap.gz dst=evac-cn2.pcap.gz ctl=evac-ctl.pcap.gz)
json=$("$MIGSCOPE" analyze --format json "${args[@]}")
expect_eq "100 guests: exit status" 0 $?
truth_check "100 guests" "$json" evac.truth
if [ "$TRUTH_TOTAL" -lt 1800 ]; then
	not_ok "100 guests: the truth holds every guest's values" "only $TRUTH_TOTAL lines"
elif [ "$TRUTH_FAILS" -eq 0 ]; then
	ok "100 guests: $TRUTH_TOTAL values exact, every guest its own migration"
fi

# --guest narrows the evacuation to one guest's migration
one=$("$MIGSCOPE" analyze --format json --guest 52:54:00:ee:00:2a "${args[@]}" 2>"$DIR/warn")
check "--guest MAC: says the others were left out" \
	grep -q '99 migrations of other guests left out (--guest)' "$DIR/warn"
expect_eq "--guest MAC: one migration" 1 "$(jq '.migrations|length' <<<"$one")"
expect_eq "--guest MAC: that guest's" '"198.18.1.43"' "$(jq -c '.migrations[0].guest.ipv4' <<<"$one")"
expect_eq "--guest MAC: its stream" "$(jq -c '.migrations[42].stream.out_bytes' <<<"$json")" \
	"$(jq -c '.migrations[0].stream.out_bytes' <<<"$one")"
expect_eq "--guest MAC: no summary for one" null "$(jq -c '.evacuation' <<<"$one")"

text=$("$MIGSCOPE" analyze "${args[@]}")
check "text: the summary line" grep -q '^evacuation: 100 migrations of 100 guest(s), up to 8 at once' <<<"$text"
expect_eq "text: a row per guest, worst first" 100 \
	"$(sed -n '/worst first/,/^$/p' <<<"$text" | grep -c '52:54:00:ee:')"
expect_eq "text: each migration names its guest" 100 \
	"$(grep -c '^migration [0-9]*: 198.18.0.1 -> 198.18.0.2, guest 52:54:00:ee:' <<<"$text")"
csv=$("$MIGSCOPE" analyze --format csv "${args[@]}")
expect_eq "csv: a row per guest, with its MAC" 100 "$(grep -c ',52:54:00:ee:..:..,198.18.1' <<<"$csv")"
om=$("$MIGSCOPE" analyze --format openmetrics "${args[@]}")
expect_eq "openmetrics: a downtime sample per guest" 100 \
	"$(grep -c '^migscope_migration_downtime_seconds{migration="[0-9]*",guest="52:54:00:ee:' <<<"$om")"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <<<"$om" 2>&1); then
		ok "openmetrics: promtool check metrics"
	else
		not_ok "openmetrics: promtool check metrics" "$out"
	fi
else
	not_ok "openmetrics: promtool check metrics" "promtool missing (tests/deps.sh test installs prometheus)"
fi
html=$("$MIGSCOPE" analyze --format html "${args[@]}")
check "html: the summary above the table" grep -q '<p class="evac">100 migrations of 100 guest(s), up to 8 at once' <<<"$html"
expect_eq "html: the table's rows worst first, each linking to its switchover" \
	"$(jq -c '[.evacuation.worst_first[] | . + 1]' <<<"$json")" \
	"$(grep -o '<tr><td><a href="#migration-[0-9]*">' <<<"$html" | grep -o '[0-9]*' | jq -cs .)"

# Destinations that close their streams late (a loaded host's QEMU closes up
# to ~15 ms after it announced), into the resumes of the guests after them:
# streams of one length started a few ms apart, two waves each. Every guest's
# figures must still be its own (a pairing of stream and guest taken nearest
# first got 115 of 168 such evacuations wrong).
late=0
for spec in "3 4 14000,2000,300" "5 7 10000" "8 5 8000,8000,300,15000,1000" \
	"8 11 300,10400,5000,800" "5 20 10000" "2 3 15000,300"; do
	read -r conc stagger lags <<<"$spec"
	name="late closes, $conc at once ${stagger} ms apart, closing $lags us after"
	if ! "$BUILD/migscope-fixturegen" --evacuate "$DIR" late $((conc * 2)) "$conc" 10 "$stagger" "$lags" \
		2>"$DIR/gen.err"; then
		not_ok "$name: generated" "$(cat "$DIR/gen.err")"
		continue
	fi
	json=$("$MIGSCOPE" analyze --format json src=late-cn1.pcap.gz dst=late-cn2.pcap.gz ctl=late-ctl.pcap.gz)
	truth_check "$name" "$json" late.truth
	[ "$TRUTH_FAILS" -eq 0 ] && [ "$TRUTH_TOTAL" -ge $((conc * 2 * 18)) ] &&
		ok "$name: $TRUTH_TOTAL values exact" && late=$((late + 1))
done
expect_eq "late closes: every evacuation matched" 6 "$late"
