# Sourced by tests/lab/run.sh: the guest's kernel and busybox initramfs.
# shellcheck shell=bash

# The guest's kernel: the newest installed Debian kernel that has its
# modules (KMODS=/lib/modules/<ver>), else Debian's current linux-image
# package unpacked into the cache, never installed: the host keeps its /boot
# and skips an initramfs build (MSL_KERNEL=fetch prefers the unpacked one).
pick_kernel() {
	STEP=kernel
	local v k
	KVER="" KERNEL="" KMODS=""
	if [ "${MSL_KERNEL:-}" != fetch ]; then
		for k in $(printf '%s\n' /boot/vmlinuz-* | sort -V); do
			v=${k#/boot/vmlinuz-}
			[ -f "/lib/modules/$v/modules.dep" ] && KVER=$v KERNEL=$k KMODS=/lib/modules/$v
		done
	fi
	[ -n "$KVER" ] || fetch_kernel
	[ -r "$KERNEL" ] || die "$KERNEL is not readable"
}

fetch_kernel() {
	STEP=kernel-fetch
	local pkg dir deb k
	kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
	pkg=$(kernel_package)
	[ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1; pkg=$(kernel_package); }
	[ -n "$pkg" ] || die "no installed kernel, and apt knows no linux-image-amd64 (apt-get update)"
	dir=$CACHE/$pkg
	if [ ! -f "$dir/.unpacked" ]; then
		say "kernel: unpacking Debian's $pkg into $dir (not installed)"
		mkdir -p "$CACHE"
		rm -rf "$dir" "$CACHE/dl.$RID"
		mkdir "$CACHE/dl.$RID"
		(cd "$CACHE/dl.$RID" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
			{ rm -rf "$CACHE/dl.$RID"; die "apt-get download $pkg failed"; }
		deb=$(printf '%s\n' "$CACHE/dl.$RID"/*.deb | head -1)
		dpkg-deb -x "$deb" "$dir.tmp.$RID" || { rm -rf "$CACHE/dl.$RID" "$dir.tmp.$RID"; die "dpkg-deb -x $deb failed"; }
		rm -rf "$CACHE/dl.$RID"
		# modules.dep is made by the package's postinst, which never ran
		k=$(printf '%s\n' "$dir.tmp.$RID"/boot/vmlinuz-* | sort -V | tail -1)
		depmod -b "$dir.tmp.$RID" "${k##*/vmlinuz-}" 2>/dev/null ||
			{ rm -rf "$dir.tmp.$RID"; die "depmod for $pkg failed (kmod: tests/deps.sh lab installs it)"; }
		touch "$dir.tmp.$RID/.unpacked"
		mv "$dir.tmp.$RID" "$dir" 2>/dev/null || rm -rf "$dir.tmp.$RID" # a concurrent run won
	fi
	k=$(printf '%s\n' "$dir"/boot/vmlinuz-* | sort -V | tail -1)
	KVER=${k##*/vmlinuz-} KERNEL=$k KMODS=$dir/lib/modules/$KVER
	[ -f "$KMODS/modules.dep" ] || die "$pkg has no modules.dep"
}

# Modules to insmod, dependencies first, resolved from modules.dep so the list
# follows whatever the kernel builds in (absent from modules.dep = built-in, or
# missing: skipped). modules.dep lists a module's deps with the deepest last.
module_load_order() {
	local dep=$KMODS/modules.dep target line m seen=" "
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

# Build (or reuse) the busybox initramfs: busybox-static, the virtio modules
# (stored uncompressed: the guest's insmod may lack xz/zstd), guest/init as
# /init and guest/dirty.c compiled static as /bin/dirty. Cached by kernel
# version and a hash of everything that goes in, so reruns skip the build.
build_initramfs() {
	STEP=initramfs
	local order key root m src dst
	order=$(module_load_order)
	[ -n "$order" ] || die "no virtio modules found in $KMODS/modules.dep"
	key=$(cat "$LAB/guest/init" "$LAB/guest/dirty.c" <(echo "$order") <(sha256sum /bin/busybox) |
		sha256sum | cut -c1-12)
	INITRD=$CACHE/initramfs-$KVER-$key.cpio.gz
	[ -s "$INITRD" ] && { say "initramfs: cached $INITRD"; return 0; }
	say "initramfs: building $INITRD"
	mkdir -p "$CACHE"
	root=$(mktemp -d "$CACHE/root.XXXXXX")
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,"lib/modules/$KVER"}
	file -b /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
		ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
		{ rm -rf "$root"; die "/bin/busybox is not static (install busybox-static)"; }
	cp /bin/busybox "$root/bin/busybox"
	for m in $(/bin/busybox --list); do
		[ "$m" = busybox ] || ln -s busybox "$root/bin/$m"
	done
	: >"$root/etc/modules.order"
	for m in $order; do
		src=$KMODS/$m
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
	gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/dirty" "$LAB/guest/dirty.c" 2>"$RUNDIR/gcc.err" ||
		{ rm -rf "$root"; die "gcc -static guest/dirty.c: $(head -5 "$RUNDIR/gcc.err") (needs gcc, libc6-dev)"; }
	strip "$root/bin/dirty" 2>/dev/null || true
	install -m 755 "$LAB/guest/init" "$root/init"
	# build to a temporary name: a concurrent run never sees half a file
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp.$RID"
	mv "$INITRD.tmp.$RID" "$INITRD"
	rm -rf "$root"
}

# The guest's kernel command line: its addresses and workload for this run.
guest_cmdline() {
	local c="console=ttyS0 quiet msl.ip=$GUEST_IP/24"
	[ -n "$GUEST_IP6" ] && c="$c msl.ip6=$GUEST_IP6/64"
	[ "$DIRTY_MBPS" != "" ] && c="$c msl.dirty=$DIRTY_MBPS msl.wss=$DIRTY_WSS"
	[ "$GUEST_NO_IPV6" = 1 ] && c="$c ipv6.disable=1"
	[ "$HTTP" = 1 ] && c="$c msl.http=1"
	[ "$NO_ICMP" = 1 ] && c="$c msl.noicmp=1"
	[ -n "$GUEST_APPEND" ] && c="$c $GUEST_APPEND"
	echo "$c"
}
