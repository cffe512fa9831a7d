#!/bin/bash
#
# wkp-exclusions.sh - the Well-Known Prefix's rule (RFC 6052 3.1: never for
# non-global IPv4) and the exclusion lists "exclude-a" and "exclude-aaaa"
# (RFC 6147 5.1.4), against the real unbound fixture; against tests/fakeup,
# every non-global range and the SOA of a NODATA built when every AAAA is
# excluded (RFC 2308).
#
# README "Prefixes", "Exclusions": with no prefix configured 64:ff9b::/96
# is used, and A records with non-global IPv4 addresses are treated as
# absent for it; a Network-Specific Prefix maps them.  exclude-aaaa: AAAA
# in these ranges count as absent (default ::ffff:0:0/96; a list given
# replaces the default; "{ }" excludes nothing).  exclude-a: A records in
# these ranges are never used for synthesis.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

NSP=2001:db8:64::/96

# check_nodata DESC OUTPUT: NOERROR, empty answer, unbound's SOA.
check_nodata() {
	check_eq "$1: NOERROR, ANCOUNT 0, SOA in authority" \
	    "NOERROR 0 $SOA_NEG" \
	    "$(status_of "$2") $(ancount_of "$2") $(authority_rrs "$2")"
}

start_unbound

# ====================================================================
# The Well-Known Prefix (no prefix configured): RFC 6052 3.1.
# ====================================================================

proxy_conf "$UNBOUND_PORT"

out=$(q global.t.example AAAA)
check_eq "WKP: global (1.2.3.4) -> exactly 64:ff9b::102:304, TTL min(3600, SOA 1200) (RFC 6052 2.1)" \
    "NOERROR global.t.example. 1200 AAAA 64:ff9b::102:304" \
    "$(status_of "$out") $(answer_rrs "$out")"

out=$(q private.t.example AAAA)
check_nodata "WKP: private (10.1.2.3) is non-global -> the AAAA NODATA (RFC 6052 3.1)" \
    "$out"
check_nomatch "WKP: private: never 64:ff9b::a01:203" 'a01:203' \
    "$(all_rrs "$out")"

out=$(q global-private.t.example AAAA)
check_eq "WKP: global-private (1.2.3.5 + 10.1.2.4) -> only 64:ff9b::102:305 (RFC 6052 3.1)" \
    "64:ff9b::102:305" "$(aaaa_of "$out" | sort)"

out=$(q a-only.t.example AAAA)
check_nodata "WKP: a-only (192.0.2.33, documentation range) -> NODATA (RFC 6052 3.1)" \
    "$out"
check_nomatch "WKP: a-only: never 64:ff9b::c000:221" 'c000:221' \
    "$(all_rrs "$out")"

# The default exclusion ::ffff:0:0/96 (RFC 6147 5.1.4) with the WKP:
# mapped-only's real AAAA is excluded and its A (192.0.2.4) is non-global,
# so nothing at all is left.
out=$(q mapped-only.t.example AAAA)
check_eq "WKP: mapped-only: NOERROR, no answer" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_nomatch "WKP: mapped-only: ::ffff:192.0.2.4 never returned" \
    '::ffff:' "$(all_rrs "$out")"

# ====================================================================
# A Network-Specific Prefix maps non-global IPv4 too.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix $NSP"

out=$(q private.t.example AAAA)
check_eq "NSP: private (10.1.2.3) -> 2001:db8:64::a01:203" \
    "NOERROR private.t.example. 1200 AAAA 2001:db8:64::a01:203" \
    "$(status_of "$out") $(answer_rrs "$out")"
out=$(q global-private.t.example AAAA)
check_eq "NSP: global-private -> both addresses" \
    "2001:db8:64::102:305
2001:db8:64::a01:204" "$(aaaa_of "$out" | sort)"
out=$(q a-only.t.example AAAA)
check_eq "NSP: a-only (192.0.2.33) -> 2001:db8:64::c000:221" \
    "2001:db8:64::c000:221" "$(aaaa_of "$out" | sort)"

# Default exclude-aaaa ::ffff:0:0/96 (RFC 6147 5.1.4, 6147-08/-10).
out=$(q mapped-only.t.example AAAA)
check_eq "default exclude-aaaa: mapped-only synthesized from 192.0.2.4 (RFC 6147 5.1.4)" \
    "NOERROR 2001:db8:64::c000:204" \
    "$(status_of "$out") $(aaaa_of "$out" | sort)"
check_nomatch "default exclude-aaaa: mapped-only: ::ffff: never returned" \
    '::ffff:' "$(all_rrs "$out")"
out=$(q mapped-mixed.t.example AAAA)
check_eq "default exclude-aaaa: mapped-mixed -> only 2001:db8::5 (RFC 6147 5.1.4)" \
    "2001:db8::5" "$(aaaa_of "$out" | sort)"

