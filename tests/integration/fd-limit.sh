#!/bin/bash
#
# fd-limit.sh - the proxy out of file descriptors.  It runs with a limit of
# FDS (64) descriptors, soft and hard (bash "ulimit -n" in a wrapper that
# then execs it, so the proxy cannot raise it), and its descriptors are
# used up twice:
#
#  1. by a burst of UDP queries to a forwarder that never answers (each
#     try holds an upstream socket until upstream-timeout);
#  2. by idle TCP connections, opened one by one (each answered) until the
#     proxy takes no more (tests/integration/tcphold.py -m confirm -x).
#
# Both times a new TCP client must get its answer, or at least a clean
# close, rather than wait in the listen backlog until it times out; the
# burst's queries all get an answer (SERVFAIL after the timeout); once the
# load is gone, TCP clients are served again.  Throughout, no error line
# is logged over and over: identical errors of the workers are summed up,
# "N more like this in 10 s: ..." (src/log.c).  The log is checked by
# counting its lines.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
need_python
FDS=64
LOCALQ=ipv4only.arpa/A		# answered by the proxy itself
BURST=300

# fds: the number of descriptors below $FDS the proxy has open (one
# inherited from the test's environment may lie above).
fds() {
	find "/proc/$PROXY_PID/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' \
	    2>/dev/null | awk -v max="$FDS" '$1 < max { n++ } END { print n + 0 }'
}

