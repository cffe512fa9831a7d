#!/bin/bash
#
# multiprefix.sh - several NAT64 prefixes (RFC 6147 5: separate IPv4
# ranges to separate prefixes; RFC 6147 5.1.7/5.2 pick the prefix per A
# record) and the keywords "prefix", "destinations", "clients" and
# "prefix-selection", against the real unbound fixture.
#
# README "Several prefixes": each prefix can be limited to some clients and
# to some IPv4 destinations; "prefix-selection all" gives one AAAA per A per
# matching prefix, "round-robin" one prefix per response, rotating.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

PA=2001:db8:a::
PB=2001:db8:b::

# sorted LINES: LINES sorted.
sorted() {
	printf '%s\n' "$1" | sort
}

# first_index LIST WORD: 1-based position of the line WORD in LIST (0 if
# absent).
first_index() {
	printf '%s\n' "$1" | awk -v w="$2" '$0 == w { print NR; f = 1; exit }
	    END { if (!f) print 0 }'
}

start_unbound

# ====================================================================
# destinations: separate IPv4 ranges to separate prefixes (6147-01).
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 { destinations { 192.0.2.0/25 } }
prefix ${PB}/96 { destinations { 198.51.100.0/24 } }"

# split: A 192.0.2.10 (prefix A's range) and 198.51.100.10 (prefix B's).
out=$(q split.t.example AAAA)
check_eq "split: NOERROR" NOERROR "$(status_of "$out")"
check_eq "split: exactly ${PA}c000:20a and ${PB}c633:640a (RFC 6147 5)" \
    "$(sorted "${PA}c000:20a
${PB}c633:640a")" "$(sorted "$(aaaa_of "$out")")"
check_eq "split: ANCOUNT 2 (no A, no extra AAAA)" 2 "$(ancount_of "$out")"

# a-only: 192.0.2.33 is in 192.0.2.0/25 only.
out=$(q a-only.t.example AAAA)
check_eq "a-only (192.0.2.33): only prefix A" \
    "a-only.t.example. 300 AAAA ${PA}c000:221" "$(answer_rrs "$out")"

# a-multi: 192.0.2.1 and .2, both in prefix A's range.
out=$(q a-multi.t.example AAAA)
check_eq "a-multi: two AAAA, both with prefix A" \
    "$(sorted "${PA}c000:201
${PA}c000:202")" "$(sorted "$(aaaa_of "$out")")"

# ttl-500: 203.0.113.1 is in neither range: nothing to synthesize, the
# client gets the AAAA NODATA.
out=$(q ttl-500.t.example AAAA)
check_eq "ttl-500 (203.0.113.1, no matching prefix): NOERROR, no answer" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"

# ====================================================================
# prefix-selection all: one AAAA per A per prefix, in config order.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96
prefix ${PB}/96
prefix-selection all"

out=$(q a-only.t.example AAAA)
check_eq "all (A, B): a-only -> ${PA}c000:221 then ${PB}c000:221" \
    "${PA}c000:221
${PB}c000:221" "$(aaaa_of "$out")"

out=$(q a-multi.t.example AAAA)
ans=$(aaaa_of "$out")
check_eq "all (A, B): a-multi -> 4 AAAA, 2 per A record" \
    "$(sorted "${PA}c000:201
${PA}c000:202
${PB}c000:201
${PB}c000:202")" "$(sorted "$ans")"
for v in 201 202; do
	ia=$(first_index "$ans" "${PA}c000:$v")
	ib=$(first_index "$ans" "${PB}c000:$v")
	check_true "all (A, B): a-multi c000:$v: prefix A before prefix B (config order)" \
	    test "$ia" -gt 0 -a "$ia" -lt "$ib"
done

# Same prefixes, the other order in the file: the other order in the
# answer (so the order above is not an accident of sorting).
proxy_conf "$UNBOUND_PORT" "prefix ${PB}/96
prefix ${PA}/96
prefix-selection all"
out=$(q a-only.t.example AAAA)
check_eq "all (B, A): a-only -> ${PB}c000:221 then ${PA}c000:221" \
    "${PB}c000:221
${PA}c000:221" "$(aaaa_of "$out")"

# "all" is the default.
proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96
prefix ${PB}/96"
out=$(q a-only.t.example AAAA)
check_eq "default selection (all): a-only -> both prefixes" \
    "${PA}c000:221
${PB}c000:221" "$(aaaa_of "$out")"

# ====================================================================
# prefix-selection round-robin: one prefix per response, rotating.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96
prefix ${PB}/96
prefix-selection round-robin"

