#!/bin/bash
#
# make-corpus.sh - regenerate the fuzz seeds and the reconstructed
# regression inputs.
#
#	make check TESTS=		(builds tests/fakeup)
#	tests/fuzz/make-corpus.sh
#
# Needs drill (ldnsutils), unbound and tests/fakeup; sends packets only to
# the fixture unbound and a fakeup on 127.0.0.1 (tests/integration/lib.sh
# starts and stops them).  The output is committed, so that make check
# needs none of these:
#   corpus/fuzz_query/   client queries: drill's (drill -q), each with its
#                        ID set so that the peer address the harness reads
#                        from the first bytes is allowed (ID 7fxx: IPv4
#                        127.x; fd01: IPv6 fd01::/16) or refused (0800,
#                        2001), and queries written byte by byte;
#   corpus/fuzz_reply/   replies of the fixture unbound and of fakeup
#                        (drill -w), and replies written byte by byte;
#                        their IDs choose the client's EDNS, DO, CD and
#                        UDP size in the harness (see fuzz_reply.c);
#   corpus/fuzz_answer/  a client's query and the replies to its AAAA
#                        and A legs, written byte by byte, behind the
#                        option octets fuzz_answer.c reads;
#   crashes/NAME/regress-*  inputs of the bugs fuzzing found: before
#                        this directory existed (commit caa6ca0), and
#                        since (type 0, the CNAME walk).
# The corpus directories are emptied first (unbound may order an RRset
# differently from one run to the next); in crashes/ only the
# regress-* files are rewritten.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=../integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

need_tool drill
FUZZ=$top_srcdir/tests/fuzz
QDIR=$FUZZ/corpus/fuzz_query
RDIR=$FUZZ/corpus/fuzz_reply
QCRASH=$FUZZ/crashes/fuzz_query
RCRASH=$FUZZ/crashes/fuzz_reply
ADIR=$FUZZ/corpus/fuzz_answer
ACRASH=$FUZZ/crashes/fuzz_answer

# ------------------------------------------------------------ wire helpers

# name NAME: NAME (no trailing dot, "" for the root) in wire form, as hex.
name() {
	local l out=""
	local IFS=.
	for l in $1; do
		[ -n "$l" ] && out+=$(printf '%02x' "${#l}")$(printf '%s' "$l" |
		    od -An -tx1 | tr -d ' \n')
	done
	printf '%s00' "$out"
}

u16() { printf '%04x' "$1"; }
u32() { printf '%08x' "$1"; }

# repeat N HEX: HEX N times.
repeat() {
	local i out=""
	for ((i = 0; i < $1; i++)); do
		out+=$2
	done
	printf '%s' "$out"
}

# put FILE HEX...: write the bytes.
put() {
	local f=$1 hex
	shift
	hex=$(printf '%s' "$@")
	mkdir -p "$(dirname "$f")"
	printf '%b' "$(printf '%s' "$hex" | sed 's/../\\x&/g')" >"$f"
	note "$(basename "$f"): $(wc -c <"$f") bytes"
}

# hdr ID FLAGS QD AN NS AR: a header, as hex.
hdr() {
	printf '%s%s%s%s%s%s' "$(u16 "$1")" "$(u16 "$2")" "$(u16 "$3")" \
	    "$(u16 "$4")" "$(u16 "$5")" "$(u16 "$6")"
}

# rr OWNERHEX TYPE CLASS TTL RDATAHEX: an RR, as hex.
rr() {
	printf '%s%s%s%s%s%s' "$1" "$(u16 "$2")" "$(u16 "$3")" "$(u32 "$4")" \
	    "$(u16 $((${#5} / 2)))" "$5"
}

# opt UDPSIZE EXTRCODE VERSION DO RDATAHEX: an OPT RR, as hex.
opt() {
	printf '00%s%s%02x%02x%s%s%s' "$(u16 41)" "$(u16 "$1")" "$2" "$3" \
	    "$([ "$4" = 1 ] && echo 8000 || echo 0000)" \
	    "$(u16 $((${#5} / 2)))" "$5"
}

# option CODE DATAHEX: an EDNS option, as hex.
option() {
	printf '%s%s%s' "$(u16 "$1")" "$(u16 $((${#2} / 2)))" "$2"
}

# drill_hex FILE: the bytes of a packet file written by drill -q or -w.
drill_hex() {
	sed 's/;.*//' "$1" | tr -d ' \t\n'
}

# setid HEX ID: the message with its ID replaced.
setid() {
	printf '%s%s' "$(u16 "$2")" "${1:4}"
}

# ------------------------------------------------------------- the servers

start_unbound

