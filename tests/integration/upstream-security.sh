#!/bin/bash
#
# upstream-security.sh - the proxy as a client of its forwarders (RFC 5452):
# forged replies (wrong ID, name, type, source port) are ignored; source
# ports and IDs are random and fresh per try; concurrent queries use
# concurrent ports; an unreachable or silent forwarder makes the proxy
# move on to the next one.  All upstreams are tests/fakeup.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
PREFIX=2001:db8:64::

# fu_field N REGEX [LOG]: field N (space separated) of the fakeup log lines
# matching REGEX; field 3 is the source port, field 4 "id=ID".
fu_field() {
	grep -E -- "$2" "${3:-$FAKEUP_LOG}" | cut -d' ' -f"$1" | sed 's/^id=//'
}

# Forged replies always carry 6.6.6.6 (or 2001:db8:666::6); the genuine ones
# 192.0.2.x.
FORGED='6\.6\.6\.6|606:606|2001:db8:666::6'

rules=$TEST_TMP/f1.rules
{
	for kind in id qname qtype port; do
		case $kind in
		qname)	owner=forged.f$kind.s.test. ;;
		*)	owner=f$kind.s.test. ;;
		esac
		case $kind in
		qtype)	frr="$owner 60 IN AAAA 2001:db8:666::6" ;;
		*)	frr="$owner 60 IN A 6.6.6.6" ;;
		esac
		printf 'match f%s.s.test. A\n  forge %s\n  forge-answer %s\n' \
		    "$kind" "$kind" "$frr"
		printf '  answer f%s.s.test. 60 IN A 192.0.2.%d\nend\n' \
		    "$kind" $((60 + ${#kind}))
	done
	cat <<'EOF'
# Every kind of forgery at once, before the genuine reply.
match fall.s.test. A
  forge id
  forge qname
  forge qtype
  forge port
  forge-answer fall.s.test. 60 IN A 6.6.6.6
  answer fall.s.test. 60 IN A 192.0.2.70
end
# A synthesized AAAA: forged AAAA on the AAAA leg, forged A on the A leg.
match f6.s.test. AAAA
  forge id
  forge qname
  forge qtype
  forge port
  forge-answer f6.s.test. 60 IN AAAA 2001:db8:666::6
  authority s.test. 60 IN SOA ns.s.test. host.s.test. 1 3600 900 604800 300
end
match f6.s.test. A
  forge id
  forge qname
  forge qtype
  forge port
  forge-answer f6.s.test. 60 IN A 6.6.6.6
  answer f6.s.test. 60 IN A 192.0.2.71
end
match drop.s.test. A
  drop
end
match drop1.s.test. A
  drop
end
match drop-ede.s.test. A
  drop
end
match drop-noedns.s.test. A
  drop
end
match icmp.s.test. A
  answer icmp.s.test. 60 IN A 192.0.2.80
end
match icmp.s.test. AAAA
  authority s.test. 60 IN SOA ns.s.test. host.s.test. 1 3600 900 604800 300
end
# Port and ID statistics.
match * TXT
  rcode NXDOMAIN
end
# Concurrency: every SRV query waits 700 ms.
match * SRV
  delay 700
  rcode NXDOMAIN
end
EOF
} >"$rules"
start_fakeup "$rules"
F1_PORT=$FAKEUP_PORT F1_LOG=$FAKEUP_LOG

# F2: a second forwarder that answers what F1 drops or garbles.
cat >"$TEST_TMP/f2.rules" <<'EOF'
match drop.s.test. A
  answer drop.s.test. 60 IN A 192.0.2.99
end
match fqname.s.test. A
  answer fqname.s.test. 60 IN A 192.0.2.165
end
match fqtype.s.test. A
  answer fqtype.s.test. 60 IN A 192.0.2.165
end
match fall.s.test. A
  answer fall.s.test. 60 IN A 192.0.2.170
end
match f6.s.test. AAAA
  authority s.test. 60 IN SOA ns.s.test. host.s.test. 1 3600 900 604800 300
end
match f6.s.test. A
  answer f6.s.test. 60 IN A 192.0.2.171
end
EOF
start_fakeup "$TEST_TMP/f2.rules"
F2_PORT=$FAKEUP_PORT F2_LOG=$FAKEUP_LOG
FAKEUP_PORT=$F1_PORT FAKEUP_LOG=$F1_LOG

start_proxy -f /dev/null -u "127.0.0.1@$F1_PORT" -p "$PREFIX/96" -v
PS_PORT=$PROXY_PORT PS_PID=$PROXY_PID PS_LOG=$PROXY_LOG

# ------------------------------------------ RFC 5452 9.1: forged replies
# A forged ID, or a reply from another port (the socket is connected, the
# kernel drops it), is ignored: the genuine reply that follows counts.
for kind in id port; do
	exp="f$kind.s.test. 60 A 192.0.2.$((60 + ${#kind}))"
	out=$(dq "f$kind.s.test/A")
	check_eq "RFC 5452 9.1: forged reply (wrong $kind) first: genuine answer" \
	    "NOERROR $exp" "$(dq_field rcode "$out") $(dq_answer "$out")"
	check_nomatch "RFC 5452 9.1: wrong $kind: forged data never reaches the client" \
	    "$FORGED" "$out"
	check_eq "RFC 5452 9.1: wrong $kind: one upstream query (no retry needed)" \
	    1 "$(fakeup_count " qname=f$kind\\.s\\.test\\. qtype=A ")"
done
# A reply on the try's own socket with the right ID but another question
# can only come from a broken server (a forger would have to guess port
# and ID): it is never data, and the query moves on at once.  With one
# forwarder that is two tries and a SERVFAIL that says why (RFC 8914 23).
for kind in qname qtype; do
	out=$(dq "f$kind.s.test/A")
	check_eq "RFC 5452 9.1: right ID, wrong $kind, one forwarder: SERVFAIL" \
	    SERVFAIL "$(dq_field rcode "$out")"
	check_eq "wrong $kind: EDE 23 (Network Error)" 23 "$(dq_field ede "$out")"
	check_nomatch "RFC 5452 9.1: wrong $kind: forged data never reaches the client" \
	    "$FORGED" "$out"
	check_eq "wrong $kind: the forwarder was asked twice, no more" 2 \
	    "$(fakeup_count " qname=f$kind\\.s\\.test\\. qtype=A ")"
done
check_match "log: a broken reply is named" \
    ': upstream 127\.0\.0\.1@[0-9]+: broken reply \(wrong question\)$' \
    "$(cat "$PS_LOG")"
out=$(dq fall.s.test/A)
check_eq "RFC 5452 9.1: all four forgeries first, one forwarder: SERVFAIL" \
    SERVFAIL "$(dq_field rcode "$out")"
check_nomatch "RFC 5452 9.1: all four forgeries: none reaches the client" \
    "$FORGED" "$out"
out=$(dq f6.s.test/AAAA)
check_eq "RFC 5452 9.1: forged AAAA and A legs, one forwarder: SERVFAIL" \
    SERVFAIL "$(dq_field rcode "$out")"
check_nomatch "RFC 5452 9.1: forged legs: no forged data in the answer" \
    "$FORGED" "$out"

# The same forgeries with a second forwarder: the answer comes from it,
# and the broken one was asked once per question.
start_proxy -f /dev/null -u "127.0.0.1@$F1_PORT" -u "127.0.0.1@$F2_PORT" \
    -p "$PREFIX/96" -v
for kind in qname qtype; do
	before=$(fakeup_count " qname=f$kind\\.s\\.test\\. qtype=A ")
	out=$(dq "f$kind.s.test/A")
	check_eq "broken first forwarder (wrong $kind): the second one's answer" \
	    "NOERROR f$kind.s.test. 60 A 192.0.2.165" \
	    "$(dq_field rcode "$out") $(dq_answer "$out")"
	check_range "broken first forwarder (wrong $kind): asked at most once" \
	    0 1 $(( $(fakeup_count " qname=f$kind\\.s\\.test\\. qtype=A ") - before))
done
out=$(dq fall.s.test/A)
check_eq "all four forgeries: the second forwarder's answer" \
    "NOERROR fall.s.test. 60 A 192.0.2.170" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"
out=$(dq f6.s.test/AAAA)
check_eq "forged legs: synthesized from the second forwarder's A" \
    "NOERROR f6.s.test. 60 AAAA ${PREFIX}c000:2ab" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"
check_match "log: f6 synthesized" \
    '^127\.0\.0\.1@[0-9]+ f6\.s\.test\. AAAA synthesized NOERROR' \
    "$(cat "$PROXY_LOG")"
stop_proxy
PROXY_PORT=$PS_PORT PROXY_PID=$PS_PID PROXY_LOG=$PS_LOG

# ------------------------------------ RFC 5452 9.2: random source ports
qs=()
for i in $(seq 1 200); do
	qs+=("p$i.ports.s.test/TXT")
done
out=$(dq -T 5000 "${qs[@]}")
check_eq "200 distinct queries: 200 replies" 200 "$(dq_count "$out")"
ports=$(fu_field 3 ' qname=p[0-9]+\.ports\.s\.test\. qtype=TXT ')
# Each name asked upstream (a slow answer may add a retry: a count of
# names, not of queries).
check_eq "200 distinct queries: all 200 names seen upstream" 200 \
    "$(grep -E ' qname=p[0-9]+\.ports\.s\.test\. qtype=TXT ' "$FAKEUP_LOG" |
    grep -o ' qname=[^ ]*' | sort -u | grep -c .)"
# Pooled sockets: a port carries at most 8 queries in its life, so 200
# queries use at least 25 ports, each from the whole range.
check_range "RFC 5452 9.2: >= 25 distinct source ports for 200 queries" \
    25 200 "$(printf '%s\n' "$ports" | sort -u | grep -c .)"
check_range "RFC 5452 9.2: no source port carried more than 8 queries" 1 8 \
    "$(printf '%s\n' "$ports" | sort | uniq -c | sort -n | tail -n 1 |
    awk '{ print $1 }')"
