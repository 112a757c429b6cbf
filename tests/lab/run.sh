#!/bin/bash
# Test lab: one real QEMU live migration on this machine, inside network
# namespaces, captured the way an operator would capture it.
#
#   tests/lab/run.sh baseline OUTDIR
#
# Topology (design §6), every namespace and link named msl-<runid>-*:
#
#   ctl (198.18.0.10) --+
#                       |  sw: bridge br0 (learning switch)
#   cn1 eth0 -----------+---------------------------- cn2 eth0
#     br0 198.18.0.1                                    br0 198.18.0.2
#     tap0 -> QEMU (source)                             tap0 -> QEMU (-incoming)
#
# The guest (198.18.0.100, 52:54:00:12:34:56) is Debian's kernel plus a busybox
# initramfs built here. The migration stream goes 198.18.0.1 -> 198.18.0.2:49152
# over the same NICs the guest's traffic uses, as on a real compute node.
#
# OUTDIR receives: cn1.pcap cn2.pcap ctl.pcap (tcpdump on each NIC eth0),
# query-migrate.json (the source's final answer), ping.log (ping -D from ctl),
# plus the guests' serial logs and the tcpdump/QEMU stderr for diagnosis.
#
# Needs root, Debian 12. Missing Debian packages are installed with apt.
# QEMU runs with TCG: KVM hangs the guest on this kind of machine.
set -eu

SCENARIO=${1:-}
OUT=${2:-}
RID=$$                                  # run id: part of every name we create
P=msl-$RID                              # prefix of namespaces and root-ns links
NS_SW=$P-sw NS_CTL=$P-ctl NS_CN1=$P-cn1 NS_CN2=$P-cn2
CACHE=${MSL_CACHE:-/tmp/migscope-lab-cache}
GUEST_IP=198.18.0.100
GUEST_MAC=52:54:00:12:34:56
MIG_PORT=49152                          # first port of libvirt's migration range
BOOT_TIMEOUT=${MSL_BOOT_TIMEOUT:-120}   # TCG boot: 10-40 s usually
MIG_TIMEOUT=${MSL_MIG_TIMEOUT:-120}

STEP=init                               # the step running, named on failure
PIDS=()                                 # every background process we started
declare -A PID_OF=()                    # the same by role: src dst cn1 cn2 ctl ping
RUNDIR=""                               # QMP sockets, pid files (per run)

say() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAILED at step '$STEP': $*"; exit 1; }

usage() {
	echo "usage: $0 baseline OUTDIR" >&2
	exit 2
}

# --- preparation ---------------------------------------------------------------

