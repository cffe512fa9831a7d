#!/bin/bash
#
# transport-udp.sh - the proxy's UDP transport towards clients: where replies
# come from, what is echoed from the query, truncation and EDNS sizes, and
# the TC=1 upstream fallback to TCP.  Real unbound for the zone data, fakeup
# for upstream behaviour unbound cannot produce.  Client: tests/dnsq.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
PREFIX=2001:db8:64::

start_unbound

# --------------------------------------------------------- fakeup rules
rules=$TEST_TMP/udp.rules
{
	# Upstream TC=1: the proxy must ask again over TCP (RFC 2181 9).
	fakeup_tc tc.u.test. 192.0.2.20 192.0.2.21
	# The same on the A leg of a synthesized AAAA.
	cat <<'EOF'
match tc6.u.test. AAAA
  authority u.test. 60 IN SOA ns.u.test. host.u.test. 1 3600 900 604800 300
end
EOF
	fakeup_tc tc6.u.test. 192.0.2.22
	# TCP answer too big for a 512-byte client (40 A, ~700 bytes).
	# shellcheck disable=SC2046
	fakeup_tc tcbig.u.test. $(seq -f '198.51.100.%g' 1 40)
	# Small answer, 30 glue-like additional records (~500 bytes of them).
	printf 'match glue.u.test. A\n'
	printf '  answer glue.u.test. 60 IN A 192.0.2.30\n'
	for i in $(seq 1 30); do
		printf '  additional ns%d.u.test. 60 IN A 198.51.100.%d\n' \
		    "$i" "$i"
	done
	printf 'end\n'
	# TC=1 over UDP and over TCP: only a broken server sends that.
	for nt in tctc.u.test./A tctc6.u.test./AAAA tctc6.u.test./A \
	    tcaaaa.u.test./AAAA; do
		printf 'match %s %s\n  transport udp\n  flags tc ra\nend\n' \
		    "${nt%/*}" "${nt#*/}"
		printf 'match %s %s\n  transport tcp\n  flags tc ra\nend\n' \
		    "${nt%/*}" "${nt#*/}"
	done
	printf 'match tcaaaa.u.test. A\n'
	printf '  answer tcaaaa.u.test. 60 IN A 192.0.2.24\nend\n'
	# 10 A records: ~200 bytes, more than 100, less than 512.
	printf 'match mid.u.test. A\n'
	for i in $(seq 1 10); do
		printf '  answer mid.u.test. 60 IN A 198.51.100.%d\n' "$i"
	done
	printf 'end\n'
} >"$rules"
start_fakeup "$rules"

# P1: unbound upstream, a Network-Specific Prefix so documentation
# addresses are mapped.
start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PREFIX/96" -v
P1_PORT=$PROXY_PORT P1_LOG=$PROXY_LOG

# ------------------------------------------------- basic answers, echoes
out=$(dq A-OnLy.T.Example/A/id=4242)
rc=$?
check_eq "udp 127.0.0.1: exit status 0 (a reply came)" 0 "$rc"
check_eq "udp 127.0.0.1: one reply" 1 "$(dq_count "$out")"
check_eq "udp 127.0.0.1: NOERROR" NOERROR "$(dq_field rcode "$out")"
check_eq "udp 127.0.0.1: answer (a-only A)" "a-only.t.example. 300 a 192.0.2.33" \
    "$(dq_answer "$out" | tr 'A-Z' 'a-z')"
check_nomatch "udp 127.0.0.1: reply from the address and port queried" \
    '^unexpected-source' "$out"
check_eq "RFC 1035 4.1.1: client's ID echoed (4242)" 4242 \
    "$(dq_field id "$out")"
check_eq "RFC 1035 4.1.1: question echoed with its exact case" \
    "A-OnLy.T.Example." "$(dq_field qname "$out")"
check_eq "RFC 1035 4.1.1: qtype echoed" A "$(dq_field qtype "$out")"
check_eq "RFC 1035 4.1.1: QR set, RD copied (1)" "qr,aa,rd,ra" \
    "$(dq_field flags "$out")"
