#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/flatvmctl against tests/tools/fake_qmp (flatvm's QMP server in
# front of a fake machine): every command, human and --json output, the
# server's errors and the exit statuses.
#
#   check_flatvmctl.sh FAKE_QMP FLATVMCTL
set -eu

fake=$1
ctl=$2

dir=$(mktemp -d /tmp/flatvm-ctl-XXXXXX)
sock=$dir/qmp.sock
pid=
evpid=
cleanup() {
	for p in $evpid $pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in out err fake.err events; do
		[ -s "$dir/$f" ] && { echo "--- $f"; cat "$dir/$f"; }
	done
	exit 1
}

# run STATUS ARGS...: flatvmctl ARGS must exit with STATUS; its stdout and
# stderr are in $dir/out and $dir/err.
run() {
	want=$1
	shift
	set +e
	"$ctl" "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "flatvmctl $*: exit $got, expected $want"
}

ctl() {
	run 0 --sock "$sock" "$@"
}

# expect FILE TEXT: FILE has a line with TEXT (fixed string).
expect() {
	grep -qF -- "$2" "$dir/$1" || fail "no '$2' in $1"
}

expect_not() {
	! grep -qF -- "$2" "$dir/$1" || fail "unexpected '$2' in $1"
}

# A deletion takes 300 ms in this fake: --wait has something to wait for.
"$fake" "$sock" 300 >"$dir/fake.out" 2>"$dir/fake.err" &
pid=$!
i=0
until grep -q ready "$dir/fake.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "fake_qmp did not start"
	sleep 0.05
done

# Usage errors: 2, before touching the socket.
run 2
expect err "no command given"
run 2 --sock "$sock"
expect err "no command given"
run 2 status
expect err "--sock PATH is required"
run 2 --sock "$sock" frobnicate
expect err "unknown command 'frobnicate'"
run 2 --sock "$sock" --bogus status
run 2 --sock "$sock" status extra
run 2 --sock "$sock" device-add
run 2 --sock "$sock" device-add virtio-blk id=x,novalue
expect err "'novalue' is not KEY=VALUE"
run 2 --sock "$sock" device-del
run 2 --sock "$sock" device-del a b
run 2 --sock "$sock" device-del a --timeout nope
run 2 --sock "$sock" mtree -x
run 2 --sock "$sock" raw '{"execute": '
expect err "raw: not JSON"
run 2 --sock "$sock" raw '[1]'
run 0 --help
expect out "usage: flatvmctl --sock PATH"
expect out "device-add DRIVER [PROPS]"

# An unreachable socket: 3, and a message that says so.
run 3 --sock "$dir/nothing.sock" status
expect err "cannot connect to $dir/nothing.sock"
expect err "is flatvm running with --api-sock"

# Status, pause, resume, reset.
ctl status
[ "$(cat "$dir/out")" = running ] || fail "status: $(cat "$dir/out")"
ctl --json status
[ "$(cat "$dir/out")" = '{"running":true,"status":"running"}' ] ||
	fail "status --json: $(cat "$dir/out")"
ctl pause
[ ! -s "$dir/out" ] || fail "pause printed something"
ctl status
[ "$(cat "$dir/out")" = paused ] || fail "status after pause: $(cat "$dir/out")"
ctl --json resume
[ "$(cat "$dir/out")" = '{}' ] || fail "resume --json: $(cat "$dir/out")"
ctl reset
ctl version
expect out "flatvm 0.1.0 (QMP version 0.1.0)"

# Devices: the table, then JSON.
ctl devices
expect out "ID"
expect out "DRIVER"
expect out "serial0  serial"
expect out "region serial0 (io) at 0x3f8, 0x8 bytes"
expect out "/machine/rng0"

# device-add: properties, booleans, ",," for a comma.
ctl device-add virtio-blk id=d1,file=disk,,1.img,readonly=on
[ ! -s "$dir/out" ] || fail "device-add printed something"
ctl --json devices
expect out '"props":{"driver":"virtio-blk","id":"d1","file":"disk,1.img","readonly":true}'
ctl device-add virtio-rng id=r2 extra=yes other=1234
ctl --json devices
expect out '"props":{"driver":"virtio-rng","id":"r2","extra":true,"other":"1234"}'