check_eq "RFC 5452 9.2: the listen port is never a source port" 0 \
    "$(printf '%s\n' "$ports" | grep -cx "$PS_PORT")"
lo=$(printf '%s\n' "$ports" | sort -n | head -n 1)
hi=$(printf '%s\n' "$ports" | sort -n | tail -n 1)
note "source ports: $lo..$hi"
check_range "RFC 5452 9.2: source ports spread over > 10000" 10001 65535 \
    $((hi - lo))
check_range "RFC 5452 9.2: source ports >= 1024" 1024 65535 "$lo"

# ------------------------------------------- RFC 5452 9.2: random IDs
# 1000 queries with known client IDs, 100 at a time.
for b in $(seq 0 9); do
	qs=()
	for i in $(seq $((b * 100 + 1)) $((b * 100 + 100))); do
		qs+=("i$i.ids.s.test/TXT/id=$i")
	done
	dq -T 5000 "${qs[@]}" >>"$TEST_TMP/ids.out"
done
check_eq "1000 ID queries: 1000 replies" 1000 \
    "$(grep -c '^id=' "$TEST_TMP/ids.out")"
# "i<client id> <upstream id>" per query, in arrival order at fakeup; the
# first query of each name only (a slow answer may add a retry, whose ID
# is just as random but would make the counts below depend on speed).
grep -E ' qname=i[0-9]+\.ids\.s\.test\. qtype=TXT ' "$FAKEUP_LOG" |
    sed -n 's/.* id=\([0-9]*\) qname=i\([0-9]*\)\..*/\2 \1/p' |
    awk '!seen[$1]++' >"$TEST_TMP/ids.pairs"
