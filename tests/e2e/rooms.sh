#!/bin/bash
# The house's rules (docs/decisions.md, "The map of the house"): the rooms
# follow the data flow, so no two of them include each other, however
# indirectly; the renderers read nothing but the report model; the code
# shared with the kernel includes nothing of userspace. Read from the
# #include lines of every .c and .h in the rooms.
set -u
. "$(dirname "$0")/../lib.sh"
ROOT=$(realpath "$(dirname "$0")/../..")
ROOMS="bpf analysis reports series capture"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# edges DIR: "from to file" for every include of another room
edges() {
	local dir=$1 room
	for room in $ROOMS; do
		[ -d "$dir/$room" ] || continue
		grep -Ho '#include "[a-z_]*/[a-z_0-9]*\.h"' "$dir/$room"/*.[ch] 2>/dev/null |
			sed 's#^\([^:]*\):\#include "\([a-z_]*\)/.*#'"$room"' \2 \1#' |
			awk -v rooms=" $ROOMS " '$1 != $2 && index(rooms, " " $2 " ")'
	done
}

# cycle DIR: prints a cycle of rooms ("a -> b -> a") when there is one
cycle() {
	edges "$1" | awk '
		{ adj[$1] = adj[$1] " " $2; nodes[$1]; nodes[$2] }
		function visit(n, path,    k, m, parts) {
			if (state[n] == 1) { print path " -> " n; found = 1; return }
			if (state[n] == 2 || found) return
			state[n] = 1
			split(adj[n], parts, " ")
			for (k in parts) visit(parts[k], path (path ? " -> " : "") n)
			state[n] = 2
		}
		END { for (n in nodes) if (!found) visit(n, "") }' | head -1
}

c=$(cycle "$ROOT")
if [ -z "$c" ]; then ok "no two rooms include each other"; else not_ok "no two rooms include each other" "cycle: $c"; fi
echo "# rooms: $(edges "$ROOT" | awk '{print $1 " -> " $2}' | sort -u | tr '\n' ',' | sed 's/,$//;s/,/, /g')"

# the checker finds a circle when there is one: two rooms that include each other
mkdir -p "$T/tree/analysis" "$T/tree/reports"
echo '#include "reports/render.h"' >"$T/tree/analysis/a.c"
echo '#include "analysis/flows.h"' >"$T/tree/reports/r.c"
c=$(cycle "$T/tree")
[ -n "$c" ] && ok "the check sees a circle ($c)" || not_ok "the check sees a circle" "none found"

bad=$(edges "$ROOT" | awk '$1 == "reports" { print $3 ": " $2 }')
[ -z "$bad" ] && ok "renderers include only reports/ (the model and each other)" ||
	not_ok "renderers include only reports/" "$bad"
bad=$(grep -l '#include "' "$ROOT"/bpf/*.[ch] | xargs grep -H '#include "' | grep -v '#include "[a-z_]*\.h"\|#include "bpf/')
[ -z "$bad" ] && ok "bpf/ (shared with the kernel) includes only bpf/" || not_ok "bpf/ includes only bpf/" "$bad"
