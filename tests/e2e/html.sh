#!/bin/bash
# The HTML report (analyze --format html): on every synthetic fixture and on
# every lab fixture present (fixtures/lab/*/, or MSL_LAB_FIXTURES=DIR), the
# page is self-contained (no script, no network, no file references), and its
# overview timeline holds exactly what the JSON report of the same captures
# says: one point per answered probe, one marker per lost probe and per
# announcement sighting, the retransmits, the blackout band, the verdict with
# its evidence; and the switchover block (check_switchover): the verdict's
# status, duration and reconvergence, the timeline table row by row, a marker
# per event on the plots, the announce grid's seen and lost rounds. Then
# headless Chromium lays every page out at 1280 px (html_layout.js: timeline
# labels apart) and screenshots the port-not-ready and baseline lab reports
# to BUILD/test-artifacts/report-NAME.png, which must be drawn reports
# (png-check). A missing chromium fails.
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

# section HTML I: migration I's section (from 0), one element per line
section() { sed -n "/<section class=\"card\" id=\"migration-$(($2 + 1))\"/,/<\/section>/p" "$1"; }
# words: lines into one line of words
words() { tr '\n' ' ' | sed 's/ *$//'; }
# us_eq SHOWN US: a value shown as "[+-]N.NNN ms" (U+2212 minus too) is the
# JSON's microseconds, to the rounding of the last digit
us_eq() { awk -v s="$1" -v u="$2" 'BEGIN { sub(/\xe2\x88\x92/, "-", s); sub(/ ms$/, "", s);
	d = s * 1000 - u; exit !(s ~ /^[-+]?[0-9]+\.[0-9]+$/ && d <= 0.5001 && d >= -0.5001) }'; }