ids=$(cut -d' ' -f2 "$TEST_TMP/ids.pairs")
check_eq "1000 upstream IDs logged" 1000 "$(printf '%s\n' "$ids" | grep -c .)"
check_range "RFC 5452 9.2: upstream ID = client's ID for < 5 of 1000" 0 4 \
    "$(awk '$1 == $2' "$TEST_TMP/ids.pairs" | wc -l)"
check_range "RFC 5452 9.2: < 5 consecutive upstream IDs differ by 1" 0 4 \
    "$(printf '%s\n' "$ids" | awk 'NR > 1 && ($1 - p + 65536) % 65536 == 1 { n++ } { p = $1 } END { print n + 0 }')"
check_range "RFC 5452 9.2: >= 970 distinct IDs of 1000" 970 1000 \
    "$(printf '%s\n' "$ids" | sort -u | wc -l)"
check_range "RFC 5452 9.2: IDs below 32768 (about half)" 400 600 \
    "$(printf '%s\n' "$ids" | awk '$1 < 32768' | wc -l)"
check_range "RFC 5452 9.2: IDs from 32768 up (about half)" 400 600 \
    "$(printf '%s\n' "$ids" | awk '$1 >= 32768' | wc -l)"
# chi-square over 16 buckets, on the high and on the low 4 bits; 15
# degrees of freedom: P(chi2 > 60) is about 1e-7.
chi() {
	printf '%s\n' "$ids" | awk -v mode="$1" '
	{ b = (mode == "hi") ? int($1 / 4096) : $1 % 16; c[b]++; n++ }
	END { e = n / 16; for (i = 0; i < 16; i++) x += (c[i] - e) ^ 2 / e
	      printf "%d\n", x }'
}
check_range "RFC 5452 9.2: top 4 bits of the IDs uniform (chi2 < 60)" 0 59 \
    "$(chi hi)"
