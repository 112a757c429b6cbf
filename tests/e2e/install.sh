#!/bin/bash
# Installed as operators install tools. `make install DESTDIR=.. PREFIX=..`
# stages the binary, the man pages, the unit, its defaults and the hook, and
# `make uninstall` removes every one; each man page renders without a groff
# warning and names every option of its command's --help; the Debian package
# built from the tree (tests/deb.sh: dpkg-buildpackage) is lintian clean,
# installs with dpkg, runs, has its man pages and unit (verified by
# systemd-analyze, not enabled), and purges without a trace.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=$(realpath "${1:-build}")
TMP=$(mktemp -d /tmp/msc-install-XXXXXX)
INSTALLED_HERE=
cleanup() {
	[ -n "$INSTALLED_HERE" ] && dpkg --purge migscope >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# --- make install / uninstall ---------------------------------------------
make --no-print-directory -s BUILD="$BUILD" install DESTDIR="$TMP/stage" PREFIX=/opt/msc >"$TMP/install.log" 2>&1
expect_eq "make install: exit 0" 0 $?
for f in /opt/msc/bin/migscope /opt/msc/share/man/man1/migscope.1 \
	/opt/msc/share/man/man1/migscope-analyze.1 /opt/msc/share/man/man8/migscope-capture.8 \
	/lib/systemd/system/migscope-capture.service /etc/default/migscope-capture \
	/opt/msc/share/migscope/libvirt-hook-qemu /opt/msc/share/migscope/prometheus-rules.yml; do
	check "make install: $f" test -e "$TMP/stage$f"
done
grep -q "^ExecStart=/opt/msc/bin/migscope capture" "$TMP/stage/lib/systemd/system/migscope-capture.service" &&
	ok "make install: the unit runs the installed binary (PREFIX)" ||
	not_ok "make install: the unit runs the installed binary (PREFIX)"
"$TMP/stage/opt/msc/bin/migscope" --help >/dev/null
expect_eq "make install: the installed binary runs" 0 $?
make --no-print-directory -s BUILD="$BUILD" uninstall DESTDIR="$TMP/stage" PREFIX=/opt/msc >/dev/null 2>&1
expect_eq "make uninstall: no file left" "" "$(find "$TMP/stage" -type f)"

# --- man pages --------------------------------------------------------------
for page in docs/man/man1/*.1 docs/man/man8/*.8; do
	w=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
	expect_eq "man: $(basename "$page") renders without a warning" "" "$w"
done
# every long option of each command's --help is in its page
for cmd in analyze capture replay series; do
	page=$(ls docs/man/man*/migscope-$cmd.[18])
	text=$(groff -man -Tutf8 -P -c "$page" 2>/dev/null | col -b)
	missing=
	# the option lines: "  -x, --name ARG" or "      --name ARG"
	for opt in $("$BUILD/migscope" "$cmd" --help | grep -E -- '^ +(-[a-zA-Z], )?--[a-z]' |
		grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$opt" <<<"$text" || missing="$missing $opt"
	done
	expect_eq "man: migscope-$cmd names every option of its --help" "" "$missing"
done

# --- the Debian package -------------------------------------------------------
if ! changes=$(tests/deb.sh build "$TMP/b" 2>"$TMP/deb.err"); then
	not_ok "deb: dpkg-buildpackage builds the package" "$(tail -20 "$TMP/deb.err")"
	exit 0
fi
ok "deb: dpkg-buildpackage builds the package"
deb=$(ls "$TMP"/b/deb/migscope_*_*.deb)
tags=$(lintian --pedantic "$changes" 2>/dev/null)
expect_eq "deb: lintian --pedantic is clean" "" "$tags"
if dpkg -s migscope >/dev/null 2>&1; then
	not_ok "deb: installs (a migscope package is already installed here: remove it first)"
	exit 0
fi
dpkg -i "$deb" >"$TMP/dpkg.log" 2>&1
rc=$?
INSTALLED_HERE=1
expect_eq "deb: dpkg -i installs it" 0 "$rc"
/usr/bin/migscope analyze -f json fixtures/synthetic/baseline-cn1.pcap fixtures/synthetic/baseline-cn2.pcap \
	>"$TMP/report.json" 2>/dev/null
expect_eq "deb: the installed migscope analyzes a capture" 1 "$(jq '.migrations | length' "$TMP/report.json")"
check "deb: man migscope-capture finds its page" man -w migscope-capture
check "deb: man 8 migscope-capture" test "$(man -w 8 migscope-capture)" = /usr/share/man/man8/migscope-capture.8.gz
check "deb: the unit is installed" test -f /lib/systemd/system/migscope-capture.service
if out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify /lib/systemd/system/migscope-capture.service 2>&1) &&
	! grep -q migscope <<<"$out"; then
	ok "deb: systemd-analyze verify passes the installed unit"
else
	not_ok "deb: systemd-analyze verify passes the installed unit" "$out"
fi
check "deb: the unit is not enabled on install (its NICs are the operator's)" \
	test ! -e /etc/systemd/system/multi-user.target.wants/migscope-capture.service
check "deb: the hook is executable" test -x /usr/share/migscope/libvirt-hook-qemu
check "deb: its defaults are a conffile" grep -qx /etc/default/migscope-capture /var/lib/dpkg/info/migscope.conffiles
dpkg --purge migscope >/dev/null 2>&1
expect_eq "deb: dpkg --purge" 0 $?
INSTALLED_HERE=
left=$(ls /usr/bin/migscope /lib/systemd/system/migscope-capture.service /etc/default/migscope-capture \
	/usr/share/migscope 2>/dev/null)
expect_eq "deb: nothing of it left after purge" "" "$left"
