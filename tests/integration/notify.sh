#!/bin/bash
#
# notify.sh - the daemon's sd_notify(3) messages as systemd would get them
# (Type=notify): a receiver bound to a unix datagram socket stands in for
# systemd, the proxy runs with NOTIFY_SOCKET pointing at it.  READY=1 once
# serving (with a STATUS), RELOADING=1 with MONOTONIC_USEC then READY=1
# around each reload (control and SIGHUP; a failed one says so in STATUS),
# STOPPING=1 at exit.  Skipped when built without libsystemd.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig python3

grep -q '^#define HAVE_SYSTEMD 1' "$top_builddir/config.h" 2>/dev/null ||
    skip "built without libsystemd (./configure --enable-systemd)"
CTL=$top_builddir/src/dns64proxy-control
[ -x "$CTL" ] || bail "$CTL not built"

NSOCK=$TEST_TMP/notify.sock
MSGS=$TEST_TMP/notify.msgs
: >"$MSGS"

# The receiver: one line per datagram, its assignments separated by "|".
run_bg "$TEST_TMP/receiver.err" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        d = s.recv(65536).decode()
        f.write(d.rstrip("\n").replace("\n", "|") + "\n")
        f.flush()
' "$NSOCK" "$MSGS"
for _ in $(seq 1 100); do
	[ -S "$NSOCK" ] && break
	sleep 0.05
done
[ -S "$NSOCK" ] || bail "the notify receiver did not start"

start_unbound
SOCK=$TEST_TMP/control.sock
CONF=$TEST_TMP/proxy.conf
printf 'forwarder 127.0.0.1 port %s\ncontrol-socket "%s"\n' \
    "$UNBOUND_PORT" "$SOCK" >"$CONF"

# msg_count REGEX: the datagrams matching REGEX so far.
msg_count() {
	count_matches "$MSGS" "$1"
}

NOTIFY_SOCKET=$NSOCK start_proxy -f "$CONF"

check_true "READY=1 once serving" wait_for_grep "$MSGS" '^READY=1' 5
check_match "READY=1 says what it serves" \
    '^READY=1\|STATUS=serving [0-9]+ address(es)? with 1 worker$' \
    "$(head -n 1 "$MSGS")"
check_eq "nothing before READY=1" 1 "$(grep -c . "$MSGS")"
check_eq "and the proxy answers" NOERROR \
    "$(status_of "$(q both.t.example A)")"

# Reload by the control tool: synchronous, so both messages are sent by
# the time it returns.
"$CTL" -s "$SOCK" reload >/dev/null
check_true "control reload: READY=1 again" \
    wait_for_grep "$MSGS" '^READY=1\|STATUS=config generation 2$' 5
check_match "control reload: RELOADING=1 with MONOTONIC_USEC first" \
    '^RELOADING=1\|MONOTONIC_USEC=[1-9][0-9]*$' "$(sed -n 2p "$MSGS")"
check_eq "control reload: then READY=1" \
    "READY=1|STATUS=config generation 2" "$(sed -n 3p "$MSGS")"
usec1=$(sed -n 's/^RELOADING=1|MONOTONIC_USEC=//p' "$MSGS" | tail -n 1)
# CLOCK_MONOTONIC (python's time.monotonic() on Linux), read just after:
# within a minute of it.
mono_us=$(python3 -c 'import time; print(int(time.monotonic() * 1e6))')
check_range "MONOTONIC_USEC is the monotonic clock" \
    $((mono_us - 60000000)) "$mono_us" "$usec1"

kill -HUP "$PROXY_PID"
check_true "SIGHUP reload: READY=1, generation 3" \
    wait_for_grep "$MSGS" '^READY=1\|STATUS=config generation 3$' 5
check_match "SIGHUP reload: RELOADING=1 before it" \
    '^RELOADING=1\|MONOTONIC_USEC=[1-9][0-9]*$' "$(sed -n 4p "$MSGS")"
usec2=$(sed -n 's/^RELOADING=1|MONOTONIC_USEC=//p' "$MSGS" | tail -n 1)
check_true "MONOTONIC_USEC grows" test "$usec2" -gt "$usec1"

# A bad file: RELOADING=1, then READY=1 with the failure as STATUS.
printf 'bogus-keyword\n' >>"$CONF"
"$CTL" -s "$SOCK" reload >/dev/null 2>&1
check_true "failed reload: READY=1 with the failure" \
    wait_for_grep "$MSGS" '^READY=1\|STATUS=reload failed: ' 5
check_match "failed reload: RELOADING=1 first" '^RELOADING=1\|' \
    "$(sed -n 6p "$MSGS")"
# (the file start_proxy wrote, which includes $CONF)
check_match "failed reload: then READY=1 and why" \
    '^READY=1\|STATUS=reload failed: /.*: not loaded, see the file:line' \
    "$(sed -n 7p "$MSGS")"
check_eq "no STOPPING=1 yet" 0 "$(msg_count '^STOPPING=1')"

stop_proxy
check_true "STOPPING=1 at exit" wait_for_grep "$MSGS" '^STOPPING=1$' 5
check_eq "STOPPING=1 is the last message" "STOPPING=1" \
    "$(tail -n 1 "$MSGS")"
check_eq "8 messages in all" 8 "$(grep -c . "$MSGS")"
note "messages: $(tr '\n' ' ' <"$MSGS")"

finish