check_match "log line: client, name, type, passed, upstream" \
    "^127\\.0\\.0\\.1@[0-9]+ A-OnLy\\.T\\.Example\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$UNBOUND_PORT\$" \
    "$(cat "$P1_LOG")"

for id in 0 65535; do
	out=$(dq a-only.t.example/A/id=$id)
	check_eq "RFC 1035 4.1.1: ID $id echoed" "$id" "$(dq_field id "$out")"
done

# Synthesized answers echo the question too (RFC 6147 5.4).
out=$(dq A-OnLy.T.Example/AAAA/id=777)
check_eq "RFC 6147 5.4: synthesized: ID echoed" 777 "$(dq_field id "$out")"
check_eq "RFC 6147 5.4: synthesized: question with its case" \
    "A-OnLy.T.Example." "$(dq_field qname "$out")"
check_eq "RFC 6147 5.4: synthesized: answer in the prefix" \
    "a-only.t.example. 300 aaaa ${PREFIX}c000:221" \
    "$(dq_answer "$out" | tr 'A-Z' 'a-z')"
check_true "RFC 6147 5.4: synthesized: RD copied" dq_has_flag rd "$out"

# RD=0 comes back as RD=0 (RFC 1035 4.1.1), also on an error reply.
out=$(dq a-only.t.example/A/nord,id=100)
check_eq "RFC 1035 4.1.1: RD=0 query: NOERROR" NOERROR \
    "$(dq_field rcode "$out")"
check_false "RFC 1035 4.1.1: RD=0 query: RD=0 in the reply" \
    dq_has_flag rd "$out"
check_true "RFC 1035 4.1.1: RD=0 query: QR set" dq_has_flag qr "$out"
out=$(dq a-only.t.example/A/nord,ednsver=1)
check_eq "RD=0 error reply (BADVERS): rcode" BADVERS "$(dq_field rcode "$out")"
check_false "RD=0 error reply (BADVERS): RD=0" dq_has_flag rd "$out"
out=$(dq a-only.t.example/A/cd)
check_true "CD=1 query: CD=1 in the reply" dq_has_flag cd "$out"

# Several queries from one socket: each answered, to the same port.
out=$(dq a-only.t.example/A/id=1 both.t.example/AAAA/id=2 \
    aaaa-only.t.example/AAAA/id=3 a-multi.t.example/AAAA/id=4)
check_eq "4 queries from one socket: 4 replies" 4 "$(dq_count "$out")"
check_eq "4 queries from one socket: IDs" "1 2 3 4" \
    "$(printf '%s\n' "$out" | sed -n 's/^id=\([0-9]*\) .*/\1/p' |
    sort -n | tr '\n' ' ' | sed 's/ $//')"
check_nomatch "4 queries: every reply from the queried address/port" \
    '^unexpected-source|^timeout' "$out"

if have_ipv6; then
	out=$(dq -s ::1 A-OnLy.T.Example/A/id=4343)
	check_eq "udp ::1: reply" 1 "$(dq_count "$out")"
	check_nomatch "udp ::1: reply from ::1 and the port queried" \
	    '^unexpected-source' "$out"
	check_eq "udp ::1: ID and question echoed" "4343 A-OnLy.T.Example." \
	    "$(dq_field id "$out") $(dq_field qname "$out")"
	check_eq "udp ::1: answer" "a-only.t.example. 300 a 192.0.2.33" \
	    "$(dq_answer "$out" | tr 'A-Z' 'a-z')"
	out=$(dq -s ::1 a-only.t.example/AAAA)
	check_eq "udp ::1: synthesized AAAA" \
	    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(dq_answer "$out")"
	check_match "log: ::1 client" \
	    '^::1@[0-9]+ a-only\.t\.example\. AAAA synthesized NOERROR' \
	    "$(cat "$P1_LOG")"
else
	skip_check "udp over ::1" "no IPv6 loopback"
fi

