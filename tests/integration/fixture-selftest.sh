#!/bin/bash
#
# fixture-selftest.sh - check the integration-test fixture itself: the real
# unbound answers the fixture zones as the other tests assume (and cannot
# send a packet off loopback), and tests/fakeup behaves as specified.
# Talks to unbound and fakeup directly; the proxy is not involved.
#
# Needs dig, unbound (first half) and tests/dnsq (forged replies datagram
# by datagram, real TCP pipelining).  strace proves that unbound sends
# nothing off loopback (.ci/run installs it; that one check is skipped where
# strace is missing or cannot trace).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig
need_dnsq

# ====================================================================
# Part 1: unbound and the fixture zones
# ====================================================================

# Run unbound under strace when possible, to see every packet it sends.
use_strace=0
if [ "${FIXTURE_NO_STRACE:-0}" != 1 ] && command -v strace >/dev/null 2>&1 &&
    strace -f -qq -o /dev/null true >/dev/null 2>&1; then
	use_strace=1
	UNBOUND_WRAP="strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg \
-o $TEST_TMP/unbound.strace"
fi
start_unbound
UNBOUND_WRAP=

conf=$(cat "$UNBOUND_CONF")
check_match "conf: no IPv4 target may be queried" \
    '^[[:space:]]*do-not-query-address: 0\.0\.0\.0/0$' "$conf"
check_match "conf: no IPv6 target may be queried" \
    '^[[:space:]]*do-not-query-address: ::/0$' "$conf"
check_match "conf: outgoing interface is loopback" \
    '^[[:space:]]*outgoing-interface: 127\.0\.0\.1$' "$conf"
check_nomatch "conf: no forward/stub zones" '^(forward|stub)-zone:' "$conf"

out=$(q_unbound a-only.t.example A)
check_eq "A a-only: NOERROR" NOERROR "$(status_of "$out")"
check_eq "A a-only: answer" "a-only.t.example. 300 A 192.0.2.33" \
    "$(answer_rrs "$out")"
check_eq "A a-only: TTL" 300 "$(ttls_of "$out")"
check_true "A a-only: aa set" has_flag aa "$out"

# The negative answers' SOA (lib.sh's SOA_NEG), TTL 1200 = min(SOA TTL
# 3600, MINIMUM 1200).
out=$(q_unbound a-only.t.example AAAA)
check_eq "AAAA a-only (NODATA): NOERROR" NOERROR "$(status_of "$out")"
check_eq "AAAA a-only (NODATA): no answer" 0 "$(ancount_of "$out")"
check_eq "AAAA a-only (NODATA): SOA, TTL 1200 = min(3600, MINIMUM)" \
    "$SOA_NEG" "$(authority_rrs "$out")"

out=$(q_unbound nonexistent.t.example A)
check_eq "nonexistent: NXDOMAIN" NXDOMAIN "$(status_of "$out")"
check_eq "nonexistent: SOA TTL 1200" \
    "$SOA_NEG" "$(authority_rrs "$out")"

out=$(q_unbound a-multi.t.example A)
check_eq "A a-multi: both RRs with their own TTLs (not clamped)" \
    "a-multi.t.example. 300 A 192.0.2.1
a-multi.t.example. 900 A 192.0.2.2" "$(answer_rrs "$out" | sort)"

out=$(q_unbound aaaa-only.t.example AAAA)
check_eq "AAAA aaaa-only: explicit TTL 3600" \
    "aaaa-only.t.example. 3600 AAAA 2001:db8::1" "$(answer_rrs "$out")"

out=$(q_unbound mapped-mixed.t.example AAAA)
check_eq "AAAA mapped-mixed: both AAAA" \
    "mapped-mixed.t.example. 3600 AAAA 2001:db8::5
mapped-mixed.t.example. 3600 AAAA ::ffff:192.0.2.5" \
    "$(answer_rrs "$out" | sort)"

out=$(q_unbound cname-chain.t.example A)
check_eq "A cname-chain: chain followed in the zone" \
    "cname-chain.t.example. 3600 CNAME cname-a.t.example.
cname-a.t.example. 3600 CNAME a-only.t.example.
a-only.t.example. 300 A 192.0.2.33" "$(answer_rrs "$out")"

