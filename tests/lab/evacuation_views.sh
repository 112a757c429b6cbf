#!/bin/bash
# An evacuation run seen one guest at a time, for tests/lab/truth.sh and
# tests/lab/check.sh (which judge one guest's migrations):
#
#   tests/lab/evacuation_views.sh RUNDIR VIEWDIR
#
# makes VIEWDIR/guest-K/ for each migration K of RUNDIR/scenario.json: the
# run's captures (links), the guest's own ping log as ping.log, its
# query-migrate files, and a scenario.json whose guest is guest K and whose
# only migration is K's. Prints each view's directory and the guest's MAC,
# tab-separated, one line per guest.
set -eu
RUN=$(realpath "${1:?usage: evacuation_views.sh RUNDIR VIEWDIR}")
VIEWS=${2:?usage: evacuation_views.sh RUNDIR VIEWDIR}
S=$RUN/scenario.json
n=$(jq '.migrations | length' "$S")
jq -e '.guests | length > 1' "$S" >/dev/null || { echo "$S: not an evacuation" >&2; exit 2; }
for ((k = 0; k < n; k++)); do
	v=$VIEWS/guest-$k
	rm -rf "$v"
	mkdir -p "$v"
	for f in $(jq -r '.vantages[]' "$S"); do
		for g in "$RUN/$f" "$RUN/$f.gz"; do [ -f "$g" ] && ln -s "$g" "$v/$(basename "$g")"; done
	done
	log=$(jq -r --argjson k "$k" '.migrations[$k].guest.ping_log' "$S")
	cp "$RUN/$log" "$v/ping.log"
	qf=$(jq -r --argjson k "$k" '.migrations[$k].query_migrate_file' "$S")
	cp "$RUN/$qf" "$v/query-migrate.json"
	jq --argjson k "$k" '.migrations[$k] as $m
		| .guest = (.guest + {mac: $m.guest.mac, ipv4: $m.guest.ipv4})
		| .migrations = [$m | .query_migrate_file = "query-migrate.json"]
		| .ping = $m.ping' "$S" >"$v/scenario.json"
	printf '%s\t%s\n' "$v" "$(jq -r --argjson k "$k" '.migrations[$k].guest.mac' "$S")"
done