ensure_packages() {
	STEP=packages
	local pkgs="qemu-system-x86 linux-image-amd64 busybox-static socat jq tcpdump
		iproute2 iputils-ping xz-utils zstd cpio gzip" missing="" p
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# The newest Debian kernel that has its modules installed.
pick_kernel() {
	STEP=kernel
	local v k
	KVER="" KERNEL=""
	for k in $(printf '%s\n' /boot/vmlinuz-* | sort -V); do
		v=${k#/boot/vmlinuz-}
		[ -f "/lib/modules/$v/modules.dep" ] && KVER=$v KERNEL=$k
	done
	[ -n "$KVER" ] || die "no /boot/vmlinuz-* with /lib/modules/<ver> (apt-get install linux-image-amd64)"
}

# Modules to insmod, dependencies first, resolved from modules.dep so the list
# follows whatever the kernel builds in (absent from modules.dep = built-in, or
# missing: skipped). modules.dep lists a module's deps with the deepest last.
module_load_order() {
	local dep=/lib/modules/$KVER/modules.dep target line m seen=" "
	for target in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		virtio_pci failover net_failover virtio_net; do
		line=$(grep -E "(^|/)$target\.ko(\.xz|\.zst|\.gz)?:" "$dep" || true)
		[ -n "$line" ] || continue
		# deps reversed (deepest first), then the module itself
		for m in $(echo "${line#*:}" | tr ' ' '\n' | grep . | tac) "${line%%:*}"; do
			case $seen in *" $m "*) continue ;; esac
			seen="$seen$m "
			echo "$m"
		done
	done
}

# The guest's /init: mount, load virtio-net, bring eth0 up, then idle forever
# (PID 1 must never exit). The kernel answers ping on its own.
guest_init() {
	cat <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in \$(cat /etc/modules.order); do
	insmod "/lib/modules/$KVER/\$m" || echo "lab-init: insmod \$m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
ip link set lo up
ip link set eth0 up
ip addr add $GUEST_IP/24 dev eth0
echo "lab-init: eth0 \$(cat /sys/class/net/eth0/address) $GUEST_IP up"
while :; do sleep 3600; done
EOF
}

# Build (or reuse) the busybox initramfs. Cached by kernel version and a hash
# of /init and the module list, so reruns skip the build.
build_initramfs() {
	STEP=initramfs
	local order key root m src dst
	order=$(module_load_order)
	[ -n "$order" ] || die "no virtio modules found in /lib/modules/$KVER/modules.dep"
	key=$(printf '%s\n%s\n' "$(guest_init)" "$order" | sha256sum | cut -c1-12)
	INITRD=$CACHE/initramfs-$KVER-$key.cpio.gz
	[ -s "$INITRD" ] && { say "initramfs: cached $INITRD"; return 0; }
	say "initramfs: building $INITRD"
	mkdir -p "$CACHE"
	root=$(mktemp -d "$CACHE/root.XXXXXX")
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,"lib/modules/$KVER"}
	cp /bin/busybox "$root/bin/busybox"
	file -b /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
		ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
		die "/bin/busybox is not static (install busybox-static)"
	for m in $(/bin/busybox --list); do
		[ "$m" = busybox ] || ln -s busybox "$root/bin/$m"
	done
	# The guest's insmod may lack xz/zstd support: store every module plain.
	: >"$root/etc/modules.order"
	for m in $order; do
		src=/lib/modules/$KVER/$m
		dst=${m%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
		mkdir -p "$root/lib/modules/$KVER/$(dirname "$dst")"
		case $m in
		*.xz) xz -dc "$src" >"$root/lib/modules/$KVER/$dst" ;;
		*.zst) zstd -qdc "$src" >"$root/lib/modules/$KVER/$dst" ;;
		*.gz) gzip -dc "$src" >"$root/lib/modules/$KVER/$dst" ;;
		*) cp "$src" "$root/lib/modules/$KVER/$dst" ;;
		esac
		echo "$dst" >>"$root/etc/modules.order"
	done
	guest_init >"$root/init"
	chmod 755 "$root/init"
	# build to a temporary name: a concurrent run never sees half a file
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp.$RID"
	mv "$INITRD.tmp.$RID" "$INITRD"
	rm -rf "$root"
}

# --- cleanup ---------------------------------------------------------------------

# Kill the processes inside one namespace (all started by this script, or by an
# earlier run of it), then delete it. Its veths, bridges and taps go with it.
delete_ns() {
	local ns=$1 pid
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
	sleep 0.2
	for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
}