# check_switchover JSON HTML I: the switchover block of migration I (issue 5)
# against JSON: the verdict's status, the fault's duration and reconvergence,
# the timeline table (events in order, missing ones, times), the markers on
# the plots, and the announce schedule's grid per burst (seen per capture,
# rounds lost on the way to the prober). Uses expect() of check_case.
check_switchover() {
	local json=$1 html=$2 i=$3 m=".migrations[$3]" tag="m$(($3 + 1))" sec code cls v want got
	local last_view b nb k nv
	sec=$(section "$html" "$i")
	code=$(jq -r "$m.verdict.code" "$json")
	case $code in ok) cls=ok ;; insufficient_data) cls=na ;; *) cls=bad ;; esac
	expect "$tag: verdict status $cls (colour class) for $code" 1 \
		"$(grep -c "<div class=\"verdict $cls\"><div class=\"vhead\"><span class=\"status\">" <<<"$sec")"
	# the fault's duration and the reconvergence, as the JSON has them
	got=$(grep -o '<dd class="duration">[^<]*' <<<"$sec" | sed 's/.*>//')
	v=$(jq -r "$m.verdict.duration_us" "$json")
	if [ "$v" != null ]; then
		expect "$tag: fault lasted $v us" "$v us" "$(us_eq "$got" "$v" && echo "$v us" || echo "$got")"
	elif [ $cls = bad ]; then
		expect "$tag: fault not over" "not over within the captures" "$got"
	else
		expect "$tag: no fault" "no fault" "$got"
	fi
	got=$(grep -o '<dd class="reconvergence">[^<]*' <<<"$sec" | sed 's/.*>//')
	v=$(jq -r "$m.verdict.reconvergence_us" "$json")
	if [ "$v" != null ]; then
		expect "$tag: reconvergence $v us" "$v us" "$(us_eq "$got" "$v" && echo "$v us" || echo "$got")"
	else
		expect "$tag: no reconvergence" "n/a" "$got"
	fi
	[ "$(jq "$m.completed" "$json")" = false ] &&
		expect "$tag: says the migration did not complete" 1 "$(grep -c '<dd class="completed">did not complete' <<<"$sec")"
	# the timeline table: one row per JSON entry, same events, same order
	want=$(jq -r "$m.timeline[] | .event + (if .missing then \" \" + .missing else \"\" end)" "$json")
	got=$(grep '<tr class="tl-row ' <<<"$sec" |
		sed -e 's/.*data-event="\([^"]*\)".*class="why" colspan="2">no capture.*/\1 no_capture/' -e t \
		    -e 's/.*data-event="\([^"]*\)".*class="why" colspan="2">not seen.*/\1 not_seen/' -e t \
		    -e 's/.*data-event="\([^"]*\)".*/\1/')
	expect "$tag: timeline rows ($(jq "$m.timeline | length" "$json")) = JSON timeline" "$(words <<<"$want")" \
		"$(words <<<"$got")"
	# the times of the events seen, relative to the last stream data
	paste <(grep -o '<td class="num t">[^<]*' <<<"$sec" | sed 's/.*>//') \
		<(jq -r "$m.timeline[] | select(.t_ns != null) | .t_ns / 1000" "$json") >"$T/times"
	expect "$tag: timeline times" "$(jq "[$m.timeline[] | select(.t_ns != null)] | length" "$json") 0" \
		"$(wc -l <"$T/times") $(while IFS=$'\t' read -r shown us; do us_eq "$shown" "$us" || echo bad; done <"$T/times" | wc -l)"
	# markers: every event seen on the last view (the zoom, else the overview),
	# the ones the verdict turns on in the overview too
	want=$(jq -r "$m.timeline[] | select(.ns != null) | .event" "$json" | sort)
	last_view=$(svg "$html" "$tag-switchover")
	[ -n "$last_view" ] || last_view=$(svg "$html" "$tag-overview")
	got=$(grep -o '<g class="mark" data-event="[^"]*"' <<<"$last_view" | sed 's/.*="//; s/"$//' | grep -vx stream_start | sort)
	expect "$tag: a marker per event seen" "$(words <<<"$want")" "$(words <<<"$got")"
	want=$(jq -r "$m.timeline[] | select(.ns != null) | .event | select(. == \"resume\" or . == \"first_request_at_dst\" or . == \"first_reply_at_prober\")" "$json" | sort)
	got=$(svg "$html" "$tag-overview" | grep -o '<g class="mark" data-event="[^"]*"' | sed 's/.*="//; s/"$//' |
		grep -x 'resume\|first_request_at_dst\|first_reply_at_prober' | sort)
	expect "$tag: overview marks resume, first request at dst, first reply at prober" \
		"$(words <<<"$want")" "$(words <<<"$got")"
	# the announce schedule: a grid per burst; not for a migration that did not complete
	if [ "$(jq "$m.completed == false or $m.announce_schedule == null" "$json")" = true ]; then
		expect "$tag: no schedule grid" 0 "$(count 'class="compact sched' <<<"$sec")"
		return
	fi
	nb=$(jq "$m.announce_schedule.bursts | length" "$json")
	expect "$tag: a grid per announce burst" "$nb" "$(count 'data-burst="' <<<"$sec")"
	for ((b = 0; b < nb; b++)); do
		local bj="$m.announce_schedule.bursts[$b]" grid
		grid=$(sed -n "/data-burst=\"$((b + 1))\"/,/<\/table>/p" <<<"$sec")
		expect "$tag burst $((b + 1)): a column per round" "$(jq "$bj.rounds | length" "$json")" \
			"$(count '<th class="rd">' <<<"$grid")"
		nv=$(jq "$bj.by_vantage | length" "$json")
		expect "$tag burst $((b + 1)): a row per capture" "$nv" "$(count '<tr class="sched-row"' <<<"$grid")"
		for ((k = 0; k < nv; k++)); do
			local row
			row=$(grep '<tr class="sched-row"' <<<"$grid" | sed -n "$((k + 1))p")
			want=$(jq -r "$bj.by_vantage[$k] | .vantage + \" \" + (.seen | tostring)" "$json")
			expect "$tag burst $((b + 1)): rounds seen at $(cut -d' ' -f1 <<<"$want")" "$want" \
				"$(sed 's/.*data-vantage="\([^"]*\)".*/\1/' <<<"$row") $(count 'class="rd seen"' <<<"$row")"
			expect "$tag burst $((b + 1)): seen count shown" "$(cut -d' ' -f2 <<<"$want")" \
				"$(grep -o 'data-seen="[0-9]*"' <<<"$row" | tr -dc 0-9)"
		done
		expect "$tag burst $((b + 1)): rounds left the destination, not at the prober" \
			"$(jq "$bj.not_at_prober | length" "$json")" "$(count 'class="rd lost"' <<<"$grid")"
	done
}

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
		check_switchover "$json" "$html" "$i"
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

# Headless Chromium: every report laid out at 1280 px must keep its timeline
# labels apart (html_layout.js: the event markers' and blackout labels inside
# their SVG, not overlapping, no marker line through a label); screenshots of
# the port-not-ready and baseline lab reports, full length at 1280 px, go to
# BUILD/test-artifacts/report-NAME.png and must show a drawn report
# (png-check); Chromium's DOM holds every plotted element.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
# make test installs chromium (tests/deps.sh test): missing, it is a failure,
# never a pass
if [ -z "$CHROMIUM" ]; then
	not_ok "chromium renders the report" "chromium is not installed (tests/deps.sh test installs it)"
	exit 0
fi
chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/chromium" "$@" 2>/dev/null
}
shot() { # HTML PNG HEIGHT: a screenshot 1280 px wide, like an operator's screen
	rm -f "$2"
	chrome --screenshot="$2" --window-size=1280,"$3" "file://$1" >/dev/null
}
# every report checked against its JSON above, each in a 1280 px frame of one
# harness page
{
	echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><pre id="result">not run</pre>'
	for json in "$T"/*.json; do
		echo "<iframe data-name=\"$(basename "$json" .json)\" src=\"file://${json%.json}.html\" style=\"width:1280px;height:400px\"></iframe>"
	done
	echo "<script src=\"file://$ROOT/tests/e2e/html_layout.js\"></script></body></html>"
} >"$T/harness.htm"
chrome --allow-file-access-from-files --virtual-time-budget=30000 --dump-dom "file://$T/harness.htm" |
	sed -n '/<pre id="result">/,/<\/pre>/p' | sed 's/<[^>]*>//g' >"$T/layout.txt"
for json in "$T"/*.json; do
	name=$(basename "$json" .json)
	line=$(grep "^$name " "$T/layout.txt")
	if grep -q ' labels=[1-9][0-9]* overlaps=0 crossings=0 outside=0$' <<<"$line"; then
		ok "$name: timeline labels apart at 1280 px ($(cut -d' ' -f3 <<<"$line"))"
	else
		not_ok "$name: timeline labels apart at 1280 px" "${line:-no result from chromium}"
	fi
done
for name in port-not-ready baseline; do
	page=$T/lab-$name.html png=$ART/report-$name.png
	height=$(grep "^lab-$name " "$T/layout.txt" | sed -n 's/.* height=\([0-9]*\) .*/\1/p')
	if [ ! -f "$page" ] || [ -z "$height" ]; then
		not_ok "chromium screenshot of $name" "no lab fixture $LAB/$name, or no height from chromium"
		continue
	fi
	shot "$page" "$png" "$height"
	if "$BUILD/tools/png-check" "$png" >"$T/png.out" 2>&1; then
		ok "$(basename "$png"): a drawn report, 1280x$height: $(tr '\n' ' ' <"$T/png.out")"
	else
		not_ok "$(basename "$png"): a drawn report" "$(cat "$T/png.out")"
	fi
done
check_png() { "$BUILD/tools/png-check" "$1" >"$T/png.out" 2>&1; }
# the check tells a blank page apart
echo '<!DOCTYPE html><html><body></body></html>' >"$T/blank.htm"
shot "$T/blank.htm" "$T/blank.png" 2000
if [ -s "$T/blank.png" ] && ! check_png "$T/blank.png"; then
	ok "png-check rejects a blank page"
else
	not_ok "png-check rejects a blank page" "$(cat "$T/png.out")"
fi
# Chromium's DOM holds every plotted element: the markup parsed as written
page=$T/baseline.html
[ -f "$T/lab-baseline.html" ] && page=$T/lab-baseline.html
chrome --dump-dom "file://$page" >"$T/dom.html"
for cls in probe lost 'announce rarp' blackout mark tl-row 'rd seen'; do
	expect_eq "chromium's DOM has every class=\"$cls\" element" \
		"$(count "class=\"$cls" <"$page")" "$(count "class=\"$cls" <"$T/dom.html")"
done
