#!/bin/bash
#
# tcp-fairness.sh - no client may hold every TCP connection (RFC 7766
# 6.2.2).  "tcp-clients-per-address N": one address, an IPv6 client's
# whole /64, holds at most N connections at once; the next one is closed
# at once without an answer (logged at -v, counted as rejected) while other
# addresses are served.  "tcp-clients": at the cap, the connection idle
# longest (no query in flight, a message stalled halfway included) is
# closed to make room for a newcomer; a connection with a query in flight
# never is, and the newcomer is closed instead when all are busy.
#
# Clients: tests/integration/tcphold.py (python3) holds connections, from a
# given 127.x source address; tests/dnsq -t -b queries from one.  The /64
# part needs IPv6 addresses other than ::1, which loopback does not have:
# it runs the proxy in a network namespace of its own (root, unshare,
# nsenter, ip), whose lo gets fd64:1::2 and fd64:1::3 (one /64) and
# fd64:2::2 (another), and is skipped (one check) without them.
#
# The global cap is per worker and the kernel spreads connections over the
# workers' sockets (SO_REUSEPORT), so that part pins "workers 1".

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
need_python
LOCALQ=ipv4only.arpa/A		# answered by the proxy itself

# stat_of NAME LINE: the number after NAME in a "stats:" line.
stat_of() {
	printf '%s\n' "$2" | sed -n "s/.*[:,;0-9] $1 \([0-9][0-9]*\).*/\1/p"
}

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
# A query that stays in flight.
match * TXT
  drop
end
EOF
start_fakeup "$rules"

# ====================================================================
# tcp-clients-per-address 2, over IPv4.
# ====================================================================

cat >"$TEST_TMP/per.conf" <<EOF
forwarder 127.0.0.1 port $FAKEUP_PORT
tcp-clients-per-address 2
tcp-idle-timeout 60
EOF
start_proxy -v -f "$TEST_TMP/per.conf"

# Three connections from 127.0.0.2, each opened once the one before had
# its answer (or was closed).
hold per2 -b 127.0.0.2 -n 3 -m confirm -q "$LOCALQ"
wait_for_grep "$TEST_TMP/per2.out" '^opened ' 10 ||
    note "holder: $(held per2)"
check_eq "per-address 2: 127.0.0.2's first two connections answered" \
    "answered 0 0
answered 1 0" "$(held per2 | grep '^answered ')"
check_match "per-address 2: 127.0.0.2's third connection closed (RFC 7766 6.2.2)" \
    '^closed 2$' "$(held per2)"
check_nomatch "per-address 2: ... at once, without an answer (not left waiting)" \
    '^(answered|unanswered) 2( |$)' "$(held per2)"
check_nomatch "per-address 2: the two held connections stay open" \
    '^closed [01]$' "$(held per2)"
check_eq "per-address 2: the refusal is logged at -v, once" 1 \
    "$(count_matches "$PROXY_LOG" '^127\.0\.0\.2@[0-9]+: tcp connection refused, 2 from this client$')"

out=$(dq -t -b 127.0.0.3 "$LOCALQ")
check_eq "per-address 2: 127.0.0.3 is served meanwhile" "NOERROR 2" \
    "$(dq_field rcode "$out") $(dq_field an "$out")"
out=$(dq -t -b 127.0.0.2 "$LOCALQ")
check_match "per-address 2: another connection from 127.0.0.2 is closed" \
    '^closed$' "$out"
check_eq "per-address 2: ... without an answer" 0 "$(dq_count "$out")"

line=$(proxy_stats_line)
check_eq "per-address 2: 2 connections counted as rejected" 2 \
    "$(stat_of rejected "$line")"

# Once the holder lets go, 127.0.0.2 is served again.
stop_pid "$HOLD_PID"
rc=
for _ in $(seq 1 20); do
	out=$(dq -t -b 127.0.0.2 "$LOCALQ")
	rc=$(dq_field rcode "$out")
	[ "$rc" = NOERROR ] && break
	sleep 0.1
