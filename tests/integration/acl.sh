#!/bin/bash
#
# acl.sh - who may query ("allow", "deny": the query ACL) and who gets
# DNS64 ("dns64-clients", "dns64-ipv6-only": the DNS64 ACL, RFC 6147 6.3 /
# 6147-26 in the checklist).  Different clients are different 127.x source
# addresses (dig -b) and ::1.
#
# README "Who may query": longest prefix wins, whatever the order; an entry
# for the same prefix replaces an earlier one (and the default, which allows
# loopback).  Refused clients get REFUSED over UDP and TCP.  "Who gets
# DNS64": clients outside dns64-clients get plain answers with no
# synthesis; dns64-ipv6-only synthesizes only for queries over IPv6.
#
# The DNS64 ACL part runs against tests/fakeup, to count the A legs.
# Malformed queries from a given source address are sent by tests/dnsq -b.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig ss
need_dnsq

NSP=2001:db8:64::/96
A33="a-only.t.example. 300 A 192.0.2.33"
SYN33="a-only.t.example. 300 AAAA 2001:db8:64::c000:221"

# answered_by SRC: "STATUS ANSWER" of "A a-only.t.example" from source SRC
# over UDP ($2 = +tcp for TCP).
answered_by() {
	local out
	out=$(q -b "$1" ${2:+"$2"} a-only.t.example A)
	echo "$(status_of "$out") $(answer_rrs "$out")"
}

# The malformed query: a header that claims one question (ID 0x4242, RD)
# followed by an unterminated name ("abc", then a label of 5 with 2 bytes).
BAD_QUERY=42420100000100000000000003616263056465

# bad_from SRC: the reply's RCODE to the malformed query sent from source
# address SRC, "none" if there was none within 1 s (else dnsq's output).
bad_from() {
	local out
	out=$(dq -b "$1" -T 1000 "raw:$BAD_QUERY" 2>&1)
	if [ "$out" = "timeout id=16962" ]; then
		echo none
	elif [ "$(dq_count "$out")" = 1 ] &&
	    [ -n "$(dq_field rcode "$out")" ]; then
		dq_field rcode "$out"
	else
		printf '%s\n' "$out"
	fi
}

start_unbound

# ====================================================================
# Query ACL.
# ====================================================================

# Default: all of 127.0.0.0/8 may query.
proxy_conf "$UNBOUND_PORT"
check_eq "default ACL: 127.0.0.3 answered (loopback allowed)" "NOERROR $A33" \
    "$(answered_by 127.0.0.3)"

proxy_conf "$UNBOUND_PORT" "deny 127.0.0.3/32"
check_eq "deny 127.0.0.3/32: 127.0.0.3 REFUSED over UDP" "REFUSED " \
    "$(answered_by 127.0.0.3)"
check_eq "deny 127.0.0.3/32: 127.0.0.3 REFUSED over TCP" "REFUSED " \
    "$(answered_by 127.0.0.3 +tcp)"
check_eq "deny 127.0.0.3/32: 127.0.0.2 answered" "NOERROR $A33" \
    "$(answered_by 127.0.0.2)"
check_eq "deny 127.0.0.3/32: 127.0.0.2 answered over TCP" "NOERROR $A33" \
    "$(answered_by 127.0.0.2 +tcp)"
out=$(q -b 127.0.0.3 a-only.t.example AAAA)
check_eq "deny 127.0.0.3/32: AAAA from 127.0.0.3 REFUSED too (no synthesis)" \
    "REFUSED 0" "$(status_of "$out") $(ancount_of "$out")"

# The ACL comes before any other check: a refused client learns nothing,
# not even NOTIMP or BADVERS (the allowed client gets those).
out=$(q -b 127.0.0.3 +opcode=status a-only.t.example A)
check_eq "deny 127.0.0.3/32: opcode STATUS from 127.0.0.3 -> REFUSED" \
    REFUSED "$(status_of "$out")"
out=$(q -b 127.0.0.2 +opcode=status a-only.t.example A)
check_eq "control: opcode STATUS from 127.0.0.2 -> NOTIMP" NOTIMP \
    "$(status_of "$out")"
out=$(q -b 127.0.0.3 +edns=1 +noednsneg a-only.t.example A)
check_eq "deny 127.0.0.3/32: EDNS version 1 from 127.0.0.3 -> REFUSED" \
    REFUSED "$(status_of "$out")"
out=$(q -b 127.0.0.2 +edns=1 +noednsneg a-only.t.example A)
check_eq "control: EDNS version 1 from 127.0.0.2 -> BADVERS" BADVERS \
    "$(status_of "$out")"

check_eq "malformed query from an allowed client: FORMERR (the packet is bad)" \
    FORMERR "$(bad_from 127.0.0.2)"