rules=$TEST_TMP/rules
SIG="20300101000000 20200101000000 12345 t.example. AAAA"
cat >"$rules" <<EOF
match signed-a.t.example. A
  flags aa ra ad
  answer signed-a.t.example. 300 IN A 192.0.2.40
  answer signed-a.t.example. 300 IN RRSIG A 8 3 300 $SIG
end
match signed-nodata.t.example. AAAA
  flags aa ra
  authority $SOA_NEG_RR
  authority t.example. 1200 IN RRSIG SOA 8 2 3600 $SIG
  authority signed-nodata.t.example. 1200 IN NSEC z.t.example. A RRSIG NSEC
  authority signed-nodata.t.example. 1200 IN RRSIG NSEC 8 3 1200 $SIG
end
match www.d.t.example. AAAA
  flags ra
  answer d.t.example. 300 IN DNAME x.t.example.
  answer www.d.t.example. 300 IN CNAME www.x.t.example.
  authority $SOA_NEG_RR
end
match www.d.t.example. A
  flags ra
  answer d.t.example. 300 IN DNAME x.t.example.
  answer www.d.t.example. 300 IN CNAME www.x.t.example.
  answer www.x.t.example. 300 IN A 198.51.100.7
  answer www.x.t.example. 300 IN A 1.2.3.4
end
match loop.t.example. AAAA
  answer loop.t.example. 300 IN CNAME loop2.t.example.
  answer loop2.t.example. 300 IN CNAME loop.t.example.
end
match bogus.t.example. AAAA
  rcode SERVFAIL
  ede 6 signature expired
end
match ede.t.example. A
  ede 3 stale answer
  answer ede.t.example. 30 IN A 192.0.2.77
end
match tc.t.example. AAAA
  flags tc ra
end
match msb.t.example. A
  answer msb.t.example. 2147483648 IN A 1.2.3.4
  answer msb.t.example. 60 IN A 5.6.7.8
end
match glue.t.example. A
  flags aa ra
  answer glue.t.example. 300 IN A 1.2.3.4
  authority t.example. 3600 IN NS ns.t.example.
  additional ns.t.example. 3600 IN A 192.0.2.53
  additional ns.t.example. 3600 IN AAAA 2001:db8::53
end
EOF
start_fakeup "$rules"

# reply FILE ID PORT DRILLARGS...: drill's reply, with its ID set.
reply() {
	local f=$1 id=$2 port=$3 hex
	shift 3
	drill -p "$port" -w "$TEST_TMP/w" "$@" @127.0.0.1 >/dev/null 2>&1 ||
	    bail "drill $* @127.0.0.1 -p $port failed"
	hex=$(drill_hex "$TEST_TMP/w")
	rm -f "$TEST_TMP/w"
	[ -n "$hex" ] || bail "drill $*: no reply written"
	put "$RDIR/$f" "$(setid "$hex" "$id")"
}

# query FILE ID DRILLARGS...: drill's query, with its ID set.
query() {
	local f=$1 id=$2 hex
	shift 2
	drill -p "$UNBOUND_PORT" -q "$TEST_TMP/q" "$@" @127.0.0.1 \
	    >/dev/null 2>&1
	hex=$(drill_hex "$TEST_TMP/q")
	rm -f "$TEST_TMP/q"
	[ -n "$hex" ] || bail "drill $*: no query written"
	put "$QDIR/$f" "$(setid "$hex" "$id")"
}

rm -rf "$QDIR" "$RDIR" "$ADIR"
mkdir -p "$QDIR" "$RDIR" "$ADIR" "$QCRASH" "$RCRASH" "$ACRASH"
rm -f "$QCRASH"/regress-* "$RCRASH"/regress-* "$ACRASH"/regress-*

# ------------------------------------------------------------ client queries

WKP_PTR=$(rev6 64:ff9b::c000:221)
NSP_PTR=$(rev6 2001:db8:122:344::c000:221)
query a		0x7f00 www.example.com A
query aaaa-edns	0x7f04 -b 1232 www.example.com AAAA
query aaaa-do	0x7f08 -D -b 4096 a-only.t.example AAAA
query aaaa-cd	0xfd01 -o CD -b 1232 www.example.com AAAA
query aaaa-norec 0x7f0c -o rd a-only.t.example AAAA
query aaaa-case	0x7f10 -b 1232 WwW.ExAmPlE.CoM AAAA
query ptr-wkp	0x7f14 "$WKP_PTR" PTR
query ptr-nsp	0xfd01 -b 1232 "$NSP_PTR" PTR
query ptr-partial 0x7f18 "$(rev6 64:ff9b::c000:221 28)" PTR
query ptr-apex	0x7f78 -b 1232 "$(rev6 64:ff9b:: 24)" SOA
query ptr-ipv4only 0x7f1c 170.0.0.192.in-addr.arpa PTR
query ipv4only	0x7f20 -b 1232 ipv4only.arpa AAAA
query ipv4only-a 0x7f24 ipv4only.arpa A
query ipv4only-soa 0x7f28 IPv4only.Arpa SOA
query ipv4only-sub 0x7f2c foo.ipv4only.arpa AAAA
query any	0x7f30 t.example ANY
query txt-ch	0x7f34 version.bind TXT CH
query root-ns	0x7f38 . NS
query refused	0x0800 www.example.com AAAA
query refused6	0x2001 -b 1232 www.example.com AAAA
query axfr	0x7f3c t.example AXFR
query dnskey-do	0x7f40 -D t.example DNSKEY

