# Sourced by tests/lab/run.sh: the namespaces and links of one run.
# shellcheck shell=bash
#
# Three network layouts (--net), all on one learning switch (namespace sw,
# bridge br0, ports p-ctl p-cn1 p-cn2), all links MTU $MTU (9000: jumbo frames
# as on real migration networks), every offload off on every veth, tap,
# bridge, VLAN and VXLAN device (no GSO super-frames in the captures, every
# checksum computed and verified in software so a corrupted frame is dropped):
#
# flat   one L2 segment for everything: each compute node's NIC eth0 is a
#        port of its bridge br0, which holds the host address (198.18.0.1,
#        .2) and the guest's tap0; ctl is 198.18.0.10 on its eth0.
# vlan   an OpenStack provider network on a trunk: the compute NIC carries
#        the guest network tagged VLAN 100 and the host/migration network
#        tagged VLAN 200 (198.19.0.1, .2). This kernel has no 8021q, so tc
#        programs on the compute NIC tag and untag (lib/vlan.bpf.c: the
#        guest's MAC -> 100, the host -> 200); inside the compute node both
#        share br0 as in flat. The switch forwards the tagged frames as they
#        are; its port to ctl is an access port of VLAN 100 (ctl sends and
#        receives untagged frames, other VLANs are not delivered to it).
# vxlan  a tenant overlay: the guest network is VXLAN VNI 100 (UDP 4789,
#        flood-and-learn with head-end replication to the other VTEPs, like
#        the Linux bridge agent with unicast flooding); the underlay is the
#        switch (198.19.0.1, .2 on the compute NICs, which also carry the
#        migration stream, unencapsulated). ctl is a third VTEP (198.19.0.10)
#        like a network node, with its guest-network address 198.18.0.10 on
#        its own bridge behind its VXLAN device. The overlay devices' MTU is
#        $MTU - 50.

# Addresses of the run, per layout.
net_plan() {
	GUEST_IP=198.18.0.100
	CTL_IP=198.18.0.10
	GUEST_IP6="" CTL_IP6=""
	if [ "$IPV6" = 1 ]; then
		GUEST_IP6=fd00:198:18::100 CTL_IP6=fd00:198:18::10
	fi
	case $NET in
	flat) HOST_IP[cn1]=198.18.0.1 HOST_IP[cn2]=198.18.0.2 CTL_UNDERLAY="" ;;
	vlan) HOST_IP[cn1]=198.19.0.1 HOST_IP[cn2]=198.19.0.2 CTL_UNDERLAY="" ;;
	vxlan) HOST_IP[cn1]=198.19.0.1 HOST_IP[cn2]=198.19.0.2 CTL_UNDERLAY=198.19.0.10 ;;
	*) die "unknown --net $NET (flat, vlan, vxlan)" ;;
	esac
	GUEST_VID=100 HOST_VID=200 VNI=100
}

# no_offload NS DEV...: every offload off that the device lets us change, then
# check that no segmentation offload is left (that would put 64 KB frames in
# the captures).
no_offload() {
	local ns=$1 dev left; shift
	for dev in "$@"; do
		nsx "$ns" ethtool -K "$dev" tx off rx off sg off tso off gso off gro off lro off \
			rxvlan off txvlan off >/dev/null 2>&1 || true
		nsx "$ns" ethtool -K "$dev" tx-udp_tnl-segmentation off tx-gso-list off >/dev/null 2>&1 || true
		left=$(nsx "$ns" ethtool -k "$dev" 2>/dev/null |
			grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming): on' || true)
		[ -z "$left" ] || say "warning: $ns $dev keeps offloads on: $(echo "$left" | tr '\n' ' ')"
	done
}

# A veth from namespace NS (named eth0 there) to the switch (named PORT there).
# Created with unique names in the root namespace (which has its own eth0),
# moved, then renamed.
wire() {
	local ns=$1 port=$2 tag=$3
	ip link add "$P-${tag}n" mtu "$MTU" type veth peer name "$P-${tag}s" mtu "$MTU"
	ip link set "$P-${tag}n" netns "$ns"
	ip link set "$P-${tag}s" netns "$NS_SW"
	nsx "$ns" ip link set "$P-${tag}n" name eth0
	nsx "$NS_SW" ip link set "$P-${tag}s" name "$port"
	nsx "$NS_SW" ip link set "$port" master br0 up
	no_offload "$ns" eth0
	no_offload "$NS_SW" "$port"
	# A queue, as a real NIC has: veths are "noqueue", so two CPUs can
	# transmit at once and reorder a TCP stream (then dup ACKs, spurious
	# retransmits). pfifo_fast serializes each link's transmissions.
	nsx "$ns" tc qdisc replace dev eth0 root pfifo_fast
	nsx "$NS_SW" tc qdisc replace dev "$port" root pfifo_fast
}

