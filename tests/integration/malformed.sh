#!/bin/bash
#
# malformed.sh - queries the proxy must refuse to process (RFC 1035 4.1.1,
# RFC 6891 6.1.1 and 7): dropped when even the header is unusable, NOTIMP
# for other opcodes and zone transfers, FORMERR for everything else that is
# wrong, and no crash, whatever arrives.  Messages are sent as raw bytes
# by tests/dnsq (raw:HEX).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq

# hdr ID FLAGS QD AN NS AR: a DNS header in hex (numbers in decimal or 0x).
hdr() {
	printf '%04x%04x%04x%04x%04x%04x' "$1" "$2" "$3" "$4" "$5" "$6"
}

# name_hex NAME: NAME in uncompressed wire form, hex.
name_hex() {
	local l out=
	local -a labels
	IFS=. read -ra labels <<<"${1%.}"
	for l in "${labels[@]}"; do
		out+=$(printf '%02x' "${#l}")
		out+=$(printf '%s' "$l" | od -An -tx1 -v | tr -d ' \n')
	done
	echo "${out}00"
}

# Question a-only.t.example A IN, its answer RR (compressed owner), and
# an OPT RR (bufsize 1232, no options).
QA=$(name_hex a-only.t.example)00010001
QB=$(name_hex both.t.example)00010001
RR_A=c00c000100010000012c0004c0000221
OPT=00002904d0000000000000

# check_err DESC TEXT ID RCODE: dnsq output TEXT is one reply, RCODE, with
# ID echoed and QR set.
check_err() {
	local desc=$1 out=$2 id=$3 rcode=$4
	check_eq "$desc: $rcode" "$rcode" "$(dq_field rcode "$out")"
	check_eq "$desc: one reply, ID $id echoed, QR=1" "1 $id qr" \
	    "$(dq_count "$out") $(dq_field id "$out") $(dq_field flags "$out" |
	    grep -o '^qr')"
}

start_unbound
start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p 2001:db8:64::/96 -v

# ---------------------------------------------------- dropped (no reply)
out=$(dq -T 500 raw:12340100000100)
check_eq "RFC 1035 4.1.1: 7-byte message (< header): no reply" \
    "timeout id=4660" "$out"
out=$(dq -T 500 raw:)
check_eq "empty datagram: no reply" "timeout id=-1" "$out"
out=$(dq -T 500 "raw:$(hdr 0x1235 0x8100 1 0 0 0)$QA")
check_eq "RFC 1035 4.1.1: QR=1 (a response) is dropped, never answered" \
    "timeout id=4661" "$out"
check_match "log: the dropped messages are logged as dropped" \
    '^127\.0\.0\.1@[0-9]+ - - dropped' "$(cat "$PROXY_LOG")"

# ------------------------------------------------------------ NOTIMP
# Opcode in bits 11-14 of the flags word.
out=$(dq "raw:$(hdr 0x2001 0x1100 1 0 0 0)$QA")
check_err "RFC 1035 4.1.1: opcode STATUS (2)" "$out" 8193 NOTIMP
check_eq "opcode STATUS: question echoed" "a-only.t.example. A" \
    "$(dq_field qname "$out") $(dq_field qtype "$out")"
out=$(dq "raw:$(hdr 0x2002 0x2000 1 0 0 0)$(name_hex t.example)00060001")
check_err "RFC 1035 4.1.1: opcode NOTIFY (4)" "$out" 8194 NOTIMP
out=$(dq "raw:$(hdr 0x2003 0x2800 1 0 0 0)$(name_hex t.example)00060001")
check_err "RFC 1035 4.1.1: opcode UPDATE (5)" "$out" 8195 NOTIMP
out=$(dq "raw:$(hdr 0x2004 0x7900 1 0 0 0)$QA")
check_err "RFC 1035 4.1.1: opcode 15 (unassigned)" "$out" 8196 NOTIMP
out=$(dq t.example/AXFR/id=8197)
check_err "zone transfer AXFR over UDP" "$out" 8197 NOTIMP
out=$(dq -t t.example/AXFR/id=8198)
check_err "zone transfer AXFR over TCP" "$out" 8198 NOTIMP
out=$(dq t.example/IXFR/id=8199)
check_err "zone transfer IXFR over UDP" "$out" 8199 NOTIMP
# RFC 1995 3: an IXFR query carries the client's SOA in its authority
# section; still a zone transfer (NOTIMP), not a malformed query.
SOA_RR=c00c0006000100000e10001600000000000100000e100000038400093a800000012c
out=$(dq "raw:$(hdr 0x2008 0x0000 1 0 1 0)$(name_hex t.example)00fb0001$SOA_RR")
check_err "zone transfer IXFR with the client's SOA (RFC 1995 3)" "$out" \
    8200 NOTIMP
