# Sourced by tests/lab/run.sh: QEMU guests, their QMP sessions, migrations.
# shellcheck shell=bash
#
# Each QEMU instance has a name (src, dst, back) and one QMP session kept open
# for its whole life: socat between the QMP socket and a FIFO we write into,
# its output appended to OUTDIR/qmp-NAME.log. That log is the full transcript
# (our commands' replies and QEMU's events: STOP, RESUME, MIGRATION,
# MIGRATION_PASS, with QEMU's microsecond wall-clock stamps).

declare -A QMP_FD=()

# start_qemu NAME NS [EXTRA...]: one guest on NS's $GUEST_TAP (tap0; with_guest
# names another), QMP session open.
# vnet_hdr=off: no checksum/segmentation offload between guest and tap.
# NIC_OPTS: more virtio-net-pci properties, the same for every QEMU of a run
# (a feature bit such as guest_announce must match for the migration).
# A --tls run gives every QEMU both TLS endpoints' credentials (lib/tls.sh).
start_qemu() {
	local name=$1 ns=$2 tls; shift 2
	mapfile -t tls < <(tls_qemu_args)
	bg "qemu-$name" "$ns" "$OUT/qemu-$name.stdout" "$OUT/qemu-$name.stderr" \
		qemu-system-x86_64 -name "msl-$RID-$name" -accel "$QEMU_ACCEL" -m "$QEMU_MEM" -nographic \
		-monitor none -kernel "$KERNEL" -initrd "$INITRD" -append "$(guest_cmdline)" \
		-netdev tap,id=n0,ifname="$GUEST_TAP",script=no,downscript=no,vnet_hdr=off \
		-device virtio-net-pci,netdev=n0,mac="$GUEST_MAC$NIC_OPTS" \
		-qmp "unix:$RUNDIR/$name.qmp,server=on,wait=off" \
		-serial "file:$OUT/serial-$name.log" "${tls[@]}" "$@"
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
	qmp_send "$1" "$2" || { echo '{"error":{"class":"lab","desc":"QMP session closed"}}'; return 0; }
	qmp_wait "$1" "$QMP_ID"
}

# qmp_send NAME JSON: write one command (an object) with a fresh id, kept in
# QMP_ID; 1 if the session is closed. Two commands can be in flight
# (migrate, then migrate-start-postcopy at its time): QEMU answers in order.
qmp_send() {
	local name=$1 fd=${QMP_FD[$1]:-}
	# unique without shared state: qmp runs in $(...) subshells
	QMP_ID=lab-$BASHPID-${EPOCHREALTIME/./}
	[[ $2 == "{"*"}" ]] || die "bad QMP command: $2"
	if [ -z "$fd" ] || ! kill -0 "${PID_OF[qmp-$name]:-0}" 2>/dev/null; then
		return 1
	fi
	trap '' PIPE
	printf '{"id":"%s",%s\n' "$QMP_ID" "${2#\{}" 1>&"$fd" 2>/dev/null
	trap - PIPE
}

# qmp_wait NAME ID: the reply to command ID, as qmp prints it.
qmp_wait() {
	local name=$1 id=$2 r i log=$OUT/qmp-$1.log
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

# Whether the guest answers ctl: ping, or its web server when it ignores ping.
guest_answers() {
	if [ "$NO_ICMP" = 1 ] && [ "$HTTP" = 1 ]; then
		nsx "$NS_CTL" curl -fso /dev/null -m 1 "http://$GUEST_IP/" >/dev/null 2>&1
	elif [ "$NO_ICMP" = 1 ]; then
		nsx "$NS_CTL" arping -q -f -c 1 -w 1 -I eth0 "$GUEST_IP" >/dev/null 2>&1
	else
		nsx "$NS_CTL" ping -c1 -W1 "$GUEST_IP" >/dev/null 2>&1
	fi
}

# Boot the guest as QEMU NAME on NODE; wait until ctl's ping gets an answer.
boot_guest() {
	local name=$1 node=$2 t0=$SECONDS
	STEP=boot-$name
	say "booting the guest on $node (TCG, ${BOOT_TIMEOUT}s at most)"
	start_qemu "$name" "$P-$node"
	until guest_answers; do
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

# migration_setup NAME ROLE: the run's migration capabilities and parameters,
# on source and destination alike (as libvirt does), with what differs by
# ROLE (source or destination): postcopy-blocktime on the destination (QEMU
# measures there how long the guest waited for pages), and the TLS
# credentials of each endpoint. "events" on: QEMU reports every status change
# with its own stamp. What QEMU then holds (query-migrate-capabilities and
# -parameters, its own word) is kept in QEMU_SETUP[NAME] for scenario.json.
declare -A QEMU_SETUP=()
migration_setup() {
	local name=$1 role=$2 caps params
	caps=$(jq -cn --argjson ac "$AUTO_CONVERGE" --argjson xb "$XBZRLE" --arg pc "$POSTCOPY_AFTER" \
		--argjson mf "$MULTIFD" --arg role "$role" \
		'{execute: "migrate-set-capabilities", arguments: {capabilities: ([
			{capability: "events", state: true},
			{capability: "auto-converge", state: ($ac == 1)},
			{capability: "xbzrle", state: ($xb == 1)}]
			+ (if $pc == "" then [] else [{capability: "postcopy-ram", state: true}] end)
			+ (if $pc != "" and $role == "destination" then [{capability: "postcopy-blocktime", state: true}] else [] end)
			+ (if $mf > 0 then [{capability: "multifd", state: true}] else [] end))}}')
	qmp_ok "$name" "$caps" "migrate-set-capabilities"
	params=${MIG_PARAMS:-}
	if [ "$TLS" = 1 ]; then
		[ -n "$params" ] || params='{}'
		params=$(jq -c --arg c "msl-tls-$([ "$role" = source ] && echo client || echo server)" \
			'. + {"tls-creds": $c}' <<<"$params")
	fi
	[ -n "$params" ] && qmp_ok "$name" "{\"execute\":\"migrate-set-parameters\",\"arguments\":$params}" \
		"migrate-set-parameters $params"
	QEMU_SETUP[$name]=$(jq -cn --argjson c "$(qmp "$name" '{"execute":"query-migrate-capabilities"}')" \
		--argjson p "$(qmp "$name" '{"execute":"query-migrate-parameters"}')" \
		'{capabilities: ([$c.return[]? | {(.capability): .state}] | add), parameters: $p.return}')
	return 0
}

