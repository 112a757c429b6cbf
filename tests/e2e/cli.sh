#!/bin/bash
# The command line and hostile input: every bad file gets one clear line on
# stderr and exit 2 (or a warning and a partial report), never a crash or a
# hang. Runs the ASan+UBSan build, so a memory error fails the test.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
FIX=$(realpath "$(dirname "$0")/../../fixtures/synthetic")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=exitcode=99

# run NAME WANT_EXIT ARGS...: exit status, a single stderr line when it fails,
# no sanitizer report, within 20 s
run() {
	local name=$1 want=$2 rc lines; shift 2
	timeout 20 "$BUILD/migscope-asan" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(grep -vc '^migscope: warning:' "$T/err")
	if [ "$rc" != "$want" ]; then
		not_ok "$name: exit $want" "exit $rc: $(head -3 "$T/err")"
	elif [ "$want" = 2 ] && [ "$lines" != 1 ]; then
		not_ok "$name: one line on stderr" "$(cat "$T/err")"
	else
		ok "$name"
	fi
}

B="src=$FIX/baseline-cn1.pcap dst=$FIX/baseline-cn2.pcap ctl=$FIX/baseline-ctl.pcap"

# usage
run "no arguments" 2
run "unknown command" 2 frobnicate
run "analyze without captures" 2 analyze
run "unknown format" 2 analyze -f yaml $B
run "bad --guest" 2 analyze --guest 52:54:00 $B
run "bad --ports" 2 analyze --ports 70000 $B
run "five captures" 2 analyze $B "$FIX/vlan-cn1.pcap.gz" "$FIX/vlan-cn2.pcap.gz"
# help: the usage text on stdout, nothing on stderr
run "help" 0 --help
check "help: usage on stdout, nothing on stderr" \
	bash -c "head -1 '$T/out' | grep -qx 'usage: migscope COMMAND \[options\]' && ! test -s '$T/err'"
expect_eq "help: lists the four commands" "analyze series capture replay" \
	"$(awk '/^  [a-z]+  / { printf "%s%s", n++ ? " " : "", $1 }' "$T/out")"
run "analyze help" 0 analyze --help
check "analyze help: its usage on stdout, nothing on stderr" \
	bash -c "head -1 '$T/out' | grep -q '^usage: migscope analyze \[options\]' && ! test -s '$T/err'"
grep -q -- '--guest' "$T/out" && ok "analyze help lists --guest" || not_ok "analyze help lists --guest"

# what the hypervisor recorded, in a file that is none of its formats
run "hypervisor file of no known kind" 2 analyze --hypervisor "$FIX/baseline.truth" $B
check "hypervisor file of no known kind: named" grep -q "baseline.truth: neither QEMU's query-migrate" "$T/err"
run "hypervisor file missing" 2 analyze -H "$T/nope.json" $B

# bad files
: >"$T/empty.pcap"
echo "this is not a capture" >"$T/text.pcap"
head -c 4096 /dev/urandom >"$T/random.pcap"
head -c 10 "$FIX/baseline-cn1.pcap" >"$T/header-cut.pcap"
run "missing file" 2 analyze "$T/nope.pcap"
grep -q "nope.pcap" "$T/err" && ok "missing file: names the file" || not_ok "missing file: names the file"
run "empty file" 2 analyze "$T/empty.pcap"
run "text file" 2 analyze "$T/text.pcap"
run "random bytes" 2 analyze "$T/random.pcap"
run "file header cut" 2 analyze "$T/header-cut.pcap"

# a capture of another link type: rewrite the pcap header's link type field
{ head -c 20 "$FIX/baseline-ctl.pcap"; printf '\223\000\000\000'; tail -c +25 "$FIX/baseline-ctl.pcap"; } >"$T/user0.pcap"
run "unsupported link type" 2 analyze "$T/user0.pcap"
grep -q "link type 147" "$T/err" && ok "link type named" || not_ok "link type named" "$(cat "$T/err")"

