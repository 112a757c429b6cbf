#!/bin/bash
# make demo: migscope's main job on a real migration. As root: the lab
# (tests/lab/run.sh baseline) live-migrates a QEMU guest between two
# namespaced compute nodes while tcpdump watches both NICs and the prober,
# then migscope analyzes the three captures. Without root it analyzes the
# committed capture of such a run (fixtures/lab/baseline).
set -eu
BUILD=$(realpath "${1:-build}")
cd "$(dirname "$0")/.."
OUT=${MSL_DEMO_DIR:-/tmp/migscope-demo}

if [ "$(id -u)" = 0 ]; then
	echo "== tests/lab/run.sh baseline $OUT   (a real QEMU live migration, about 30 s)"
	mkdir -p "$OUT"
	log=$OUT/lab.log
	if ! MSL_FAULT=$BUILD/msl-fault tests/lab/run.sh baseline "$OUT" >"$log" 2>&1; then
		tail -20 "$log" >&2
		echo "demo: the lab run failed (log: $log)" >&2
		exit 1
	fi
	grep -v '^\[lab' "$log" || true   # the lab's summary: QEMU's and ping's own figures
	cd "$OUT"
	files="src=cn1.pcap dst=cn2.pcap ctl=ctl.pcap"
else
	echo "== not root: the lab needs root; analyzing the committed capture of a lab run instead"
	cd fixtures/lab/baseline
	jq -r '.migrations[0].query_migrate | "qemu: status \(.status), total-time \(."total-time") ms, downtime \(.downtime) ms"' scenario.json
	files="src=cn1.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz"
fi
echo
echo "\$ migscope analyze $files"
# shellcheck disable=SC2086
"$BUILD/migscope" analyze $files
