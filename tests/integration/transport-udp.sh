#!/bin/bash
#
# transport-udp.sh - the proxy's UDP transport towards clients: where replies
# come from, what is echoed from the query, truncation and EDNS sizes, and
# the TC=1 upstream fallback to TCP.  Real unbound for the zone data, fakeup
# for upstream behaviour unbound cannot produce.  Client: tests/dnsq.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

DNSQ=$top_builddir/tests/dnsq
[ -x "$DNSQ" ] || bail "$DNSQ not built (make check builds it)"
PREFIX=2001:db8:64::

# dq ARGS...: tests/dnsq at the last proxy, 127.0.0.1 unless ARGS has -s.
dq() {
	"$DNSQ" -s 127.0.0.1 -p "$PROXY_PORT" "$@"
}

# fld KEY TEXT: value of KEY=... in the first reply line of dnsq output.
fld() {
	printf '%s\n' "$2" | grep -m 1 '^id=' | tr ' ' '\n' |
	    sed -n "s/^$1=//p" | head -n 1
}

# ans TEXT: the answer= field (RRs separated by ';') of the first reply line.
ans() {
	printf '%s\n' "$1" | grep -m 1 '^id=' | sed -n 's/.* answer=//p'
}

# nrep TEXT: number of reply lines.
nrep() {
	printf '%s\n' "$1" | grep -c '^id='
}

# has_f FLAG TEXT: the first reply's flags include FLAG.
has_f() {
	case ",$(fld flags "$2")," in
	*",$1,"*)	return 0 ;;
	esac
	return 1
}

start_unbound

# --------------------------------------------------------- fakeup rules
rules=$TEST_TMP/udp.rules
cat >"$rules" <<'EOF'
# Upstream TC=1: the proxy must ask again over TCP (RFC 2181 9).
match tc.u.test. A
  transport udp
  flags tc ra
end
match tc.u.test. A
  transport tcp
  answer tc.u.test. 60 IN A 192.0.2.20
  answer tc.u.test. 60 IN A 192.0.2.21
end
# The same on the A leg of a synthesized AAAA.
match tc6.u.test. AAAA
  authority u.test. 60 IN SOA ns.u.test. host.u.test. 1 3600 900 604800 300
end
match tc6.u.test. A
  transport udp
  flags tc ra
end
match tc6.u.test. A
  transport tcp
  answer tc6.u.test. 60 IN A 192.0.2.22
end
EOF
{
	# TCP answer too big for a 512-byte client (40 A, ~700 bytes).
	printf 'match tcbig.u.test. A\n  transport udp\n  flags tc ra\nend\n'
	printf 'match tcbig.u.test. A\n  transport tcp\n'
	for i in $(seq 1 40); do
		printf '  answer tcbig.u.test. 60 IN A 198.51.100.%d\n' "$i"
	done
	printf 'end\n'
	# Small answer, 30 glue-like additional records (~500 bytes of them).
	printf 'match glue.u.test. A\n'
	printf '  answer glue.u.test. 60 IN A 192.0.2.30\n'
	for i in $(seq 1 30); do
		printf '  additional ns%d.u.test. 60 IN A 198.51.100.%d\n' \
		    "$i" "$i"
	done
	printf 'end\n'
	# 10 A records: ~200 bytes, more than 100, less than 512.
	printf 'match mid.u.test. A\n'
	for i in $(seq 1 10); do
		printf '  answer mid.u.test. 60 IN A 198.51.100.%d\n' "$i"
	done
	printf 'end\n'
} >>"$rules"
start_fakeup "$rules"

# P1: unbound upstream, a Network-Specific Prefix so documentation
# addresses are mapped.
start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PREFIX/96" -v
P1_PORT=$PROXY_PORT P1_LOG=$PROXY_LOG

# ------------------------------------------------- basic answers, echoes
out=$(dq A-OnLy.T.Example/A/id=4242)
rc=$?
check_eq "udp 127.0.0.1: exit status 0 (a reply came)" 0 "$rc"
check_eq "udp 127.0.0.1: one reply" 1 "$(nrep "$out")"
check_eq "udp 127.0.0.1: NOERROR" NOERROR "$(fld rcode "$out")"
check_eq "udp 127.0.0.1: answer (a-only A)" "a-only.t.example. 300 a 192.0.2.33" \
    "$(ans "$out" | tr 'A-Z' 'a-z')"
