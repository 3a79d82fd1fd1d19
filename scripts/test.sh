#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what the build needs, build, and run the whole test suite:
# plain (gcc), under AddressSanitizer + UndefinedBehaviorSanitizer, and a
# clang build (warnings are errors with both compilers).
#
#   scripts/test.sh          everything above
#   scripts/test.sh --tsan   the concurrency tests under ThreadSanitizer
set -eu

cd "$(dirname "$0")/.."
scripts/install-deps.sh

JOBS=$(nproc 2>/dev/null || echo 2)

build() {
	dir=$1
	shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS"
}

case "${1:-}" in
--tsan)
	build build-tsan -DCMAKE_BUILD_TYPE=TSan -DCMAKE_C_COMPILER=clang
	# halt_on_error: a report fails the test instead of scrolling by.
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
		ctest --test-dir build-tsan --output-on-failure -L concurrency
	;;
"")
	echo "== gcc, RelWithDebInfo"
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	ctest --test-dir build --output-on-failure
	echo "== gcc, ASan + UBSan"
	build build-asan -DCMAKE_BUILD_TYPE=ASan
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		ctest --test-dir build-asan --output-on-failure
	echo "== clang, Debug"
	build build-clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang
	ctest --test-dir build-clang --output-on-failure
	;;
*)
	echo "usage: scripts/test.sh [--tsan]" >&2
	exit 2
	;;
esac