# Leftovers of an earlier run that was killed (kill -9, reboot of the shell):
# namespaces and root-namespace links msl-<rid>-* whose run is no longer alive.
# A run still alive (a concurrent one) is left alone.
clean_stale() {
	STEP=clean-stale
	local ns rid link dir
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^msl-[0-9]*-' || true); do
		rid=${ns#msl-}; rid=${rid%%-*}
		run_alive "$rid" && continue
		say "removing stale namespace $ns"
		delete_ns "$ns"
	done
	for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep '^msl-[0-9]*-' || true); do
		rid=${link#msl-}; rid=${rid%%-*}
		run_alive "$rid" && continue
		say "removing stale link $link"
		ip link del "$link" 2>/dev/null || true
	done
	for dir in /tmp/msl-[0-9]*.*; do
		[ -d "$dir" ] || continue
		rid=${dir#/tmp/msl-}; rid=${rid%%.*}
		run_alive "$rid" || rm -rf "$dir"
	done
}

run_alive() { # RID: is that a live run of this script?
	[ "$1" = "$RID" ] && return 0
	[ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'lab/run\.sh'
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	set +e
	# A signal handled while a redirected function call runs ("f >/dev/null")
	# would leave that redirection on for us: write to the original streams.
	exec 1>&3 2>&4
	[ $rc -ne 0 ] && [ "$STEP" != finished ] && say "cleaning up after failure at step '$STEP' (exit $rc)"
	# everything we started, with SIGINT first so the captures are complete
	[ ${#PIDS[@]} -gt 0 ] && stop_pids "${PIDS[@]}" 2>/dev/null
	delete_ns "$NS_CN1"; delete_ns "$NS_CN2"; delete_ns "$NS_CTL"; delete_ns "$NS_SW"
	# veth ends still in the root namespace if we failed between add and move
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$P-" || true); do
		ip link del "$l" 2>/dev/null
	done
	[ -n "$RUNDIR" ] && rm -rf "$RUNDIR"
	exit $rc
}

# --- topology ----------------------------------------------------------------------

# For foreground commands only. A background job must call "ip netns exec"
# itself: "nsx ... &" would fork a subshell, $! would be the subshell's pid and
# a signal sent to it would never reach the real process.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# A veth from namespace NS (named eth0 there) to the switch (named PORT there).
# Created with unique names in the root namespace (which has its own eth0),
# moved, then renamed.
wire() {
	local ns=$1 port=$2 tag=$3
	ip link add "$P-${tag}n" type veth peer name "$P-${tag}s"
	ip link set "$P-${tag}n" netns "$ns"
	ip link set "$P-${tag}s" netns "$NS_SW"
	nsx "$ns" ip link set "$P-${tag}n" name eth0
	nsx "$NS_SW" ip link set "$P-${tag}s" name "$port"
	nsx "$NS_SW" ip link set "$port" master br0 up
}

# A bridge with STP off and no forward delay: ports forward at once.
mkbridge() {
	nsx "$1" ip link add br0 type bridge stp_state 0 forward_delay 0
	nsx "$1" ip link set br0 up
}

# Compute node: NIC eth0 enslaved to br0, the host address on br0, and a tap
# for the guest on br0 (what libvirt does with a Linux bridge).
compute_node() {
	local ns=$1 addr=$2
	mkbridge "$ns"
	nsx "$ns" ip link set eth0 master br0 up
	nsx "$ns" ip addr add "$addr/24" dev br0
	nsx "$ns" ip tuntap add dev tap0 mode tap
	nsx "$ns" ip link set tap0 master br0 up
}

build_topology() {
	STEP=topology
	local ns
	for ns in "$NS_SW" "$NS_CTL" "$NS_CN1" "$NS_CN2"; do
		ip netns add "$ns"
		nsx "$ns" ip link set lo up
	done
	mkbridge "$NS_SW"
	wire "$NS_CTL" p-ctl ct
	wire "$NS_CN1" p-cn1 c1
	wire "$NS_CN2" p-cn2 c2
	nsx "$NS_CTL" ip addr add 198.18.0.10/24 dev eth0
	nsx "$NS_CTL" ip link set eth0 up
	compute_node "$NS_CN1" 198.18.0.1
	compute_node "$NS_CN2" 198.18.0.2
	nsx "$NS_CN1" ping -c1 -W2 198.18.0.2 >/dev/null || die "cn1 cannot reach cn2 over the switch"
	nsx "$NS_CTL" ping -c1 -W2 198.18.0.1 >/dev/null || die "ctl cannot reach cn1 over the switch"
}

# --- QEMU and QMP ------------------------------------------------------------------

# start_qemu NS NAME [EXTRA...]: one guest on NS's tap0, QMP on $RUNDIR/NAME.qmp.
# ip netns exec execs, so $! is QEMU's own pid.
start_qemu() {
	local ns=$1 name=$2; shift 2
	ip netns exec "$ns" qemu-system-x86_64 -name "msl-$RID-$name" -accel tcg -m 128 -nographic \
		-monitor none -kernel "$KERNEL" -initrd "$INITRD" -append 'console=ttyS0 quiet' \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=$GUEST_MAC \
		-qmp "unix:$RUNDIR/$name.qmp,server,nowait" \
		-serial "file:$OUT/serial-$name.log" "$@" \
		</dev/null >"$OUT/qemu-$name.stderr" 2>&1 &
	PIDS+=($!)
	PID_OF[$name]=$!
	for _ in $(seq 100); do
		[ -S "$RUNDIR/$name.qmp" ] && return 0
		kill -0 "$!" 2>/dev/null || die "QEMU $name exited: $(tail -3 "$OUT/qemu-$name.stderr")"
		sleep 0.1
	done
	die "QEMU $name: no QMP socket after 10 s"
}

# qmp NAME JSON: one QMP session (greeting, qmp_capabilities, the command);
# prints the command's reply ({"return":..} or {"error":..}) as one line.
# The short sleep keeps our side open until QEMU has answered: QEMU drops the
# session on EOF, possibly before replying.
qmp() {
	local sock=$RUNDIR/$1.qmp
	{ printf '%s\n' '{"execute":"qmp_capabilities"}' "$2"; sleep 0.3; } |
		socat -t 2 - "UNIX-CONNECT:$sock" 2>/dev/null |
		jq -c 'select(has("return") or has("error"))' | tail -n1
}

# --- the steps -----------------------------------------------------------------------

boot_source() {
	STEP=boot-source
	say "booting the guest on cn1 (TCG, ${BOOT_TIMEOUT}s at most)"
	start_qemu "$NS_CN1" src
	local t0=$SECONDS
	until ip netns exec "$NS_CTL" ping -c1 -W1 "$GUEST_IP" >/dev/null 2>&1; do
		kill -0 "${PID_OF[src]}" 2>/dev/null || die "source QEMU exited: $(tail -3 "$OUT/qemu-src.stderr")"
		[ $((SECONDS - t0)) -lt "$BOOT_TIMEOUT" ] ||
			die "guest did not answer ping from ctl within ${BOOT_TIMEOUT}s; serial log tail: $(tail -5 "$OUT/serial-src.log" | tr '\n' '|')"
	done
	say "guest answers ping after $((SECONDS - t0))s"
}

start_destination() {
	STEP=start-destination
	start_qemu "$NS_CN2" dst -incoming "tcp:198.18.0.2:$MIG_PORT"
	for _ in $(seq 50); do
		nsx "$NS_CN2" ss -Hltn "sport = :$MIG_PORT" | grep -q LISTEN && return 0
		sleep 0.1
	done
	die "destination QEMU is not listening on 198.18.0.2:$MIG_PORT"
}

# tcpdump on each NIC; waits for "listening on" so no early frame is missed.
# -Z root: Debian's tcpdump drops to user tcpdump, who may not write in OUTDIR.
start_captures() {
	STEP=start-captures
	local name
	for name in cn1 cn2 ctl; do
		ip netns exec "$P-$name" tcpdump -i eth0 -s 128 --time-stamp-precision=nano -Z root -n \
			-w "$OUT/$name.pcap" 2>"$OUT/tcpdump-$name.stderr" &
		PIDS+=($!)
		PID_OF[$name]=$!
	done
	for name in cn1 cn2 ctl; do
		local ok=0
		for _ in $(seq 50); do
			grep -q 'listening on' "$OUT/tcpdump-$name.stderr" && { ok=1; break; }
			sleep 0.1
		done
		[ $ok = 1 ] || die "tcpdump on $name did not start: $(cat "$OUT/tcpdump-$name.stderr")"
	done
}

start_ping() {
	STEP=start-ping
	ip netns exec "$NS_CTL" ping -D -i 0.01 "$GUEST_IP" >"$OUT/ping.log" 2>&1 &
	PIDS+=($!)
	PID_OF[ping]=$!
}

migrate() {
	STEP=migrate
	local r st t0
	say "migrating cn1 -> cn2 (tcp:198.18.0.2:$MIG_PORT)"
	r=$(qmp src "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:198.18.0.2:$MIG_PORT\"}}")
	[ "$r" = '{"return":{}}' ] || die "migrate refused: $r"
	t0=$SECONDS
	while :; do
		r=$(qmp src '{"execute":"query-migrate"}')
		st=$(echo "$r" | jq -r '.return.status // "?"')
		case $st in
		completed) break ;;
		failed | cancelled) echo "$r" | jq .return >"$OUT/query-migrate.json"
			die "migration $st: $(echo "$r" | jq -r '.return["error-desc"] // ""')" ;;
		esac
		[ $((SECONDS - t0)) -lt "$MIG_TIMEOUT" ] || die "migration not completed after ${MIG_TIMEOUT}s (status $st)"
		sleep 0.2
	done
	echo "$r" | jq .return >"$OUT/query-migrate.json"
	r=$(qmp dst '{"execute":"query-status"}')
	say "migration completed; destination status: $(echo "$r" | jq -r '.return.status // .')"
}

# stop_pids PID...: SIGINT (ping prints its statistics, tcpdump flushes its
# buffer), up to 5 s to exit, then SIGKILL.
stop_pids() {
	local pid alive
	for pid in "$@"; do kill -INT "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		alive=0
		for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		kill -0 "$pid" 2>/dev/null && { say "pid $pid ignored SIGINT: killed"; kill -KILL "$pid" 2>/dev/null; }
		wait "$pid" 2>/dev/null || true
	done
}

stop_observers() {
	STEP=stop-observers
	stop_pids "${PID_OF[ping]}" "${PID_OF[cn1]}" "${PID_OF[cn2]}" "${PID_OF[ctl]}"
}

# Largest gap between consecutive echo replies in the ping -D log, and where.
ping_gap() {
	awk '/bytes from/ {
		t = substr($1, 2, length($1) - 2) + 0
		n++
		if (n > 1 && t - prev > gap) { gap = t - prev; at = prev }
		prev = t
	}
	END { if (n < 2) print "no replies"; else printf "%.3f s (after the reply at %.6f), %d replies\n", gap, at, n }' "$OUT/ping.log"
}

summary() {
	STEP=summary
	local q="$OUT/query-migrate.json" f
	echo "== lab run $SCENARIO: $OUT (${SECONDS}s in all)"
	jq -r '"qemu: status \(.status), total-time \(."total-time") ms, downtime \(.downtime) ms, setup-time \(."setup-time") ms, ram transferred \(.ram.transferred) bytes (\(.ram.duplicate) zero pages, \(.ram.normal) normal)"' "$q"
	for f in cn1 cn2 ctl; do
		printf 'capture %s.pcap: %s bytes\n' "$f" "$(stat -c %s "$OUT/$f.pcap")"
	done
	printf 'ping: largest gap between replies %s\n' "$(ping_gap)"
	grep -E 'packets transmitted' "$OUT/ping.log" || true
}

main() {
	[ "$SCENARIO" = baseline ] && [ -n "$OUT" ] || usage
	[ "$(id -u)" = 0 ] || { echo "$0: needs root (namespaces, taps)" >&2; exit 2; }
	exec 3>&1 4>&2               # the original stdout/stderr, for cleanup
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	rm -f "$OUT"/{cn1,cn2,ctl}.pcap "$OUT"/query-migrate.json "$OUT"/ping.log
	RUNDIR=$(mktemp -d "/tmp/msl-$RID.XXXXXX")
	ensure_packages
	clean_stale
	pick_kernel
	build_initramfs
	build_topology
	boot_source
	start_destination
	start_captures
	start_ping
	sleep 2                     # "before" phase: steady probes
	migrate
	sleep 3                     # "after" phase: the guest answers from cn2
	stop_observers
	STEP=finished
	summary
}

main