q=$(name www.example.com)$(u16 28)$(u16 1)
# EDNS with options: NSID, a client cookie, padding.
options=$(option 3 "")$(option 10 0102030405060708)$(option 12 00000000)
put "$QDIR/edns-options" "$(hdr 0x7f44 0x0100 1 0 0 1)" "$q" \
    "$(opt 1232 0 0 1 "$options")"
put "$QDIR/edns-v1" "$(hdr 0x7f48 0x0100 1 0 0 1)" "$q" \
    "$(opt 1232 0 1 0 "")"
put "$QDIR/edns-small" "$(hdr 0x7f4c 0x0100 1 0 0 1)" "$q" \
    "$(opt 100 0 0 0 "")"
put "$QDIR/opt-badlen" "$(hdr 0x7f50 0x0100 1 0 0 1)" "$q" \
    "$(opt 1232 0 0 0 "000a0010")"
# An additional A whose owner points at the question name.
put "$QDIR/compressed" "$(hdr 0x7f54 0x0100 1 0 0 2)" "$q" \
    "$(rr c00c 1 1 300 c0000201)" "$(opt 1232 0 0 0 "")"
put "$QDIR/ptr-loop" "$(hdr 0x7f58 0x0100 1 0 0 0)" "c00c" "$(u16 28)$(u16 1)"
put "$QDIR/two-questions" "$(hdr 0x7f5c 0x0100 2 0 0 0)" "$q" "$q"
put "$QDIR/tc" "$(hdr 0x7f60 0x0300 1 0 0 0)" "$q"
put "$QDIR/notify" "$(hdr 0x7f64 0x2100 1 0 0 0)" "$q"
put "$QDIR/header-only" "$(hdr 0x7f68 0x0100 0 0 0 0)"
soa=$(name ns.t.example)$(name hostmaster.t.example)
soa+=$(u32 1)$(u32 3600)$(u32 900)$(u32 604800)$(u32 1200)
put "$QDIR/ixfr-soa" "$(hdr 0x7f6c 0x0000 1 0 1 0)" \
    "$(name t.example)$(u16 251)$(u16 1)" "$(rr c00c 6 1 3600 "$soa")"
# A 255-octet name: three labels of 63 octets and one of 61.
put "$QDIR/long-name" "$(hdr 0x7f70 0x0100 1 0 0 0)" \
    "$(repeat 3 "3f$(repeat 63 61)")3d$(repeat 61 62)00" "$(u16 28)$(u16 1)"
# RFC 8945: a TSIG, as the last RR (empty MAC).
put "$QDIR/tsig-last" "$(hdr 0x7f74 0x0100 1 0 0 2)" "$q" \
    "$(opt 1232 0 0 0 "")" \
    "$(rr "$(name key)" 250 255 0 "$(name hmac-sha256)$(repeat 17 00)")"

# ----------------------------------------------------------- upstream replies

