#!/bin/bash
#
# logging.sh - the per-query log: none without -v; with -v exactly one line
# per query, "<client addr@port> <qname> <TYPE> <outcome> <RCODE>[ upstream
# <addr@port>[/tcp]]", for each outcome; with -vv also the packet dumps.
# dig -b 127.0.0.1#PORT fixes the client's source port, so each line can be
# matched exactly.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

PFX=2001:db8:64::/96

# qp PORT ARGS...: query the proxy from 127.0.0.1 source port PORT.
qp() {
	local port=$1
	shift
	q -b "127.0.0.1#$port" "$@"
}

# cport: a free client source port (not one used before in this test).
_used_ports=" "
cport() {
	local p n
	for n in $(seq 1 20); do
		p=$(random_port) || bail "no free port"
		case $_used_ports in
		*" $p "*)	continue ;;
		esac
		_used_ports="$_used_ports$p "
		echo "$p"
		return 0
	done
	bail "no unused client port"
}

# lines_of PORT: the proxy's log lines for client port PORT.
lines_of() {
	grep -E "^127\\.0\\.0\\.1@$1 " "$PROXY_LOG"
}

# one_line DESC PORT EXPECTED: exactly one log line for PORT, equal to
# EXPECTED.  The line is written when the query is freed, just after the
# reply is sent, so wait for it.
one_line() {
	wait_for_grep "$PROXY_LOG" "^127\\.0\\.0\\.1@$2 " 3 || true
	check_eq "$1" "$3" "$(lines_of "$2")"
}

start_unbound
UP="127.0.0.1@$UNBOUND_PORT"

# run_queries: one query per outcome; sets P_SYN P_PASS P_LOCAL P_BADVERS
# P_FORMERR P_TCP P_SF (the client ports used).
run_queries() {
	P_SYN=$(cport)
	qp "$P_SYN" a-only.t.example AAAA >/dev/null
	P_PASS=$(cport)
	qp "$P_PASS" a-only.t.example A >/dev/null
	P_LOCAL=$(cport)
	qp "$P_LOCAL" ipv4only.arpa A >/dev/null
	P_BADVERS=$(cport)
	qp "$P_BADVERS" +edns=1 +noednsnegotiation a-only.t.example A >/dev/null
	P_FORMERR=$(cport)
	qp "$P_FORMERR" +header-only >/dev/null
	P_TCP=$(cport)
	qp "$P_TCP" +tcp both.t.example AAAA >/dev/null
	P_SF=$(cport)
	qp "$P_SF" example.com A >/dev/null
}

# ---------------------------------------------------------------- no -v

start_proxy -f /dev/null -u "$UP" -p "$PFX"
run_queries
out=$(qp "$(cport)" a-only.t.example AAAA)
check_eq "no -v: the proxy answers" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"
stop_proxy
check_eq "no -v: no per-query lines" "" \
    "$(grep -E '^127\.0\.0\.1@[0-9]+ |(passed|synthesized|local|error) [A-Z]' \
    "$PROXY_LOG")"
check_nomatch "no -v: no packet dumps" '->>HEADER<<-' "$(cat "$PROXY_LOG")"
check_match "no -v: the startup line is there (the log was written)" \
    ' ready$' "$(cat "$PROXY_LOG")"

# ---------------------------------------------------------------- -v

start_proxy -v -f /dev/null -u "$UP" -p "$PFX"
run_queries
one_line "-v synthesized: one line" "$P_SYN" \
    "127.0.0.1@$P_SYN a-only.t.example. AAAA synthesized NOERROR upstream $UP"
one_line "-v passed: one line" "$P_PASS" \
    "127.0.0.1@$P_PASS a-only.t.example. A passed NOERROR upstream $UP"
one_line "-v local (ipv4only.arpa, no upstream): one line" "$P_LOCAL" \
    "127.0.0.1@$P_LOCAL ipv4only.arpa. A local NOERROR"
one_line "-v error (BADVERS, not forwarded): one line" "$P_BADVERS" \
    "127.0.0.1@$P_BADVERS a-only.t.example. A error BADVERS"
one_line "-v error (FORMERR, no question): one line" "$P_FORMERR" \
    "127.0.0.1@$P_FORMERR - - error FORMERR"
one_line "-v TCP client: one line" "$P_TCP" \
    "127.0.0.1@$P_TCP both.t.example. AAAA passed NOERROR upstream $UP"
one_line "-v upstream SERVFAIL passed: one line" "$P_SF" \
    "127.0.0.1@$P_SF example.com. A passed SERVFAIL upstream $UP"