out=$(q_unbound cname-a.t.example AAAA)
check_eq "AAAA cname-a: NOERROR" NOERROR "$(status_of "$out")"
check_eq "AAAA cname-a: CNAME only" \
    "cname-a.t.example. 3600 CNAME a-only.t.example." "$(answer_rrs "$out")"

# Observed: unbound's auth-zone gives NOERROR, the CNAME and no SOA when the
# target does not exist or has no data (not RFC 2308 style).
out=$(q_unbound cname-nx.t.example A)
check_eq "A cname-nx: NOERROR (observed, not NXDOMAIN)" NOERROR \
    "$(status_of "$out")"
check_eq "A cname-nx: CNAME only" \
    "cname-nx.t.example. 3600 CNAME nonexistent.t.example." \
    "$(answer_rrs "$out")"
check_eq "A cname-nx: no SOA (empty authority)" "" "$(authority_rrs "$out")"
out=$(q_unbound cname-nodata.t.example AAAA)
check_eq "AAAA cname-nodata: NOERROR, CNAME only, no SOA" \
    "NOERROR cname-nodata.t.example. 3600 CNAME txt-only.t.example." \
    "$(status_of "$out") $(answer_rrs "$out")$(authority_rrs "$out")"

out=$(q_unbound txt-only.t.example A)
check_eq "A txt-only: NODATA with SOA" "NOERROR $SOA_NEG" \
    "$(status_of "$out") $(answer_rrs "$out")$(authority_rrs "$out")"

out=$(q_unbound ttl-1300.t.example A)
check_eq "A ttl-1300" "ttl-1300.t.example. 1300 A 203.0.113.2" \
    "$(answer_rrs "$out")"

out=$(q_unbound -x 192.0.2.33)
check_eq "PTR 33.2.0.192.in-addr.arpa" \
    "33.2.0.192.in-addr.arpa. 3600 PTR a-only.t.example." \
    "$(answer_rrs "$out")"
out=$(q_unbound 5.2.0.192.in-addr.arpa PTR)
check_eq "PTR 5.2.0.192.in-addr.arpa: NXDOMAIN from the auth-zone" \
    "NXDOMAIN 2.0.192.in-addr.arpa. 1200 SOA" \
    "$(status_of "$out") $(authority_rrs "$out" | cut -d' ' -f1-3)"

out=$(q_unbound +noedns +ignore big.t.example A)
check_true "big over UDP without EDNS: TC" has_flag tc "$out"
check_eq "big over UDP without EDNS: answer empty" "" "$(answer_rrs "$out")"
out=$(q_unbound +noedns +tcp big.t.example A)
check_false "big over TCP: no TC" has_flag tc "$out"
check_eq "big over TCP: 60 A RRs" 60 "$(answer_rrs "$out" | grep -c ' A 198\.51\.100\.')"
check_eq "big over TCP: RRs .1 to .60" \
    "$(seq 1 60 | sed 's/^/198.51.100./')" \
    "$(answer_rrs "$out" | awk '{ print $4 }' | sort -t. -k4,4n)"

if have_ipv6; then
	out=$(q_unbound @::1 a-only.t.example A)
	check_eq "unbound on ::1 answers" "a-only.t.example. 300 A 192.0.2.33" \
	    "$(answer_rrs "$out")"
	out=$(q_unbound @::1 +tcp a-only.t.example A)
	check_eq "unbound on ::1 answers over TCP" \
	    "a-only.t.example. 300 A 192.0.2.33" "$(answer_rrs "$out")"
else
	skip_check "unbound on ::1 answers" "no IPv6"
	skip_check "unbound on ::1 answers over TCP" "no IPv6"
fi

# Out-of-zone names: the iterator finds every target on the do-not-query
# list and fails at once.
for name in example.com. www.google.com. . ; do
	out=$(q_unbound "$name" A)
	check_match "out-of-zone $name: SERVFAIL or REFUSED" \
	    '^(SERVFAIL|REFUSED)$' "$(status_of "$out")"
done
if have_ipv6; then
	out=$(q_unbound @::1 example.net. AAAA)
	check_match "out-of-zone example.net. via ::1: SERVFAIL or REFUSED" \
	    '^(SERVFAIL|REFUSED)$' "$(status_of "$out")"
fi

