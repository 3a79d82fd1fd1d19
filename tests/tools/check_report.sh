#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# flatvm-bench report --quick, end to end: it must write report.md with
# every section, a report.json, and every plot as PNG and SVG (with
# gnuplot installed); QEMU's part is either in the report or skipped with
# the reason stated in it.  Exit 77 (skipped) without /dev/kvm.
#
#   check_report.sh FLATVM_BENCH
set -eu

bench=$1
dir=$(mktemp -d /tmp/flatvm-report-e2e-XXXXXX)
trap 'rm -rf "$dir"' EXIT

fail() {
	echo "FAIL: $*"
	[ -s "$dir/err" ] && { echo "--- stderr"; tail -n 40 "$dir/err"; }
	[ -s "$dir/out/report.md" ] && { echo "--- report.md"; head -n 80 "$dir/out/report.md"; }
	exit 1
}

status=0
"$bench" report --quick --out "$dir/out" >"$dir/stdout" 2>"$dir/err" || status=$?
if [ "$status" -eq 77 ]; then
	echo "SKIP: $(tail -n 1 "$dir/err")"
	exit 77
fi
[ "$status" -eq 0 ] || fail "flatvm-bench report --quick exited $status"
md=$dir/out/report.md
[ -s "$md" ] || fail "no report.md"
[ -s "$dir/out/report.json" ] || fail "no report.json"
grep -qx "$dir/out/report.md" "$dir/stdout" || fail "report.md's path not printed"

for s in "## The machine" "## Targets" \
	 "## Round trips, 1 vCPU, the same registers on every side" \
	 "### pio-read" "### pio-write" "### mmio-read" "### mmio-write" \
	 "### ioeventfd" "## Where the time goes" "## Scale" \
	 "## Hotplug churn" "## In-process dispatch" \
	 "## flatvm's own counters" "## Cross-checks"; do
	grep -qF -- "$s" "$md" || fail "report.md has no '$s'"
done
# Every kind measured on flatvm and on the floor, with verdicts.
for k in pio-read pio-write mmio-read mmio-write; do
	grep -q "^| $k p50 within 5 % of the floor | .* | \*\*\(PASS\|MISS\)\*\* |$" "$md" ||
		fail "no floor verdict for $k"
done
grep -q '^| flatvm | [0-9]' "$md" || fail "no flatvm rows"
grep -q '^| KVM floor | [0-9]' "$md" || fail "no floor rows"
grep -q "^| p99 during hotplug churn" "$md" || fail "no churn verdict"
grep -q "as fast as it answers: [1-9][0-9]* cycles" "$md" || fail "no plug cycles during the churn runs"
# Every flatvm configuration ran: 2 vCPUs (APs started by the probe), 512 devices.
for c in "scale-1cpu | flatvm | 0" "scale-2cpu-same | flatvm | 1" \
	 "scale-2cpu-diff | flatvm | 0" "scale-2cpu-diff | flatvm | 1" \
	 "scale-512dev | flatvm | 0"; do
	grep -qF "| $c |" "$md" || fail "no '$c' row in the scale table"
done
grep -q "^- measurement: " "$md" && fail "a measurement was skipped: $(grep '^- measurement: ' "$md" | head -n 3)"
grep -q '"query_stats"' "$dir/out/report.json" || fail "no query-stats in report.json"
grep -q '^| 0 | mmio-read | [1-9]' "$md" || fail "no dispatch histogram from query-stats"

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	grep -q '^| QEMU microvm | [0-9]' "$md" || fail "QEMU is installed but not in the report"
	grep -q "^| mmio-read p50 below QEMU microvm's | [0-9.]*x QEMU" "$md" ||
		fail "no QEMU verdict"
	grep -q "compare, qemu, mmio-read: the probe's console histogram .* they agree" "$md" ||
		fail "the QEMU console histogram does not agree with the samples"
else
	grep -q "QEMU microvm: qemu-system-x86_64 is not on PATH" "$md" ||
		fail "QEMU is not installed and the report does not say so"
fi
grep -q "compare, flatvm, mmio-read: the probe's console histogram .* they agree" "$md" ||
	fail "flatvm's console histogram does not agree with the samples"

if command -v gnuplot >/dev/null 2>&1; then
	for p in latency-pio-read latency-pio-write latency-mmio-read \
		 latency-mmio-write latency-ioeventfd churn-timeline scale; do
		for ext in png svg; do
			[ -s "$dir/out/plots/$p.$ext" ] || fail "no plots/$p.$ext"
		done
	done
	head -c 8 "$dir/out/plots/scale.png" | od -An -c | grep -q 'P   N   G' ||
		fail "plots/scale.png is not a PNG"
	grep -q '<svg' "$dir/out/plots/latency-mmio-read.svg" || fail "not an SVG"
else
	grep -q "gnuplot is not on PATH" "$md" || fail "no gnuplot and the report does not say so"
fi

# Rendered again from its JSON: the same report.
"$bench" report --from "$dir/out/report.json" --out "$dir/again" >/dev/null 2>"$dir/err" ||
	fail "report --from failed"
cmp -s "$md" "$dir/again/report.md" || fail "report --from renders a different report.md"
# A file that is not a report is refused with a reason.
echo '{"x": 1}' >"$dir/bad.json"
if "$bench" report --from "$dir/bad.json" --out "$dir/bad" 2>"$dir/err"; then
	fail "report --from accepted a file that is not a report"
fi
grep -q "not a flatvm-bench report" "$dir/err" || fail "no reason for refusing bad.json"
echo "PASS"