U=$UNBOUND_PORT
F=$FAKEUP_PORT
reply a-only		0x0000 "$U" a-only.t.example A
reply a-only-nodata	0x0001 "$U" -b 1232 a-only.t.example AAAA
reply a-multi		0x0009 "$U" -b 1232 a-multi.t.example A
reply aaaa-only		0x0003 "$U" -D -b 1232 aaaa-only.t.example AAAA
reply mapped-only	0x0001 "$U" -b 1232 mapped-only.t.example AAAA
reply mapped-mixed	0x0011 "$U" -b 1232 mapped-mixed.t.example AAAA
reply cname-chain-aaaa	0x0001 "$U" -b 1232 cname-chain.t.example AAAA
reply cname-chain-a	0x0019 "$U" -b 1232 cname-chain.t.example A
reply cname-nx		0x0004 "$U" cname-nx.t.example AAAA
reply nxdomain		0x0001 "$U" -b 1232 nonexistent.t.example AAAA
reply case		0x0001 "$U" -b 1232 A-OnLy.T.ExAmPlE A
reply private		0x0000 "$U" private.t.example A
reply global-private	0x0001 "$U" -b 1232 global-private.t.example A
reply ttl		0x0001 "$U" -b 1232 ttl-500.t.example A
reply big-udp-tc	0x0000 "$U" big.t.example A
reply big-tcp		0x0019 "$U" -t -b 4096 big.t.example A
reply ptr		0x0001 "$U" -b 1232 33.2.0.192.in-addr.arpa PTR
reply ptr-nx		0x0000 "$U" 99.2.0.192.in-addr.arpa PTR
reply soa		0x0001 "$U" -b 1232 t.example SOA
reply signed-a		0x0003 "$F" -D -b 1232 signed-a.t.example A
reply signed-nodata	0x0003 "$F" -D -b 1232 signed-nodata.t.example AAAA
reply dname-aaaa	0x0001 "$F" -b 1232 www.d.t.example AAAA
reply dname-a		0x0009 "$F" -b 1232 www.d.t.example A
reply cname-loop	0x0001 "$F" -b 1232 loop.t.example AAAA
reply ede-servfail	0x0001 "$F" -b 1232 bogus.t.example AAAA
reply ede-answer	0x0005 "$F" -b 1232 ede.t.example A
reply tc		0x0000 "$F" tc.t.example AAAA
reply ttl-msb		0x0001 "$F" -b 1232 msb.t.example A
reply glue		0x0001 "$F" -b 1232 glue.t.example A

rq=$(name www.example.com)$(u16 28)$(u16 1)
# An upstream BADVERS (extended RCODE 1): SERVFAIL to the client.
put "$RDIR/badvers" "$(hdr 0x0001 0x8180 1 0 0 1)" "$rq" \
    "$(opt 1232 1 0 0 "")"
# A compression pointer to itself in the answer.
put "$RDIR/ptr-loop" "$(hdr 0x0001 0x8180 1 1 0 0)" "$rq" \
    "$(rr c01d 28 1 300 20010db8000000000000000000000001)"
# A TSIG as the last RR, but in the authority section: refused (ldns
# would keep it there as a plain RR, and we would relay it).
put "$RDIR/tsig-authority" "$(hdr 0x0001 0x8180 1 0 1 0)" "$rq" \
    "$(rr "$(name key)" 250 255 0 "$(name hmac-sha256)$(repeat 17 00)")"
# RFC 8945: a TSIG as the last RR, after the OPT.
put "$RDIR/tsig-last" "$(hdr 0x0001 0x8180 1 1 0 2)" "$rq" \
    "$(rr c00c 1 1 300 01020304)" "$(opt 1232 0 0 0 "")" \
    "$(rr "$(name key)" 250 255 0 "$(name hmac-sha256)$(repeat 17 00)")"

# -------------------------------------------------- regression inputs
#
# commit caa6ca0 "dnsmsg: refuse what ldns misreads; bound relayed EDE and
# every reply", found by fuzzing: each input here must be refused, or
# answered within its limits.

# ldns counts OPT RRs in 8 bits: 256 of them looked like none.
put "$QCRASH/regress-256-opt" "$(hdr 0x7f00 0x0100 1 0 0 256)" "$q" \
    "$(repeat 256 "$(opt 4096 0 0 0 "")")"
put "$RCRASH/regress-256-opt" "$(hdr 0x0001 0x8180 1 1 0 256)" "$rq" \
    "$(rr c00c 28 1 300 20010db8000000000000000000000001)" \
    "$(repeat 256 "$(opt 4096 0 0 0 "")")"
# ldns leaks every TSIG RR after the first (RFC 8945 4.2: one, last).
tsig=$(rr "$(name key)" 250 255 0 "$(name hmac-sha256)$(repeat 17 00)")
put "$QCRASH/regress-two-tsig" "$(hdr 0x7f00 0x0100 1 0 0 2)" "$q" \
    "$tsig" "$tsig"
put "$RCRASH/regress-two-tsig" "$(hdr 0x0001 0x8180 1 0 0 3)" "$rq" \
    "$tsig" "$(opt 1232 0 0 0 "")" "$tsig"
# ldns reads 4 or 16 octets and ignores the rest of the RDATA: an IN A
# with RDLENGTH 5 was synthesized from.
put "$RCRASH/regress-a-rdlength-5" "$(hdr 0x0001 0x8180 1 1 0 0)" \
    "$(name www.example.com)$(u16 1)$(u16 1)" "$(rr c00c 1 1 300 0808080863)"
put "$RCRASH/regress-aaaa-rdlength-15" "$(hdr 0x0001 0x8180 1 1 0 0)" "$rq" \
    "$(rr c00c 28 1 300 "20010db8$(repeat 11 00)")"