check_nomatch "udp 127.0.0.1: reply from the address and port queried" \
    '^unexpected-source' "$out"
check_eq "RFC 1035 4.1.1: client's ID echoed (4242)" 4242 "$(fld id "$out")"
check_eq "RFC 1035 4.1.1: question echoed with its exact case" \
    "A-OnLy.T.Example." "$(fld qname "$out")"
check_eq "RFC 1035 4.1.1: qtype echoed" A "$(fld qtype "$out")"
check_eq "RFC 1035 4.1.1: QR set, RD copied (1)" "qr,aa,rd,ra" \
    "$(fld flags "$out")"
check_match "log line: client, name, type, passed, upstream" \
    "^127\\.0\\.0\\.1@[0-9]+ A-OnLy\\.T\\.Example\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$UNBOUND_PORT\$" \
    "$(cat "$P1_LOG")"

for id in 0 65535; do
	out=$(dq a-only.t.example/A/id=$id)
	check_eq "RFC 1035 4.1.1: ID $id echoed" "$id" "$(fld id "$out")"
done

# Synthesized answers echo the question too (RFC 6147 5.4).
out=$(dq A-OnLy.T.Example/AAAA/id=777)
check_eq "RFC 6147 5.4: synthesized: ID echoed" 777 "$(fld id "$out")"
check_eq "RFC 6147 5.4: synthesized: question with its case" \
    "A-OnLy.T.Example." "$(fld qname "$out")"
check_eq "RFC 6147 5.4: synthesized: answer in the prefix" \
    "a-only.t.example. 300 aaaa ${PREFIX}c000:221" \
    "$(ans "$out" | tr 'A-Z' 'a-z')"
check_true "RFC 6147 5.4: synthesized: RD copied" has_f rd "$out"

# RD=0 comes back as RD=0 (RFC 1035 4.1.1), also on an error reply.
out=$(dq a-only.t.example/A/nord,id=100)
check_eq "RFC 1035 4.1.1: RD=0 query: NOERROR" NOERROR "$(fld rcode "$out")"
check_false "RFC 1035 4.1.1: RD=0 query: RD=0 in the reply" has_f rd "$out"
check_true "RFC 1035 4.1.1: RD=0 query: QR set" has_f qr "$out"
out=$(dq a-only.t.example/A/nord,ednsver=1)
check_eq "RD=0 error reply (BADVERS): rcode" BADVERS "$(fld rcode "$out")"
check_false "RD=0 error reply (BADVERS): RD=0" has_f rd "$out"
out=$(dq a-only.t.example/A/cd)
check_true "CD=1 query: CD=1 in the reply" has_f cd "$out"

# Several queries from one socket: each answered, to the same port.
out=$(dq a-only.t.example/A/id=1 both.t.example/AAAA/id=2 \
    aaaa-only.t.example/AAAA/id=3 a-multi.t.example/AAAA/id=4)
check_eq "4 queries from one socket: 4 replies" 4 "$(nrep "$out")"
check_eq "4 queries from one socket: IDs" "1 2 3 4" \
    "$(printf '%s\n' "$out" | sed -n 's/^id=\([0-9]*\) .*/\1/p' |
    sort -n | tr '\n' ' ' | sed 's/ $//')"
check_nomatch "4 queries: every reply from the queried address/port" \
    '^unexpected-source|^timeout' "$out"

if have_ipv6; then
	out=$(dq -s ::1 A-OnLy.T.Example/A/id=4343)
	check_eq "udp ::1: reply" 1 "$(nrep "$out")"
	check_nomatch "udp ::1: reply from ::1 and the port queried" \
	    '^unexpected-source' "$out"
	check_eq "udp ::1: ID and question echoed" "4343 A-OnLy.T.Example." \
	    "$(fld id "$out") $(fld qname "$out")"
	check_eq "udp ::1: answer" "a-only.t.example. 300 a 192.0.2.33" \
	    "$(ans "$out" | tr 'A-Z' 'a-z')"
	out=$(dq -s ::1 a-only.t.example/AAAA)
	check_eq "udp ::1: synthesized AAAA" \
	    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(ans "$out")"
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
	local bin=$top_builddir/src/dns64proxy log=$TEST_TMP/wild.log
	timeout 20 unshare -n bash -c '
		ip link set lo up || exit 3
		v6=yes
		ip -6 addr add fd00:53::2/128 dev lo nodad 2>/dev/null ||
		    v6=no
		listen="-l 0.0.0.0@5353"
		[ $v6 = yes ] && listen="$listen -l ::@5353"
		"$1" -d -f /dev/null $listen -u 127.0.0.1@9 -v \
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
	' wildcard "$bin" "$log" "$DNSQ" 2>&1
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
check_true "RFC 1035 4.2.1: big A without EDNS: TC=1" has_f tc "$out"
check_range "RFC 1035 4.2.1: big A without EDNS: size <= 512" 12 512 \
    "$(fld size "$out")"