# mkbridge NS [MTU]: a bridge with STP off and no forward delay (ports
# forward at once), MAC learning on and ageing 300 s (the defaults).
mkbridge() {
	nsx "$1" ip link add br0 type bridge stp_state 0 forward_delay 0
	nsx "$1" ip link set br0 mtu "${2:-$MTU}"
	nsx "$1" ip link set br0 up
	no_offload "$1" br0
}

# The guest's tap on the node's br0 (what libvirt does with a Linux bridge).
# An evacuation has a tap per guest: tap0 .. tap(N-1).
add_tap() {
	local ns=$1 mtu=$2 k
	for ((k = 0; k < EVAC_GUESTS; k++)); do
		nsx "$ns" ip tuntap add dev "tap$k" mode tap
		nsx "$ns" ip link set "tap$k" mtu "$mtu" master br0 up
		no_offload "$ns" "tap$k"
	done
}

compute_node() {
	local ns=$1 node=$2 d
	case $NET in
	flat)
		mkbridge "$ns"
		nsx "$ns" ip link set eth0 master br0 up
		nsx "$ns" ip addr add "${HOST_IP[$node]}/24" dev br0
		add_tap "$ns" "$MTU"
		;;
	vlan)
		mkbridge "$ns"
		nsx "$ns" ip link set eth0 master br0 up
		nsx "$ns" ip addr add "${HOST_IP[$node]}/24" dev br0
		add_tap "$ns" "$MTU"
		vlan_trunk "$ns"
		;;
	vxlan)
		nsx "$ns" ip addr add "${HOST_IP[$node]}/24" dev eth0
		nsx "$ns" ip link set eth0 up
		vtep "$ns" "${HOST_IP[$node]}"
		add_tap "$ns" $((MTU - 50))
		;;
	esac
}

# vtep NS LOCAL: br0 with vxlan0 (VNI $VNI, UDP 4789 over eth0), flooding to
# every other VTEP of the lab, learning remote MACs from what arrives.
vtep() {
	local ns=$1 local_ip=$2 peer
	mkbridge "$ns" $((MTU - 50))
	nsx "$ns" ip link add vxlan0 mtu $((MTU - 50)) type vxlan id "$VNI" dstport 4789 \
		local "$local_ip" dev eth0 learning
	for peer in "${HOST_IP[cn1]}" "${HOST_IP[cn2]}" "$CTL_UNDERLAY"; do
		[ "$peer" = "$local_ip" ] && continue
		nsx "$ns" bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst "$peer"
	done
	nsx "$ns" ip link set vxlan0 master br0 up
	no_offload "$ns" vxlan0
}

controller() {
	local dev=eth0
	case $NET in
	flat | vlan) ;;
	vxlan)
		nsx "$NS_CTL" ip addr add "$CTL_UNDERLAY/24" dev eth0
		vtep "$NS_CTL" "$CTL_UNDERLAY"
		dev=br0
		;;
	esac
	nsx "$NS_CTL" ip link set eth0 up
	[ -n "$CTL_IP6" ] && nsx "$NS_CTL" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0"
	nsx "$NS_CTL" ip addr add "$CTL_IP/24" dev "$dev"
	[ -n "$CTL_IP6" ] && nsx "$NS_CTL" ip -6 addr add "$CTL_IP6/64" dev "$dev"
	return 0
}

build_topology() {
	STEP=topology
	local ns big=$((MTU - 28))
	for ns in "$NS_SW" "$NS_CTL" "$NS_CN1" "$NS_CN2"; do
		ip netns add "$ns"
		nsx "$ns" ip link set lo up
		# No IPv6 on the switch and the compute nodes' own devices (as
		# Neutron does on bridges, ports and taps): no router solicitations
		# or MLD reports of the lab's own in the captures. The guest has
		# its own IPv6; ctl has IPv6 only to probe an IPv6 guest.
		[ "$ns" = "$NS_CTL" ] && [ -n "$CTL_IP6" ] && continue
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	[ "$NET" = vlan ] && vlan_build
	mkbridge "$NS_SW"
	wire "$NS_CTL" p-ctl ct
	wire "$NS_CN1" p-cn1 c1
	wire "$NS_CN2" p-cn2 c2
	[ "$NET" = vlan ] && vlan_access
	controller
	compute_node "$NS_CN1" cn1
	compute_node "$NS_CN2" cn2
	# the migration path, with jumbo frames unfragmented
	nsx "$NS_CN1" ping -c1 -W2 -M "do" -s "$big" "${HOST_IP[cn2]}" >/dev/null ||
		die "cn1 cannot reach cn2 (${HOST_IP[cn2]}) with $MTU-byte frames over the switch"
	if [ "$NET" = vxlan ]; then
		nsx "$NS_CTL" ping -c1 -W2 -M "do" -s "$big" "${HOST_IP[cn1]}" >/dev/null ||
			die "ctl cannot reach cn1's VTEP ${HOST_IP[cn1]} over the switch"
	fi
	say "topology: $NET, MTU $MTU, namespaces $P-{sw,ctl,cn1,cn2}"
}