stop_unbound
if [ $use_strace = 1 ]; then
	# Every address unbound sent to or connected to must be loopback.
	addrs=$(grep -oE 'inet_addr\("[^"]*"\)|inet_pton\(AF_INET6, "[^"]*"' \
	    "$TEST_TMP/unbound.strace" | sed -E 's/.*"([^"]*)".*/\1/' |
	    sort -u)
	check_match "strace: unbound sent replies to loopback" \
	    '^(127\.0\.0\.1|::1)$' "$addrs"
	check_nomatch "strace: unbound sent nothing off loopback" \
	    '^([^1:]|1[^2]|12[^7]|127[^.]|::[^1]|::1.|:[^:])' "$addrs"
else
	skip_check "strace: unbound sent nothing off loopback" \
	    "strace not usable"
fi

# ====================================================================
# Part 2: fakeup
# ====================================================================

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
# fixture-selftest rules; line numbers are asserted below (match=N)
match plain.f.test. A
  answer plain.f.test. 300 IN A 192.0.2.10
  answer plain.f.test. 300 IN A 192.0.2.11
  flags aa ra
end
match servfail.f.test. *
  rcode SERVFAIL
end
match tc.f.test. A
  transport udp
  flags tc ra
end
match tc.f.test. A
  transport tcp
  answer tc.f.test. 60 IN A 192.0.2.20
end
match slow.f.test. A
  delay 800
  answer slow.f.test. 60 IN A 192.0.2.30
end
match drop.f.test. A
  drop
end
match noopt.f.test. A
  noopt
  answer noopt.f.test. 60 IN A 192.0.2.40
end
match ede.f.test. A
  rcode SERVFAIL
  ede 6 selftest bogus
end
match fast.f.test. A
  answer fast.f.test. 60 IN A 192.0.2.50
  authority f.test. 60 IN NS ns.f.test.
  additional ns.f.test. 60 IN A 192.0.2.53
end
match forge-id.f.test. A
  forge id
  forge-answer forge-id.f.test. 60 IN A 198.18.0.1
  answer forge-id.f.test. 60 IN A 192.0.2.61
end
match forge-qname.f.test. A
  forge qname
  forge-answer forged.forge-qname.f.test. 60 IN A 198.18.0.2
  answer forge-qname.f.test. 60 IN A 192.0.2.62
end
match forge-qtype.f.test. A
  forge qtype
  forge-answer forge-qtype.f.test. 60 IN AAAA 2001:db8::666
  answer forge-qtype.f.test. 60 IN A 192.0.2.63
end
match forge-port.f.test. A
  forge port
  forge-answer forge-port.f.test. 60 IN A 198.18.0.4
  answer forge-port.f.test. 60 IN A 192.0.2.64
end
match * MX   # any name
  rcode NXDOMAIN
  flags
end
EOF
# Line numbers of the "match" lines above.
L_PLAIN=2 L_SERVFAIL=7 L_TC_UDP=10 L_TC_TCP=14 L_SLOW=18 L_DROP=22
L_NOOPT=25 L_EDE=29 L_FAST=33 L_ANY_MX=58
check_eq "rule file line numbers as assumed" \
    "$L_PLAIN $L_SERVFAIL $L_TC_UDP $L_TC_TCP $L_SLOW $L_DROP $L_NOOPT $L_EDE $L_FAST $L_ANY_MX" \
    "$(grep -n '^match' "$rules" | cut -d: -f1 | sed -n '1,9p;14p' | tr '\n' ' ' | sed 's/ $//')"

start_fakeup "$rules"

# Plain answer; the question's case is kept; DO and CD echoed; log line.
out=$(q_fakeup +nocookie +dnssec +cdflag +norec +bufsize=1400 PLAIN.f.TEST A)
check_eq "plain: NOERROR" NOERROR "$(status_of "$out")"
check_eq "plain: flags (QR, CD copied, RD copied as 0, aa ra from rule)" \
    "qr aa ra cd" "$(flags_of "$out")"
check_eq "plain: answer in order" \
    "plain.f.test. 300 A 192.0.2.10
plain.f.test. 300 A 192.0.2.11" \
    "$(answer_rrs "$out" | awk '{ $1 = tolower($1); print }')"
check_match "plain: question echoed with its case" '^;PLAIN\.f\.TEST\.[[:space:]]' \
    "$out"
