#!/bin/bash
# The JSON report's contract, docs/report.schema.json (migscope.report.v2),
# held by a real validator: Debian's python3-jsonschema, draft 2020-12, run
# by tests/e2e/schema_validate.py. The schema against its metaschema; the
# report of every fixture against the schema (synthetic, lab labelled and
# unlabelled, and odd inputs: one capture, the prober's alone, no packets,
# no migration, a stream seen only by the prober's label, a cut capture,
# four captures, --no-align, --announce, a guest that is not there); and
# mutated reports, one per kind of mistake, that must each be rejected for
# that mistake and nothing else.
#
#   tests/e2e/schema.sh BUILD
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$(realpath "$BUILD/migscope")
SCHEMA=docs/report.schema.json
# Debian's interpreter, whatever python3 comes first in PATH: the validator
# is the one tests/deps.sh installs (python3-jsonschema)
PY=/usr/bin/python3
VALIDATE=(tests/e2e/schema_validate.py "$SCHEMA")
SYN=fixtures/synthetic
LAB=fixtures/lab
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/reports" "$T/mutants"

if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	not_ok "python3-jsonschema installed (tests/deps.sh test)" "$("$PY" -c 'import jsonschema' 2>&1 | tail -1)"
	exit 0
fi

# the schema: a valid 2020-12 schema, strict as it says; and that check can fail
out=$("$PY" "${VALIDATE[@]}" --check-schema 2>&1)
if [ "${out%% *}" = valid ]; then
	ok "schema: valid against the 2020-12 metaschema, every object strict"
else
	not_ok "schema: valid against the 2020-12 metaschema, every object strict" "$out"
fi
# expect_bad_schema NAME SED MESSAGE: a broken copy of the schema is refused
expect_bad_schema() {
	sed "0,/$2/s//$3/" "$SCHEMA" >"$T/bad-schema.json"
	if cmp -s "$SCHEMA" "$T/bad-schema.json"; then
		not_ok "schema check rejects $1" "the edit did not apply"
		return
	fi
	out=$("$PY" tests/e2e/schema_validate.py "$T/bad-schema.json" --check-schema 2>&1)
	case $out in
	"invalid "*"$4"*) ok "schema check rejects $1" ;;
	*) not_ok "schema check rejects $1" "$out" ;;
	esac
}
expect_bad_schema "an unknown type name (metaschema)" '"type": "integer"' '"type": "integr"' "is not valid under any of the given schemas"
expect_bad_schema "an object open to unknown keys" '"additionalProperties": false,' '' "without additionalProperties false"

# report NAME DIR ARGS...: analyze's JSON for ARGS, run in DIR
report() {
	local name=$1 dir=$2 rc; shift 2
	(cd "$dir" && "$MIGSCOPE" analyze --format json "$@") >"$T/reports/$name.json" 2>"$T/err"
	rc=$?
	if [ $rc -gt 1 ] || [ ! -s "$T/reports/$name.json" ]; then
		not_ok "$name: analyze ran" "exit $rc: $(head -3 "$T/err")"
		rm -f "$T/reports/$name.json"
	fi
}

# every synthetic fixture, with the arguments of its truth file
mkdir -p "$T/reports/synthetic" "$T/reports/lab" "$T/reports/odd"
for truth in "$SYN"/*.truth; do
	name=$(basename "$truth" .truth)
	args=$(sed -n 's/^args //p' "$truth")
	# shellcheck disable=SC2086
	report "synthetic/$name" "$SYN" $args
done

# every lab fixture, labelled by its scenario (the first migration's nodes) and not
if [ ! -d "$LAB" ] || [ -z "$(ls "$LAB")" ]; then
	not_ok "lab fixtures present in $LAB (make fixtures)"
fi
# the capture of the first migration's NODE (from, to) in a lab fixture DIR
capture_of() {
	jq -r --arg n "$(jq -r ".migrations[0].$2" "$1/scenario.json")" '.vantages[$n]' "$1/scenario.json"
}
for dir in "$LAB"/*/; do
	dir=${dir%/} name=$(basename "$dir")
	if [ ! -s "$dir/scenario.json" ]; then
		not_ok "lab/$name: scenario.json present"
		continue
	fi
	report "lab/$name-labelled" "$dir" "src=$(capture_of "$dir" from)" "dst=$(capture_of "$dir" to)" ctl=ctl.pcap.gz
	report "lab/$name-unlabelled" "$dir" cn1.pcap.gz cn2.pcap.gz ctl.pcap.gz
done

# odd inputs
head -c 24 "$SYN/baseline-ctl.pcap" >"$T/no-packets.pcap"
head -c 200001 "$SYN/baseline-cn1.pcap" >"$T/cut.pcap"
report odd/src-capture-alone "$SYN" src=baseline-cn1.pcap
report odd/dst-capture-alone-unlabelled "$SYN" baseline-cn2.pcap
report odd/prober-capture-alone "$SYN" baseline-ctl.pcap
report odd/lab-prober-capture-alone "$LAB/baseline" ctl.pcap.gz
report odd/no-packets "$SYN" "$T/no-packets.pcap"
report odd/no-packets-beside-a-migration "$SYN" src=baseline-cn1.pcap dst=baseline-cn2.pcap "ctl=$T/no-packets.pcap"
report odd/stream-only-at-ctl "$SYN" ctl=baseline-cn1.pcap
report odd/cut-capture "$SYN" "src=$T/cut.pcap" dst=baseline-cn2.pcap
report odd/dst-and-ctl "$SYN" dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
report odd/four-captures "$SYN" src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap vlan-ctl.pcap.gz
report odd/no-align "$SYN" --no-align src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
report odd/announce-parameters "$SYN" --announce 10,100,6,40 src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
report odd/absent-guest "$SYN" --guest 52:54:00:aa:bb:cc src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
report odd/lab-dst-silent-src-ctl "$LAB/dst-silent" src=cn1.pcap.gz ctl=ctl.pcap.gz
report odd/lab-port-not-ready-no-announce-self-dst-ctl "$LAB/port-not-ready-no-announce-self" dst=cn2.pcap.gz ctl=ctl.pcap.gz
report odd/lab-baseline-hypervisor "$LAB/baseline" --hypervisor query-migrate.json src=cn1.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz
report odd/lab-back-and-forth-hypervisor "$LAB/back-and-forth" -H query-migrate-1.json -H query-migrate-2.json src=cn1.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz

# validate them all in one run of the validator: one line per report
mapfile -t files < <(cd "$T/reports" && find . -name '*.json' | sed 's|^\./||' | sort)
(cd "$T/reports" && "$PY" "$OLDPWD/tests/e2e/schema_validate.py" "$OLDPWD/$SCHEMA" "${files[@]}") >"$T/results" 2>&1
for f in "${files[@]}"; do
	name=${f%.json}
	line=$(awk -v f="$f" '$2 == f || $2 == f ":" { print; exit }' "$T/results")
	case $line in
	"valid $f") ok "$name: report valid" ;;
	"") not_ok "$name: report valid" "no verdict from the validator: $(tail -3 "$T/results")" ;;
	*) not_ok "$name: report valid" "${line#invalid }" ;;
	esac
done
# a suite that validated nothing proves nothing
if [ "${#files[@]}" -ge 40 ]; then
	ok "${#files[@]} reports validated"
else
	not_ok "at least 40 reports validated" "only ${#files[@]}"
fi

# Mutants of the synthetic baseline's report (every block there is filled
# in), edited as text so that nothing but the edit changes (the report is one
# line: sed edits the first match). Each must be rejected with exactly N
# errors, the first at PATH, saying MESSAGE.
#   NAME|SED|N|PATH|MESSAGE
MUTANTS=(
	'a missing required key|s/"flows":[0-9]*,//|1|/migrations/0/stream|'"'flows' is a required property"
	'a wrong type (a count as a string)|s/"packets":\([0-9]*\)/"packets":"\1"/|1|/inputs/0/packets|'"'2705' is not of type 'integer'"
	'an unknown key|s/"verdict":{/"verdict":{"severity":"high",/|1|/migrations/0/verdict|'"Additional properties are not allowed ('severity' was unexpected)"
	'a verdict outside the enum|s/"code":"ok"/"code":"fine"/|1|/migrations/0/verdict/code|'"'fine' is not one of ['ok', 'no_announce', 'early_cutover', 'announce_without_ip', 'stale_forwarding', 'destination_silent', 'slow_guest', 'return_path', 'insufficient_data']"
	'a negative count|s/"lost_probes":[0-9]*/"lost_probes":-3/|1|/migrations/0/loss/lost_probes|-3 is less than the minimum of 0'
	'a null where the writer always has a value|s/"flows":[0-9]*/"flows":null/|1|/migrations/0/stream/flows|'"None is not of type 'integer'"
	'an integer written with a decimal point|s/"packets":\([0-9]*\)/"packets":\1.0/|1|/inputs/0/packets|'"is not of type 'integer'"
	'another schema name|s/"migscope.report.v2"/"migscope.report.v1"/|1|/schema|'"'migscope.report.v2' was expected"
	'a vantage outside the enum|s/"vantage":"ctl"/"vantage":"prober"/|1|/inputs/2/vantage|'"'prober' is not one of ['src', 'dst', 'ctl']"
	'a timeline event outside the enum|s/"event":"resume","vantage"/"event":"resumed","vantage"/|1|/migrations/0/timeline/2/event|'"'resumed' is not one of"
	'a timeline event neither seen nor missing|s/"missing":"not_seen"/"missing":null/|2|/migrations/0/timeline/7/ns|'"None is not of type 'integer'; /migrations/0/timeline/7/t_ns: None is not of type 'integer'"
	'a *_us not written with three decimals|s/"probe_gap_us":\([0-9]*\)\.[0-9]*/"probe_gap_us":\1/|1|/migrations/0/downtime/probe_gap_us|is not written with three decimals'
	'a key twice in one object|s/"flows":\([0-9]*\),/"flows":\1,"flows":\1,/|1||'"key 'flows' twice in one object"
)
base=$T/reports/synthetic/baseline.json
if [ ! -s "$base" ]; then
	not_ok "mutants: the synthetic baseline's report exists"
	exit 0
fi
i=0
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name expr n path msg <<<"$m"
	i=$((i + 1))
	sed "$expr" "$base" >"$T/mutants/$i.json" # one line: the first match only
	if cmp -s "$base" "$T/mutants/$i.json"; then
		not_ok "rejects $name" "the edit did not apply: $expr"
		continue
	fi
	line=$("$PY" "${VALIDATE[@]}" "$T/mutants/$i.json" 2>&1)
	want="invalid $T/mutants/$i.json: $n error(s): ${path:+$path: }"
	case $line in
	"$want"*"$msg"*) ok "rejects $name" ;;
	*) not_ok "rejects $name" "want: ${want#invalid "$T"/}...$msg
got: ${line#invalid "$T"/}" ;;
	esac
done