# Upstream EDE relayed whatever its size: a 1300-octet one took a UDP
# reply over 1232; over TCP, a reply of 65535 octets, most of them EDE,
# grew past 65535 when its A RR became 7 synthetic AAAA, and its length
# field wrapped around.
put "$RCRASH/regress-ede-1300" "$(hdr 0x0019 0x8182 1 0 0 1)" "$rq" \
    "$(opt 4096 0 0 0 "$(option 15 "0018$(repeat 1296 78)")")"
put "$RCRASH/regress-ede-65535" "$(hdr 0x0019 0x8180 1 1 0 1)" "$rq" \
    "$(rr c00c 1 1 300 01020304)" \
    "$(opt 4096 0 0 0 "$(option 15 "0018$(repeat 65469 78)")")"

# Found by tests/fuzz (not in commit caa6ca0): ldns_pkt_query_new() turns
# type 0 into A and class 0 into IN, so such a client query went upstream
# as A/IN and the A records came back under its type 0 question.
put "$QCRASH/regress-qtype-0" "$(hdr 0x7f00 0x0100 1 0 0 0)" \
    "$(name www.example.com)$(u16 0)$(u16 1)"
put "$QCRASH/regress-qclass-0" "$(hdr 0x7f00 0x0100 1 0 0 0)" \
    "$(name www.example.com)$(u16 28)$(u16 0)"
put "$RCRASH/regress-qtype-0" "$(hdr 0x0001 0x8180 1 1 0 0)" \
    "$(name www.example.com)$(u16 0)$(u16 1)" "$(rr c00c 1 1 300 01020304)"
# Found by tests/fuzz: ldns reads an RR's RDATA field by field and goes on
# where the fields end, not where RDLENGTH says, so RRs hidden after an
# RR's fields are what ldns sees, and the RDLENGTH walk of dnsmsg.c does
# not: here two TSIGs in the RDATA of a class CH A (ldns leaked the first,
# whatever the client sent), and an OPT after a SOA's fields (ldns took
# its extended RCODE, DO bit and size for the real OPT's).
tsig0=$(rr 00 250 255 0 00)
# (ldns takes one RR off ARCOUNT for each TSIG it reads, hence 4 RRs.)
put "$QCRASH/regress-hidden-tsig" "$(hdr 0x7f00 0x0100 1 0 0 4)" "$q" \
    "$(rr c00c 1 3 300 "c0000201$tsig0$tsig0")" \
    "$(repeat 2 "$(rr c00c 1 3 300 c0000201)")" "$tsig0"
put "$RCRASH/regress-soa-hides-opt" "$(hdr 0x0001 0x8183 1 0 1 1)" \
    "$(name nonexistent.t.example)$(u16 28)$(u16 1)" \
    "$(rr c018 6 1 1200 "$soa$(opt 512 1 0 1 "")")" "$(opt 1232 0 0 0 "")"

# Found by tests/fuzz: ldns_pkt2str() writes through a NULL pointer when
# it prints an EDNS CHAIN option (RFC 7901, code 13): dns64proxy -vv dumps
# every query (a refused one too) and reply with it (dnsmsg_pkt2str() is
# the safe one).
put "$QCRASH/regress-edns-chain" "$(hdr 0x7f00 0x0100 1 0 0 1)" "$q" \
    "$(opt 1232 0 0 0 "$(option 13 "$(name t.example)")")"
put "$RCRASH/regress-edns-chain" "$(hdr 0x0001 0x8180 1 0 0 1)" "$rq" \
    "$(opt 1232 0 0 0 "$(option 13 00)")"

# Found by tests/fuzz: dns64_chain_end() scanned the whole answer for each
# hop, up to one hop per RR, so 4,600 CNAMEs ending in a loop (a -> b at
# the end, b -> a at the start) cost 10 million name comparisons a call.
# Not a failure without a clock; libFuzzer's -timeout sees it.
put "$RCRASH/regress-cname-loop-4600" "$(hdr 0x0001 0x8180 1 4603 0 0)" \
    "$(name a)$(u16 28)$(u16 1)" \
    "$(rr "$(name b)" 5 1 300 c00c)" \
    "$(rr 017ac013 5 1 300 c013)" \
    "$(repeat 4600 "$(rr c022 5 1 300 c013)")" \
    "$(rr c00c 5 1 300 c013)"

# ------------------------------------------------ answers (fuzz_answer)
#
# Each input: 4 option octets (see fuzz_answer.c: option bits, round-robin
# turn, age of the replayed reply, ID step), then the client's query, the
# reply of the first leg (AAAA, or the forwarded or in-addr.arpa question)
# and the reply of the A leg, each behind its 16-bit length.  The replies'
# questions do not matter: the harness gives each the leg's question.