check_match "plain: OPT with DO echoed, udp 4096" \
    '^; EDNS: version: 0, flags: do; udp: 4096$' "$out"
id=$(sed -n 's/.* id: \([0-9]*\)$/\1/p' <<<"$out" | tail -n 1)
check_match "plain: log line format" \
    "^udp 127\\.0\\.0\\.1 [0-9]+ id=$id qname=PLAIN\\.f\\.TEST\\. qtype=A rd=0 cd=1 edns=1 do=1 bufsize=1400 opts=- match=$L_PLAIN\$" \
    "$(cat "$FAKEUP_LOG")"

out=$(q_fakeup +noedns plain.f.test A)
check_nomatch "no EDNS in query: no OPT in reply" 'OPT PSEUDOSECTION' "$out"
check_eq "no EDNS in query: answer" 2 "$(ancount_of "$out")"
check_match "no EDNS: log edns=0 do=0 bufsize=0 opts=- rd=1" \
    "^udp .* qname=plain\\.f\\.test\\. qtype=A rd=1 cd=0 edns=0 do=0 bufsize=0 opts=- match=$L_PLAIN\$" \
    "$(cat "$FAKEUP_LOG")"

out=$(q_fakeup +nsid +cookie plain.f.test A)
check_match "EDNS options logged in order (NSID 3, COOKIE 10)" \
    "^udp .* qname=plain\\.f\\.test\\. .* edns=1 do=0 bufsize=[0-9]+ opts=3,10 match=$L_PLAIN\$" \
    "$(cat "$FAKEUP_LOG")"
check_nomatch "fakeup echoes no options it was not told to" 'NSID|COOKIE' \
    "$(sed -n '/OPT PSEUDOSECTION/,/^;; QUESTION/p' <<<"$out")"

out=$(q_fakeup servfail.f.test TXT)
check_eq "rcode SERVFAIL (QTYPE *)" SERVFAIL "$(status_of "$out")"

out=$(q_fakeup whatever.example. MX)
check_eq "QNAME * matches any name; rcode NXDOMAIN" NXDOMAIN \
    "$(status_of "$out")"
check_eq "'flags' with no argument clears RA" "qr rd" "$(flags_of "$out")"
check_eq "log: match=LINE for QNAME *" 1 \
    "$(fakeup_count "qname=whatever\\.example\\. qtype=MX .* match=$L_ANY_MX\$")"

out=$(q_fakeup nomatch.f.test A)
check_eq "no matching entry: REFUSED" REFUSED "$(status_of "$out")"
check_eq "log: match=none" 1 \
    "$(fakeup_count 'qname=nomatch\.f\.test\. qtype=A .* match=none$')"

out=$(q_fakeup fast.f.test A)
check_eq "authority section from the rule" "f.test. 60 NS ns.f.test." \
    "$(authority_rrs "$out")"
check_eq "additional section from the rule" "ns.f.test. 60 A 192.0.2.53" \
    "$(additional_rrs "$out")"

# TC over UDP, full answer over TCP.
out=$(q_fakeup +ignore tc.f.test A)
check_true "tc: TC set over UDP" has_flag tc "$out"
check_eq "tc: no answer over UDP" 0 "$(ancount_of "$out")"
out=$(q_fakeup tc.f.test A)
check_match "tc: dig retried over TCP" 'Truncated, retrying in TCP mode' "$out"
check_eq "tc: full answer over TCP" "tc.f.test. 60 A 192.0.2.20" \
    "$(answer_rrs "$out")"
check_false "tc: no TC over TCP" has_flag tc "$out"
check_eq "tc: log has 2 UDP legs (udp rule)" 2 \
    "$(fakeup_count "^udp .* qname=tc\\.f\\.test\\. .* match=$L_TC_UDP\$")"
check_eq "tc: log has 1 TCP leg (tcp rule)" 1 \
    "$(fakeup_count "^tcp 127\\.0\\.0\\.1 [0-9]+ id=[0-9]+ qname=tc\\.f\\.test\\. .* match=$L_TC_TCP\$")"

# delay, and that other queries are served meanwhile.
t0=$(now_ms)
out=$(q_fakeup slow.f.test A)
t1=$(now_ms)
check_eq "delay: answer" "slow.f.test. 60 A 192.0.2.30" "$(answer_rrs "$out")"
check_ge "delay 800: answered after >= 750 ms" 750 $((t1 - t0))
# slow then fast from one UDP socket: replies in arrival order.
out=$(dnsq_at "$FAKEUP_PORT" -T 5000 slow.f.test/A/id=2000 \
    fast.f.test/A/id=2001 2>&1)
