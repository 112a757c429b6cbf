#!/bin/bash
# The HTML report (analyze --format html): on every synthetic fixture and on
# every lab fixture present (fixtures/lab/*/, or MSL_LAB_FIXTURES=DIR), the
# page is self-contained (no script, no network, no file references), and its
# overview timeline holds exactly what the JSON report of the same captures
# says: one point per answered probe, one marker per lost probe and per
# announcement sighting, the retransmits, the blackout band, the verdict with
# its evidence. Then headless Chromium renders a report to
# BUILD/test-artifacts/report.png, which must be a drawn report (png-check).
# Under CI=true a missing chromium fails.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
ROOT=$(realpath "$(dirname "$0")/../..")
SYN=$ROOT/fixtures/synthetic
LAB=${MSL_LAB_FIXTURES:-$ROOT/fixtures/lab}
MIGSCOPE=$BUILD/migscope
ART=$BUILD/test-artifacts
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$ART"

count() { grep -o "$1" | wc -l; }
# svg FILE ID: the SVG element with that id, one element per line
svg() { sed -n "/<svg id=\"$2\"/,/<\/svg>/p" "$1"; }
html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&#39;/g"; }

# check_case NAME ARGS...: the HTML against the JSON of the same analysis
check_case() {
	local name=$1 json html rc_json rc_html n i fails=0 total=0; shift
	json=$T/$name.json html=$T/$name.html
	"$MIGSCOPE" analyze --format json "$@" >"$json" 2>/dev/null
	rc_json=$?
	"$MIGSCOPE" analyze --format html -o "$html" "$@" 2>"$T/err"
	rc_html=$?
	if [ "$rc_html" != "$rc_json" ] || [ "$rc_html" -gt 1 ]; then
		not_ok "$name: html exit $rc_json like json" "exit $rc_html: $(head -2 "$T/err")"
		return
	fi
	# expect WHAT WANT GOT
	expect() {
		total=$((total + 1))
		if [ "$2" != "$3" ]; then
			not_ok "$name: $1" "expected $2, got $3"
			fails=$((fails + 1))
		fi
	}
	expect "starts as an HTML document" '<!DOCTYPE html>' "$(head -1 "$html")"
	expect "ends the document" '</html>' "$(tail -1 "$html")"
	expect "no script, network or file reference" "" \
		"$(grep -Eio 'https?:|file:|<script|<link|<img|<iframe|<object|<embed|@import|url\(|src=|href="[^#]' "$html" | sort -u | tr '\n' ' ')"
	n=$(jq '.migrations | length' "$json")
	expect "one section per migration" "$n" "$(count '<section class="card" id="migration-' <"$html")"
	for ((i = 0; i < n; i++)); do
		local m=".migrations[$i]" id="m$((i + 1))-overview" s answered lost ann retx ev summary
		s=$(svg "$html" "$id")
		if [ -z "$s" ]; then
			expect "migration $((i + 1)): overview timeline" present missing
			continue
		fi
		answered=$(jq "$m.loss.probes_answered // 0" "$json")
		lost=$(jq "$m.loss.lost_probes // 0" "$json")
		ann=$(jq "[$m.announce.rarp[], $m.announce.garp[], $m.announce.na[]] | length" "$json")
		expect "m$((i + 1)): a point per answered probe" "$answered" "$(count 'class="probe"' <<<"$s")"
		expect "m$((i + 1)): a marker per lost probe" "$lost" "$(count 'class="lost"' <<<"$s")"
		expect "m$((i + 1)): a marker per announcement sighting" "$ann" \
			"$(count 'class="announce ' <<<"$s")"
		for k in rarp garp na; do
			expect "m$((i + 1)): $k markers" "$(jq "$m.announce.$k | length" "$json")" \
				"$(count "class=\"announce $k\"" <<<"$s")"
		done
		# packet-counted retransmits are the bins' sum (capture counters are not binned)
		if [ "$(jq -r "$m.stream.bytes_source" "$json")" = packets ]; then
			retx=$(grep -o 'data-retx="[0-9]*"' <<<"$s" | tr -dc '0-9\n' | awk '{t += $1} END {print t + 0}')
			expect "m$((i + 1)): retransmits per bin add up" \
				"$(jq "$m.stream.retransmitted_segments // 0" "$json")" "$retx"
		fi
		if [ "$(jq "$m.downtime.gap_start_ns != null" "$json")" = true ]; then
			expect "m$((i + 1)): blackout band" 1 "$(count 'class="blackout"' <<<"$s")"
		fi
		if [ "$(jq "$m.downtime.guest_silence_us != null" "$json")" = true ]; then
			expect "m$((i + 1)): guest silence band" 1 "$(count 'class="silence"' <<<"$s")"
		fi
		# the verdict: code, summary and every evidence line, escaped
		summary=$(jq -r "$m.verdict.summary" "$json" | html_escape)
		ev=$(sed -n "/<section class=\"card\" id=\"migration-$((i + 1))\"/,/<\/section>/p" "$html" |
			grep '<div class="verdict')
		expect "m$((i + 1)): verdict code" 1 \
			"$(count ">$(jq -r "$m.verdict.code" "$json")</span>" <<<"$ev")"
		expect "m$((i + 1)): verdict summary" 1 "$(grep -cF "<p>$summary</p>" <<<"$ev")"
		expect "m$((i + 1)): evidence lines" "$(jq "$m.verdict.evidence | length" "$json")" \
			"$(count '<li>' <<<"$ev")"
	done
	[ $fails -eq 0 ] && ok "$name: html matches json ($total checks)"
}

