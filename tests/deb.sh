#!/bin/bash
# The Debian package built from this tree (debian/), as a maintainer builds
# it: the tracked tree copied aside (no build outputs), dpkg-buildpackage -b
# -us -uc there, the .deb and .changes into BUILD/deb/.
#   tests/deb.sh build BUILD    -> prints the .changes path; exit 0 or 1
set -u
cd "$(dirname "$0")/.." || exit 2
[ "${1:-}" = build ] || { echo "usage: tests/deb.sh build BUILD" >&2; exit 2; }
BUILD=$(realpath -m "${2:-build}")
OUT=$BUILD/deb
rm -rf "$OUT"
mkdir -p "$OUT/src"
# every file but build outputs, VCS data and earlier packages
tar -cf - --exclude=./.git --exclude=./build --exclude=./debian/build \
	--exclude="./$(realpath -m --relative-to=. "$BUILD")" . | tar -xf - -C "$OUT/src" || exit 1
(cd "$OUT/src" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 || {
	tail -30 "$OUT/build.log" >&2
	exit 1
}
ls "$OUT"/migscope_*.changes