check_eq "delay is async: fast (sent second) answered first" \
    "id=2001
id=2000" "$(grep '^id=' <<<"$out" | cut -d' ' -f1)"
check_match "delay is async: slow query still answered" \
    '^id=2000 .* answer=slow\.f\.test\. 60 A 192\.0\.2\.30$' "$out"

# drop
out=$(q_fakeup +time=1 drop.f.test A)
check_match "drop: dig times out" 'timed out|no servers could be reached' "$out"
check_eq "drop: no answer" "" "$(status_of "$out")"
check_eq "drop: query was logged" 1 \
    "$(fakeup_count "qname=drop\\.f\\.test\\. .* match=$L_DROP\$")"

# noopt
out=$(q_fakeup noopt.f.test A)
check_eq "noopt: answer" "noopt.f.test. 60 A 192.0.2.40" "$(answer_rrs "$out")"
check_nomatch "noopt: no OPT although the query had one" 'OPT PSEUDOSECTION' \
    "$out"
check_eq "noopt: query had EDNS" 1 \
    "$(fakeup_count "qname=noopt\\.f\\.test\\. .* edns=1 .* match=$L_NOOPT\$")"

# ede
out=$(q_fakeup ede.f.test A)
check_eq "ede: SERVFAIL" SERVFAIL "$(status_of "$out")"
check_eq "ede: EDE 6" 6 "$(ede_of "$out")"
check_match "ede: text" '^; EDE: 6 \(DNSSEC Bogus\): \(selftest bogus\)' "$out"
out=$(q_fakeup +noedns ede.f.test A)
check_nomatch "ede: no OPT (so no EDE) when the query had none" 'EDE:' "$out"

# TCP: two queries on one connection (dig +keepopen sends the second after
# the first is answered, on the same connection).
out=$(q_fakeup +tcp +keepopen plain.f.test A fast.f.test A)
check_eq "tcp keepopen: both answered" \
    "plain.f.test. 300 A 192.0.2.10
plain.f.test. 300 A 192.0.2.11
fast.f.test. 60 A 192.0.2.50" "$(answer_rrs "$out")"
ports=$(grep -E '^tcp .* qname=(plain|fast)\.f\.test\.' "$FAKEUP_LOG" |
    tail -n 2 | cut -d' ' -f3 | sort -u)
check_eq "tcp keepopen: both queries came on one connection" 1 \
    "$(printf '%s\n' "$ports" | grep -c .)"

# forge: what dig shows (dig's UDP socket is connected, so a reply from
# another port never reaches it).
out=$(q_fakeup forge-id.f.test A)
check_match "forge id: dig warns about the ID mismatch" \
    'Warning: ID mismatch' "$out"
check_eq "forge id: dig prints the real answer" \
    "forge-id.f.test. 60 A 192.0.2.61" "$(answer_rrs "$out")"
out=$(q_fakeup forge-qname.f.test A)
check_match "forge qname: dig reports the question mismatch" \
    'Question section mismatch: got forged\.forge-qname\.f\.test/A/IN' "$out"
check_eq "forge qname: dig prints the real answer" \
    "forge-qname.f.test. 60 A 192.0.2.62" "$(answer_rrs "$out")"
out=$(q_fakeup forge-qtype.f.test A)
check_match "forge qtype: dig reports the question mismatch" \
    'Question section mismatch: got forge-qtype\.f\.test/AAAA/IN' "$out"
check_eq "forge qtype: dig prints the real answer" \
    "forge-qtype.f.test. 60 A 192.0.2.63" "$(answer_rrs "$out")"
out=$(q_fakeup forge-port.f.test A)
check_eq "forge port: dig prints the real answer" \
    "forge-port.f.test. 60 A 192.0.2.64" "$(answer_rrs "$out")"
check_nomatch "forge port: dig never sees the forged reply" '198\.18\.0\.4' "$out"
check_eq "forge: one log line per query (forged replies are not queries)" 4 \
    "$(fakeup_count 'qname=forge-(id|qname|qtype|port)\.f\.test\.')"