# start_incoming NAME NODE: a fresh QEMU waiting for the migration on NODE.
start_incoming() {
	local name=$1 node=$2 ip=${HOST_IP[$2]}
	STEP=start-incoming-$name
	start_qemu "$name" "$P-$node" -incoming defer
	migration_setup "$name" destination
	[ -n "$DST_PARAMS" ] && qmp_ok "$name" "{\"execute\":\"migrate-set-parameters\",\"arguments\":$DST_PARAMS}" \
		"migrate-set-parameters $DST_PARAMS on the destination"
	qmp_ok "$name" "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"tcp:$ip:$MIG_PORT\"}}" "migrate-incoming"
	wait_for 5 eval "nsx $P-$node ss -Hltn 'sport = :$MIG_PORT' | grep -q LISTEN" ||
		die "QEMU $name is not listening on $ip:$MIG_PORT"
}

# migrate SRC DST FROM TO: one migration; records its outcome in MIGRATIONS
# (JSON lines) and OUTDIR/query-migrate-N.json. Not completed within
# MIG_TIMEOUT seconds: migrate_cancel (if CANCEL_ON_TIMEOUT=1, else a lab
# failure). A failed migration is recorded, then a lab failure. Postcopy:
# migrate-start-postcopy POSTCOPY_AFTER s after migrate; while the source is
# postcopy-active the destination is asked too (its query-migrate is where
# QEMU 7.2 shows postcopy-blocktime). Once the source has completed, the lab
# waits for the destination to complete (a postcopy destination finishes
# after the source has sent its last page) and keeps the destination's final
# query-migrate (OUTDIR/query-migrate-N-destination.json), before anything
# quits.
MIGRATIONS=()
migrate() {
	local src=$1 dst=$2 from=$3 to=$4 r st t0 start_us end_us n=$((${#MIGRATIONS[@]} + 1))
	local uri="tcp:${HOST_IP[$to]}:$MIG_PORT" cancelled=0 qfile dfile w
	local pc_us=null pc_reply=null dq dlive=null dend_us=null mid pid
	STEP=migrate-$n
	say "migration $n: $from -> $to ($uri)"
	migration_setup "$src" source
	# stamps from bash itself (EPOCHREALTIME, the clock of now_us): a fork
	# costs tens of ms on a machine busy with TCG
	start_us=${EPOCHREALTIME/./}
	qmp_send "$src" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"$uri\"}}" || die "QMP session with $src closed"
	mid=$QMP_ID
	if [ -n "$POSTCOPY_AFTER" ]; then
		# sent at its time, not after the migrate reply: under TCG on a busy
		# machine the round trip alone takes 100-300 ms
		w=$((POSTCOPY_AFTER_US - (${EPOCHREALTIME/./} - start_us)))
		if [ "$w" -gt 0 ]; then
			printf -v w '%d.%06d' $((w / 1000000)) $((w % 1000000))
			sleep "$w"
		fi
		pc_us=${EPOCHREALTIME/./}
		qmp_send "$src" '{"execute":"migrate-start-postcopy"}' || die "QMP session with $src closed"
		pid=$QMP_ID
	fi
	r=$(qmp_wait "$src" "$mid")
	[ "$r" = '{"return":{}}' ] || die "migrate refused: $r"
	t0=$SECONDS
	if [ -n "$POSTCOPY_AFTER" ]; then
		pc_reply=$(qmp_wait "$src" "$pid")
		say "migrate-start-postcopy $(awk -v s="$start_us" -v p="$pc_us" 'BEGIN { printf "%.3f", (p - s) / 1e6 }') s after migrate: $pc_reply"
	fi
	while :; do
		r=$(qmp "$src" '{"execute":"query-migrate"}')
		st=$(jq -r '.return.status // "?"' <<<"$r")
		case $st in
		completed | failed | cancelled) break ;;
		postcopy-active)
			dq=$(qmp "$dst" '{"execute":"query-migrate"}')
			jq -e .return >/dev/null <<<"$dq" && dlive=$(jq -c .return <<<"$dq")
			;;
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
	# the destination's own account: its final query-migrate once it has
	# completed too (a cancelled incoming QEMU has exited: null)
	dq='{"error":{"class":"lab","desc":"not asked"}}'
	if [ "$st" = completed ]; then
		for ((w = 0; w < 300; w++)); do
			dq=$(qmp "$dst" '{"execute":"query-migrate"}')
			case $(jq -r '.return.status // "?"' <<<"$dq") in completed | failed | "?") break ;; esac
			sleep 0.1
		done
		dend_us=$(now_us)
		[ "$(jq -r '.return.status // "?"' <<<"$dq")" = completed ] ||
			say "warning: the destination's migration is not completed: $dq"
	fi
	dfile=query-migrate-$n-destination.json
	jq '.return // null' <<<"$dq" >"$OUT/$dfile"
	MIGRATIONS+=("$(jq -c --arg from "$from" --arg to "$to" --arg src "$src" --arg dst "$dst" \
		--arg uri "$uri" --arg qf "$qfile" --argjson s "$start_us" --argjson e "$end_us" \
		--argjson c "$cancelled" --argjson bc "$(cat "$OUT/query-migrate-$n-before-cancel.json" 2>/dev/null || echo null)" \
		--argjson port "$MIG_PORT" --arg df "$dfile" --argjson dq "$(cat "$OUT/$dfile")" --argjson dlive "$dlive" \
		--argjson de "$dend_us" --argjson pcs "$pc_us" --argjson pcr "$pc_reply" \
		--argjson ssetup "${QEMU_SETUP[$src]:-null}" --argjson dsetup "${QEMU_SETUP[$dst]:-null}" \
		'.return as $q | {from: $from, to: $to, uri: $uri, port: $port,
		qemu: {source: $src, destination: $dst}, status: $q.status, cancelled_by_lab: ($c == 1),
		lab_started_us: $s, lab_seen_end_us: $e, lab_seen_destination_end_us: $de,
		postcopy_start: (if $pcs == null then null else {lab_sent_us: $pcs, reply: $pcr} end),
		qemu_setup: {source: $ssetup, destination: $dsetup},
		query_migrate_file: $qf, query_migrate: $q,
		query_migrate_before_cancel: $bc,
		query_migrate_destination_file: $df, query_migrate_destination: $dq,
		query_migrate_destination_postcopy: $dlive}' <<<"$r")")
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
# QMP logs: the source's MIGRATION status changes (as a map, and in order:
# setup, active, postcopy-active, completed) and STOP, the destination's
# status changes (up to the next migration) and RESUME, the number of passes.
migration_events() {
	local i=$(($1 - 1)) m src dst s e next=null
	m=${MIGRATIONS[$i]}
	[ $((i + 1)) -lt ${#MIGRATIONS[@]} ] && next=$(jq -r .lab_started_us <<<"${MIGRATIONS[$((i + 1))]}")
	src=$(jq -r .qemu.source <<<"$m") dst=$(jq -r .qemu.destination <<<"$m")
	s=$(jq -r .lab_started_us <<<"$m") e=$(jq -r .lab_seen_end_us <<<"$m")
	jq -sc --argjson s "$s" --argjson e "$e" --argjson next "$next" --slurpfile d <(qmp_events "$dst") '
		[.[] | select(.us >= $s - 1000000 and .us <= $e + 1000000)] as $src
		| [$d[] | select(.us >= $s - 1000000 and .us <= $e + 5000000)] as $dst
		| [$d[] | select(.us >= $s - 1000000 and ($next == null or .us < $next))] as $dall
		| {source_status_us: [$src[] | select(.event == "MIGRATION") | {(.data.status): .us}] | add,
		   source_stop_us: ([$src[] | select(.event == "STOP") | .us] | first),
		   destination_resume_us: ([$dst[] | select(.event == "RESUME") | .us] | first),
		   passes: ([$src[] | select(.event == "MIGRATION_PASS") | .data.pass] | max),
		   source_status_history: [$src[] | select(.event == "MIGRATION") | {status: .data.status, us}],
		   destination_status_history: [$dall[] | select(.event == "MIGRATION") | {status: .data.status, us}],
		   source_events: [$src[] | select(.event == "STOP" or .event == "RESUME") | {event, us}],
		   destination_events: [$dall[] | select(.event == "STOP" or .event == "RESUME") | {event, us}]}' <(qmp_events "$src")
}