# ====================================================================
# exclude-a: those A records are never used.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix $NSP
exclude-a { 10.0.0.0/8 }"

out=$(q private.t.example AAAA)
check_nodata "exclude-a 10/8: private -> the AAAA NODATA" "$out"
out=$(q global-private.t.example AAAA)
check_eq "exclude-a 10/8: global-private -> only 1.2.3.5's AAAA" \
    "2001:db8:64::102:305" "$(aaaa_of "$out" | sort)"
out=$(q a-only.t.example AAAA)
check_eq "exclude-a 10/8: a-only (192.0.2.33) still synthesized" \
    "2001:db8:64::c000:221" "$(aaaa_of "$out" | sort)"

# Several ranges, and an A query is never filtered (only synthesis is).
proxy_conf "$UNBOUND_PORT" "prefix $NSP
exclude-a { 10.0.0.0/8, 192.0.2.32/28 }"
out=$(q a-only.t.example AAAA)
check_nodata "exclude-a { 10/8, 192.0.2.32/28 }: a-only (192.0.2.33) -> NODATA" \
    "$out"
out=$(q a-multi.t.example AAAA)
check_eq "exclude-a { 10/8, 192.0.2.32/28 }: a-multi (192.0.2.1/.2) synthesized" \
    "2001:db8:64::c000:201
2001:db8:64::c000:202" "$(aaaa_of "$out" | sort)"
out=$(q a-only.t.example A)
check_eq "exclude-a: A a-only is passed unchanged (RFC 6147 5.3.3)" \
    "a-only.t.example. 300 A 192.0.2.33" "$(answer_rrs "$out")"

# ====================================================================
# exclude-aaaa: a list replaces the default.
# ====================================================================

# A prefix outside 2001:db8::/32 (RFC 8215 local-use space), so that the
# synthesized addresses are plainly not in the excluded range.
proxy_conf "$UNBOUND_PORT" "prefix 64:ff9b:1::/96
exclude-aaaa { 2001:db8::/32 }"

out=$(q aaaa-only.t.example AAAA)
check_eq "exclude-aaaa 2001:db8::/32: aaaa-only (no A) -> NOERROR, ANCOUNT 0 (RFC 6147 5.1.4, 6147-09)" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
check_nomatch "exclude-aaaa 2001:db8::/32: aaaa-only: 2001:db8::1 never returned" \
    '2001:db8::1' "$(all_rrs "$out")"

out=$(q both.t.example AAAA)
check_eq "exclude-aaaa 2001:db8::/32: both -> synthesized from 192.0.2.3 only" \
    "NOERROR both.t.example. AAAA 64:ff9b:1::c000:203" \
    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $1, $3, $4 }')"

# The default ::ffff:0:0/96 is no longer in the list.
out=$(q mapped-mixed.t.example AAAA)
check_eq "exclude-aaaa 2001:db8::/32: mapped-mixed -> only ::ffff:192.0.2.5 (the default is replaced)" \
    "::ffff:192.0.2.5" "$(aaaa_of "$out" | sort)"

proxy_conf "$UNBOUND_PORT" "prefix $NSP
exclude-aaaa { }"
out=$(q mapped-only.t.example AAAA)
check_eq "exclude-aaaa { }: mapped-only -> its ::ffff: AAAA unchanged" \
    "NOERROR mapped-only.t.example. 3600 AAAA ::ffff:192.0.2.4" \
    "$(status_of "$out") $(answer_rrs "$out")"
out=$(q mapped-mixed.t.example AAAA)
check_eq "exclude-aaaa { }: mapped-mixed -> both real AAAA" \
    "$(printf '%s\n' 2001:db8::5 ::ffff:192.0.2.5 | sort)" \
    "$(aaaa_of "$out" | sort)"

# ====================================================================
# The WKP and NSPs side by side: the non-global rule is per prefix.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix 64:ff9b::/96
prefix $NSP"
out=$(q global-private.t.example AAAA)
check_eq "WKP + NSP: global-private -> 1.2.3.5 with both, 10.1.2.4 with the NSP only" \
    "2001:db8:64::102:305
2001:db8:64::a01:204
64:ff9b::102:305" "$(aaaa_of "$out" | sort)"
out=$(q private.t.example AAAA)
check_eq "WKP + NSP: private -> the NSP's address only" \
    "2001:db8:64::a01:203" "$(aaaa_of "$out" | sort)"

stop_proxy
stop_unbound

# ====================================================================
# Every non-global range of README "Prefixes" (RFC 6052 3.1; RFC 1918,
# RFC 5735 3, RFC 6598), with addresses just outside each as global
# controls.  fakeup serves each address as the only A of its own name
# (w-A-B-C-D.t.example), with an AAAA NODATA.
# ====================================================================