check_match "malformed query from the denied 127.0.0.3: REFUSED or nothing, never FORMERR" \
    '^(REFUSED|none)$' "$(bad_from 127.0.0.3)"

# TCP connection slots (tcp-clients 2) and refused clients: a client the
# query ACL refuses must not lock the allowed ones out by holding the
# slots.  When they are all taken and an allowed client connects, the
# proxy closes the oldest connection from a refused client to make room; a
# new connection from a refused client while allowed clients hold every
# slot is closed at once.
#
# A connection from 127.0.0.3 that stays open without a complete query:
# dnsq -S -d 1500 writes the 2-byte length at once and the message in 3
# pieces 1.5 s apart (complete after 4.5 s, well within the default
# 10 s idle timeout), then reads; "closed" if the proxy closed it first.
proxy_conf "$UNBOUND_PORT" "deny 127.0.0.3/32
tcp-clients 2"

# conns_at_least N: wait (2.5 s at most) until N TCP connections to the
# proxy are established.  The proxy accepts them in the order they were
# established, so waiting here orders them.
conns_at_least() {
	local i
	for i in $(seq 1 50); do
		[ "$(ss -Htn state established "( sport = :$PROXY_PORT )" |
		    wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

run_bg "$TEST_TMP/r1.out" dq -t -b 127.0.0.3 -S -d 1500 -T 3000 \
    a-only.t.example/A/id=301
r1=$BG_PID
conns_at_least 1 || bail "first refused connection not established"
run_bg "$TEST_TMP/r2.out" dq -t -b 127.0.0.3 -S -d 1500 -T 3000 \
    a-only.t.example/A/id=302
r2=$BG_PID
conns_at_least 2 || bail "second refused connection not established"
check_eq "tcp-clients 2, both slots held by refused 127.0.0.3: 127.0.0.2 answered over TCP" \
    "NOERROR $A33" "$(answered_by 127.0.0.2 +tcp)"
wait "$r1"
wait "$r2"
out=$(cat "$TEST_TMP/r1.out")
check_eq "... the oldest refused connection was closed to make room (no reply, closed)" \
    "0 closed" "$(dq_count "$out") $(grep -x closed <<<"$out")"
out=$(cat "$TEST_TMP/r2.out")
check_eq "... the other refused connection stays, its query gets REFUSED" \
    "302 REFUSED" "$(dq_field id "$out") $(dq_field rcode "$out")"
# Both slots held by allowed clients (idle bash connections from
# 127.0.0.1): a new connection from the refused 127.0.0.3 is closed at
# once, without an answer.
exec {h1}<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || bail "cannot connect to proxy"
exec {h2}<>"/dev/tcp/127.0.0.1/$PROXY_PORT" || bail "cannot connect to proxy"
conns_at_least 2 || bail "allowed connections not established"
# "closed" (the proxy closed it) rather than "timeout id=303" (dnsq gave up
# after 5 s, the connection still open, as it would be until the 10 s idle
# timeout).
out=$(dq -t -b 127.0.0.3 -T 5000 a-only.t.example/A/id=303)
check_eq "tcp-clients 2 held by allowed clients: refused 127.0.0.3 closed at once, no reply" \
    "0 closed" "$(dq_count "$out") $(grep -x closed <<<"$out")"
exec {h1}>&-
exec {h2}>&-
# The proxy saw the closes once its side of both is gone.
for _ in $(seq 1 100); do
	[ "$(ss -Htn state established state close-wait \
	    "( sport = :$PROXY_PORT )" | wc -l)" -eq 0 ] && break
	sleep 0.05
done
check_eq "tcp-clients 2, slots free again: 127.0.0.3 REFUSED over TCP" \
    "REFUSED " "$(answered_by 127.0.0.3 +tcp)"

# Longest prefix wins, whatever the order of the lines.
for order in deny-first allow-first; do
	if [ $order = deny-first ]; then
		acl="deny 127.0.0.0/8
allow 127.0.0.2/32"
	else
		acl="allow 127.0.0.2/32
deny 127.0.0.0/8"
	fi
	proxy_conf "$UNBOUND_PORT" "$acl"
	check_eq "$order: 127.0.0.2/32 allowed (longest match) over UDP" \
	    "NOERROR $A33" "$(answered_by 127.0.0.2)"
	check_eq "$order: 127.0.0.2/32 allowed over TCP" \
	    "NOERROR $A33" "$(answered_by 127.0.0.2 +tcp)"
	check_eq "$order: 127.0.0.4 REFUSED (deny 127.0.0.0/8 replaced the default allow)" \
	    "REFUSED " "$(answered_by 127.0.0.4)"
	check_eq "$order: 127.0.0.4 REFUSED over TCP" \
	    "REFUSED " "$(answered_by 127.0.0.4 +tcp)"
done

# The same prefix twice: the later line replaces the earlier.
proxy_conf "$UNBOUND_PORT" "deny 127.0.0.5/32
allow 127.0.0.5/32
allow 127.0.0.6/32
deny 127.0.0.6/32"
check_eq "deny then allow 127.0.0.5/32: allowed (later line wins)" \
    "NOERROR $A33" "$(answered_by 127.0.0.5)"
check_eq "allow then deny 127.0.0.6/32: REFUSED (later line wins)" \
    "REFUSED " "$(answered_by 127.0.0.6)"

# IPv6 clients.
if have_ipv6; then
	proxy_conf "$UNBOUND_PORT" "deny ::1/128"
	out=$(q @::1 a-only.t.example A)
	check_eq "deny ::1/128: ::1 REFUSED" REFUSED "$(status_of "$out")"
	out=$(q @::1 +tcp a-only.t.example A)
	check_eq "deny ::1/128: ::1 REFUSED over TCP" REFUSED \
	    "$(status_of "$out")"
	check_eq "deny ::1/128: 127.0.0.1 still answered" "NOERROR $A33" \
	    "$(answered_by 127.0.0.1)"
else
	skip_check "deny ::1/128" "no IPv6"
fi

stop_unbound

# ====================================================================
# DNS64 ACL (fakeup plays a-only: AAAA NODATA, A 192.0.2.33).
# ====================================================================

rules=$TEST_TMP/rules
fakeup_a_only a-only.t.example. 192.0.2.33 "aa ra" >"$rules"
start_fakeup "$rules"

proxy_conf "$FAKEUP_PORT" "prefix $NSP
dns64-clients { 127.0.0.2 }"
q_legs a-only.t.example AAAA -b 127.0.0.2
check_eq "dns64-clients { 127.0.0.2 }: 127.0.0.2 gets the synthesized AAAA" \
    "NOERROR $SYN33" "$(status_of "$out") $(answer_rrs "$out")"
check_eq "dns64-clients: 127.0.0.2 caused one A leg" 1 "$alegs"
q_legs a-only.t.example AAAA -b 127.0.0.3
check_eq "dns64-clients: 127.0.0.3 gets the plain NODATA (6147-26)" \
    "NOERROR 0 $SOA_NEG" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
check_eq "dns64-clients: no A leg for 127.0.0.3" 0 "$alegs"
check_true "dns64-clients: 127.0.0.3 logged as passed" wait_for_grep \
    "$PROXY_LOG" '^127\.0\.0\.3@[0-9]+ a-only\.t\.example\. AAAA passed NOERROR' 2

# A network with an exception, as in the README.
proxy_conf "$FAKEUP_PORT" "prefix $NSP
dns64-clients { 127.0.0.0/8 !127.0.0.3 }"
q_legs a-only.t.example AAAA -b 127.0.0.2
check_eq "dns64-clients { 127/8 !127.0.0.3 }: 127.0.0.2 synthesized" \
    "NOERROR $SYN33" "$(status_of "$out") $(answer_rrs "$out")"
q_legs a-only.t.example AAAA -b 127.0.0.3
check_eq "dns64-clients { 127/8 !127.0.0.3 }: 127.0.0.3 plain NODATA, no A leg" \
    "NOERROR 0 0" "$(status_of "$out") $(ancount_of "$out") $alegs"

if have_ipv6; then
	proxy_conf "$FAKEUP_PORT" "prefix $NSP
dns64-ipv6-only yes"
	q_legs a-only.t.example AAAA @::1
	check_eq "dns64-ipv6-only: over ::1 synthesized" "NOERROR $SYN33" \
	    "$(status_of "$out") $(answer_rrs "$out")"
	check_eq "dns64-ipv6-only: ::1 caused one A leg" 1 "$alegs"
	q_legs a-only.t.example AAAA @::1 +tcp
	check_eq "dns64-ipv6-only: over ::1/TCP synthesized" "NOERROR $SYN33" \
	    "$(status_of "$out") $(answer_rrs "$out")"
	q_legs a-only.t.example AAAA -b 127.0.0.1
	check_eq "dns64-ipv6-only: over 127.0.0.1 plain NODATA" \
	    "NOERROR 0 $SOA_NEG" \
	    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
	check_eq "dns64-ipv6-only: no A leg for 127.0.0.1" 0 "$alegs"

	# Without it, IPv4 clients get DNS64 (the control case).
	proxy_conf "$FAKEUP_PORT" "prefix $NSP"
	q_legs a-only.t.example AAAA -b 127.0.0.1
	check_eq "dns64-ipv6-only no (default): 127.0.0.1 synthesized" \
	    "NOERROR $SYN33" "$(status_of "$out") $(answer_rrs "$out")"
else
	skip_check "dns64-ipv6-only" "no IPv6"
fi

finish