done
check_eq "per-address 2: 127.0.0.2 served again once its connections closed" \
    NOERROR "$rc"

# ====================================================================
# IPv6: the limit is per /64.
# ====================================================================

ns_ok=1
[ "$(id -u)" = 0 ] || ns_ok=0
for t in unshare nsenter ip; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 || ns_ok=0
done
have_ipv6 || ns_ok=0
if [ $ns_ok = 1 ] &&
    ! unshare -n sh -c 'ip link set lo up && ip -6 addr add fd64:1::2/128 dev lo nodad' \
    >/dev/null 2>&1; then
	ns_ok=0
fi
if [ $ns_ok = 0 ]; then
	skip_check "per-address 2 over IPv6: counted per /64" \
	    "needs root, unshare, nsenter, ip and IPv6 for a network namespace"
else
	# The proxy, in a network namespace whose lo has the addresses.
	cat >"$TEST_TMP/netns-proxy" <<EOF
#!/bin/bash
if [ -z "\${IN_NETNS:-}" ]; then
	IN_NETNS=1 exec unshare -n -- "\$0" "\$@"
fi
ip link set lo up || exit 1
for a in fd64:1::2 fd64:1::3 fd64:2::2; do
	ip -6 addr add "\$a/128" dev lo nodad || exit 1
done
exec "$PROXY_BIN" "\$@"
EOF
	chmod +x "$TEST_TMP/netns-proxy"
	real_bin=$PROXY_BIN
	PROXY_BIN=$TEST_TMP/netns-proxy
	start_proxy -v -f "$TEST_TMP/per.conf"
	PROXY_BIN=$real_bin
	HOLD_NS=$PROXY_PID HOLD_SERVER=::1 hold per6 -b fd64:1::2 -n 2 -m confirm \
	    -q "$LOCALQ"
	wait_for_grep "$TEST_TMP/per6.out" '^opened ' 10 ||
	    note "holder: $(held per6)"
	check_eq "IPv6: fd64:1::2 holds two connections, both answered" \
	    "answered 0 0
answered 1 0" "$(held per6 | grep '^answered ')"
	out=$(nsenter -t "$PROXY_PID" -n "$DNSQ_BIN" -s ::1 -p "$PROXY_PORT" \
	    -b fd64:1::3 -t "$LOCALQ")
	check_match "IPv6: fd64:1::3, same /64, is closed without an answer" \
	    '^closed$' "$out"
	check_eq "IPv6: fd64:1::3: no answer" 0 "$(dq_count "$out")"
	check_eq "IPv6: the refusal of fd64:1::3 is logged" 1 \
	    "$(count_matches "$PROXY_LOG" '^fd64:1::3@[0-9]+: tcp connection refused, 2 from this client$')"
	out=$(nsenter -t "$PROXY_PID" -n "$DNSQ_BIN" -s ::1 -p "$PROXY_PORT" \
	    -b fd64:2::2 -t "$LOCALQ")
	check_eq "IPv6: fd64:2::2, another /64, is served" "NOERROR 2" \
	    "$(dq_field rcode "$out") $(dq_field an "$out")"
	stop_pid "$HOLD_PID"
	stop_proxy
fi

# ====================================================================
# tcp-clients 4: the connection idle longest makes room; busy ones never.
# ====================================================================

cat >"$TEST_TMP/cap.conf" <<EOF
forwarder 127.0.0.1 port $FAKEUP_PORT
workers 1
tcp-clients 4
tcp-clients-per-address 10
tcp-idle-timeout 60
upstream-timeout 60000
EOF
start_proxy -v -f "$TEST_TMP/cap.conf"

