#!/bin/bash
# make fuzz-coverage: the lines of analysis/, reports/ and bpf/parse.h that the fuzz
# corpus reaches. Runs the source-coverage build of each target (fuzz-cov/)
# once over its seeds (tests/fuzz/corpus, the regression inputs) and the
# campaign's corpus (BUILD/fuzz/corpus, when `make fuzz` has run), merges
# the profiles, prints llvm-cov's per-file and total line coverage and
# writes the annotated sources to BUILD/fuzz-cov/html/.
#   tests/fuzz/coverage.sh BUILD TARGET...
set -eu
BUILD=$1
shift
cd "$(dirname "$0")/../.." || exit 2
out=$BUILD/fuzz-cov
rm -rf "$out/profiles" "$out/html"
mkdir -p "$out/profiles"
objects=()
for t in "$@"; do
	dirs=("$BUILD/fuzz/seeds/$t")
	# the seeds as the campaign lays them out (tests/fuzz/campaign.sh)
	if [ ! -d "$BUILD/fuzz/seeds/$t" ]; then
		mkdir -p "$BUILD/fuzz/seeds/$t"
		cp tests/fuzz/corpus/"$t"/* "$BUILD/fuzz/seeds/$t/"
	fi
	[ -d "$BUILD/fuzz/corpus/$t" ] && dirs+=("$BUILD/fuzz/corpus/$t")
	LLVM_PROFILE_FILE="$out/profiles/$t-%p.profraw" \
		"$out/fuzz_$t" -runs=0 -rss_limit_mb=2048 -timeout=60 "${dirs[@]}" \
		>"$out/$t.log" 2>&1 || { echo "fuzz_$t failed over its corpus: $out/$t.log" >&2; exit 1; }
	echo "fuzz_$t: $(grep -m1 -o 'INITED.*' "$out/$t.log")"
	objects+=(-object "$out/fuzz_$t")
done
llvm-profdata merge -sparse "$out"/profiles/*.profraw -o "$out/all.profdata"
src="$(ls analysis/*.c reports/*.c | grep -v '^analysis/main.c$') bpf/parse.h"
# shellcheck disable=SC2086
llvm-cov report "${objects[@]:1}" -instr-profile="$out/all.profdata" $src
# shellcheck disable=SC2086
llvm-cov show "${objects[@]:1}" -instr-profile="$out/all.profdata" -format=html \
	-output-dir="$out/html" $src >/dev/null
echo "annotated sources: $out/html/index.html"