# Option bits.
A_NOV4ONLY=1 A_V6ONLY=2 A_RR=4 A_NOSOE=8 A_BREAK=16 A_PAR=32 A_TCP=64
A_V6=128

# answer FILE OPTS TURN AGE STEP QUERY LEG1 LEG2: one input (hex parts).
answer() {
	local f=$1
	put "$ADIR/$f" "$(printf '%02x%02x%02x%02x' "$2" "$3" "$4" "$5")" \
	    "$(u16 $((${#6} / 2)))" "$6" "$(u16 $((${#7} / 2)))" "$7" \
	    "$(u16 $((${#8} / 2)))" "$8"
}

# cq NAME TYPE [EDNS [DO [FLAGS]]]: a client query, RD set; with EDNS
# (1 or a UDP size), an OPT.
cq() {
	local size=${3:-0} ar=0 o=""
	[ "$size" = 1 ] && size=1232
	if [ "$size" != 0 ]; then
		ar=1
		o=$(opt "$size" 0 0 "${4:-0}" "")
	fi
	printf '%s%s%s%s%s' "$(hdr 0x4d2e "${5:-0x0100}" 1 0 0 "$ar")" \
	    "$(name "$1")" "$(u16 "$2")" "$(u16 1)" "$o"
}

# rp FLAGS AN NS AR RR...: a reply (its question: the root, type A).
rp() {
	local flags=$1 an=$2 ns=$3 ar=$4
	shift 4
	printf '%s00%s%s' "$(hdr 0x0001 "$flags" 1 "$an" "$ns" "$ar")" \
	    "$(u16 1)$(u16 1)" "$(printf '%s' "$@")"
}

asoa=$(name ns.t.example)$(name hostmaster.t.example)
asoa+=$(u32 1)$(u32 3600)$(u32 900)$(u32 604800)$(u32 1200)
SOARR=$(rr "$(name t.example)" 6 1 3600 "$asoa")
# a NAME HEX [TTL], aaaa NAME HEX [TTL], cname NAME TARGET: RRs.
a() { rr "$(name "$1")" 1 1 "${3:-300}" "$2"; }
aaaa() { rr "$(name "$1")" 28 1 "${3:-300}" "$2"; }
cname() { rr "$(name "$1")" 5 1 300 "$(name "$2")"; }
# sig NAME TYPE: an RRSIG over the RRset of TYPE at NAME.
sig() {
	local rd
	rd=$(u16 "$2")0803$(u32 300)$(u32 1893456000)$(u32 1577836800)
	rd+=$(u16 12345)$(name t.example)$(repeat 32 5a)
	rr "$(name "$1")" 46 1 300 "$rd"
}

W=www.t.example
V4=01020304		# 1.2.3.4, global: the WKP maps it too
V4D=c6336407		# 198.51.100.7, not global: in the /56's destinations
V6=20010db8ffff00000000000000000001
MAPPED=00000000000000000000ffffc0000201	# ::ffff:192.0.2.1, excluded
NODATA=$(rp 0x8180 0 1 0 "$SOARR")
A2=$(rp 0x8180 2 0 0 "$(a $W $V4)" "$(a $W $V4D 120)")

answer a-only		$A_V6 1 5 3 "$(cq $W 28 1)" "$NODATA" "$A2"
answer a-only-v4	0 0 0 0 "$(cq $W 28)" "$NODATA" "$A2"
answer a-only-rr	$((A_V6 | A_RR)) 3 0 2 "$(cq $W 28 4096)" "$NODATA" "$A2"
answer a-only-tcp	$((A_V6 | A_TCP)) 0 200 1 "$(cq $W 28)" "$NODATA" \
    "$(rp 0x8180 40 0 0 "$(repeat 20 "$(a $W $V4)$(a $W $V4D)")")"
answer a-only-udp-tc	$A_V6 0 0 0 "$(cq $W 28 1)" "$NODATA" \
    "$(rp 0x8180 40 0 0 "$(repeat 20 "$(a $W $V4)$(a $W $V4D)")")"
answer a-only-nosoa	0 0 0 0 "$(cq $W 28 1)" "$(rp 0x8180 0 0 0)" "$A2"
answer dual-stack	$A_V6 0 0 0 "$(cq $W 28 1)" \
    "$(rp 0x8180 1 0 0 "$(aaaa $W $V6)")" ""
answer cname-chain	$A_V6 0 1 0 "$(cq cname.t.example 28 1)" \
    "$(rp 0x8180 1 1 0 "$(cname cname.t.example $W)" "$SOARR")" \
    "$(rp 0x8180 1 0 0 "$(a $W $V4 60)")"