cases=0
cd "$SYN" || exit 1
for truth in *.truth; do
	# shellcheck disable=SC2046
	check_case "${truth%.truth}" $(sed -n 's/^args //p' "$truth" | sed 's/--format json//')
	cases=$((cases + 1))
done
lab_dirs=0
for dir in "$LAB"/*/; do
	[ -f "$dir/scenario.json" ] || continue
	from=$(jq -r '.migrations[0].from // "cn1"' "$dir/scenario.json")
	to=$(jq -r '.migrations[0].to // "cn2"' "$dir/scenario.json")
	v() { jq -r ".vantages.$1 // \"$1.pcap\"" "$dir/scenario.json"; }
	check_case "lab-$(basename "$dir")" "src=$dir$(v "$from")" "dst=$dir$(v "$to")" "ctl=$dir$(v ctl)"
	lab_dirs=$((lab_dirs + 1))
done
echo "# $cases synthetic and $lab_dirs lab fixture(s) rendered"

# Every string from the command line is escaped: a capture named like markup.
weird="$T/<b>&\"x'.pcap"
cp "$SYN/baseline-ctl.pcap" "$weird"
"$MIGSCOPE" analyze --format html -o "$T/weird.html" "src=$SYN/baseline-cn1.pcap" \
	"dst=$SYN/baseline-cn2.pcap" "ctl=$weird" 2>/dev/null
if grep -qF "<b>&\"x'" "$T/weird.html"; then
	not_ok "a file name is escaped" "the raw name is in the page"
else
	expect_eq "a file name is escaped" 1 "$(grep -cF "&lt;b&gt;&amp;&quot;x&#39;.pcap" "$T/weird.html")"
fi
# stdout and -o give the same page
"$MIGSCOPE" analyze --format html "src=$SYN/baseline-cn1.pcap" "dst=$SYN/baseline-cn2.pcap" \
	"ctl=$SYN/baseline-ctl.pcap" >"$T/stdout.html" 2>/dev/null
"$MIGSCOPE" analyze --format html -o "$T/file.html" "src=$SYN/baseline-cn1.pcap" \
	"dst=$SYN/baseline-cn2.pcap" "ctl=$SYN/baseline-ctl.pcap" 2>/dev/null
check "stdout and -o give the same page" cmp "$T/stdout.html" "$T/file.html"

# Headless Chromium: the page renders, and the screenshot shows a drawn report.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "chromium renders the report" "chromium is not installed (apt-get install chromium)"
	else
		ok "chromium renders the report # SKIP chromium is not installed (apt-get install chromium)"
	fi
	exit 0
fi
shot() { # HTML PNG: screenshot at 1280 px wide, like an operator's screen
	rm -f "$2"
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/chromium" --screenshot="$2" --window-size=1280,2000 \
		"file://$1" >/dev/null 2>&1
}
page=$T/baseline.html
[ -f "$T/lab-baseline.html" ] && page=$T/lab-baseline.html
shot "$page" "$ART/report.png"
if [ -s "$ART/report.png" ]; then
	ok "chromium wrote a screenshot of $(basename "$page" .html)"
else
	not_ok "chromium wrote a screenshot of $(basename "$page" .html)" "no $ART/report.png"
fi
check_png() { "$BUILD/tools/png-check" "$1" >"$T/png.out" 2>&1; }
if check_png "$ART/report.png"; then
	ok "the screenshot is a drawn report: $(tr '\n' ' ' <"$T/png.out")"
else
	not_ok "the screenshot is a drawn report" "$(cat "$T/png.out")"
fi
# the check tells a blank page apart
echo '<!DOCTYPE html><html><body></body></html>' >"$T/blank.html"
shot "$T/blank.html" "$T/blank.png"
if [ -s "$T/blank.png" ] && ! check_png "$T/blank.png"; then
	ok "png-check rejects a blank page"
else
	not_ok "png-check rejects a blank page" "$(cat "$T/png.out")"
fi
# Chromium's DOM holds every plotted element: the markup parsed as written
timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
	--dump-dom "file://$page" >"$T/dom.html" 2>/dev/null
for cls in probe lost 'announce rarp' blackout; do
	expect_eq "chromium's DOM has every class=\"$cls\" element" \
		"$(count "class=\"$cls\"" <"$page")" "$(count "class=\"$cls\"" <"$T/dom.html")"
done
