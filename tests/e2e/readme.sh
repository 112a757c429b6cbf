#!/bin/bash
# The README's sample reports are real: each code block after a
# `<!-- sample: DIR ... -->` line starts with `$ migscope ...`; that command
# is run in DIR (relative to the repository) and its standard output must be
# the rest of the block, byte for byte (or its first lines, where the block
# ends in "..."). A block after `<!-- excerpt: DIR -->` shows chosen lines:
# each must be a line of the output, in the output's order. A change of the
# report's text shows here, and the README is regenerated with it.
#
#   tests/e2e/readme.sh BUILD
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=$(realpath "${1:-build}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# the samples as DIR<TAB>N: block N (from 1) written to $T/N.block
awk -v dir="$T" '
	/^<!-- (sample|excerpt): / { want = $3; kind = $2; next }
	want != "" && /^```/ && !inside { inside = 1; n++; print want "\t" n "\t" kind; out = dir "/" n ".block"; printf "" > out; next }
	inside && /^```/ { inside = 0; want = ""; close(out); next }
	inside { print > out }
' README.md >"$T/samples"
[ -s "$T/samples" ] || not_ok "README has sample reports" "no <!-- sample: DIR --> line"
while IFS=$'\t' read -r dir n kind; do
	cmd=$(head -1 "$T/$n.block")
	case $cmd in
	'$ migscope '*) ;;
	*) not_ok "README sample $n: starts with \$ migscope" "$cmd"; continue ;;
	esac
	tail -n +2 "$T/$n.block" >"$T/$n.want"
	# the words after "$ migscope", as the shell would split them (no quoting in samples)
	read -ra words <<<"${cmd#'$ migscope '}"
	(cd "$dir" && "$BUILD/migscope" "${words[@]}" >"$T/$n.got" 2>/dev/null)
	if [ "$kind" = excerpt: ]; then
		# each line of the block found in the output, after the one before
		missing=$(awk 'NR == FNR { want[++nw] = $0; next }
			k < nw && $0 == want[k + 1] { k++ }
			END { if (k < nw) print want[k + 1] }' "$T/$n.want" "$T/$n.got")
		if [ -z "$missing" ]; then
			ok "README excerpt $n (${cmd:0:60}... in $dir): lines of migscope's output"
		else
			not_ok "README excerpt $n (${cmd:0:60}... in $dir): lines of migscope's output" \
				"not in the output (in order): ${missing:0:200}"
		fi
		continue
	fi
	# a block that ends in "..." shows the output's first lines
	if [ "$(tail -1 "$T/$n.want")" = ... ]; then
		sed -i '$d' "$T/$n.want"
		head -n "$(wc -l <"$T/$n.want")" "$T/$n.got" >"$T/$n.head" && mv "$T/$n.head" "$T/$n.got"
	fi
	if cmp -s "$T/$n.want" "$T/$n.got"; then
		ok "README sample $n (${cmd:0:60}... in $dir): migscope's output"
	else
		not_ok "README sample $n (${cmd:0:60}... in $dir): migscope's output" \
			"$(diff "$T/$n.want" "$T/$n.got" | head -8)"
	fi
done <"$T/samples"