# -------------------------------------------------- wildcard listeners
# A proxy listening on 0.0.0.0 / :: must answer from the address the query
# was sent to (IP_PKTINFO), or the client drops the reply.  Done in a
# private network namespace, so the wildcard sockets are not reachable
# from any network; ipv4only.arpa is answered locally, no upstream needed.
wildcard_test() {
	local bin=$PROXY_BIN log=$TEST_TMP/wild.log
	timeout 20 unshare -n bash -c '
		ip link set lo up || exit 3
		v6=yes
		ip -6 addr add fd00:53::2/128 dev lo nodad 2>/dev/null ||
		    v6=no
		listen="-l 0.0.0.0@5353"
		[ $v6 = yes ] && listen="$listen -l ::@5353"
		"$1" -d -f /dev/null $listen -u 127.0.0.1@9 -v -s "$2.sock" \
		    >"$2" 2>&1 </dev/null &
		p=$!
		for i in $(seq 1 50); do
			grep -qw ready "$2" && break
			sleep 0.1
		done
		"$3" -s 127.0.0.2 -p 5353 ipv4only.arpa/A/id=11
		"$3" -s 127.0.0.1 -p 5353 ipv4only.arpa/A/id=12
		if [ $v6 = yes ]; then
			"$3" -s fd00:53::2 -p 5353 ipv4only.arpa/AAAA/id=13
			"$3" -s ::1 -p 5353 ipv4only.arpa/AAAA/id=14
		fi
		echo "v6=$v6"
		kill "$p"
		wait "$p"
		exit 0
	' wildcard "$bin" "$log" "$DNSQ_BIN" 2>&1
}
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
    command -v ip >/dev/null &&
    timeout 5 unshare -n true 2>/dev/null; then
	out=$(wildcard_test)
	check_match "wildcard 0.0.0.0: query to 127.0.0.2 answered from it" \
	    '^id=11 rcode=NOERROR .* answer=ipv4only\.arpa\. [0-9]+ A 192\.0\.0\.170;' \
	    "$out"
	check_match "wildcard 0.0.0.0: query to 127.0.0.1 answered from it" \
	    '^id=12 rcode=NOERROR ' "$out"
	check_nomatch "wildcard listen: every reply from the queried address" \
	    '^unexpected-source|^timeout' "$out"
	if grep -qx 'v6=yes' <<<"$out"; then
		check_match "wildcard ::: query to fd00:53::2 answered from it" \
		    '^id=13 rcode=NOERROR .* answer=ipv4only\.arpa\. [0-9]+ AAAA 64:ff9b::c000:aa;' \
		    "$out"
		check_match "wildcard ::: query to ::1 answered from it" \
		    '^id=14 rcode=NOERROR ' "$out"
	else
		skip_check "wildcard :: answers from the queried address" \
		    "no IPv6 in a network namespace"
	fi
else
	skip_check "wildcard listen answers from the queried address" \
	    "needs root, unshare(1), ip(8) and network namespaces"
fi

# ----------------------------------------------------------- truncation
# RFC 1035 4.2.1: 512 bytes without EDNS.  big.t.example has 60 A (~1 kB).
out=$(dq big.t.example/A/noedns)
check_true "RFC 1035 4.2.1: big A without EDNS: TC=1" dq_has_flag tc "$out"
check_range "RFC 1035 4.2.1: big A without EDNS: size <= 512" 12 512 \
    "$(dq_field size "$out")"
check_eq "big A without EDNS: no OPT in the reply" 0 "$(dq_field edns "$out")"
check_eq "big A without EDNS: question kept" "big.t.example. A" \
    "$(dq_field qname "$out") $(dq_field qtype "$out")"
out=$(dig_at "$P1_PORT" +noedns +ignore big.t.example A)
check_true "RFC 1035 4.2.1: dig +noedns +ignore sees TC" has_flag tc "$out"
out=$(dig_at "$P1_PORT" +noedns big.t.example A)
check_match "dig retries the truncated answer over TCP" \
    'Truncated, retrying in TCP mode' "$out"
check_eq "over TCP dig gets all 60 A" 60 "$(answer_rrs "$out" | grep -c ' A 198\.51\.100\.')"

