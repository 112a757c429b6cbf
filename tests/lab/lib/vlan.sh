# Sourced by tests/lab/run.sh: 802.1Q for the "vlan" layout, with the tc
# programs of lib/vlan.bpf.c (this kernel has no 8021q module).
# shellcheck shell=bash

# Build (or reuse) the object: cached by source, MAC and VIDs.
vlan_build() {
	STEP=vlan-bpf
	local src=$LAB/lib/vlan.bpf.c macbytes key arch_inc=""
	macbytes=$(echo "$GUEST_MAC" | sed 's/^/0x/; s/:/,0x/g')
	key=$(cat "$src" <(echo "$macbytes $GUEST_VID $HOST_VID") | sha256sum | cut -c1-12)
	VLAN_OBJ=$CACHE/vlan-$key.bpf.o
	[ -s "$VLAN_OBJ" ] && return 0
	command -v clang >/dev/null || die "the vlan layout needs clang (tests/deps.sh lab installs it)"
	[ -d "/usr/include/$(uname -m)-linux-gnu" ] && arch_inc="-I/usr/include/$(uname -m)-linux-gnu"
	mkdir -p "$CACHE"
	# shellcheck disable=SC2086
	clang -O2 -g -target bpf $arch_inc -Wall -Werror "-DGUEST_MAC_BYTES=$macbytes" \
		"-DGUEST_VID=$GUEST_VID" "-DHOST_VID=$HOST_VID" -c "$src" -o "$VLAN_OBJ.tmp.$RID" 2>"$RUNDIR/clang.err" ||
		die "clang $src: $(head -5 "$RUNDIR/clang.err")"
	mv "$VLAN_OBJ.tmp.$RID" "$VLAN_OBJ"
}

# vlan_attach NS DEV ingress|egress PROGRAM
vlan_attach() {
	local ns=$1 dev=$2 dir=$3 prog=$4
	nsx "$ns" tc qdisc replace dev "$dev" clsact
	nsx "$ns" tc filter add dev "$dev" "$dir" bpf direct-action obj "$VLAN_OBJ" sec "tc/$prog" 2>"$RUNDIR/tc.err" ||
		die "tc filter $dir $prog on $ns $dev: $(head -3 "$RUNDIR/tc.err")"
}

vlan_trunk() { # NS: the compute NIC eth0 is a trunk
	vlan_attach "$1" eth0 egress trunk_egress
	vlan_attach "$1" eth0 ingress trunk_ingress
}

vlan_access() { # the switch's port to ctl is an access port of the guest VLAN
	vlan_attach "$NS_SW" p-ctl ingress access_ingress
	vlan_attach "$NS_SW" p-ctl egress access_egress
}
