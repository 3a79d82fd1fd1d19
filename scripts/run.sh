#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what flatvm needs, build it, and run its main job.  Until the
# KVM backend lands that is the in-process dispatch benchmark; extra
# arguments go to flatvm-bench (e.g. scripts/run.sh dispatch --json).
set -eu

cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
if [ $# -eq 0 ]; then
	set -- dispatch
fi
exec build/tools/flatvm-bench "$@"
