#!/bin/bash
# make bench: the flight recorder on an idle compute node (issue 13). The
# agent as the service runs it (-G, -W, --metrics) for SECS seconds on a
# veth that carries only what an idle node's NIC does: 10 echo requests and
# replies a second (a monitoring probe) and their ARP; then its CPU time
# (utime + stime from /proc) and the bytes its files took, scaled to a day.
# Figures, never gates. Needs root.
set -eu
BUILD=$(realpath "${1:-build}")
SECS=${BENCH_IDLE_SECS:-30}
NS=mscidle$$
TMP=$(mktemp -d /tmp/msc-idle-XXXXXX)
AGENT= PING=
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null
	[ -n "$PING" ] && kill "$PING" 2>/dev/null
	wait 2>/dev/null || true
	ip netns del "$NS-a" 2>/dev/null || true
	ip netns del "$NS-b" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
echo
echo "flight recorder on an idle node: migscope capture -G 5 -W 20 --metrics, ${SECS} s, 10 probes/s"
if [ "$(id -u)" != 0 ]; then
	echo "  needs root; not measured"
	exit 0
fi
ip netns add "$NS-a"
ip netns add "$NS-b"
ip link add "$NS-x" type veth peer name "$NS-y"
ip link set "$NS-x" netns "$NS-a"
ip link set "$NS-y" netns "$NS-b"
ip -n "$NS-a" addr add 198.18.200.1/24 dev "$NS-x"
ip -n "$NS-b" addr add 198.18.200.2/24 dev "$NS-y"
ip -n "$NS-a" link set "$NS-x" up
ip -n "$NS-b" link set "$NS-y" up
mkdir -p "$TMP/ring"
nsenter --net="/run/netns/$NS-b" "$BUILD/migscope" capture -i "$NS-y" --node idle \
	-w "$TMP/ring/idle.pcapng" -G 5 -W 20 --metrics "$TMP/idle.prom" 2>"$TMP/agent.log" &
AGENT=$!
for _ in $(seq 50); do grep -q attached "$TMP/agent.log" && break; sleep 0.1; done
ip netns exec "$NS-a" ping -q -i 0.1 198.18.200.2 >/dev/null 2>&1 &
PING=$!
t0=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
sleep "$SECS"
t1=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
kill -TERM "$AGENT"
wait "$AGENT" || true
AGENT=
bytes=$(find "$TMP/ring" -type f -name '*.pcapng' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
files=$(find "$TMP/ring" -type f -name '*.pcapng' | wc -l)
hz=$(getconf CLK_TCK)
awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$SECS" -v b="$bytes" -v f="$files" 'BEGIN {
	cpu = t / hz; day = 86400 / s
	printf "  CPU %.2f s in %d s: %.0f s a day (%.3f %% of one CPU)\n", cpu, s, cpu * day, 100 * cpu / s
	printf "  disk %d bytes in %d files: %.1f MB a day; a ring of -C 100 -W 20 (2 GB) holds %.0f days\n",
		b, f, b * day / 1e6, 2e9 / (b * day)
}'
