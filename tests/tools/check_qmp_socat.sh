#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# flatvm's QMP server driven by a client flatvm did not write: socat, fed
# a canned session, the way people talk to QEMU's monitor by hand.  The
# server is tests/tools/fake_qmp (vmm/qmp.c in front of a fake machine).
# The transcript must match byte for byte, but for the timestamps and
# jansson's wording of a parse error.
#
#   check_qmp_socat.sh FAKE_QMP
#
# Exits 77 (skipped) when socat is not installed.
set -eu

fake=$1
if ! command -v socat >/dev/null 2>&1; then
	echo "SKIP: socat is not installed (apt-get install socat)"
	exit 77
fi

dir=$(mktemp -d /tmp/flatvm-socat-XXXXXX)
sock=$dir/qmp.sock
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in out got fake.err; do
		[ -f "$dir/$f" ] && { echo "--- $f"; cat "$dir/$f"; }
	done
	exit 1
}

"$fake" "$sock" >"$dir/fake.out" 2>"$dir/fake.err" &
pid=$!
i=0
until grep -q ready "$dir/fake.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "fake_qmp did not start"
	sleep 0.05
done

# -t: after our input ends, wait this long for the server to finish (it
# closes the connection itself after quit, well before).
socat -t 10 - "UNIX-CONNECT:$sock" >"$dir/out" <<'EOF'
{"execute": "query-status", "id": "early"}
{"execute": "qmp_capabilities"}
{"execute": "query-status", "id": 1}
{"execute": "stop", "id": "two"}
{"execute": "query-status", "id": 3}
{"execute": }
{"execute": "cont", "id": 4}
{"execute": "nope", "id": 5}
{"execute": "query-status", "arguments": {"bogus": true}, "id": 6}
{"execute": "device_add", "arguments": {"driver": "virtio-blk", "id": "d1", "file": "disk.img", "readonly": true}, "id": 7}
{"execute": "device_del", "arguments": {"id": "nope"}, "id": 8}
{"execute": "query-mtree", "arguments": {"flat": "yes"}, "id": 9}
[1, 2]
{"execute": "system_reset", "id": {"seq": 10}}
{"execute": "quit", "id": 11}
EOF

# The fake exits by itself after quit, and removes its socket.
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "fake_qmp did not exit after quit"
	sleep 0.05
done
wait "$pid" || fail "fake_qmp exited with $?"
pid=
[ ! -e "$sock" ] || fail "the socket file is left behind"

# Every line ends in CRLF, as QEMU's do.
lines=$(wc -l <"$dir/out")
crlf=$(grep -c "$(printf '\r')\$" "$dir/out" || true)
[ "$lines" -eq "$crlf" ] || fail "$crlf of $lines lines end in CRLF"

tr -d '\r' <"$dir/out" |
	sed -e 's/"timestamp": {"seconds": [0-9]*, "microseconds": [0-9]*}/"timestamp": T/' \
	    -e 's/"JSON parse error, [^"]*"/"JSON parse error, ..."/' >"$dir/got"

cat >"$dir/want" <<'EOF'
{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "flatvm 0.1.0"}, "capabilities": []}}
{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}, "id": "early"}
{"return": {}}
{"return": {"running": true, "status": "running"}, "id": 1}
{"return": {}, "id": "two"}
{"event": "STOP", "timestamp": T}
{"return": {"running": false, "status": "paused"}, "id": 3}
{"error": {"class": "GenericError", "desc": "JSON parse error, ..."}}
{"return": {}, "id": 4}
{"event": "RESUME", "timestamp": T}
{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}, "id": 5}
{"error": {"class": "GenericError", "desc": "Parameter 'bogus' is unexpected"}, "id": 6}
{"return": {}, "id": 7}
{"error": {"class": "DeviceNotFound", "desc": "Device 'nope' not found"}, "id": 8}
{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'flat', expected: boolean"}, "id": 9}
{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}
{"return": {}, "id": {"seq": 10}}
{"event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}, "timestamp": T}
{"return": {}, "id": 11}
{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}, "timestamp": T}
EOF

diff -u "$dir/want" "$dir/got" >"$dir/diff" || {
	cat "$dir/diff"
	fail "the transcript differs"
}
echo "PASS: socat session ($lines lines) as expected"