# RFC 6891 6.2.5: the requestor's size is the limit (but not below 512).
out=$(dq big.t.example/A/bufsize=4096)
check_false "RFC 6891 6.2.5: big A, bufsize 4096: TC=0" dq_has_flag tc "$out"
check_eq "RFC 6891 6.2.5: big A, bufsize 4096: 60 answers" 60 \
    "$(dq_field an "$out")"
check_range "big A, bufsize 4096: more than 512 bytes over UDP (6891 6.2.6)" \
    513 1232 "$(dq_field size "$out")"
out=$(dq big.t.example/A/bufsize=512)
check_true "RFC 6891 6.2.5: big A, bufsize 512: TC=1" dq_has_flag tc "$out"
check_range "big A, bufsize 512: size <= 512" 12 512 "$(dq_field size "$out")"
check_eq "RFC 6891 7: truncated reply still has OPT" 1 "$(dq_field edns "$out")"
out=$(dq big.t.example/A/bufsize=1000)
check_true "big A (~1 kB), bufsize 1000: TC=1" dq_has_flag tc "$out"
check_range "big A, bufsize 1000: size <= 1000" 12 1000 \
    "$(dq_field size "$out")"

# A size below 512 counts as 512 (RFC 6891 6.2.5): ~200 bytes not truncated.
FAKE_PORT=$FAKEUP_PORT
start_proxy -f /dev/null -u "127.0.0.1@$FAKE_PORT" -p "$PREFIX/96" -v
P2_PORT=$PROXY_PORT P2_LOG=$PROXY_LOG
out=$(dq mid.u.test/A/bufsize=100)
check_false "RFC 6891 6.2.5: bufsize 100 treated as 512: TC=0" \
    dq_has_flag tc "$out"
check_eq "RFC 6891 6.2.5: bufsize 100: all 10 answers" 10 \
    "$(dq_field an "$out")"
check_range "bufsize 100: the reply is larger than 100 bytes" 101 512 \
    "$(dq_field size "$out")"
out=$(dq mid.u.test/A/bufsize=0)
check_false "bufsize 0 treated as 512: TC=0" dq_has_flag tc "$out"
check_eq "bufsize 0: all 10 answers" 10 "$(dq_field an "$out")"

# RFC 2181 9 / 6147 5.4: a synthesized RRset that does not fit sets TC.
PROXY_PORT=$P1_PORT
out=$(dq big.t.example/AAAA/noedns)
check_true "RFC 2181 9: 60 synthesized AAAA without EDNS: TC=1" \
    dq_has_flag tc "$out"
check_range "60 synthesized AAAA without EDNS: size <= 512" 12 512 \
    "$(dq_field size "$out")"
check_eq "60 synthesized AAAA without EDNS: no partial RRset" 0 \
    "$(dq_field an "$out")"
out=$(dq -t big.t.example/AAAA/noedns)
check_false "60 synthesized AAAA over TCP: TC=0" dq_has_flag tc "$out"
check_eq "60 synthesized AAAA over TCP: all 60, in the prefix" 60 \
    "$(dq_answer "$out" | tr ';' '\n' | grep -c "^big\\.t\\.example\\. [0-9]* AAAA ${PREFIX}c633:64")"
# 60 x 28 bytes > 1232: our edns-buffer-size caps a 4096 client.
out=$(dq big.t.example/AAAA/bufsize=4096)
check_true "60 synthesized AAAA (1.7 kB), bufsize 4096 > our 1232: TC=1" \
    dq_has_flag tc "$out"
check_range "... size <= 1232 (edns-buffer-size)" 12 1232 \
    "$(dq_field size "$out")"
check_eq "... OPT kept on the truncated synthesized reply" 1 \
    "$(dq_field edns "$out")"

cat >"$TEST_TMP/big.conf" <<EOF
edns-buffer-size 4096
EOF
start_proxy -f "$TEST_TMP/big.conf" -u "127.0.0.1@$UNBOUND_PORT" \
    -p "$PREFIX/96"