# cut mid-record: analyzed up to the last complete packet, with a warning
full=$("$BUILD/migscope" analyze -f json $B | jq .migrations[0].stream.out_bytes)
head -c 200001 "$FIX/baseline-cn1.pcap" >"$T/cut.pcap"
run "capture cut mid-record" 0 analyze -f json "src=$T/cut.pcap" "dst=$FIX/baseline-cn2.pcap"
grep -q "warning: .*cut.pcap: read stopped after packet" "$T/err" && ok "cut capture: warning" ||
	not_ok "cut capture: warning" "$(cat "$T/err")"
cut_bytes=$(jq .migrations[0].stream.out_bytes "$T/out")
[ "$cut_bytes" -gt 0 ] && [ "$cut_bytes" -lt "$full" ] && ok "cut capture: partial bytes ($cut_bytes < $full)" ||
	not_ok "cut capture: partial bytes" "$cut_bytes vs $full"

# records FILE [MAX]: how many complete records a (little-endian) pcap holds
# from its start, at most MAX; prints "COUNT OFFSET", the offset just after
# them. Walked here with od, not with libpcap or migscope.
records() {
	local f=$1 max=${2:-999999999} size off=24 n=0 incl
	size=$(stat -c %s "$f")
	while [ $n -lt "$max" ] && [ $((off + 16)) -le "$size" ]; do
		incl=$(od -An -tu4 -j $((off + 8)) -N4 "$f" | tr -d ' ')
		[ $((off + 16 + incl)) -le "$size" ] || break
		off=$((off + 16 + incl))
		n=$((n + 1))
	done
	echo "$n $off"
}

# a gzip stream cut in the middle of its deflate data (the whole file is 23 KB):
# the packets up to the last complete record, and a warning naming the cut
gz=$FIX/vlan-cn1.pcap.gz
head -c $(($(stat -c %s "$gz") / 2)) "$gz" >"$T/cut.pcap.gz"
gzip -dc "$T/cut.pcap.gz" >"$T/cut-gz.pcap" 2>/dev/null
read -r whole _ < <(records "$T/cut-gz.pcap")
run "gzip stream cut" 0 analyze "$T/cut.pcap.gz"
check "gzip stream cut: warning after the $whole complete packets" \
	grep -q "^migscope: warning: .*cut.pcap.gz: read stopped after packet $whole (truncated dump file" "$T/err"

# a gzip stream that lost only its trailer (CRC and length): every record is
# whole, yet the file was cut, so later records may be missing; zlib reads
# it to the end without an error of its own
head -c -8 "$gz" >"$T/trailer.pcap.gz"
gzip -dc "$gz" >"$T/whole.pcap"
read -r whole _ < <(records "$T/whole.pcap")
run "gzip stream cut at a record's end" 0 analyze "$T/trailer.pcap.gz"
check "gzip stream cut at a record's end: warning after all $whole packets" \
	grep -q "^migscope: warning: .*trailer.pcap.gz: read stopped after packet $whole (the gzip stream is cut short" "$T/err"

# a record header claiming a 2 GiB packet right after 100 complete records
read -r n off < <(records "$FIX/baseline-ctl.pcap" 100)
{ head -c "$off" "$FIX/baseline-ctl.pcap"
  printf '\001\000\000\000\000\000\000\000\000\000\000\200\000\000\000\200'; } >"$T/huge.pcap"
[ "$n" = 100 ] || not_ok "absurd record length: the fixture holds 100 complete records" "$n"
run "absurd record length" 0 analyze "$T/huge.pcap"
check "absurd record length: warning names the 2 GiB length after packet 100" \
	grep -q "^migscope: warning: .*huge.pcap: read stopped after packet 100 (invalid packet capture length 2147483648" "$T/err"

