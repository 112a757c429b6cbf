#!/bin/bash
# Golden tests: every fixtures/*.truth names the analyze arguments and the
# exact values the JSON report must hold (written by the fixture generator
# from its simulation, not from migscope's output).
set -u
. "$(dirname "$0")/../lib.sh"
MIGSCOPE=$(realpath "${1:-build}/migscope")
FIXTURES=$(realpath "${2:-fixtures/synthetic}")
FRESH=$(mktemp -d)
trap 'rm -rf "$FRESH" /tmp/golden-$$.err' EXIT

# The committed fixtures are exactly what the generator writes today.
"$(dirname "$MIGSCOPE")/migscope-fixturegen" --all "$FRESH"
if diff -r "$FRESH" "$FIXTURES" >/dev/null; then ok "fixtures: regenerated files identical"; else not_ok "fixtures: regenerated files identical" "run make fixtures"; fi
cd "$FIXTURES" || exit 1
ls ./*.truth >/dev/null 2>&1 || not_ok "truth files in $FIXTURES"
for truth in *.truth; do
	[ -f "$truth" ] || continue
	name=${truth%.truth}
	args=$(sed -n 's/^args //p' "$truth")
	# shellcheck disable=SC2086
	json=$("$MIGSCOPE" analyze $args 2>/tmp/golden-$$.err)
	rc=$?
	if [ $rc -gt 1 ] || ! jq -e . >/dev/null 2>&1 <<<"$json"; then
		not_ok "$name: analyze ran" "exit $rc: $(cat /tmp/golden-$$.err)"
		continue
	fi
	truth_check "$name" "$json" "$truth"
	fails=$TRUTH_FAILS total=$TRUTH_TOTAL
	# a truth without values would check nothing and pass
	if [ $total -eq 0 ]; then
		not_ok "$name: the truth file holds values" "no '.path value' line in $truth"
	elif [ $fails -eq 0 ]; then
		ok "$name: $total values exact"
	fi
	# findings (exit 1): a verdict other than ok / insufficient_data (slow_guest
	# too), or a guest that never answered again
	expected_rc=0
	grep 'verdict.code "' "$truth" | grep -vq 'verdict.code "\(ok\|insufficient_data\)"' && expected_rc=1
	grep -q 'reachable_after false' "$truth" && expected_rc=1
	expect_eq "$name: exit status" "$expected_rc" "$rc"
done