check_eq "zone transfers: logged as error NOTIMP, none forwarded" \
    "4 0" "$(grep -Ec ' (AXFR|IXFR) error NOTIMPL?$' "$PROXY_LOG") $(grep -Ec \
    ' (AXFR|IXFR) .*upstream' "$PROXY_LOG")"

# ------------------------------------------------------------ FORMERR
out=$(dq "raw:$(hdr 0x3001 0x0100 0 0 0 0)")
check_err "RFC 1035 4.1.1: QDCOUNT=0" "$out" 12289 FORMERR
check_eq "QDCOUNT=0: reply has no question" 0 "$(dq_field qd "$out")"
out=$(dq "raw:$(hdr 0x3002 0x0100 2 0 0 0)$QA$QB")
check_err "RFC 1035 4.1.1: QDCOUNT=2" "$out" 12290 FORMERR
out=$(dq "raw:$(hdr 0x3003 0x0100 1 1 0 0)$QA$RR_A")
check_err "RFC 1035 4.1.1: ANCOUNT=1 in a query" "$out" 12291 FORMERR
out=$(dq "raw:$(hdr 0x3004 0x0100 1 0 1 0)$QA$RR_A")
check_err "RFC 1035 4.1.1: NSCOUNT=1 in a query" "$out" 12292 FORMERR
out=$(dq "raw:$(hdr 0x3005 0x0300 1 0 0 0)$QA")
check_err "TC=1 in a query" "$out" 12293 FORMERR
long=$(printf 'a%.0s' $(seq 1 64))
out=$(dq "raw:$(hdr 0x3006 0x0100 1 0 0 0)40$(printf '%s' "$long" |
    od -An -tx1 -v | tr -d ' \n')0000010001")
check_err "RFC 1035 2.3.4: label of 64 octets" "$out" 12294 FORMERR
name=
for i in $(seq 1 5); do
	name+=3f$(printf 'b%.0s' $(seq 1 63) | od -An -tx1 -v | tr -d ' \n')
done
out=$(dq "raw:$(hdr 0x3007 0x0100 1 0 0 0)${name}0000010001")
check_err "RFC 1035 2.3.4: name of 320 octets (> 255)" "$out" 12295 FORMERR
out=$(dq "raw:$(hdr 0x3008 0x0100 1 0 0 0)c00c00010001")
check_err "RFC 1035 4.1.4: compression pointer to itself" "$out" 12296 FORMERR
out=$(dq "raw:$(hdr 0x3009 0x0100 1 0 0 0)c00ec00c0001")
check_err "RFC 1035 4.1.4: two pointers in a loop" "$out" 12297 FORMERR
out=$(dq "raw:$(hdr 0x300a 0x0100 1 0 0 0)c0ff00010001")
check_err "RFC 1035 4.1.4: pointer past the end" "$out" 12298 FORMERR
out=$(dq "raw:$(hdr 0x300b 0x0100 1 0 0 0)06612d6f6e6c79")
check_err "question truncated inside the name" "$out" 12299 FORMERR
out=$(dq "raw:$(hdr 0x300c 0x0100 1 0 0 0)$(name_hex a-only.t.example)0001")
check_err "question truncated: no QCLASS" "$out" 12300 FORMERR
out=$(dq "raw:$(hdr 0x300d 0x0100 1 0 0 1)$QA")
check_err "ARCOUNT=1 with no record" "$out" 12301 FORMERR
out=$(dq "raw:$(hdr 0x300e 0x0100 1 0 0 0)$(name_hex a-only.t.example)00290001")
check_err "qtype OPT (41) in the question" "$out" 12302 FORMERR
out=$(dq "raw:$(hdr 0x300f 0x0100 1 0 0 2)$QA$OPT$OPT")
check_err "RFC 6891 6.1.1: two OPT RRs" "$out" 12303 FORMERR
# OPT RDLEN 4 holding an option header that claims 16 bytes of data.
out=$(dq "raw:$(hdr 0x3010 0x0100 1 0 0 1)${QA}00002904d000000000$(
    )0004000a0010")
