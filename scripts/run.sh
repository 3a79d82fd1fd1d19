#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what flatvm needs, build it, and run it.  Without arguments
# this boots the built-in guest; arguments go to `flatvm run`, e.g.
#   scripts/run.sh --kernel vmlinux --initrd initramfs.cpio.gz --mem 512M
set -eu

cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
exec build/vmm/flatvm run "$@"