# Every query-line has the documented shape (and nothing else does).
n_lines=$(grep -cE '^(127\.0\.0\.1|::1)@[0-9]+ ' "$PROXY_LOG")
check_eq "-v: 7 queries, 7 lines" 7 "$n_lines"
check_eq "-v: every line has the documented format" 7 \
    "$(grep -cE '^(127\.0\.0\.1|::1)@[0-9]+ ([^ ]+\.|-) ([A-Z0-9]+|-) (passed|synthesized|mapped|local|error) [A-Z0-9]+( upstream (127\.0\.0\.1|::1)@[0-9]+(/tcp)?)?$' \
    "$PROXY_LOG")"
check_nomatch "-v: no packet dumps" '->>HEADER<<-' "$(cat "$PROXY_LOG")"
if have_ipv6; then
	p=$(cport)
	q @::1 -b "::1#$p" a-only.t.example AAAA >/dev/null
	wait_for_grep "$PROXY_LOG" "^::1@$p " 3 || true
	check_eq "-v IPv6 client: one line, ::1@port" \
	    "::1@$p a-only.t.example. AAAA synthesized NOERROR upstream $UP" \
	    "$(grep -E "^::1@$p " "$PROXY_LOG")"
else
	skip_check "-v IPv6 client" "no IPv6"
fi
stop_proxy

# -v with an upstream that truncates over UDP: the line says "/tcp".
fakeup_tc tc.f.test. 192.0.2.20 >"$TEST_TMP/tc.rules"
start_fakeup "$TEST_TMP/tc.rules"
start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -p "$PFX"
p=$(cport)
qp "$p" tc.f.test A >/dev/null
one_line "-v upstream over TCP after TC=1: '/tcp'" "$p" \
    "127.0.0.1@$p tc.f.test. A passed NOERROR upstream 127.0.0.1@$FAKEUP_PORT/tcp"
check_eq "-v upstream over TCP: fakeup saw UDP then TCP" "udp tcp" \
    "$(grep 'qname=tc\.f\.test\.' "$FAKEUP_LOG" | cut -d' ' -f1 | tr '\n' ' ' |
    sed 's/ $//')"
stop_proxy
stop_fakeup

# ---------------------------------------------------------------- -vv

start_proxy -vv -f /dev/null -u "$UP" -p "$PFX"
P_SYN=$(cport)
qp "$P_SYN" a-only.t.example AAAA >/dev/null
one_line "-vv: the -v line too" "$P_SYN" \
    "127.0.0.1@$P_SYN a-only.t.example. AAAA synthesized NOERROR upstream $UP"
log=$(cat "$PROXY_LOG")
# after_line HEADER: the line that follows the line HEADER.
after_line() {
	printf '%s\n' "$log" | grep -A1 -xF "$1" | sed -n 2p
}
check_match "-vv: the client's query dumped" '^;; ->>HEADER<<- opcode: QUERY' \
    "$(after_line "query from 127.0.0.1@$P_SYN:")"
check_match "-vv: the reply dumped" '^;; ->>HEADER<<- opcode: QUERY, rcode: NOERROR' \
    "$(after_line "reply to 127.0.0.1@$P_SYN:")"
check_eq "-vv: both upstream replies dumped (AAAA and A leg)" 2 \
    "$(printf '%s\n' "$log" | grep -cxF "upstream reply for 127.0.0.1@$P_SYN:")"
check_match "-vv: the reply dump has the synthesized AAAA" \
    '^a-only\.t\.example\.[[:space:]]+300[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+2001:db8:64::c000:221$' \
    "$(printf '%s\n' "$log" | sed -n "/^reply to 127\\.0\\.0\\.1@$P_SYN:\$/,/^127\\.0\\.0\\.1@$P_SYN /p")"
stop_proxy

# -vv: what happens upstream is logged with the client it is for.  A
# forwarder port with nobody on it answers with ICMP port unreachable.
DEAD=$(dead_port) || bail "no dead port"
start_proxy -vv -f /dev/null -u "127.0.0.1@$DEAD" -p "$PFX"
P_DEAD=$(cport)
qp "$P_DEAD" +tries=1 +time=5 a-only.t.example A >/dev/null
one_line "-vv, dead forwarder: the -v line" "$P_DEAD" \
    "127.0.0.1@$P_DEAD a-only.t.example. A error SERVFAIL upstream 127.0.0.1@$DEAD"
check_eq "-vv, dead forwarder: each failed try names the client (2 tries)" 2 \
    "$(grep -cxF "127.0.0.1@$P_DEAD: upstream 127.0.0.1@$DEAD: Connection refused" "$PROXY_LOG")"
stop_proxy

finish