check_err "RFC 6891 7: option length beyond RDLEN" "$out" 12304 FORMERR
check_eq "RFC 6891 7: FORMERR for a malformed OPT carries an OPT" 1 \
    "$(dq_field edns "$out")"
# Sanity: the same OPT well formed is answered.
out=$(dq "raw:$(hdr 0x3011 0x0100 1 0 0 1)${QA}00002904d000000000$(
    )0004000a0000")
check_eq "well-formed OPT with an empty option: NOERROR" NOERROR \
    "$(dq_field rcode "$out")"

# ---------------------------------------- which error wins, and its reply
# dnsmsg_parse_query checks in a fixed order: the opcode (NOTIMP), then the
# header counts, TC and the parse (FORMERR), the OPT RRs (FORMERR), the
# EDNS version (BADVERS), the question type (FORMERR for OPT, NOTIMP for
# zone transfers).  A query with two faults gets the error of the first.
# None of these goes upstream.
OPT_V1=00002904d0000100000000	# OPT, bufsize 1232, version 1
AXFR_Q=$(name_hex t.example)00fc0001
ups0=$(count_matches "$PROXY_LOG" ' upstream ')
out=$(dq "raw:$(hdr 0x6001 0x1000 0 0 0 0)")
check_err "opcode STATUS and QDCOUNT=0: the opcode first" "$out" 24577 NOTIMP
out=$(dq "raw:$(hdr 0x6002 0x0100 1 0 0 1)$QA$OPT_V1")
check_err "RFC 6891 6.1.3: EDNS version 1" "$out" 24578 BADVERS
check_eq "RFC 6891 6.1.3: BADVERS carries an OPT of version 0, question echoed" \
    "1 0 a-only.t.example. A" "$(dq_field edns "$out") $(dq_field ednsver \
    "$out") $(dq_field qname "$out") $(dq_field qtype "$out")"
out=$(dq "raw:$(hdr 0x6003 0x0000 1 0 0 1)$AXFR_Q$OPT_V1")
check_err "EDNS version 1 with AXFR: the version before the zone transfer" \
    "$out" 24579 BADVERS
out=$(dq "raw:$(hdr 0x6004 0x0100 1 0 0 1)$(name_hex a-only.t.example)00290001$OPT_V1")
check_err "EDNS version 1 with qtype OPT: the version before the type" \
    "$out" 24580 BADVERS
out=$(dq "raw:$(hdr 0x6005 0x0100 1 0 0 2)$QA$OPT$OPT_V1")
check_err "two OPT RRs, one of version 1: two OPTs first" "$out" 24581 FORMERR
out=$(dq "raw:$(hdr 0x6006 0x0100 1 0 0 1)${QA}00002904d000010000$(
    )0004000a0010")
check_err "bad option length with EDNS version 1: the OPT's form first" \
    "$out" 24582 FORMERR
out=$(dq "raw:$(hdr 0x6007 0x0000 1 1 0 0)$AXFR_Q$RR_A")
check_err "AXFR with ANCOUNT=1: the counts before the zone transfer" "$out" \
    24583 FORMERR
out=$(dq "raw:$(hdr 0x6008 0x2300 1 0 0 0)$QA")
check_err "opcode NOTIFY with TC=1: the opcode first" "$out" 24584 NOTIMP
# The error reply: RD and CD copied, RA set, an OPT iff the query had one.
out=$(dq "raw:$(hdr 0x6009 0x0110 2 0 0 0)$QA$QB")
check_err "QDCOUNT=2 with RD and CD" "$out" 24585 FORMERR
check_eq "FORMERR reply: RD and CD copied, RA set, no OPT (the query had none)" \
    "qr,rd,ra,cd 0" "$(dq_field flags "$out") $(dq_field edns "$out")"
out=$(dq "raw:$(hdr 0x600a 0x0000 2 0 0 1)$QA$QB$OPT")
check_err "QDCOUNT=2 with an OPT, RD=0" "$out" 24586 FORMERR
check_eq "FORMERR reply: RD=0 copied, RA set, an OPT (the query had one)" \
    "qr,ra 1" "$(dq_field flags "$out") $(dq_field edns "$out")"
check_eq "none of the malformed queries went upstream" "$ups0" \
    "$(count_matches "$PROXY_LOG" ' upstream ')"

# Over TCP, an error reply does not end the connection.
out=$(dq -t -T 1500 "raw:$(hdr 0x4001 0x0100 2 0 0 0)$QA$QB" \
    "raw:$(hdr 0x4002 0x8100 1 0 0 0)$QA" a-only.t.example/A/id=16387)