out=$(dq big.t.example/AAAA/bufsize=4096)
check_false "edns-buffer-size 4096: 1.7 kB synthesized answer fits: TC=0" \
    dq_has_flag tc "$out"
check_eq "edns-buffer-size 4096: 60 AAAA over UDP" 60 "$(dq_field an "$out")"
check_eq "edns-buffer-size 4096: our OPT advertises 4096" 4096 \
    "$(dq_field bufsize "$out")"
out=$(dq big.t.example/AAAA/bufsize=1232)
check_true "edns-buffer-size 4096, client bufsize 1232: TC=1" \
    dq_has_flag tc "$out"

# ---------------------------------------- upstream TC=1 -> TCP (fakeup)
PROXY_PORT=$P2_PORT
out=$(dq tc.u.test/A/noedns,id=501)
check_eq "RFC 2181 9: upstream TC=1: client gets NOERROR" NOERROR \
    "$(dq_field rcode "$out")"
check_false "RFC 2181 9: upstream TC=1: client's reply has TC=0" \
    dq_has_flag tc "$out"
check_eq "RFC 2181 9: upstream TC=1: full answer from the TCP retry" \
    "tc.u.test. 60 A 192.0.2.20;tc.u.test. 60 A 192.0.2.21" \
    "$(dq_answer "$out")"
check_eq "upstream TC=1: fakeup saw one UDP then one TCP query" "udp tcp" \
    "$(grep ' qname=tc\.u\.test\. ' "$FAKEUP_LOG" | cut -d' ' -f1 |
    tr '\n' ' ' | sed 's/ $//')"
check_match "upstream TC=1: log names the TCP upstream" \
    "^127\\.0\\.0\\.1@[0-9]+ tc\\.u\\.test\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$FAKE_PORT/tcp\$" \
    "$(cat "$P2_LOG")"

out=$(dq tc6.u.test/AAAA)
check_eq "upstream TC=1 on the A leg: synthesized from the TCP answer" \
    "tc6.u.test. 60 AAAA ${PREFIX}c000:216" "$(dq_answer "$out")"
check_eq "upstream TC=1 on the A leg: A asked over udp, then tcp" "udp tcp" \
    "$(grep ' qname=tc6\.u\.test\. qtype=A ' "$FAKEUP_LOG" | cut -d' ' -f1 |
    tr '\n' ' ' | sed 's/ $//')"

# The TCP answer does not fit the UDP client: TC=1 (RFC 2181 9).
out=$(dq tcbig.u.test/A/noedns)
check_true "upstream TC, TCP answer (40 A) too big for 512: TC=1" \
    dq_has_flag tc "$out"
check_range "... size <= 512" 12 512 "$(dq_field size "$out")"
out=$(dq tcbig.u.test/A/bufsize=1232)
check_false "upstream TC, TCP answer fits the client's 1232: TC=0" \
    dq_has_flag tc "$out"
check_eq "... all 40 A" 40 "$(dq_field an "$out")"

# RFC 2181 9: additional data that does not fit is dropped without TC.
out=$(dq glue.u.test/A/noedns)
check_false "RFC 2181 9: only the additional does not fit: TC=0" \
    dq_has_flag tc "$out"
check_eq "RFC 2181 9: answer kept" "glue.u.test. 60 A 192.0.2.30" \
    "$(dq_answer "$out")"
check_eq "RFC 2181 9: additional section dropped" 0 "$(dq_field ar "$out")"
check_range "... size <= 512" 12 512 "$(dq_field size "$out")"
out=$(dq glue.u.test/A/bufsize=4096)
check_eq "additional kept when it fits (30 + OPT)" 31 "$(dq_field ar "$out")"
check_false "... TC=0" dq_has_flag tc "$out"

# ------------------------------- upstream TC=1 over TCP too: a failed try
# No room is lacking on TCP: a TCP reply with TC=1 is no answer.  The try
# failed; with no other forwarder the client gets SERVFAIL that says why
# (RFC 8914 EDE 23), never an empty, cacheable NOERROR.
out=$(dq tctc.u.test/A)
check_eq "TC=1 over UDP and over TCP, one forwarder: SERVFAIL, no answer" \
    "SERVFAIL -" "$(dq_field rcode "$out") $(dq_answer "$out")"