# a classic pcap is read straight from the file, a gzip stream by libpcap
# (analysis/capture_reader.c): every lab capture gives the same report
# either way, byte for byte (the same names: gzip is told by its magic)
LAB=$(realpath "$(dirname "$0")/../../fixtures/lab")
same=0 differ=""
mkdir -p "$T/gz" "$T/plain"
for d in "$LAB"/*/; do
	for h in cn1 cn2 ctl; do
		cp "$d/$h.pcap.gz" "$T/gz/$h.pcap"
		gzip -dc "$d/$h.pcap.gz" >"$T/plain/$h.pcap"
	done
	(cd "$T/gz" && "$BUILD/migscope" analyze -f json src=cn1.pcap dst=cn2.pcap ctl=ctl.pcap >"$T/gz.json" 2>"$T/gz.err")
	(cd "$T/plain" && "$BUILD/migscope" analyze -f json src=cn1.pcap dst=cn2.pcap ctl=ctl.pcap >"$T/plain.json" 2>"$T/plain.err")
	if [ -s "$T/gz.json" ] && cmp -s "$T/gz.json" "$T/plain.json" && cmp -s "$T/gz.err" "$T/plain.err"; then
		same=$((same + 1))
	else
		differ+=" $(basename "$d")"
	fi
done
expect_eq "every lab capture: the same report read directly and through libpcap" \
	"$(ls -d "$LAB"/*/ | wc -l) " "$same $differ"

# seeded byte flips anywhere after the file header: any outcome but a crash
RANDOM=4242
size=$(stat -c %s "$FIX/baseline-ctl.pcap")
crashes=0
for i in $(seq 1 40); do
	cp "$FIX/baseline-ctl.pcap" "$T/fuzz.pcap"
	for j in 1 2 3 4 5 6 7 8; do
		off=$(( (RANDOM * 32768 + RANDOM) % (size - 24) + 24 ))
		printf "\\$(printf %o $((RANDOM % 256)))" | dd of="$T/fuzz.pcap" bs=1 seek=$off conv=notrunc status=none
	done
	timeout 20 "$BUILD/migscope-asan" analyze "$T/fuzz.pcap" "$FIX/baseline-cn1.pcap" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -le 2 ] || { crashes=$((crashes + 1)); cp "$T/fuzz.pcap" "/tmp/migscope-fuzz-$i.pcap"; }
done
expect_eq "40 corrupted captures: no crash, hang or sanitizer report" 0 "$crashes"

# no migration in the capture
run "prober capture alone" 0 analyze "$FIX/baseline-ctl.pcap"
grep -q "no migration found" "$T/out" && ok "says no migration found" || not_ok "says no migration found"
run "prober capture alone, json" 0 analyze -f json "$FIX/baseline-ctl.pcap"
expect_eq "no migration: empty list" 0 "$(jq '.migrations | length' "$T/out")"

# outputs and exit codes
run "stale forwarding exits 1" 1 analyze "$FIX/lost-announce-cn1.pcap.gz" "$FIX/lost-announce-cn2.pcap.gz" "$FIX/lost-announce-ctl.pcap.gz"
grep -q "verdict      stale_forwarding" "$T/out" && ok "text shows the stale_forwarding verdict" || not_ok "text shows the stale_forwarding verdict"
grep -q "left the dst, not at the prober: round 0,1,2,3,4" "$T/out" && ok "text shows the announce rounds lost on the way" || not_ok "text shows the announce rounds lost on the way"
run "timeline in text" 0 analyze $B
check "text: the timeline has its eight events" test "$(sed -n '/  timeline/,/  schedule/p' "$T/out" | grep -c '  [a-z].* \(src\|dst\|ctl\)')" = 8
run "--announce" 0 analyze -f json --announce 10,100,6,40 $B
expect_eq "--announce: the parameters checked" '{"initial_ms":10,"max_ms":100,"rounds":6,"step_ms":40}' "$(jq -c .migrations[0].announce_schedule.parameters "$T/out")"
run "--announce rounds out of range" 2 analyze --announce 50,550,17,100 $B
run "--announce not four numbers" 2 analyze --announce 50,550,5 $B
run "csv" 0 analyze -f csv $B
expect_eq "csv: header and one row" 2 "$(wc -l <"$T/out")"
expect_eq "csv: every row as wide as the header" 1 "$(awk -F, '{print NF}' "$T/out" | sort -u | wc -l)"
expect_eq "csv: out_bytes column" "$full" "$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="out_bytes") c=i} NR==2{print $c}' "$T/out")"
run "output to a file" 0 analyze -f json -o "$T/report.json" $B
expect_eq "report file written" "$full" "$(jq .migrations[0].stream.out_bytes "$T/report.json")"
run "explicit guest" 0 analyze -f json --guest 52:54:00:12:34:56,198.18.0.100 $B
expect_eq "explicit guest: same downtime" 40000 "$(jq .migrations[0].downtime.probe_gap_us "$T/out")"
run "migration port not listed: found by its QEVM magic" 0 analyze -f json --ports 1-2 $B
expect_eq "found by magic" '"qevm,multifd"' "$(jq .migrations[0].stream.detected_by "$T/out")"
run "absent capture gives null, not 0" 0 analyze -f json "src=$FIX/baseline-cn1.pcap"
expect_eq "in_bytes null without the destination capture" null "$(jq .migrations[0].stream.in_bytes "$T/out")"

