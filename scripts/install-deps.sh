#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install flatvm's build and test dependencies from Debian's archive.
# Safe to run repeatedly; does nothing when everything is already present.
set -eu

# gnuplot-nox renders flatvm-bench report's plots; qemu-system-x86 is the
# peer that report measures flatvm against (QEMU's microvm machine).
PKGS="build-essential cmake pkg-config clang liburcu-dev check linux-libc-dev acpica-tools xz-utils libjansson-dev socat gnuplot-nox qemu-system-x86"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