check_range "RFC 5452 9.2: low 4 bits of the IDs uniform (chi2 < 60)" 0 59 \
    "$(chi lo)"

# -------------------- RFC 5452 9.2: concurrent queries, concurrent ports
qs=()
for i in $(seq 1 50); do
	qs+=("c$i.conc.s.test/SRV")
done
# One after the other they would take 35 s, more than dnsq waits.
out=$(dq -T 20000 "${qs[@]}")
check_eq "50 concurrent delayed queries (700 ms each): 50 replies within 20 s" \
    50 "$(dq_count "$out")"
# At most 4 queries in flight share a port (birthday odds, RFC 5452 5).
check_range "RFC 5452 9.2: >= 13 distinct source ports for 50 in flight at once" \
    13 50 "$(fu_field 3 ' qname=c[0-9]+\.conc\.s\.test\. qtype=SRV ' |
    sort -u | wc -l)"
check_range "RFC 5452 9.2: no port carried more than 4 of them at once" 1 4 \
    "$(fu_field 3 ' qname=c[0-9]+\.conc\.s\.test\. qtype=SRV ' |
    sort | uniq -c | sort -n | tail -n 1 | awk '{ print $1 }')"

# ----------------------- retries: an unreachable forwarder, then the next
# The ICMP error ends the try at once: the answer comes from the second
# forwarder long before the first's upstream-timeout (30 s), which dnsq
# does not wait for (10 s).
closed=$(dead_port) || bail "no free port"
printf 'upstream-timeout 30000\n' >"$TEST_TMP/icmp.conf"
start_proxy -f "$TEST_TMP/icmp.conf" -u "127.0.0.1@$closed" \
    -u "127.0.0.1@$F1_PORT" -p "$PREFIX/96" -v
out=$(dq -T 10000 icmp.s.test/A)
check_eq "closed first forwarder (ICMP unreachable): answer from the second, before the timeout" \
    "icmp.s.test. 60 A 192.0.2.80" "$(dq_answer "$out")"
check_match "log: answered by the second forwarder" \
    "^127\\.0\\.0\\.1@[0-9]+ icmp\\.s\\.test\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$F1_PORT\$" \
    "$(cat "$PROXY_LOG")"
out=$(dq -T 10000 icmp.s.test/AAAA)
check_eq "closed first forwarder, both legs: synthesized, before the timeout" \
    "icmp.s.test. 60 AAAA ${PREFIX}c000:250" "$(dq_answer "$out")"

# A dropped query is retried on the next forwarder after upstream-timeout.
printf 'upstream-timeout 300\n' >"$TEST_TMP/drop.conf"
start_proxy -f "$TEST_TMP/drop.conf" -u "127.0.0.1@$F1_PORT" \
    -u "127.0.0.1@$F2_PORT" -v
