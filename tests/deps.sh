#!/bin/sh
# The one place that names the Debian packages migscope needs: one list per
# purpose. Installs those missing (as root, after apt-get update), so that a
# fresh Debian 12 has everything before the first step of the purpose runs.
#
#   tests/deps.sh PURPOSE            install what PURPOSE needs (make deps,
#                                    make demo, make test, make bench)
#   tests/deps.sh --check PURPOSE    install nothing: name what is missing on
#                                    stderr and exit 1 (the lab checks "lab")
#
# Purposes, each the union of some of the lists below:
#   build  make all: migscope, its BPF objects and skeletons, the test tools
#   lab    tests/lab/run.sh: a QEMU live migration in network namespaces
#   demo   build + lab                      (make demo)
#   test   build + lab + test               (make test: every test layer)
#   bench  build + lab + bench              (make bench)
#   deb    build + deb                      (make deb: the Debian package)
# A command called by any script of a purpose belongs to its lists; only what
# a minimal Debian ("minbase": coreutils, util-linux, findutils, gzip, mawk,
# diffutils, apt, dpkg) already has is left out.
set -e

# make all: gcc/make/binutils, clang for -target bpf, bpftool gen skeleton
PKGS_BUILD="build-essential clang llvm libpcap-dev libbpf-dev libelf-dev zlib1g-dev bpftool"

# tests/lab/: qemu-system-x86_64 (TCG), busybox-static (the guest's initramfs,
# packed with cpio; xz/zstd unpack the kernel's modules; depmod from kmod for a
# kernel fetched with apt-get download), socat (QMP), jq, tcpdump (the NIC
# captures), ip/tc/bridge/ss (iproute2), ping (iputils-ping), arping
# (iputils-arping: --arp), ethtool
# (offloads off), sysctl and pgrep (procps), gcc + libc6-dev (the guest's
# dirty.c, static), clang + libbpf-dev (lib/vlan.bpf.c), openssl (the throwaway
# CA and certificates of --tls runs, lib/tls.sh)
PKGS_LAB="qemu-system-x86 busybox-static curl socat jq tcpdump iproute2 iputils-ping iputils-arping ethtool procps
xz-utils zstd cpio kmod gcc libc6-dev clang libbpf-dev openssl"

# make test beyond the lab: cmocka (unit tests), tshark and editcap (the
# independent oracle; wireshark-common comes with tshark), /usr/bin/time,
# chromium (the HTML report rendered headless), iperf3 (TCP streams under
# the capture agent: e2e/capture.sh, e2e/capture_retrans.sh), and clang's
# runtimes, libclang_rt.fuzzer among them (libFuzzer targets, make fuzz),
# python3-jsonschema (every report validated against docs/report.schema.json),
# prometheus (promtool and the server) with prometheus-node-exporter and curl
# (e2e/prometheus.sh: the metrics scraped and queried as a fleet would);
# installing as operators do (e2e/install.sh, e2e/service.sh): dpkg-dev and
# debhelper (dpkg-buildpackage), lintian, man-db and groff-base (the man
# pages), bsdextrautils (col), systemd (systemd-analyze verify of the unit).
PKGS_TEST="libcmocka-dev tshark time chromium iperf3 libclang-rt-14-dev python3-jsonschema
prometheus prometheus-node-exporter curl dpkg-dev debhelper lintian man-db groff-base
bsdextrautils systemd"

# make bench beyond the lab: tshark and tcpdump (the peers measured),
# /usr/bin/time (peak RSS), iperf3 (the agent's throughput cost), cmocka
# (tests/unit/test_pkt_bpf prints the BPF cost per frame)
PKGS_BENCH="libcmocka-dev tshark time iperf3"

# make deb: dpkg-buildpackage (dpkg-dev), dh (debhelper), lintian
PKGS_DEB="dpkg-dev debhelper lintian"

check=0
[ "${1:-}" = --check ] && { check=1; shift; }
purpose=${1:-build}
case $purpose in
build) PKGS=$PKGS_BUILD ;;
lab) PKGS=$PKGS_LAB ;;
demo) PKGS="$PKGS_BUILD $PKGS_LAB" ;;
test) PKGS="$PKGS_BUILD $PKGS_LAB $PKGS_TEST" ;;
bench) PKGS="$PKGS_BUILD $PKGS_LAB $PKGS_BENCH" ;;
deb) PKGS="$PKGS_BUILD $PKGS_DEB" ;;
*) echo "usage: tests/deps.sh [--check] build|lab|demo|test|bench|deb" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ $check = 1 ]; then
	echo "missing Debian packages for $purpose:$missing (tests/deps.sh $purpose installs them, as root)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "migscope: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
	exit 2
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; the default (no) is right.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