# forge, datagram by datagram: dnsq's UDP socket is not connected, so it
# sees every datagram (one from another port as "unexpected-source
# from=ADDR@PORT id=N"); -v adds ldns's text rendering of each, sections
# and all.  A forgery with the query's ID would count as its reply and end
# dnsq's wait, so a second query, for drop.f.test (never answered), keeps
# it listening for the whole 400 ms.
# _forge_case KIND: sets f_qid (the query's ID), f_out (one line per
# datagram, in arrival order) and f_pkt1/f_pkt2 (the renderings of the
# first two datagrams).
_forge_case() {
	local raw
	f_qid=$RANDOM
	raw=$(dnsq_at "$FAKEUP_PORT" -s "$FAKEUP_ADDR" -b "$FAKEUP_ADDR" \
	    -T 400 -v "forge-$1.f.test/A/noedns,id=$f_qid" \
	    "drop.f.test/A/noedns,id=$((f_qid + 2))" 2>&1)
	f_out=$(grep -E '^(id=|unexpected-source )' <<<"$raw")
	f_pkt1=$(_datagram 1 <<<"$raw")
	f_pkt2=$(_datagram 2 <<<"$raw")
}
# _datagram N: the -v rendering of the Nth datagram in dnsq's output (stdin).
_datagram() {
	awk -v n="$1" '
	/^(id=|unexpected-source )/ { k++; on = k == n; next }
	/^(timeout |partial |closed$)/ { on = 0; next }
	on'
}
# _from_other_port LINE: LINE reports a datagram from fakeup's address but
# from another port than FAKEUP_PORT.
# shellcheck disable=SC2317  # called through check_true
_from_other_port() {
	local from p
	from="unexpected-source from=$(re_escape "$FAKEUP_ADDR")"
	p=$(sed -n "s/^$from@\([0-9][0-9]*\) id=[0-9]*\$/\1/p" <<<"$1")
	[ -n "$p" ] && [ "$p" != "$FAKEUP_PORT" ]
}
for kind in id qname qtype port; do
	_forge_case $kind
	qid=$f_qid
	check_eq "forge $kind: two datagrams" 2 "$(grep -c . <<<"$f_out")"
	case $kind in
	id)	exp1="id=$(( (qid + 1) % 65536 )) " ;;
	port)	exp1="unexpected-source from=$(re_escape "$FAKEUP_ADDR")"
		exp1+="@[0-9]+ id=$qid\$" ;;
	*)	exp1="id=$qid " ;;
	esac
	# An "id=" line is a datagram from fakeup's address and port.
	check_match "forge $kind: first datagram is the forgery" \
	    "^$exp1" "$(sed -n 1p <<<"$f_out")"
	check_match "forge $kind: second is the real reply" \
	    "^id=$qid " "$(sed -n 2p <<<"$f_out")"
	check_match "forge $kind: forgery carries forge-answer" \
	    '198\.18\.0\.|2001:db8::666' "$f_pkt1"
	check_nomatch "forge $kind: real reply has no forge-answer" \
	    '198\.18\.0\.|2001:db8::666' "$f_pkt2"
	case $kind in
	qname)	check_match "forge qname: question forged.forge-qname" \
		    '^;; forged\.forge-qname\.f\.test\.[[:space:]]+IN[[:space:]]+A$' \
		    "$f_pkt1" ;;
	qtype)	check_match "forge qtype: question type AAAA" \
		    '^;; forge-qtype\.f\.test\.[[:space:]]+IN[[:space:]]+AAAA$' \
		    "$f_pkt1" ;;
	port)	check_true "forge port: forgery from another port" \
		    _from_other_port "$(sed -n 1p <<<"$f_out")"
		check_match "forge port: forgery has the real question" \
		    '^;; forge-port\.f\.test\.[[:space:]]+IN[[:space:]]+A$' \
		    "$f_pkt1" ;;
	esac
done

# Pipelining: slow (800 ms) then fast on one connection, sent in one write
# (dnsq -t); fast must be answered first.
out=$(dnsq_at "$FAKEUP_PORT" -t -T 5000 slow.f.test/A/noedns,id=1000 \
    fast.f.test/A/noedns,id=1001 2>&1)
check_eq "tcp pipelining: replies out of order (fast first)" \
    "id=1001
