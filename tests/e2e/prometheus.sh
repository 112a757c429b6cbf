#!/bin/bash
# Metrics where fleets look, with Prometheus' own parts from Debian:
# `analyze --format openmetrics` on a real lab migration passes promtool's
# lint; node_exporter's textfile collector serves it; a real Prometheus server
# scrapes node_exporter, and a PromQL query over its HTTP API returns the
# migration's downtime, the JSON report's figure. The README's alert rules
# (docs/prometheus-rules.yml) pass promtool and fire on a lab fault.
# Everything listens on 127.0.0.1 only and is stopped at the end.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
MIGSCOPE=$BUILD/migscope
ROOT=$(realpath "$(dirname "$0")/../..")
DIR=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

lab() { # the report of lab fixture $1, format $2
	local d=$ROOT/fixtures/lab/$1
	"$MIGSCOPE" analyze --format "$2" src="$d/cn1.pcap.gz" dst="$d/cn2.pcap.gz" ctl="$d/ctl.pcap.gz"
}

# a port nothing listens on yet (ss from iproute2)
free_port() {
	local p
	for p in $(seq "$1" $(($1 + 200))); do
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

mkdir -p "$DIR/textfile" "$DIR/tsdb"
lab baseline openmetrics >"$DIR/baseline.prom"
lab lost-announce openmetrics >"$DIR/fault.prom"
if out=$(promtool check metrics <"$DIR/baseline.prom" 2>&1); then
	ok "promtool check metrics: the lab migration's exposition is clean"
else
	not_ok "promtool check metrics: the lab migration's exposition is clean" "$out"
fi
check "the exposition ends with # EOF" test "$(tail -1 "$DIR/baseline.prom")" = "# EOF"
if out=$(promtool check rules "$ROOT/docs/prometheus-rules.yml" 2>&1); then
	ok "promtool check rules: docs/prometheus-rules.yml"
else
	not_ok "promtool check rules: docs/prometheus-rules.yml" "$out"
fi
# two reports side by side, as two files in the collector's directory: the
# fault's migration numbered 2 so the series differ
cp "$DIR/baseline.prom" "$DIR/textfile/baseline.prom"
sed 's/migration="1"/migration="2"/' "$DIR/fault.prom" >"$DIR/textfile/fault.prom"

NE_PORT=$(free_port 19100)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$DIR/textfile" >"$DIR/ne.log" 2>&1 &
PIDS+=($!)
cp "$ROOT/docs/prometheus-rules.yml" "$DIR/rules.yml"
cat >"$DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$DIR/rules.yml"]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NE_PORT"]
YML
PR_PORT=$(free_port 19090)
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/tsdb" \
	--web.listen-address="127.0.0.1:$PR_PORT" >"$DIR/prom.log" 2>&1 &
PIDS+=($!)

query() { # PromQL $1: the first sample's value, empty while none
	curl -sf --max-time 2 "http://127.0.0.1:$PR_PORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
want_us=$(lab baseline json | jq -r '.migrations[0].downtime.probe_gap_us')
got=""
for _ in $(seq 1 60); do
	got=$(query 'migscope_migration_downtime_seconds{job="node",migration="1"}')
	[ -n "$got" ] && break
	sleep 1
done
if [ -z "$got" ]; then
	not_ok "Prometheus scraped node_exporter's textfile" "$(tail -5 "$DIR/prom.log"; tail -5 "$DIR/ne.log")"
else
	ok "Prometheus scraped node_exporter's textfile"
	# seconds with 9 decimals as written; Prometheus returns the float's shortest text
	expect_eq "PromQL: the downtime is the report's probe gap" \
		"$(awk -v u="$want_us" 'BEGIN { printf "%.6f", u / 1e6 }')" \
		"$(awk -v s="$got" 'BEGIN { printf "%.6f", s }')"
	expect_eq "PromQL: the guest label is the report's guest" \
		"$(lab baseline json | jq -r '.migrations[0].guest.mac')" \
		"$(curl -sf "http://127.0.0.1:$PR_PORT/api/v1/query" \
			--data-urlencode 'query=migscope_migration_downtime_seconds' |
			jq -r '.data.result[0].metric.guest')"
fi
alert=""
for _ in $(seq 1 30); do
	alert=$(curl -sf --max-time 2 "http://127.0.0.1:$PR_PORT/api/v1/alerts" |
		jq -r '[.data.alerts[] | select(.state=="firing") | .labels.alertname + ":" + .labels.verdict] | sort | join(" ")')
	[ -n "$alert" ] && break
	sleep 1
done
expect_eq "the alert rule fires on the lab's fault, not on the clean migration" \
	"MigrationFault:$(lab lost-announce json | jq -r '.migrations[0].verdict.code')" "$alert"