seq_used=""
for i in 1 2 3 4 5 6; do
	out=$(q a-only.t.example AAAA)
	ans=$(aaaa_of "$out")
	check_eq "round-robin query $i: exactly one AAAA" 1 \
	    "$(printf '%s\n' "$ans" | grep -c .)"
	case $ans in
	"${PA}c000:221")	seq_used+=A ;;
	"${PB}c000:221")	seq_used+=B ;;
	*)			seq_used+='?' ;;
	esac
done
check_match "round-robin: prefixes alternate over 6 queries (got $seq_used)" \
    '^(ABABAB|BABABA)$' "$seq_used"
check_eq "round-robin: 3 answers with each prefix" "3 3" \
    "$(tr -cd A <<<"$seq_used" | wc -c) $(tr -cd B <<<"$seq_used" | wc -c)"

# One prefix per response: both A records of a-multi with the same one.
for i in 1 2; do
	out=$(q a-multi.t.example AAAA)
	ans=$(aaaa_of "$out")
	check_match "round-robin a-multi $i: 2 AAAA with one prefix" \
	    "^(${PA}c000:201 ${PA}c000:202|${PB}c000:201 ${PB}c000:202)\$" \
	    "$(sorted "$ans" | tr '\n' ' ' | sed 's/ $//')"
done

# Round-robin only rotates over the prefixes that may be used: never a
# prefix the client may not get, never an empty answer.
PC=2001:db8:c::
proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 { clients { 127.0.0.2 } }
prefix ${PB}/96
prefix ${PC}/96
prefix-selection round-robin"
seq_used=""
for i in 1 2 3 4 5 6; do
	out=$(q -b 127.0.0.3 a-only.t.example AAAA)
	case $(aaaa_of "$out") in
	"${PA}c000:221")	seq_used+=A ;;
	"${PB}c000:221")	seq_used+=B ;;
	"${PC}c000:221")	seq_used+=C ;;
	*)			seq_used+='?' ;;
	esac
done
check_match "round-robin, A only for 127.0.0.2: 127.0.0.3 gets one AAAA with B or C each time (got $seq_used)" \
    '^[BC]{6}$' "$seq_used"
check_match "round-robin, A only for 127.0.0.2: 127.0.0.3 gets both B and C (got $seq_used)" \
    'B.*C|C.*B' "$seq_used"

proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 { destinations { 192.0.2.0/25 } }
prefix ${PB}/96 { destinations { 198.51.100.0/24 } }
prefix-selection round-robin"
for i in 1 2 3; do
	out=$(q a-only.t.example AAAA)
	check_eq "round-robin + destinations, query $i: a-only always with prefix A (the only one that maps it)" \
	    "${PA}c000:221" "$(aaaa_of "$out")"
done

# ====================================================================
# clients: a prefix for some clients only.
# ====================================================================

# A only for 127.0.0.2, B for everybody else.
proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 { clients { 127.0.0.2 } }
prefix ${PB}/96 { clients { !127.0.0.2 any } }"
out=$(q -b 127.0.0.2 a-only.t.example AAAA)
check_eq "clients: 127.0.0.2 -> only its prefix A" "${PA}c000:221" \
    "$(aaaa_of "$out")"
out=$(q -b 127.0.0.3 a-only.t.example AAAA)
check_eq "clients: 127.0.0.3 -> only prefix B" "${PB}c000:221" \
    "$(aaaa_of "$out")"

# A only for 127.0.0.2, B unrestricted.
proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 { clients { 127.0.0.2 } }
prefix ${PB}/96"
out=$(q -b 127.0.0.2 a-only.t.example AAAA)
check_eq "clients, B unrestricted: 127.0.0.2 -> A and B" \
    "${PA}c000:221
${PB}c000:221" "$(aaaa_of "$out")"
out=$(q -b 127.0.0.3 a-only.t.example AAAA)
check_eq "clients, B unrestricted: 127.0.0.3 -> the other prefix only" \
    "${PB}c000:221" "$(aaaa_of "$out")"

# A network as the client list, with the two kinds of limit combined.
proxy_conf "$UNBOUND_PORT" "prefix ${PA}/96 {
	clients { 127.0.0.0/30 }
	destinations { 192.0.2.0/25 }
}
prefix ${PB}/96 { destinations { 198.51.100.0/24 } }"
out=$(q -b 127.0.0.2 split.t.example AAAA)
check_eq "clients 127.0.0.0/30 + destinations: 127.0.0.2 -> both of split" \
    "$(sorted "${PA}c000:20a
${PB}c633:640a")" "$(sorted "$(aaaa_of "$out")")"
out=$(q -b 127.0.0.5 split.t.example AAAA)
check_eq "clients 127.0.0.0/30 + destinations: 127.0.0.5 -> only B's" \
    "${PB}c633:640a" "$(aaaa_of "$out")"
out=$(q -b 127.0.0.5 a-only.t.example AAAA)
check_eq "127.0.0.5, a-only (only prefix A could map it): NOERROR, no answer" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"

finish