answer cname-parallel	$((A_V6 | A_PAR)) 0 0 0 "$(cq cname.t.example 28 1)" \
    "$(rp 0x8180 1 1 0 "$(cname cname.t.example $W)" "$SOARR")" \
    "$(rp 0x8180 2 0 0 "$(cname cname.t.example $W)" "$(a $W $V4)")"
answer cname-parallel-stops $A_PAR 0 0 0 "$(cq cname.t.example 28 1)" \
    "$(rp 0x8180 1 1 0 "$(cname cname.t.example $W)" "$SOARR")" \
    "$(rp 0x8180 1 0 0 "$(cname cname.t.example $W)")"
answer cname-aaaa	0 0 0 0 "$(cq cname.t.example 28 1)" \
    "$(rp 0x8180 2 0 0 "$(cname cname.t.example $W)" "$(aaaa $W $V6)")" ""
answer nxdomain		0 0 0 0 "$(cq nx.t.example 28 1)" \
    "$(rp 0x8183 0 1 0 "$SOARR")" ""
answer cname-nxdomain	0 0 0 0 "$(cq cname.t.example 28 1)" \
    "$(rp 0x8180 1 1 0 "$(cname cname.t.example $W)" "$SOARR")" \
    "$(rp 0x8183 0 1 0 "$SOARR")"
answer nodata		$A_V6 0 0 0 "$(cq $W 28 1)" "$NODATA" "$NODATA"
answer excluded-only	0 0 0 0 "$(cq $W 28 1)" \
    "$(rp 0x8180 1 0 0 "$(aaaa $W $MAPPED)")" "$A2"
answer excluded-mixed	0 0 9 0 "$(cq $W 28 1)" \
    "$(rp 0x8180 2 0 0 "$(aaaa $W $MAPPED)" "$(aaaa $W $V6)")" ""
answer excluded-nodata	0 0 0 0 "$(cq $W 28 1)" \
    "$(rp 0x8180 1 0 0 "$(aaaa $W $MAPPED)")" "$NODATA"
answer exclude-a	$A_V6 0 0 0 "$(cq $W 28 1)" "$NODATA" \
    "$(rp 0x8180 1 0 0 "$(a $W 0a010203)")"
answer signed-a-do	$A_V6 0 0 0 "$(cq $W 28 1 1)" "$NODATA" \
    "$(rp 0x81a0 2 0 0 "$(a $W $V4)" "$(sig $W 1)")"
answer signed-a-break	$((A_V6 | A_BREAK)) 0 0 0 "$(cq $W 28 1 1)" \
    "$NODATA" "$(rp 0x81a0 2 0 0 "$(a $W $V4)" "$(sig $W 1)")"
answer signed-nodata-do	0 0 0 0 "$(cq $W 28 1 1)" \
    "$(rp 0x81a0 0 3 0 "$SOARR" "$(sig t.example 6)" \
    "$(rr "$(name $W)" 47 1 1200 "$(name z.t.example)00060040000000000003")")" \
    "$A2"
answer servfail		0 0 0 0 "$(cq $W 28 1)" "$(rp 0x8182 0 0 0)" "$A2"
answer servfail-ede	0 0 0 0 "$(cq $W 28 1)" \
    "$(rp 0x8182 0 0 1 "$(opt 1232 0 0 0 "$(option 15 "0006")")")" "$A2"
answer servfail-nosoe	$A_NOSOE 0 0 0 "$(cq $W 28 1)" "" ""
answer a-leg-failed	0 0 0 0 "$(cq $W 28 1)" "$NODATA" ""
answer a-leg-servfail	0 0 0 0 "$(cq $W 28 1)" "$NODATA" "$(rp 0x8182 0 0 0)"
answer both-failed	0 0 0 0 "$(cq $W 28 1)" "" ""
answer truncated	0 0 0 0 "$(cq $W 28 1)" "$(rp 0x8380 0 0 0)" "$A2"
# The first reply cut short, behind a length that says more: the AAAA
# leg failed.
aq=$(cq $W 28 1)
ar=$(rp 0x8180 1 0 0 "$(aaaa $W $V6)")
put "$ADIR/truncated-input" 00000000 "$(u16 $((${#aq} / 2)))" "$aq" 0100 \
    "${ar:0:${#ar}-10}"
answer never		0 0 0 0 "$(cq never.t.example 28 1)" "$NODATA" "$A2"
answer always		0 0 0 0 "$(cq always.t.example 28 1)" \
    "$(rp 0x8180 1 0 0 "$(aaaa always.t.example $V6)")" \
    "$(rp 0x8180 1 0 0 "$(a always.t.example $V4)")"