check_eq "big A without EDNS: no OPT in the reply" 0 "$(fld edns "$out")"
check_eq "big A without EDNS: question kept" "big.t.example. A" \
    "$(fld qname "$out") $(fld qtype "$out")"
out=$(dig_at "$P1_PORT" +noedns +ignore big.t.example A)
check_true "RFC 1035 4.2.1: dig +noedns +ignore sees TC" has_flag tc "$out"
out=$(dig_at "$P1_PORT" +noedns big.t.example A)
check_match "dig retries the truncated answer over TCP" \
    'Truncated, retrying in TCP mode' "$out"
check_eq "over TCP dig gets all 60 A" 60 "$(answer_rrs "$out" | grep -c ' A 198\.51\.100\.')"

# RFC 6891 6.2.5: the requestor's size is the limit (but not below 512).
out=$(dq big.t.example/A/bufsize=4096)
check_false "RFC 6891 6.2.5: big A, bufsize 4096: TC=0" has_f tc "$out"
check_eq "RFC 6891 6.2.5: big A, bufsize 4096: 60 answers" 60 \
    "$(fld an "$out")"
check_range "big A, bufsize 4096: more than 512 bytes over UDP (6891 6.2.6)" \
    513 1232 "$(fld size "$out")"
out=$(dq big.t.example/A/bufsize=512)
check_true "RFC 6891 6.2.5: big A, bufsize 512: TC=1" has_f tc "$out"
check_range "big A, bufsize 512: size <= 512" 12 512 "$(fld size "$out")"
check_eq "RFC 6891 7: truncated reply still has OPT" 1 "$(fld edns "$out")"
out=$(dq big.t.example/A/bufsize=1000)
check_true "big A (~1 kB), bufsize 1000: TC=1" has_f tc "$out"
check_range "big A, bufsize 1000: size <= 1000" 12 1000 "$(fld size "$out")"

# A size below 512 counts as 512 (RFC 6891 6.2.5): ~200 bytes not truncated.
FAKE_PORT=$FAKEUP_PORT
start_proxy -f /dev/null -u "127.0.0.1@$FAKE_PORT" -p "$PREFIX/96" -v
P2_PORT=$PROXY_PORT P2_LOG=$PROXY_LOG
out=$(dq mid.u.test/A/bufsize=100)
check_false "RFC 6891 6.2.5: bufsize 100 treated as 512: TC=0" has_f tc "$out"
check_eq "RFC 6891 6.2.5: bufsize 100: all 10 answers" 10 "$(fld an "$out")"
check_range "bufsize 100: the reply is larger than 100 bytes" 101 512 \
    "$(fld size "$out")"
out=$(dq mid.u.test/A/bufsize=0)
check_false "bufsize 0 treated as 512: TC=0" has_f tc "$out"
check_eq "bufsize 0: all 10 answers" 10 "$(fld an "$out")"

# RFC 2181 9 / 6147 5.4: a synthesized RRset that does not fit sets TC.
PROXY_PORT=$P1_PORT
out=$(dq big.t.example/AAAA/noedns)
check_true "RFC 2181 9: 60 synthesized AAAA without EDNS: TC=1" has_f tc "$out"
check_range "60 synthesized AAAA without EDNS: size <= 512" 12 512 \
    "$(fld size "$out")"
check_eq "60 synthesized AAAA without EDNS: no partial RRset" 0 \
    "$(fld an "$out")"
out=$(dq -t big.t.example/AAAA/noedns)
check_false "60 synthesized AAAA over TCP: TC=0" has_f tc "$out"
check_eq "60 synthesized AAAA over TCP: all 60, in the prefix" 60 \
    "$(ans "$out" | tr ';' '\n' | grep -c "^big\\.t\\.example\\. [0-9]* AAAA ${PREFIX}c633:64")"