NONGLOBAL="0.0.0.1 0.255.255.254 10.0.0.1 10.255.255.254 127.0.0.1
127.255.255.254 169.254.0.1 169.254.255.254 172.16.0.1 172.31.255.254
192.168.0.1 192.168.255.254 100.64.0.1 100.127.255.254 192.0.0.1
192.0.0.254 192.0.2.1 192.0.2.254 198.51.100.1 198.51.100.254 203.0.113.1
203.0.113.254 198.18.0.1 198.19.255.254 224.0.0.1 239.255.255.254
240.0.0.1 255.255.255.255"
GLOBAL="1.0.0.1 9.255.255.254 11.0.0.1 126.255.255.254 128.0.0.1
169.253.255.254 169.255.0.1 172.15.255.254 172.32.0.1 192.167.255.254
192.169.0.1 100.63.255.254 100.128.0.1 192.0.1.254 192.0.3.1
198.17.255.254 198.20.0.1 198.51.99.254 198.51.101.1 203.0.112.254
203.0.114.1 223.255.255.254"

# wname ADDR: the fakeup name of ADDR.
wname() {
	echo "w-${1//./-}.t.example"
}

# embed96 PREFIX ADDR: PREFIX (ending in "::", a /96) + ADDR as dig prints
# it (RFC 5952: a leading zero group is part of the "::").
embed96() {
	local a b c d
	IFS=. read -r a b c d <<<"$2"
	if [ $((a * 256 + b)) = 0 ]; then
		printf '%s%x' "$1" $((c * 256 + d))
	else
		printf '%s%x:%x' "$1" $((a * 256 + b)) $((c * 256 + d))
	fi
}

rules=$TEST_TMP/rules
for addr in $NONGLOBAL $GLOBAL; do
	fakeup_a_only "$(wname "$addr")." "$addr"
done >"$rules"
start_fakeup "$rules"

start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT"
for addr in $NONGLOBAL; do
	out=$(q "$(wname "$addr")" AAAA)
	check_eq "WKP: $addr is non-global -> NOERROR, no answer (RFC 6052 3.1)" \
	    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
done
for addr in $GLOBAL; do
	out=$(q "$(wname "$addr")" AAAA)
	check_eq "WKP: $addr is global -> $(embed96 64:ff9b:: "$addr")" \
	    "$(embed96 64:ff9b:: "$addr")" "$(aaaa_of "$out" | sort)"
done

# A Network-Specific Prefix maps every one of them.
stop_proxy
start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -p "$NSP"
for addr in $NONGLOBAL; do
	out=$(q "$(wname "$addr")" AAAA)
	check_eq "NSP: $addr -> $(embed96 2001:db8:64:: "$addr")" \
	    "$(embed96 2001:db8:64:: "$addr")" "$(aaaa_of "$out" | sort)"
done
stop_proxy
stop_fakeup

# ====================================================================
# Every NODATA we build carries a SOA (RFC 2308 2.2, 5): every AAAA is
# excluded (the AAAA answer is positive, so it has no SOA) and the A leg
# is a NODATA with one: the client's NODATA carries the A leg's SOA.
# Directly (xnodata), and at the end of a CNAME (xchain -> xend).
# ====================================================================

SOA_A="t.example. 600 IN SOA ns.t.example. hostmaster.t.example. 2 3600 900 604800 600"
cat >"$rules" <<EOF
match xnodata.t.example. AAAA
  answer xnodata.t.example. 300 IN AAAA ::ffff:192.0.2.60
end
match xnodata.t.example. A
  authority $SOA_A
end
match xchain.t.example. AAAA
  answer xchain.t.example. 300 IN CNAME xend.t.example.
  answer xend.t.example. 300 IN AAAA ::ffff:192.0.2.61
end
match xchain.t.example. A
  answer xchain.t.example. 300 IN CNAME xend.t.example.
  authority $SOA_A
end
match xend.t.example. A
  authority $SOA_A
end
EOF
start_fakeup "$rules"
start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -p "$NSP"

out=$(q xnodata.t.example AAAA)
check_eq "every AAAA excluded, A NODATA: NOERROR, no answer, the A leg's SOA in authority (RFC 2308)" \
    "NOERROR 0 ${SOA_A/ IN / }" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
check_eq "every AAAA excluded, A NODATA: the A leg was asked" 1 \
    "$(fakeup_legs xnodata.t.example. A)"
out=$(q xchain.t.example AAAA)
check_eq "CNAME to excluded AAAA, A NODATA: the CNAME, and the A leg's SOA in authority (RFC 2308)" \
    "NOERROR xchain.t.example. 300 CNAME xend.t.example. | ${SOA_A/ IN / }" \
    "$(status_of "$out") $(answer_rrs "$out") | $(authority_rrs "$out")"

finish