# The server's refusals: 1, its words on stderr.
run 1 --sock "$sock" device-add virtio-blk id=d1
expect err "flatvmctl: Duplicate device ID 'd1'"
run 1 --sock "$sock" device-add virtio-blk file=x.img
expect err "flatvmctl: Parameter 'id' is missing"
run 1 --sock "$sock" device-del nope
expect err "flatvmctl: Device 'nope' not found"

# device-del: without --wait it returns at once (the device is still
# being deleted); with --wait, after DEVICE_DELETED.
ctl device-del r2
ctl --json devices
expect out '"id":"r2"'
run 1 --sock "$sock" device-del r2 --wait
expect err "is being deleted already"
ctl --json device-del d1 --wait
[ "$(cat "$dir/out")" = '{"deleted":"d1"}' ] || fail "device-del --wait: $(cat "$dir/out")"
ctl --json devices
expect_not out '"id":"d1"'
# A DEVICE_DELETED that does not come in time.
ctl device-add testdev id=t1
run 1 --sock "$sock" device-del t1 --wait --timeout 0.05
expect err "no DEVICE_DELETED from $sock within 0.05 s"

# mtree, stats.
ctl mtree
expect out "memory"
expect out "(prio 0, container): system"
ctl mtree -f
expect out "FlatView #0"
ctl --json mtree --flat
expect out '"flat":true'
ctl stats
expect out "vcpus:"
expect out "  - id: 0"
expect out "    mmio: 20"
expect out "memory:"
expect out "  unassigned-reads: 5"
# Exit times: a table line per vCPU and kind that happened, not the
# buckets; --json has them all (the fake: 9 MMIO reads of 2 us and one
# of 100 us, 3 port writes of 500 ns, at 1 tick per ns).
expect out "dispatch: time in flatvm per exit"
expect out "  VCPU  KIND             COUNT        P50        P90        P99        MAX"
expect out "  0     mmio-read           10    1.94 us    2.05 us  100.00 us  100.00 us"
expect out "  0     pio-write            3     483 ns     500 ns     500 ns     500 ns"
expect_not out "pio-read"
expect_not out "buckets"
ctl --json stats
expect out '"mmio-read":{"count":10,"sum-ns":118000,"max-ns":100000,"p50-ns":1935,"p90-ns":2048,"p99-ns":100000,"buckets":[[1792,9],[98304,1]]}'
expect out '"unit":"ns"'

# raw: the return, pretty or as one line; the id may be the caller's.
ctl raw '{"execute": "query-status"}'
expect out '  "running": true,'
ctl --json raw '{"execute": "query-status", "id": "mine"}'
[ "$(cat "$dir/out")" = '{"running":true,"status":"running"}' ] ||
	fail "raw --json: $(cat "$dir/out")"
run 1 --sock "$sock" raw '{"execute": "nope"}'
expect err "The command nope has not been found"

# events: follows until interrupted; STOP and RESUME from another client.
"$ctl" --sock "$sock" events >"$dir/events" 2>"$dir/events.err" &
evpid=$!
i=0
# Until both were seen: the follower may connect between a pause and a
# resume and see only the latter.
until grep -q RESUME "$dir/events" 2>/dev/null &&
      grep -q STOP "$dir/events" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "events saw no STOP/RESUME"
	ctl pause
	ctl resume
	sleep 0.1
done
kill -INT "$evpid"
set +e
wait "$evpid"
st=$?
set -e
evpid=
[ "$st" -eq 0 ] || fail "events exited with $st on SIGINT"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{6} STOP$' "$dir/events" ||
	fail "events: no STOP line"

# events --json, ended by the server going away (quit): exit 0 at EOF.
"$ctl" --sock "$sock" --json events >"$dir/events" 2>"$dir/events.err" &
evpid=$!
i=0
while :; do
	ctl reset
	grep -q '"event":"RESET"' "$dir/events" 2>/dev/null && break
	i=$((i + 1))
	[ $i -le 50 ] || fail "events --json saw no RESET"
	sleep 0.1
done
ctl quit
set +e
wait "$evpid"
st=$?
set -e
evpid=
[ "$st" -eq 0 ] || fail "events exited with $st at EOF"
grep -q '"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-quit"}' "$dir/events" ||
	fail "events --json: no SHUTDOWN"

set +e
wait "$pid"
st=$?
set -e
pid=
[ "$st" -eq 0 ] || fail "fake_qmp exited with $st"
run 3 --sock "$sock" status
echo "PASS: flatvmctl"