check_eq "TC=1 over TCP: EDE 23 (Network Error)" 23 "$(dq_field ede "$out")"
check_range "TC=1 over TCP: the forwarder was asked over TCP" 1 10 \
    "$(grep -c '^tcp .* qname=tctc\.u\.test\. qtype=A ' "$FAKEUP_LOG")"
out=$(dq tctc.u.test/A/noedns)
check_eq "TC=1 over TCP, client without EDNS: plain SERVFAIL, no OPT" \
    "SERVFAIL 0 -" \
    "$(dq_field rcode "$out") $(dq_field edns "$out") $(dq_field ede "$out")"
out=$(dig_at "$P2_PORT" tctc.u.test A)
check_match "TC=1 over TCP: the EDE text names the forwarder" \
    "^; EDE: 23 \\(Network Error\\): \\(forwarder 127\\.0\\.0\\.1@${FAKE_PORT}[ )]" \
    "$out"
# Both legs of an AAAA query: SERVFAIL, nothing synthesized.
out=$(dq tctc6.u.test/AAAA)
check_eq "TC=1 over TCP on the AAAA and A legs: SERVFAIL, no answer" \
    "SERVFAIL -" "$(dq_field rcode "$out") $(dq_answer "$out")"
check_eq "TC=1 over TCP on both legs: EDE 23" 23 "$(dq_field ede "$out")"

# The AAAA leg alone, synthesize-on-error no: its failure is the answer,
# not a NODATA to synthesize from.
printf 'synthesize-on-error no\n' >"$TEST_TMP/nosyn.conf"
start_proxy -f "$TEST_TMP/nosyn.conf" -u "127.0.0.1@$FAKE_PORT" \
    -p "$PREFIX/96" -v
out=$(dq tcaaaa.u.test/AAAA)
check_eq "TC=1 over TCP on the AAAA leg, synthesize-on-error no: SERVFAIL, not synthesized" \
    "SERVFAIL -" "$(dq_field rcode "$out") $(dq_answer "$out")"
check_no_a_leg "TC=1 over TCP on the AAAA leg, synthesize-on-error no: no A leg" \
    "$(fakeup_legs tcaaaa.u.test. A)"
stop_proxy

# A second forwarder that answers: its answer.
cat >"$TEST_TMP/good.rules" <<'EOF'
match tctc.u.test. A
  answer tctc.u.test. 60 IN A 192.0.2.25
end
match tctc6.u.test. AAAA
  authority u.test. 60 IN SOA ns.u.test. host.u.test. 1 3600 900 604800 300
end
match tctc6.u.test. A
  answer tctc6.u.test. 60 IN A 192.0.2.26
end
EOF
BAD_LOG=$FAKEUP_LOG
start_fakeup "$TEST_TMP/good.rules"
printf 'forwarder-selection ordered\n' >"$TEST_TMP/ordered.conf"
start_proxy -f "$TEST_TMP/ordered.conf" -u "127.0.0.1@$FAKE_PORT" \
    -u "127.0.0.1@$FAKEUP_PORT" -p "$PREFIX/96" -v
n0=$(grep -c '^tcp .* qname=tctc\.u\.test\. qtype=A ' "$BAD_LOG")
out=$(dq tctc.u.test/A)
check_eq "TC=1 over TCP from the first forwarder: the second one's answer" \
    "NOERROR tctc.u.test. 60 A 192.0.2.25" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"
check_eq "... after the first one was asked over TCP" 1 \
    $(( $(grep -c '^tcp .* qname=tctc\.u\.test\. qtype=A ' "$BAD_LOG") - n0 ))
out=$(dq tctc6.u.test/AAAA)
check_eq "TC=1 over TCP on both legs from the first forwarder: synthesized from the second" \
    "NOERROR tctc6.u.test. 60 AAAA ${PREFIX}c000:21a" \
    "$(dq_field rcode "$out") $(dq_answer "$out")"

finish
