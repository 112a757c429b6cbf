#!/bin/bash
# make demo: migscope's main job on the committed baseline fixture (a
# migration cn1 -> cn2 seen at both compute NICs and at the prober).
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/../fixtures"
echo "\$ migscope analyze src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap"
"../$BUILD/migscope" analyze src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