# pcapng (as Wireshark and tcpdump -w on newer systems write) reads the same
if command -v editcap >/dev/null; then
	for h in cn1 cn2 ctl; do
		editcap -F pcapng "$FIX/baseline-$h.pcap" "$T/baseline-$h.pcapng"
	done
	run "pcapng input" 0 analyze -f json "src=$T/baseline-cn1.pcapng" "dst=$T/baseline-cn2.pcapng" \
		"ctl=$T/baseline-ctl.pcapng"
	jq -S '[.migrations[] | del(.vantage)]' "$T/out" >"$T/ng.json"
	"$BUILD/migscope" analyze -f json $B | jq -S '[.migrations[] | del(.vantage)]' >"$T/classic.json"
	check "pcapng: same migrations as pcap" cmp -s "$T/ng.json" "$T/classic.json"
else
	not_ok "editcap installed (tshark's wireshark-common)"
fi

# A directory is one vantage, its files read in name order (the agent's ring,
# a kept migration, tcpdump -C/-G output): the lab's baseline cut into files
# of 300 packets each (editcap -c) reads as the whole files do, and a file
# that is no capture in it is passed over.
L=$(realpath "$(dirname "$0")/../../fixtures/lab/baseline")
for h in cn1 cn2 ctl; do
	mkdir -p "$T/dir-$h"
	editcap -c 300 "$L/$h.pcap.gz" "$T/dir-$h/$h.pcap"
done
echo "domain notes" >"$T/dir-cn1/README.txt"
check "directories: the captures are cut into many files" test "$(ls "$T/dir-cn1" | wc -l)" -gt 30
run "analyze DIR DIR DIR" 0 analyze -f json "src=$T/dir-cn1" "dst=$T/dir-cn2" "ctl=$T/dir-ctl"
jq -S 'del(.inputs[].file) | [.migrations[] | del(.vantage)], .inputs' "$T/out" >"$T/dirs.json"
"$BUILD/migscope" analyze -f json "src=$L/cn1.pcap.gz" "dst=$L/cn2.pcap.gz" "ctl=$L/ctl.pcap.gz" |
	jq -S 'del(.inputs[].file) | [.migrations[] | del(.vantage)], .inputs' >"$T/files.json"
check "directories: the same report as the whole files" cmp -s "$T/dirs.json" "$T/files.json"
mkdir -p "$T/empty-dir"
run "a directory without captures" 2 analyze "$T/empty-dir"
grep -q "no pcap or pcapng capture in this directory" "$T/err" &&
	ok "a directory without captures: says so" || not_ok "a directory without captures: says so" "$(cat "$T/err")"
# a file of another link type among them ends the directory there, with a warning
editcap -T rawip -F pcap "$T/dir-cn1/$(ls "$T/dir-cn1" | sort -V | sed -n 20p)" "$T/dir-cn1/zz-raw.pcap" 2>/dev/null
run "a directory with a file of another link type" 0 analyze -f json "src=$T/dir-cn1"
grep -q "link type" "$T/err" && ok "another link type: named in a warning" ||
	not_ok "another link type: named in a warning" "$(cat "$T/err")"
