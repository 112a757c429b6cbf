#!/bin/sh
# Builds an input of the analyze_multi fuzz target (tests/fuzz/fuzz_analyze_multi.c)
# from capture files, options as its header's two first bytes (the rest zero):
#   tests/fuzz/mkmulti.sh FLAGS LABELS OUT FILE...
# FLAGS: 1 --no-align, 2 --guest, 4 --announce, 8 --ports (their values are
# zero here: edit the header by hand for others); LABELS: two bits per capture,
# 1 src, 2 dst, 3 ctl: "src=A dst=B" is 9 (1 | 2 << 2).
set -e
flags=$1 labels=$2 out=$3
shift 3
{
	printf "\\$(printf %03o "$flags")\\$(printf %03o "$labels")"
	head -c 22 /dev/zero
	first=1
	for f in "$@"; do
		[ $first = 1 ] || printf MSCAPSEP
		first=0
		cat "$f"
	done
} >"$out"