# wait_fds N: wait (5 s) until the proxy has at least N descriptors open.
wait_fds() {
	for _ in $(seq 1 100); do
		[ "$(fds)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# served_or_closed OUT: dnsq -t got a reply, or saw the connection closed;
# not merely a timeout.
# shellcheck disable=SC2317  # called through check_true
served_or_closed() {
	printf '%s\n' "$1" | grep -Eq '^(id=|closed$)'
}

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
match fresh.f.test. A
  answer fresh.f.test. 60 IN A 192.0.2.1
end
# The burst: never answered.
match * TXT
  drop
end
match * NS
  delay 2500
end
EOF
start_fakeup "$rules"

cat >"$TEST_TMP/fd.conf" <<EOF
forwarder 127.0.0.1 port $FAKEUP_PORT
upstream-timeout 4000
tcp-clients 1000
tcp-clients-per-address 1000
tcp-idle-timeout 60
EOF
cat >"$TEST_TMP/ulimit-proxy" <<EOF
#!/bin/bash
ulimit -n $FDS || exit 1
exec "$PROXY_BIN" "\$@"
EOF
chmod +x "$TEST_TMP/ulimit-proxy"
real_bin=$PROXY_BIN
PROXY_BIN=$TEST_TMP/ulimit-proxy
start_proxy -f "$TEST_TMP/fd.conf"
PROXY_BIN=$real_bin
check_eq "the proxy runs with a limit of $FDS descriptors" "$FDS" \
    "$(awk '/^Max open files/ { print $4 }' "/proc/$PROXY_PID/limits")"

# ====================================================================
# 1. A burst of queries to a forwarder that never answers.
# ====================================================================

qs=()
for i in $(seq 1 $BURST); do
	qs+=("b$i.f.test/TXT")
done
run_bg "$TEST_TMP/burst.out" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
    -d 2 -T 12000 "${qs[@]}"
BURST_PID=$BG_PID
wait_fds $((FDS - 1))
check_range "burst: the proxy's descriptors are used up" $((FDS - 1)) $FDS \
    "$(fds)"
# The spare descriptor serves each of these clients in turn: it is taken
# again as soon as the connection before closes.
for i in 1 2 3; do
	out=$(dq -t -T 3000 -b 127.0.0.3 "$LOCALQ")
	check_eq "burst, out of descriptors: TCP client $i is answered" \
	    "NOERROR 2" "$(dq_field rcode "$out") $(dq_field an "$out")"
done
out=$(dq -t -T 3000 -b 127.0.0.3 fresh.f.test/A)
check_eq "burst, out of descriptors: a TCP query that needs the forwarder is answered" \
    "NOERROR fresh.f.test. 60 A 192.0.2.1" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"
wait "$BURST_PID"
out=$(cat "$TEST_TMP/burst.out")
check_eq "burst: every query answered" $BURST "$(dq_count "$out")"
check_eq "burst: ... with SERVFAIL (the forwarder never answered)" $BURST \
    "$(printf '%s\n' "$out" | grep -c '^id=.* rcode=SERVFAIL ')"
out=$(dq -t -T 3000 -b 127.0.0.3 "$LOCALQ")
check_eq "after the burst: a TCP client is answered" "NOERROR 2" \
    "$(dq_field rcode "$out") $(dq_field an "$out")"

# ====================================================================
# 2. Idle TCP connections take every descriptor.
# ====================================================================

hold idle -b 127.0.0.2 -n 200 -m confirm -x -T 1500 -q "$LOCALQ"
IDLE_PID=$HOLD_PID
wait_for_grep "$TEST_TMP/idle.out" '^opened ' 60 ||
    note "holder: $(tail -n 3 "$TEST_TMP/idle.out")"
note "idle connections held: $(held idle | grep -c '^answered ')"
check_range "idle connections: the proxy's descriptors are used up" \
    $((FDS - 1)) $FDS "$(fds)"
# Out of descriptors, the proxy closes the connection idle longest to take
# a new one (RFC 7766 6.2.2), so it may answer all of them in turn.
check_ge "idle connections: the proxy took at least $((FDS / 2)) of them" \
    $((FDS / 2)) "$(held idle | grep -c '^answered ')"
out=$(dq -t -T 3000 -b 127.0.0.3 "$LOCALQ")
check_true "idle connections hold every descriptor: a new TCP client is answered or closed, not left waiting" \
    served_or_closed "$out"
stop_pid "$IDLE_PID"
rc=
for _ in $(seq 1 30); do
	out=$(dq -t -T 1000 -b 127.0.0.3 "$LOCALQ")
	rc=$(dq_field rcode "$out")
	[ "$rc" = NOERROR ] && break
	sleep 0.1
done
check_eq "idle connections gone: a TCP client is answered again" NOERROR "$rc"

# ====================================================================
# 3. A slow forwarder (2.5 s) under a steady stream for 5 s: the
# descriptors run out, so queries share the upstream sockets there are,
# old ones included (they keep taking queries past their 2 s), and every
# query is answered, none SERVFAIL.
# ====================================================================

SLOW=500
slow_names=()
for i in $(seq 1 "$SLOW"); do
	slow_names+=("slow$i.f.test/NS")
done
run_bg "$TEST_TMP/slow.out" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
    -b 127.0.0.4 -r 100 -n "$SLOW" -R 0 -T 8000 "${slow_names[@]}"
SLOW_PID=$BG_PID
wait_fds $((FDS - 1))
check_range "slow forwarder: the proxy's descriptors are used up" \
    $((FDS - 1)) $FDS "$(fds)"
wait "$SLOW_PID"
out=$(cat "$TEST_TMP/slow.out")
check_eq "slow forwarder, out of descriptors: every query answered" "$SLOW" \
    "$(printf '%s\n' "$out" | grep -c '^seq=[0-9]* try=1 id=')"
check_eq "slow forwarder: every answer NOERROR (the forwarder's), no SERVFAIL" \
    "$SLOW" "$(printf '%s\n' "$out" | grep -c ' rcode=NOERROR ')"

# ====================================================================
# 4. The log: no error line over and over.
# ====================================================================

stop_proxy
top=$(grep -v '^stats: ' "$PROXY_LOG" | sort | uniq -c | sort -rn | head -n 1)
note "most repeated log line: $top"
while IFS= read -r line; do
	note "log: $line"
done < <(grep -E 'more like this' "$PROXY_LOG")
check_range "the log repeats no line more than 3 times (errors are summed up)" \
    1 3 "$(printf '%s\n' "$top" | awk '{ print $1 }')"
check_nomatch "summaries of repeated errors say how many and over what interval" \
    'more like this' \
    "$(grep 'more like this' "$PROXY_LOG" | grep -Ev '^[0-9]+ more like this( in 10 s)?: .+$')"

finish
