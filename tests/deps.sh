#!/bin/sh
# Installs the Debian packages migscope builds (and, with "test", tests)
# with, only those missing: make demo needs no browser, no tshark, no cmocka.
#   tests/deps.sh [build|test]
set -e
PKGS="build-essential clang llvm libpcap-dev libbpf-dev libelf-dev zlib1g-dev bpftool jq
iproute2 tcpdump"
[ "${1:-build}" = test ] && PKGS="$PKGS libcmocka-dev tshark time chromium iperf3 libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "migscope: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
	exit 2
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; the default (no) is right.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get install -y -qq --no-install-recommends $missing >/dev/null
