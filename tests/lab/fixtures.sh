#!/bin/bash
# make fixtures (lab half): runs lab scenarios and stores each as a fixture in
# fixtures/lab/NAME/: the NIC captures with the stream payload cut (msl-cut:
# no guest memory in the repository), gzip-compressed; QEMU's query-migrate,
# ping's log and scenario.json as the lab wrote them; truth.json computed
# by tests/lab/truth.sh from the lab's UNCUT captures, before msl-cut: msl-cut
# finds the stream with the analyzer's own classifier (bpf/parse.h), and the
# oracle must share nothing with the code it judges. tests/e2e/lab_fixtures.sh
# then requires truth.sh on the stored, cut files to give the same truth.
#
#   tests/lab/fixtures.sh BUILD [NAME...]     (all of them by default)
#
# MSL_KEEP_RUNS=DIR keeps each full run (uncut captures, logs) in DIR/NAME.
# MSL_FIXTURE_DIR=DIR stores the fixtures in DIR instead of fixtures/lab.
#
# Needs root (the lab does). tests/e2e/lab_fixtures.sh checks them without.
set -eu
BUILD=$(realpath "${1:-build}")
shift || true
cd "$(dirname "$0")/../.."
DEST=${MSL_FIXTURE_DIR:-fixtures/lab}
# NAME and the run.sh arguments that make it
SCENARIOS=(
	"baseline|baseline"
	"back-and-forth|back-and-forth"
	"loss-2|loss 2"
	"lost-announce|lost-announce"
	"no-announce|no-announce"
	"port-not-ready|port-not-ready 2"
	"port-not-ready-no-announce-self|port-not-ready 2 --no-announce-self"
	"vlan|vlan"
	"vxlan|vxlan"
	"ipv6|ipv6"
	"dst-silent|dst-silent"
	"return-path|return-path"
	"dirty|dirty 48 --max-bandwidth 16 --mig-timeout 5"
	# every way clouds migrate (issue 12). The guest zeroes what it frees
	# (init_on_free=1): QEMU sends those pages as zero pages, a stream of
	# about 56 MB instead of 75, and each fixture stays well under 1 MB (a
	# TLS stream has an ACK for nearly every segment). postcopy-late: 40 MB/s
	# and a 1 ms downtime limit keep precopy from converging (the guest
	# dirties 48 MB/s), so the switch comes after two passes.
	"postcopy-early|postcopy 0.05 --guest-append init_on_free=1"
	"postcopy-late|postcopy 2.5 --max-bandwidth 40 --downtime-limit 1 --guest-append init_on_free=1"
	"postcopy-loss-2|loss 2 --postcopy 0.05 --dirty 48 --guest-append init_on_free=1"
	"multifd-4|multifd 4 --guest-append init_on_free=1"
	"tls|tls --guest-append init_on_free=1"
	"tls-multifd-4|tls --multifd 4 --guest-append init_on_free=1"
	"tls-port-7000|tls --port 7000 --guest-append init_on_free=1"
	# what the guest's users felt (issue 14): a page every 10 ms and an echo
	# connection across the switchover, the client's own log in http.log
	"http|baseline --http --guest-append init_on_free=1"
	# the network moves 0.5 s after migrate, before the guest (issue 14)
	"early-cutover|early-cutover 0.5 --guest-append init_on_free=1"
	# only QEMU's RARPs, flooded by a port that no longer learns (issue 14)
	"announce-without-ip|announce-without-ip --guest-append init_on_free=1"
	# the destination starves the resumed guest (a 5 % CPU quota for 4 s)
	"slow-guest|slow-guest 5 4 --guest-append init_on_free=1"
)