id=1000" "$(cut -d' ' -f1 <<<"$out")"
check_eq "tcp pipelining: both queries on one connection" 1 \
    "$(grep -E '^tcp .* id=100[01] ' "$FAKEUP_LOG" | cut -d' ' -f3 |
    sort -u | grep -c .)"

# Malformed input is dropped, fakeup keeps serving.
printf 'garbage' >"/dev/udp/127.0.0.1/$FAKEUP_PORT"
printf '\x12\x34\x81\x00\x00\x01\x00\x00\x00\x00\x00\x00' \
    >"/dev/udp/127.0.0.1/$FAKEUP_PORT"
if exec 3<>"/dev/tcp/127.0.0.1/$FAKEUP_PORT"; then
	printf '\x00\x05abcde\x00\x00\x00\x03xyz' >&3
	exec 3>&-
fi
out=$(q_fakeup plain.f.test A)
check_eq "malformed input: still serving" 2 "$(ancount_of "$out")"
check_true "malformed input: noted on stderr" \
    wait_for_grep "$FAKEUP_ERR" 'dropping malformed' 2
check_eq "malformed input: nothing logged as a query" 0 \
    "$(fakeup_count 'qname=\?|id=4660 ')"

# fakeup cannot bind a port that is taken: exit 2 (start_* retry on it).
bin=$top_builddir/tests/fakeup
rc=0
timeout 10 "$bin" -a 127.0.0.1 -p "$FAKEUP_PORT" -r "$rules" \
    -l "$TEST_TMP/x.log" >"$TEST_TMP/x.err" 2>&1 || rc=$?
check_eq "port in use: exit 2" 2 "$rc"
check_match "port in use: error printed" 'in use' "$(cat "$TEST_TMP/x.err")"

# Rule file errors: exit 1 with file:line.
printf 'match a.test. A\n  bogus 1\nend\n' >"$TEST_TMP/bad.rules"
rc=0
timeout 10 "$bin" -a 127.0.0.1 -p "$FAKEUP_PORT" -r "$TEST_TMP/bad.rules" \
    -l "$TEST_TMP/x.log" >"$TEST_TMP/x.err" 2>&1 || rc=$?
check_eq "bad rule file: exit 1" 1 "$rc"
check_match "bad rule file: file:line in the message" \
    'bad\.rules:2: unknown keyword: bogus' "$(cat "$TEST_TMP/x.err")"
printf 'match a.test. A\n  answer not an rr\nend\n' >"$TEST_TMP/bad.rules"
rc=0
timeout 10 "$bin" -a 127.0.0.1 -p "$FAKEUP_PORT" -r "$TEST_TMP/bad.rules" \
    -l "$TEST_TMP/x.log" >"$TEST_TMP/x.err" 2>&1 || rc=$?
check_eq "bad RR: exit 1" 1 "$rc"

rc=0
stop_fakeup || rc=$?
check_eq "fakeup exits 0 on SIGTERM" 0 "$rc"

# fakeup on ::1
if have_ipv6; then
	start_fakeup "$rules" ::1
	out=$(q_fakeup plain.f.test A)
	check_eq "fakeup on ::1 (UDP)" 2 "$(ancount_of "$out")"
	out=$(q_fakeup +tcp plain.f.test A)
	check_eq "fakeup on ::1 (TCP)" 2 "$(ancount_of "$out")"
	check_match "fakeup on ::1: log source ::1" \
	    '^udp ::1 [0-9]+ id=[0-9]+ qname=plain\.f\.test\. ' \
	    "$(cat "$FAKEUP_LOG")"
	_forge_case port
	check_match "fakeup on ::1: forge port: real reply" \
	    "^id=$f_qid " "$(sed -n 2p <<<"$f_out")"
	check_match "fakeup on ::1: forge port: forgery first" \
	    "^unexpected-source from=::1@[0-9]+ id=$f_qid\$" \
	    "$(sed -n 1p <<<"$f_out")"
	check_true "fakeup on ::1: forgery from another port" \
	    _from_other_port "$(sed -n 1p <<<"$f_out")"
	rc=0
	stop_fakeup || rc=$?
	check_eq "fakeup on ::1 exits 0 on SIGTERM" 0 "$rc"
else
	skip_check "fakeup on ::1" "no IPv6"
fi

finish
