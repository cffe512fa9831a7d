#!/bin/bash
#
# default-setup.sh - the embedded default, as README's first command runs it
# ("dns64proxy -d -v", here with -f /dev/null so an installed config file
# cannot interfere): listen on 127.0.0.1 and ::1 port 53, or 5353 with a
# log line when 53 is taken; Well-Known Prefix; ipv4only.arpa answered
# locally (RFC 7050, RFC 8880 7.1).
#
# Port 53 is shared by the whole host, so everything runs in a private
# network namespace that only has "lo": nothing can leave the host, and the
# host's port 53 is never touched.  The forwarders come from the real
# /etc/resolv.conf, but no query that would be forwarded is ever sent (only
# ipv4only.arpa, which is answered locally).  Needs root and ip(8).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_root
need_tool ip dig ss

[ -x "$PROXY_BIN" ] || bail "$PROXY_BIN not built"
[ -x "$FAKEUP_BIN" ] || bail "$FAKEUP_BIN not built"
IP=$(PATH=$PATH:/usr/sbin:/sbin command -v ip)

NS=dns64proxy-test-$$-$RANDOM
NS_MADE=0

# The namespace goes on every exit; lib.sh's _cleanup then kills our pids
# (processes in a deleted namespace keep running until then, and the
# namespace disappears with the last of them).
# shellcheck disable=SC2317  # called from the EXIT trap
_ds_cleanup() {
	local rc=$?
	if [ "$NS_MADE" = 1 ]; then
		"$IP" netns delete "$NS" 2>/dev/null ||
		    echo "# could not delete netns $NS"
	fi
	(exit "$rc")
	_cleanup
}
trap _ds_cleanup EXIT

if ! "$IP" netns add "$NS" 2>"$TEST_TMP/netns.err"; then
	skip "network namespaces unavailable: $(head -n 1 "$TEST_TMP/netns.err")"
fi
NS_MADE=1
"$IP" netns exec "$NS" "$IP" link set lo up ||
    skip "cannot bring lo up in a network namespace"

# in_ns CMD...: run CMD in the namespace.
in_ns() {
	"$IP" netns exec "$NS" "$@"
}

# Only lo: the namespace is the safety net of this test.
check_eq "netns: only the loopback interface" "lo" \
    "$(in_ns "$IP" -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//')"
ns_v6=0
if in_ns grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 \
    2>/dev/null; then
	ns_v6=1
fi

# dig_ns ADDR PORT ARGS...: dig inside the namespace.
dig_ns() {
	local addr=$1 port=$2
	shift 2
	in_ns "$DIG" -p "$port" "@$addr" +tries=1 +time=3 "$@"
}

# start_default LOG: start the proxy with the embedded default in the
# namespace; sets DP_PID; waits for "ready" (skips if resolv.conf gives no
# forwarder, which this test cannot fix without touching /etc).
start_default() {
	run_bg "$1" "$IP" netns exec "$NS" "$PROXY_BIN" -d -v -f /dev/null
	DP_PID=$BG_PID
	if ! wait_for_grep "$1" ' ready$|no forwarder|exiting' 10; then
		_indent "$(cat "$1")"
		fatal "the default proxy did not start"
	fi
	if grep -q 'no forwarder' "$1"; then
		skip "/etc/resolv.conf gives no usable forwarder: $(grep 'no forwarder' "$1")"
	fi
	grep -q ' ready$' "$1" || fatal "the default proxy did not start: $(cat "$1")"
}

# check_ipv4only DESC ADDR PORT: AAAA ipv4only.arpa answered with the WKP.
check_ipv4only() {
	local out
	out=$(dig_ns "$2" "$3" AAAA ipv4only.arpa)
	check_eq "$1: AAAA ipv4only.arpa NOERROR" NOERROR "$(status_of "$out")"
	check_eq "$1: 64:ff9b::c000:aa and 64:ff9b::c000:ab (RFC 7050)" \
	    "64:ff9b::c000:aa
64:ff9b::c000:ab" \
	    "$(aaaa_of "$out" | sort)"
}

