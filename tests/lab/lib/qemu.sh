# Sourced by tests/lab/run.sh: QEMU guests, their QMP sessions, migrations.
# shellcheck shell=bash
#
# Each QEMU instance has a name (src, dst, back) and one QMP session kept open
# for its whole life: socat between the QMP socket and a FIFO we write into,
# its output appended to OUTDIR/qmp-NAME.log. That log is the full transcript
# (our commands' replies and QEMU's events: STOP, RESUME, MIGRATION,
# MIGRATION_PASS, with QEMU's microsecond wall-clock stamps).

declare -A QMP_FD=()

# start_qemu NAME NS [EXTRA...]: one guest on NS's tap0, QMP session open.
# vnet_hdr=off: no checksum/segmentation offload between guest and tap.
start_qemu() {
	local name=$1 ns=$2; shift 2
	bg "qemu-$name" "$ns" "$OUT/qemu-$name.stdout" "$OUT/qemu-$name.stderr" \
		qemu-system-x86_64 -name "msl-$RID-$name" -accel "$QEMU_ACCEL" -m "$QEMU_MEM" -nographic \
		-monitor none -kernel "$KERNEL" -initrd "$INITRD" -append "$(guest_cmdline)" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vnet_hdr=off \
		-device virtio-net-pci,netdev=n0,mac="$GUEST_MAC" \
		-qmp "unix:$RUNDIR/$name.qmp,server=on,wait=off" \
		-serial "file:$OUT/serial-$name.log" "$@"
	local pid=${PID_OF[qemu-$name]}
	for _ in $(seq 100); do
		[ -S "$RUNDIR/$name.qmp" ] && break
		kill -0 "$pid" 2>/dev/null || die "QEMU $name exited: $(tail -3 "$OUT/qemu-$name.stderr")"
		sleep 0.1
	done
	[ -S "$RUNDIR/$name.qmp" ] || die "QEMU $name: no QMP socket after 10 s"
	qmp_open "$name"
}

qmp_open() {
	local name=$1 fifo=$RUNDIR/$1.qmp-in fd
	mkfifo "$fifo"
	# the FIFO's reader (socat) and writer (us) open it together
	socat -t 1 STDIO "UNIX-CONNECT:$RUNDIR/$name.qmp" <"$fifo" >>"$OUT/qmp-$name.log" 2>>"$OUT/qemu-$name.stderr" &
	PIDS+=($!)
	PID_OF[qmp-$name]=$!
	exec {fd}>"$fifo"
	QMP_FD[$name]=$fd
	[ "$(qmp "$name" '{"execute":"qmp_capabilities"}')" = '{"return":{}}' ] ||
		die "QMP session with QEMU $name failed: $(tail -2 "$OUT/qmp-$name.log")"
}

qmp_close() {
	local name=$1 fd=${QMP_FD[$1]:-}
	[ -n "$fd" ] && exec {fd}>&-
	unset "QMP_FD[$name]"
	stop_roles "qmp-$name"
}

# qmp NAME JSON: send one command, print its reply ({"return":..} or
# {"error":..}) as one compact line, without the id. Waits up to 10 s.
qmp() {
	local name=$1 id cmd r i fd=${QMP_FD[$1]:-} log=$OUT/qmp-$1.log
	# unique without shared state: qmp runs in $(...) subshells
	id=lab-$BASHPID-${EPOCHREALTIME/./}
	cmd=$(jq -c --arg id "$id" '. + {id: $id}' <<<"$2") || die "bad QMP command: $2"
	if [ -z "$fd" ] || ! kill -0 "${PID_OF[qmp-$name]:-0}" 2>/dev/null; then
		echo '{"error":{"class":"lab","desc":"QMP session closed"}}'
		return 0
	fi
	trap '' PIPE
	printf "%s\n" "$cmd" 1>&"$fd" 2>/dev/null
	trap - PIPE
	for ((i = 0; i < 500; i++)); do
		r=$(grep -E "\"id\": ?\"$id\"" "$log" | tail -n1)
		[ -n "$r" ] && { jq -c 'del(.id)' <<<"$r"; return 0; }
		kill -0 "${PID_OF[qmp-$name]}" 2>/dev/null || break
		sleep 0.02
	done
	echo '{"error":{"class":"lab","desc":"no QMP reply"}}'
}

# qmp_ok NAME JSON WHAT: the command must succeed.
qmp_ok() {
	local r
	r=$(qmp "$1" "$2")
	[ "$r" = '{"return":{}}' ] || die "QEMU $1: $3 refused: $r"
}