# Evacuations (issue 13): several guests in one run, each judged on its own
# (tests/e2e/lab_evacuate.sh); kept off the list above, which
# tests/e2e/lab_fixtures.sh reads for its one-guest checks.
EVACUATIONS=("evacuate-3|evacuate 3 --guest-append init_on_free=1" "evacuate-3-serial|evacuate 3 --serial 1 --guest-append init_on_free=1")
# A guest that ignores ping (issue 14): its own requests are the probes
# (tests/e2e/guest_traffic.sh), or arping's (one ARP request a second:
# tests/e2e/verdicts.sh); off the one-guest list, whose checks time the echo
# probes
NO_ECHO=("http-no-icmp|baseline --http --no-icmp --guest-append init_on_free=1" "arp-no-icmp|baseline --no-icmp --arp --before 4 --after 5 --guest-append init_on_free=1")

store() { # NAME RUNDIR
	local name=$1 run=$2 dest=$DEST/$1 f node ports
	rm -rf "$dest"
	mkdir -p "$dest"
	# the analyzer's ports and the run's own (--port: outside them)
	ports=$(jq -r '[49152, 49215] as [$lo, $hi]
		| [.migrations[].port // empty, .migration_setup.port] | unique
		| map(select(. < $lo or . > $hi) | tostring) | ["49152-49215,16509,16514"] + . | join(",")' "$run/scenario.json")
	for node in $(jq -r '.vantages | keys[]' "$run/scenario.json"); do
		f=$(jq -r --arg n "$node" '.vantages[$n]' "$run/scenario.json")
		"$BUILD/lab/msl-cut" --ports "$ports" "$run/$f" "$dest/$f"
		gzip -9n "$dest/$f"   # -n: no name or stamp in the header, reproducible
	done
	jq '.vantages |= map_values(. + ".gz")' "$run/scenario.json" >"$dest/scenario.json"
	for f in "$run"/ping*.log "$run"/http.log "$run"/arping.log "$run"/query-migrate*.json; do
		[ -f "$f" ] && cp "$f" "$dest/"
	done
	# scenario.json and ping's log as stored, the captures as the lab wrote them
	if jq -e '.guests | length > 1' "$dest/scenario.json" >/dev/null; then
		# an evacuation: each guest's truth (truth-K.json) from a view with
		# that guest alone (tests/lab/evacuation_views.sh) of the stored
		# files, the captures as the lab wrote them
		local views k=0 v
		views=$(mktemp -d /tmp/msl-views.XXXXXX)
		while IFS=$'\t' read -r v _; do
			tests/lab/truth.sh "$v" "$run" >"$dest/truth-$k.json"
			k=$((k + 1))
		done < <(tests/lab/evacuation_views.sh "$dest" "$views")
		rm -rf "$views"
	else
		tests/lab/truth.sh "$dest" "$run" >"$dest/truth.json"
	fi
	echo "fixture $dest: $(du -sk "$dest" | cut -f1) KB"
}

want=("$@")
for entry in "${SCENARIOS[@]}" "${EVACUATIONS[@]}" "${NO_ECHO[@]}"; do
	name=${entry%%|*}
	read -r -a args <<<"${entry#*|}"
	if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	if [ -n "${MSL_KEEP_RUNS:-}" ]; then
		run=$MSL_KEEP_RUNS/$name
		mkdir -p "$run"
	else
		run=$(mktemp -d "/tmp/msl-fixture-$name.XXXXXX")
	fi
	# run.sh SCENARIO OUTDIR [SCENARIO ARGS...] [OPTIONS...]
	echo "== $name: tests/lab/run.sh ${args[0]} OUT ${args[*]:1}"
	MSL_FAULT=$BUILD/msl-fault MSL_MIGSCOPE=${MSL_MIGSCOPE:-$BUILD/migscope} tests/lab/run.sh "${args[0]}" "$run" "${args[@]:1}" >"$run.log" 2>&1 ||
		{ tail -20 "$run.log"; echo "fixtures: scenario $name failed (log $run.log)" >&2; exit 1; }
	store "$name" "$run"
	[ -n "${MSL_KEEP_RUNS:-}" ] || rm -rf "$run" "$run.log"
done
