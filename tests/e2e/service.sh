#!/bin/bash
# The systemd unit (dist/migscope-capture.service.in) run the way systemd
# runs it, without systemd: its ExecStart with the unit's specifiers and the
# defaults file's options (dist/migscope-capture.default) expanded, under its
# UMask, with $NOTIFY_SOCKET on a socket of ours (Type=notify); then
# KillSignal (SIGTERM) within TimeoutStopSec. The agent must say READY=1 once
# attached, report its STATUS (what it keeps and loses), say STOPPING=1, exit
# 0, and leave its files 0600 in the state directory. systemd-analyze verify
# checks the unit's syntax. Needs root (the agent's eBPF programs).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=$(realpath "${1:-build}")
UNIT=dist/migscope-capture.service.in
DEFAULTS=dist/migscope-capture.default

if [ "$(id -u)" != 0 ]; then
	not_ok "service: needs root (the agent's eBPF programs, network namespaces)"
	exit 1
fi
NS=msc-svc-$$
TMP=$(mktemp -d /tmp/msc-service-XXXXXX)
PID= LISTENER=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link add eth0 type veth peer name peer0 &&
	ip -n "$NS" link set eth0 up && ip -n "$NS" link set peer0 up || {
	not_ok "service: a NIC named eth0 (the defaults file's) in namespace $NS"
	exit 1
}

unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }

# --- the unit's syntax, by systemd's own checker ------------------------------
sed "s|@BINDIR@|$BUILD|" "$UNIT" >"$TMP/migscope-capture.service"
# its Documentation= page from the tree (not installed here)
if out=$(MANPATH=$PWD/docs/man SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$TMP/migscope-capture.service" 2>&1) &&
	! grep -q migscope-capture <<<"$out"; then
	ok "service: systemd-analyze verify passes the unit"
else
	not_ok "service: systemd-analyze verify passes the unit" "$out"
fi
expect_eq "service: Type=notify" notify "$(unit_value Type)"
expect_eq "service: stopped with SIGTERM" SIGTERM "$(unit_value KillSignal)"

# --- ExecStart as systemd expands it ------------------------------------------
# specifiers (%H the host name), the EnvironmentFile's variable split on
# spaces as an unquoted $VAR is; the test's directories for the unit's
state=$TMP/state
mkdir -p "$state" "$TMP/textfile"
exec_start=$(unit_value ExecStart)
opts=$(. "./$DEFAULTS" && echo "$MIGSCOPE_CAPTURE_OPTS")
cmd=${exec_start//@BINDIR@/$BUILD}
cmd=${cmd//%H/cn1}
cmd=${cmd//\$MIGSCOPE_CAPTURE_OPTS/$opts}
cmd=${cmd//\/var\/lib\/migscope/$state}
cmd=${cmd//\/var\/lib\/prometheus\/node-exporter/$TMP/textfile}
read -r -a argv <<<"$cmd"
timeout_stop=$(unit_value TimeoutStopSec)

# the service manager's end of $NOTIFY_SOCKET
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        log.write(msg.replace("\n", " ") + "\n")
        if "STOPPING=1" in msg:
            break
PY
LISTENER=$!
for _ in $(seq 50); do [ -S "$TMP/notify.sock" ] && break; sleep 0.1; done

(umask "$(unit_value UMask)"; cd /; NOTIFY_SOCKET=$TMP/notify.sock \
	exec nsenter --net="/run/netns/$NS" "${argv[@]}") 2>"$TMP/agent.log" &
PID=$!
for _ in $(seq 100); do grep -q READY=1 "$TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
if grep -q READY=1 "$TMP/notify.log" 2>/dev/null; then
	ok "service: READY=1 once the programs are attached"
else
	not_ok "service: READY=1 once the programs are attached" "$(cat "$TMP/agent.log")"
fi
sleep 6 # a STATUS every 5 s
kill -TERM "$PID"
start=$(date +%s)
for _ in $(seq $((timeout_stop * 10))); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then
	not_ok "service: SIGTERM ends it within TimeoutStopSec=${timeout_stop}s"
	kill -KILL "$PID"
	wait "$PID"
else
	wait "$PID"
	rc=$?
	expect_eq "service: exit 0 on SIGTERM (within $(($(date +%s) - start)) s)" 0 "$rc"
fi
PID=
wait "$LISTENER" 2>/dev/null
LISTENER=
grep -q "^STATUS=.*events kept, .* lost; ring .* files" "$TMP/notify.log" &&
	ok "service: STATUS says what it keeps and loses" ||
	not_ok "service: STATUS says what it keeps and loses" "$(cat "$TMP/notify.log")"
grep -q "STOPPING=1" "$TMP/notify.log" && ok "service: STOPPING=1 on the way out" ||
	not_ok "service: STOPPING=1 on the way out" "$(cat "$TMP/notify.log")"
files=$(find "$state" -maxdepth 1 -name 'cn1.*.pcapng' | wc -l)
check "service: the ring's file in the state directory ($files)" test "$files" -ge 1
expect_eq "service: files 0600 (UMask and the writer)" 600 \
	"$(find "$state" -type f -name '*.pcapng' -printf '%m\n' | sort -u)"
check "service: the metrics for node_exporter" test -s "$TMP/textfile/migscope.prom"
left=$(ip netns exec "$NS" bpftool net show dev eth0 2>/dev/null |
	grep -v -E '^(xdp|tc|flow_dissector|netfilter):$|^$')
expect_eq "service: nothing attached after the stop" "" "$left"