# QEMU's events of NAME as compact lines {"us":N,"event":E,"data":D}.
qmp_events() {
	[ -f "$OUT/qmp-$1.log" ] || return 0
	jq -c 'select(.event) | {us: (.timestamp.seconds * 1000000 + .timestamp.microseconds), event, data}' \
		"$OUT/qmp-$1.log" 2>/dev/null || true
}

qemu_quit() {
	local name=$1 pid=${PID_OF[qemu-$1]:-}
	[ -n "$pid" ] || return 0
	qmp "$name" '{"execute":"quit"}' >/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	qmp_close "$name"
	stop_roles "qemu-$name"
}

# Boot the guest as QEMU NAME on NODE; wait until ctl's ping gets an answer.
boot_guest() {
	local name=$1 node=$2 t0=$SECONDS
	STEP=boot-$name
	say "booting the guest on $node (TCG, ${BOOT_TIMEOUT}s at most)"
	start_qemu "$name" "$P-$node"
	until nsx "$NS_CTL" ping -c1 -W1 "$GUEST_IP" >/dev/null 2>&1; do
		kill -0 "${PID_OF[qemu-$name]}" 2>/dev/null || die "QEMU $name exited: $(tail -3 "$OUT/qemu-$name.stderr")"
		[ $((SECONDS - t0)) -lt "$BOOT_TIMEOUT" ] ||
			die "guest did not answer ping from ctl within ${BOOT_TIMEOUT}s; serial log tail: $(tail -5 "$OUT/serial-$name.log" | tr '\n' '|')"
	done
	BOOT_REPLY_US=$(now_us)
	if [ -n "$GUEST_IP6" ]; then
		wait_for 10 nsx "$NS_CTL" ping -6 -c1 -W1 "$GUEST_IP6" >/dev/null ||
			die "guest answers IPv4 but not ping -6 $GUEST_IP6 from ctl"
	fi
	say "guest answers ping after $((SECONDS - t0))s"
}

# migration_setup NAME: the run's migration capabilities and parameters, on
# source and destination alike (as libvirt does). "events" on: QEMU reports
# every status change with its own stamp.
migration_setup() {
	local name=$1 caps
	caps=$(jq -cn --argjson ac "$AUTO_CONVERGE" --argjson xb "$XBZRLE" \
		'{execute: "migrate-set-capabilities", arguments: {capabilities: [
			{capability: "events", state: true},
			{capability: "auto-converge", state: ($ac == 1)},
			{capability: "xbzrle", state: ($xb == 1)}]}}')
	qmp_ok "$name" "$caps" "migrate-set-capabilities"
	[ -n "$MIG_PARAMS" ] && qmp_ok "$name" "{\"execute\":\"migrate-set-parameters\",\"arguments\":$MIG_PARAMS}" \
		"migrate-set-parameters $MIG_PARAMS"
	return 0
}

# start_incoming NAME NODE: a fresh QEMU waiting for the migration on NODE.
start_incoming() {
	local name=$1 node=$2 ip=${HOST_IP[$2]}
	STEP=start-incoming-$name
	start_qemu "$name" "$P-$node" -incoming defer
	migration_setup "$name"
	[ -n "$DST_PARAMS" ] && qmp_ok "$name" "{\"execute\":\"migrate-set-parameters\",\"arguments\":$DST_PARAMS}" \
		"migrate-set-parameters $DST_PARAMS on the destination"
	qmp_ok "$name" "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"tcp:$ip:$MIG_PORT\"}}" "migrate-incoming"
	wait_for 5 eval "nsx $P-$node ss -Hltn 'sport = :$MIG_PORT' | grep -q LISTEN" ||
		die "QEMU $name is not listening on $ip:$MIG_PORT"
}