# ------------------------------------------------ port 53 taken: 5353

# Something holds 127.0.0.1:53 in the namespace: a fakeup that answers
# nothing useful and logs whatever it gets.
printf 'match * *\n  rcode REFUSED\nend\n' >"$TEST_TMP/any.rules"
run_bg "$TEST_TMP/fakeup53.err" "$IP" netns exec "$NS" "$FAKEUP_BIN" \
    -a 127.0.0.1 -p 53 -r "$TEST_TMP/any.rules" -l "$TEST_TMP/fakeup53.log"
fu_pid=$BG_PID
wait_for_grep "$TEST_TMP/fakeup53.err" '^ready$' 5 ||
    bail "fakeup on 127.0.0.1:53 in the netns: $(cat "$TEST_TMP/fakeup53.err")"

log1=$TEST_TMP/proxy1.log
start_default "$log1"
check_match "53 taken: says port 53 is taken and 5353 is used" \
    'cannot listen on port 53 .*using port 5353' "$(cat "$log1")"
check_match "53 taken: listening on 127.0.0.1@5353" \
    '^listening on 127\.0\.0\.1@5353$' "$(cat "$log1")"
check_nomatch "53 taken: not listening on port 53" '^listening on .*@53$' \
    "$(cat "$log1")"
check_ipv4only "53 taken, 127.0.0.1@5353" 127.0.0.1 5353
if [ $ns_v6 = 1 ]; then
	check_match "53 taken: listening on ::1@5353" '^listening on ::1@5353$' \
	    "$(cat "$log1")"
	check_ipv4only "53 taken, ::1@5353" ::1 5353
else
	skip_check "53 taken: ::1@5353" "no ::1 in the namespace"
fi
wait_for_grep "$log1" '^127\.0\.0\.1@[0-9]+ ipv4only\.arpa\. AAAA ' 3 || true
check_match "53 taken: answered locally (log outcome 'local', no upstream)" \
    '^127\.0\.0\.1@[0-9]+ ipv4only\.arpa\. AAAA local NOERROR$' "$(cat "$log1")"
check_eq "53 taken: nothing was forwarded to port 53" "" \
    "$(cat "$TEST_TMP/fakeup53.log")"
rc=0
stop_pid "$DP_PID" || rc=$?
check_eq "53 taken: the proxy exits 0 on TERM" 0 "$rc"
stop_pid "$fu_pid"

# ------------------------------------------------ port 53 free: 53

log2=$TEST_TMP/proxy2.log
start_default "$log2"
check_nomatch "53 free: no fallback to 5353" '5353' "$(cat "$log2")"
check_match "53 free: listening on 127.0.0.1@53" \
    '^listening on 127\.0\.0\.1@53$' "$(cat "$log2")"
socks=$(in_ns ss -Hlnu; in_ns ss -Hlnt)
check_match "53 free: UDP and TCP bound on 127.0.0.1:53" '127\.0\.0\.1:53 ' \
    "$socks"
check_eq "53 free: 127.0.0.1:53 bound twice (UDP and TCP)" 2 \
    "$(printf '%s\n' "$socks" | grep -c '127\.0\.0\.1:53 ')"
check_ipv4only "53 free, 127.0.0.1@53" 127.0.0.1 53
if [ $ns_v6 = 1 ]; then
	check_match "53 free: listening on ::1@53" '^listening on ::1@53$' \
	    "$(cat "$log2")"
	check_eq "53 free: [::1]:53 bound twice (UDP and TCP)" 2 \
	    "$(printf '%s\n' "$socks" | grep -c '\[::1\]:53 ')"
	check_ipv4only "53 free, ::1@53" ::1 53
else
	skip_check "53 free: ::1@53" "no ::1 in the namespace"
fi
rc=0
stop_pid "$DP_PID" || rc=$?
check_eq "53 free: the proxy exits 0 on TERM" 0 "$rc"

finish