# inflight N: wait until fakeup has seen N TXT queries.
inflight() {
	for _ in $(seq 1 100); do
		[ "$(fakeup_count ' qtype=TXT ')" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# Oldest first: idle (answered, then nothing), stalled (half a message),
# then two with a query in flight (fakeup never answers; the proxy keeps
# trying for upstream-timeout, 60 s).
hold idle -b 127.0.0.2 -n 1 -m confirm -q "$LOCALQ"
IDLE_PID=$HOLD_PID
wait_for_grep "$TEST_TMP/idle.out" '^opened ' 10
hold stalled -b 127.0.0.6 -n 1 -m stalled
STALLED_PID=$HOLD_PID
wait_for_grep "$TEST_TMP/stalled.out" '^opened ' 10
n0=$(fakeup_count ' qtype=TXT ')
hold busy -b 127.0.0.3 -n 2 -m query -q "busy#.f.test/TXT"
BUSY_PID=$HOLD_PID
inflight $((n0 + 2)) || note "busy queries not seen upstream"

# Four open: a newcomer (which then stays, idle) takes the place of the
# connection idle longest.
hold new -b 127.0.0.4 -n 1 -m confirm -q "$LOCALQ"
NEW_PID=$HOLD_PID
wait_for_grep "$TEST_TMP/new.out" '^opened ' 10
check_eq "tcp-clients 4, all open: a newcomer is served" "answered 0 0" \
    "$(held new | grep '^answered ')"
check_true "tcp-clients 4: the connection idle longest was closed for it" \
    wait_for_grep "$TEST_TMP/idle.out" '^closed 0$' 2
check_nomatch "tcp-clients 4: the stalled one is still open" '^closed' \
    "$(held stalled)"
# Next in line: the stalled one (half a message is no query in flight).
out=$(dq -t -b 127.0.0.4 "$LOCALQ")
check_eq "tcp-clients 4: a second newcomer is served" "NOERROR 2" \
    "$(dq_field rcode "$out") $(dq_field an "$out")"
check_true "tcp-clients 4: ... in place of the stalled connection" \
    wait_for_grep "$TEST_TMP/stalled.out" '^closed 0$' 2
check_nomatch "tcp-clients 4: the first newcomer, idle since, is still open" \
    '^closed' "$(held new)"

# Two more with a query in flight: the second one takes the idle
# newcomer's place.  Then every connection has a query in flight: none is
# closed, a newcomer is.
n0=$(fakeup_count ' qtype=TXT ')
hold busy2 -b 127.0.0.5 -n 2 -m query -q "busy2-#.f.test/TXT"
BUSY2_PID=$HOLD_PID
inflight $((n0 + 2)) || note "busy2 queries not seen upstream"
check_true "tcp-clients 4: the idle newcomer made room for a busy connection" \
    wait_for_grep "$TEST_TMP/new.out" '^closed 0$' 2
out=$(dq -t -T 3000 -b 127.0.0.4 "$LOCALQ")
check_match "tcp-clients 4, every connection busy: the newcomer is closed" \
    '^closed$' "$out"
check_eq "tcp-clients 4, every connection busy: ... without an answer" 0 \
    "$(dq_count "$out")"
check_eq "tcp-clients 4: the newcomer's refusal is logged at -v" 1 \
    "$(count_matches "$PROXY_LOG" '^127\.0\.0\.4@[0-9]+: tcp connection refused, 4 connections open$')"
for h in busy busy2; do
	check_nomatch "tcp-clients 4: $h's connections (queries in flight) never closed" \
	    '^closed' "$(held "$h")"
done
check_eq "tcp-clients 4: the three closings logged at -v" 3 \
    "$(count_matches "$PROXY_LOG" '^127\.0\.0\.[246]@[0-9]+: tcp connection closed to make room, 4 open$')"
line=$(proxy_stats_line)
check_eq "tcp-clients 4: counted: 3 closed at the cap, 1 rejected" "3 1" \
    "$(stat_of 'closed at the cap' "$line") $(stat_of rejected "$line")"
for p in "$IDLE_PID" "$STALLED_PID" "$NEW_PID" "$BUSY_PID" "$BUSY2_PID"; do
	stop_pid "$p"
done

finish