# migrate SRC DST FROM TO: one migration; records its outcome in MIGRATIONS
# (JSON lines) and OUTDIR/query-migrate-N.json. Not completed within
# MIG_TIMEOUT seconds: migrate_cancel (if CANCEL_ON_TIMEOUT=1, else a lab
# failure). A failed migration is recorded, then a lab failure.
MIGRATIONS=()
migrate() {
	local src=$1 dst=$2 from=$3 to=$4 r st t0 start_us end_us n=$((${#MIGRATIONS[@]} + 1))
	local uri="tcp:${HOST_IP[$to]}:$MIG_PORT" cancelled=0 qfile
	STEP=migrate-$n
	say "migration $n: $from -> $to ($uri)"
	migration_setup "$src"
	start_us=$(now_us)
	r=$(qmp "$src" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"$uri\"}}")
	[ "$r" = '{"return":{}}' ] || die "migrate refused: $r"
	t0=$SECONDS
	while :; do
		r=$(qmp "$src" '{"execute":"query-migrate"}')
		st=$(jq -r '.return.status // "?"' <<<"$r")
		case $st in
		completed | failed | cancelled) break ;;
		esac
		if [ $((SECONDS - t0)) -ge "$MIG_TIMEOUT" ] && [ $cancelled = 0 ]; then
			[ "$CANCEL_ON_TIMEOUT" = 1 ] ||
				die "migration not completed after ${MIG_TIMEOUT}s (status $st): $(jq -c '.return.ram // {}' <<<"$r")"
			say "migration $n not completed after ${MIG_TIMEOUT}s (status $st, $(jq -r '.return.ram["dirty-sync-count"] // "?"' <<<"$r") passes): migrate_cancel"
			jq .return <<<"$r" >"$OUT/query-migrate-$n-before-cancel.json"
			qmp_ok "$src" '{"execute":"migrate_cancel"}' migrate_cancel
			cancelled=1
			t0=$SECONDS
			MIG_TIMEOUT=10 # for the cancellation itself
		elif [ $((SECONDS - t0)) -ge "$MIG_TIMEOUT" ]; then
			die "migration still $st 10 s after migrate_cancel"
		fi
		sleep 0.1
	done
	end_us=$(now_us)
	qfile=query-migrate-$n.json
	jq .return <<<"$r" >"$OUT/$qfile"
	[ "$n" = 1 ] && cp "$OUT/$qfile" "$OUT/query-migrate.json"
	MIGRATIONS+=("$(jq -c --arg from "$from" --arg to "$to" --arg src "$src" --arg dst "$dst" \
		--arg uri "$uri" --arg qf "$qfile" --argjson s "$start_us" --argjson e "$end_us" \
		--argjson c "$cancelled" --argjson bc "$(cat "$OUT/query-migrate-$n-before-cancel.json" 2>/dev/null || echo null)" \
		'.return as $q | {from: $from, to: $to, uri: $uri,
		qemu: {source: $src, destination: $dst}, status: $q.status, cancelled_by_lab: ($c == 1),
		lab_started_us: $s, lab_seen_end_us: $e, query_migrate_file: $qf, query_migrate: $q,
		query_migrate_before_cancel: $bc}' <<<"$r")")
	case $st in
	completed)
		r=$(qmp "$dst" '{"execute":"query-status"}')
		say "migration $n completed: total-time $(jq -r '."total-time"' "$OUT/$qfile") ms, downtime $(jq -r .downtime "$OUT/$qfile") ms; destination $(jq -r '.return.status // .' <<<"$r")"
		;;
	cancelled) say "migration $n cancelled$([ $cancelled = 1 ] && echo ' by the lab (timeout)'); the guest stays on $from" ;;
	failed) die "migration $n failed: $(jq -r '.["error-desc"] // ""' "$OUT/$qfile")" ;;
	esac
}

# migration_events N: QEMU's own stamps of migration N (1-based) from the
# QMP logs: the source's MIGRATION status changes and STOP, the
# destination's RESUME, the number of passes.
migration_events() {
	local m=${MIGRATIONS[$(($1 - 1))]} src dst s e
	src=$(jq -r .qemu.source <<<"$m") dst=$(jq -r .qemu.destination <<<"$m")
	s=$(jq -r .lab_started_us <<<"$m") e=$(jq -r .lab_seen_end_us <<<"$m")
	jq -sc --argjson s "$s" --argjson e "$e" --slurpfile d <(qmp_events "$dst") '
		[.[] | select(.us >= $s - 1000000 and .us <= $e + 1000000)] as $src
		| [$d[] | select(.us >= $s - 1000000 and .us <= $e + 5000000)] as $dst
		| {source_status_us: [$src[] | select(.event == "MIGRATION") | {(.data.status): .us}] | add,
		   source_stop_us: ([$src[] | select(.event == "STOP") | .us] | first),
		   destination_resume_us: ([$dst[] | select(.event == "RESUME") | .us] | first),
		   passes: ([$src[] | select(.event == "MIGRATION_PASS") | .data.pass] | max)}' <(qmp_events "$src")
}