check_match "tcp: QDCOUNT=2 -> FORMERR" '^id=16385 rcode=FORMERR ' "$out"
check_match "tcp: QR=1 -> dropped" '^timeout id=16386$' "$out"
check_match "tcp: next query on the same connection answered" \
    '^id=16387 rcode=NOERROR .* answer=a-only\.t\.example\. 300 A 192\.0\.2\.33$' \
    "$out"
# A frame shorter than a header: no reply (the proxy may close).
out=$(dq -t -T 1000 raw:1234 2>&1)
check_eq "tcp: 2-byte message: no reply" 0 "$(dq_count "$out")"

# --------------------------------------------------- still alive after
check_true "proxy still running after the malformed queries" \
    kill -0 "$PROXY_PID"
out=$(dq a-only.t.example/AAAA)
check_eq "normal query answered afterwards" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" \
    "$(printf '%s\n' "$out" | sed -n 's/.* answer=//p')"

# ------------------------------------------------------------- garbage
# 2000 datagrams: random bytes, random bytes behind a plausible query
# header, and valid queries with one random byte changed.  All of it comes
# from one seed, printed, so that a failure can be replayed: the bytes from
# awk's srand(seed), lengths and positions from bash's RANDOM=seed.  Rerun
# with GARBAGE_SEED=N to send the same datagrams; when a check here fails
# the datagrams (one raw:HEX per line, in sending order) are kept in
# $TEST_TMP/garbage.in (KEEP_TMP=1 is set).
seed=${GARBAGE_SEED:-$((RANDOM * 32768 + RANDOM))}
note "garbage seed $seed (replay: GARBAGE_SEED=$seed)"
rand=$(awk -v seed="$seed" 'BEGIN {
	srand(seed)
	for (i = 0; i < 200000; i++)
		printf "%02x", int(rand() * 256)
}')
RANDOM=$seed
valid=$(hdr 0x5000 0x0100 1 0 0 1)$QA$OPT
vlen=${#valid}
args=()
off=0
for i in $(seq 1 2000); do
	len=$(( (RANDOM % 80 + 1) * 2 ))
	case $((i % 3)) in
	0)	args+=("raw:${rand:off:len}") ;;
	1)	args+=("raw:${rand:off:4}0100000100000000000${RANDOM:0:1}${rand:off+4:len}") ;;
	2)	pos=$(( (RANDOM % (vlen / 2)) * 2 ))
		args+=("raw:${valid:0:pos}${rand:off:2}${valid:pos+2}") ;;
	esac
	off=$(( (off + len + 4) % (${#rand} - 200) ))
done
printf '%s\n' "${args[@]}" >"$TEST_TMP/garbage.in"
note "garbage: $(sort -u "$TEST_TMP/garbage.in" | wc -l) distinct datagrams, sha1 $(sha1sum <"$TEST_TMP/garbage.in" | cut -c1-12)"
t0=$(now_ms)
dq -T 500 "${args[@]}" >"$TEST_TMP/garbage.out" 2>&1
t1=$(now_ms)
note "2000 garbage datagrams: $(grep -c '^id=' "$TEST_TMP/garbage.out") replies, $((t1 - t0)) ms"
alive=no
kill -0 "$PROXY_PID" 2>/dev/null && alive=yes
out=$(dq a-only.t.example/A/id=999)
answered="$(dq_field id "$out") $(dq_field rcode "$out")"
alarm=$(tr '[:upper:]' '[:lower:]' <"$PROXY_LOG" |
    grep -E 'segmentation|abort|assert|double free|corrupt|out of memory')
if [ "$alive $answered" != "yes 999 NOERROR" ] || [ -n "$alarm" ]; then
	KEEP_TMP=1
	note "garbage seed $seed failed; its datagrams: $TEST_TMP/garbage.in" \
	    "(kept), replies: $TEST_TMP/garbage.out"
fi
check_eq "2000 garbage datagrams (seed $seed): proxy still running" yes \
    "$alive"
check_eq "2000 garbage datagrams (seed $seed): normal query still answered" \
    "999 NOERROR" "$answered"
check_eq "log: no crash, abort or memory error (seed $seed)" "" "$alarm"
rc=0
stop_proxy || rc=$?
check_eq "proxy exits 0 on SIGTERM after all this" 0 "$rc"
finish