answer cd		0 0 0 0 "$(cq $W 28 1 0 0x0110)" "$NODATA" ""
answer norec		0 0 0 0 "$(cq $W 28 1 0 0x0000)" "$NODATA" ""
answer v6-only-v4	$A_V6ONLY 0 0 0 "$(cq $W 28 1)" "$NODATA" "$A2"
answer forward-a	0 0 0 0 "$(cq $W 1 1)" "$A2" ""
MX=$(rr "$(name $W)" 15 1 300 "000a$(name mx.t.example)")
answer forward-mx	0 0 0 0 "$(cq $W 15)" "$(rp 0x8180 1 0 0 "$MX")" ""
WQ=$(name $W)$(u16 28)$(u16 1)
answer formerr		0 0 0 0 "$(hdr 0x4d2e 0x0100 2 0 0 0)$WQ$WQ" "" ""
answer badvers		0 0 0 0 \
    "$(hdr 0x4d2e 0x0100 1 0 0 1)$WQ$(opt 1232 0 1 0 "")" "" ""

answer ipv4only		$A_V6 0 0 0 "$(cq ipv4only.arpa 28 1)" "" ""
answer ipv4only-a	0 0 0 0 "$(cq IPv4only.Arpa 1)" "" ""
answer ipv4only-soa	0 0 0 0 "$(cq ipv4only.arpa 6 1)" "" ""
answer ipv4only-off	$A_NOV4ONLY 0 0 0 "$(cq ipv4only.arpa 28 1)" "$NODATA" \
    "$(rp 0x8180 1 0 0 "$(a ipv4only.arpa c00000aa)")"
answer ipv4only-ptr	0 0 0 0 "$(cq 170.0.0.192.in-addr.arpa 12)" "" ""
answer ptr-ipv4only	0 0 0 0 "$(cq "$(rev6 64:ff9b::c000:aa)" 12 1)" "" ""
answer reverse-apex	0 0 0 0 "$(cq "$(rev6 64:ff9b:: 24)" 6 1)" "" ""
answer reverse-apex-ns	0 0 0 0 "$(cq "$(rev6 2001:db8:100:: 10)" 2)" "" ""
answer reverse-partial	0 0 0 0 "$(cq "$(rev6 64:ff9b::c000:221 28)" 12 1)" "" ""
PTR=$(rr "$(name 33.2.0.192.in-addr.arpa)" 12 1 86400 "$(name host.t.example)")
SOA4=$(rr "$(name 2.0.192.in-addr.arpa)" 6 1 60 "$asoa")
answer ptr-full		0 0 0 0 "$(cq "$(rev6 64:ff9b::c000:221)" 12 1)" \
    "$(rp 0x8180 1 0 0 "$PTR")" ""
answer ptr-full-nx	$A_V6 0 0 0 \
    "$(cq "$(rev6 2001:db8:122:344::c000:221)" 12 1)" \
    "$(rp 0x8183 0 1 0 "$SOA4")" ""
answer ptr-full-failed	0 0 0 0 "$(cq "$(rev6 64:ff9b::c000:221)" 12 1)" "" ""
answer ptr-full-refused	0 0 0 0 "$(cq "$(rev6 64:ff9b::c000:221)" 12 1)" \
    "$(rp 0x8185 0 0 0)" ""

# Found by tests/fuzz/fuzz_answer: a TSIG RR from the forwarder, last but
# in the authority section, was relayed there with our OPT after it, so
# that the client got a reply we would refuse ourselves.
answer_crash() {
	local f=$1
	shift
	ADIR=$ACRASH answer "$f" "$@"
}
answer_crash regress-tsig-authority 0 0 0 0 "$(cq $W 1 1)" \
    "$(rp 0x8180 1 1 0 "$(a $W $V4)" \
    "$(rr "$(name key)" 250 255 0 "$(name hmac-sha256)$(repeat 16 00)")")" ""
# Found by tests/fuzz/fuzz_answer: a cache entry whose question is the
# root replayed for www.t.example, since the octet where that name would
# end (the high one of the RDLENGTH of the RR after the question) is 0:
# the name went over the stored question's type and class and into the
# RR after it, whose TTL, aged, was then written into the name.
answer_crash regress-entry-other-name 0 0 5 0 "$(cq $W 28 1)" \
    "$(rp 0x8180 0 0 1 "$(rr 00 1 1 300 $V4)")" ""

finish_corpus() {
	local n
	n=$(find "$QDIR" "$RDIR" "$ADIR" -type f | wc -l)
	note "corpus: $n files," \
	    "$(du -cb "$QDIR" "$RDIR" "$ADIR" | tail -n 1 | cut -f1) bytes"
	ok "corpus written"
	finish
}
finish_corpus