# 60 x 28 bytes > 1232: our edns-buffer-size caps a 4096 client.
out=$(dq big.t.example/AAAA/bufsize=4096)
check_true "60 synthesized AAAA (1.7 kB), bufsize 4096 > our 1232: TC=1" \
    has_f tc "$out"
check_range "... size <= 1232 (edns-buffer-size)" 12 1232 "$(fld size "$out")"
check_eq "... OPT kept on the truncated synthesized reply" 1 \
    "$(fld edns "$out")"

cat >"$TEST_TMP/big.conf" <<EOF
edns-buffer-size 4096
EOF
start_proxy -f "$TEST_TMP/big.conf" -u "127.0.0.1@$UNBOUND_PORT" \
    -p "$PREFIX/96"
out=$(dq big.t.example/AAAA/bufsize=4096)
check_false "edns-buffer-size 4096: 1.7 kB synthesized answer fits: TC=0" \
    has_f tc "$out"
check_eq "edns-buffer-size 4096: 60 AAAA over UDP" 60 "$(fld an "$out")"
check_eq "edns-buffer-size 4096: our OPT advertises 4096" 4096 \
    "$(fld bufsize "$out")"
out=$(dq big.t.example/AAAA/bufsize=1232)
check_true "edns-buffer-size 4096, client bufsize 1232: TC=1" has_f tc "$out"

# ---------------------------------------- upstream TC=1 -> TCP (fakeup)
PROXY_PORT=$P2_PORT
out=$(dq tc.u.test/A/noedns,id=501)
check_eq "RFC 2181 9: upstream TC=1: client gets NOERROR" NOERROR \
    "$(fld rcode "$out")"
check_false "RFC 2181 9: upstream TC=1: client's reply has TC=0" has_f tc "$out"
check_eq "RFC 2181 9: upstream TC=1: full answer from the TCP retry" \
    "tc.u.test. 60 A 192.0.2.20;tc.u.test. 60 A 192.0.2.21" "$(ans "$out")"
check_eq "upstream TC=1: fakeup saw one UDP then one TCP query" "udp tcp" \
    "$(grep ' qname=tc\.u\.test\. ' "$FAKEUP_LOG" | cut -d' ' -f1 |
    tr '\n' ' ' | sed 's/ $//')"
check_match "upstream TC=1: log names the TCP upstream" \
    "^127\\.0\\.0\\.1@[0-9]+ tc\\.u\\.test\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$FAKE_PORT/tcp\$" \
    "$(cat "$P2_LOG")"

out=$(dq tc6.u.test/AAAA)
check_eq "upstream TC=1 on the A leg: synthesized from the TCP answer" \
    "tc6.u.test. 60 AAAA ${PREFIX}c000:216" "$(ans "$out")"
check_eq "upstream TC=1 on the A leg: A asked over udp, then tcp" "udp tcp" \
    "$(grep ' qname=tc6\.u\.test\. qtype=A ' "$FAKEUP_LOG" | cut -d' ' -f1 |
    tr '\n' ' ' | sed 's/ $//')"

# The TCP answer does not fit the UDP client: TC=1 (RFC 2181 9).
out=$(dq tcbig.u.test/A/noedns)
check_true "upstream TC, TCP answer (40 A) too big for 512: TC=1" \
    has_f tc "$out"
check_range "... size <= 512" 12 512 "$(fld size "$out")"
out=$(dq tcbig.u.test/A/bufsize=1232)
check_false "upstream TC, TCP answer fits the client's 1232: TC=0" \
    has_f tc "$out"
check_eq "... all 40 A" 40 "$(fld an "$out")"

# RFC 2181 9: additional data that does not fit is dropped without TC.
out=$(dq glue.u.test/A/noedns)
check_false "RFC 2181 9: only the additional does not fit: TC=0" has_f tc "$out"
check_eq "RFC 2181 9: answer kept" "glue.u.test. 60 A 192.0.2.30" \
    "$(ans "$out")"
check_eq "RFC 2181 9: additional section dropped" 0 "$(fld ar "$out")"
check_range "... size <= 512" 12 512 "$(fld size "$out")"
out=$(dq glue.u.test/A/bufsize=4096)
check_eq "additional kept when it fits (30 + OPT)" 31 "$(fld ar "$out")"
check_false "... TC=0" has_f tc "$out"

finish