t0=$(now_ms)
out=$(dq -T 5000 drop.s.test/A)
t1=$(now_ms)
check_eq "dropped by the first forwarder: answer from the second" \
    "NOERROR drop.s.test. 60 A 192.0.2.99" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"
check_ge "dropped: second forwarder asked after the 300 ms timeout" \
    280 $((t1 - t0))
check_eq "dropped: each forwarder asked once" "1 1" \
    "$(count_matches "$F1_LOG" ' qname=drop\.s\.test\. ') $(count_matches \
    "$F2_LOG" ' qname=drop\.s\.test\. ')"
check_match "log: answered by the second forwarder" \
    "^127\\.0\\.0\\.1@[0-9]+ drop\\.s\\.test\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$F2_PORT\$" \
    "$(cat "$PROXY_LOG")"

# One forwarder: asked twice, each try with a fresh port and ID, then
# SERVFAIL (RFC 6147 5.1.3 timeout = SERVFAIL for a non-AAAA query).
start_proxy -f "$TEST_TMP/drop.conf" -u "127.0.0.1@$F1_PORT" -v
t0=$(now_ms)
out=$(dq -T 5000 drop1.s.test/A)
t1=$(now_ms)
check_eq "single silent forwarder: SERVFAIL" SERVFAIL "$(dq_field rcode "$out")"
check_ge "single silent forwarder: after two 300 ms tries" 550 $((t1 - t0))
check_eq "single silent forwarder: asked twice" 2 \
    "$(count_matches "$F1_LOG" ' qname=drop1\.s\.test\. ')"
check_eq "RFC 5452 9.2: the retry uses a new source port" 2 \
    "$(fu_field 3 ' qname=drop1\.s\.test\. ' "$F1_LOG" | sort -u | wc -l)"
check_eq "RFC 5452 9.2: the retry uses a new ID" 2 \
    "$(fu_field 4 ' qname=drop1\.s\.test\. ' "$F1_LOG" | sort -u | wc -l)"

# RFC 8914: our own SERVFAIL says why, to a client that sent EDNS: 22 No
# Reachable Authority after timeouts, naming the forwarder.
out=$(dig_at "$PROXY_PORT" +time=5 drop-ede.s.test A)
check_eq "single silent forwarder: SERVFAIL with EDE 22 (RFC 8914)" \
    "SERVFAIL 22" "$(status_of "$out") $(ede_of "$out")"
check_match "single silent forwarder: the EDE text names the forwarder" \
    "^; EDE: 22 \\(No Reachable Authority\\): \\(forwarder 127\\.0\\.0\\.1@$F1_PORT timed out\\)\$" \
    "$out"
out=$(dq -T 5000 drop-noedns.s.test/A/noedns)
check_eq "single silent forwarder, client without EDNS: plain SERVFAIL, no OPT" \
    "SERVFAIL 0 -" \
    "$(dq_field rcode "$out") $(dq_field edns "$out") $(dq_field ede "$out")"

# A transport error (ICMP port unreachable) with no other forwarder: EDE
# 23 Network Error, naming the forwarder.
start_proxy -f "$TEST_TMP/drop.conf" -u "127.0.0.1@$closed" -v
out=$(dig_at "$PROXY_PORT" +time=5 icmp.s.test A)
check_eq "closed port, the only forwarder: SERVFAIL with EDE 23 (RFC 8914)" \
    "SERVFAIL 23" "$(status_of "$out") $(ede_of "$out")"
check_match "closed port: the EDE text names the forwarder" \
    "^; EDE: 23 \\(Network Error\\): \\(forwarder 127\\.0\\.0\\.1@$closed unreachable\\)\$" \
    "$out"
out=$(dq -T 5000 icmp.s.test/A/noedns)
check_eq "closed port, client without EDNS: plain SERVFAIL, no OPT" \
    "SERVFAIL 0 -" \
    "$(dq_field rcode "$out") $(dq_field edns "$out") $(dq_field ede "$out")"

check_true "security proxy still running" kill -0 "$PS_PID"
kill -USR1 "$PS_PID"
wait_for_grep "$PS_LOG" '^stats: ' 2 &&
    note "$(grep '^stats: ' "$PS_LOG" | tail -n 1)"
finish
