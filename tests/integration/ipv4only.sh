#!/bin/bash
#
# ipv4only.sh - the special name ipv4only.arpa (RFC 7050 2-3, RFC 8880
# 7.1-7.2) and the "ipv4only-arpa" keyword.
#
# README "ipv4only.arpa": answered locally, even when every forwarder is
# down: A 192.0.0.170 and 192.0.0.171; AAAA = both synthesized with every
# prefix this client gets (no exclusion or mapping rule suppresses them);
# PTR for 170/171.0.0.192.in-addr.arpa and their ip6.arpa forms ->
# ipv4only.arpa.  With "ipv4only-arpa no" the name is forwarded.
#
# Most of this runs with the forwarder pointing at a closed loopback port,
# so that any query that reached "upstream" would fail.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

DEAD=$(dead_port) || bail "no free port found"

# Every config: a short upstream-timeout (a query that did go upstream
# fails fast).
PROXY_CONF_BASE="upstream-timeout 300"

# ====================================================================
# Default prefix (WKP), every forwarder down.
# ====================================================================

proxy_conf "$DEAD"

# Prove the forwarder really is down: an ordinary query fails.
out=$(q a-only.t.example A)
check_eq "forwarder down: an ordinary query gets SERVFAIL" SERVFAIL \
    "$(status_of "$out")"

out=$(q ipv4only.arpa A)
check_eq "A ipv4only.arpa: NOERROR with the forwarder down (RFC 8880 7.1)" \
    NOERROR "$(status_of "$out")"
check_eq "A ipv4only.arpa: exactly 192.0.0.170 and 192.0.0.171 (RFC 7050 2)" \
    "ipv4only.arpa. A 192.0.0.170
ipv4only.arpa. A 192.0.0.171" \
    "$(answer_rrs "$out" | awk '{ print $1, $3, $4 }' | sort)"
check_true "A ipv4only.arpa: logged as local" \
    proxy_logged ipv4only.arpa. A "local NOERROR\$"

# 192.0.0.170/171 are in 192.0.0.0/24, non-global, yet they must be
# synthesized with the WKP (RFC 7050 3: the host looks for them).
out=$(q ipv4only.arpa AAAA)
check_eq "AAAA ipv4only.arpa (WKP): exactly 64:ff9b::c000:aa and :ab (RFC 7050 3)" \
    "64:ff9b::c000:aa
64:ff9b::c000:ab" "$(aaaa_of "$out" | sort)"
check_eq "AAAA ipv4only.arpa (WKP): NOERROR, ANCOUNT 2" "NOERROR 2" \
    "$(status_of "$out") $(ancount_of "$out")"
check_true "AAAA ipv4only.arpa: logged as local" \
    proxy_logged ipv4only.arpa. AAAA "local NOERROR\$"

# dig +dns64prefix asks AAAA ipv4only.arpa and prints one prefix per line.
out=$(q +dns64prefix)
check_eq "dig +dns64prefix (WKP): 64:ff9b::/96" "64:ff9b::/96" "$out"

# RFC 8880 7.2: the reverse names map back to ipv4only.arpa.
for n in 170 171; do
	out=$(q "$n.0.0.192.in-addr.arpa" PTR)
	check_eq "PTR $n.0.0.192.in-addr.arpa: ipv4only.arpa. (RFC 8880 7.2)" \
	    "NOERROR $n.0.0.192.in-addr.arpa. PTR ipv4only.arpa." \
	    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $1, $3, $4 }')"
	check_true "PTR $n.0.0.192.in-addr.arpa: logged as local" \
	    proxy_logged "$n.0.0.192.in-addr.arpa." PTR "local NOERROR\$"
done

name=$(rev6 64:ff9b::c000:ab)
out=$(q "$name" PTR)
check_eq "PTR of 64:ff9b::c000:ab: CNAME to 171.0.0.192.in-addr.arpa. + PTR ipv4only.arpa. (RFC 8880 7.2)" \
    "NOERROR $name CNAME 171.0.0.192.in-addr.arpa.
171.0.0.192.in-addr.arpa. PTR ipv4only.arpa." \
    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $1, $3, $4 }')"
check_true "PTR of 64:ff9b::c000:ab: answered locally" \
    proxy_logged "$name" PTR "local NOERROR\$"

# Only the name itself exists: below it NXDOMAIN, other types NODATA.
out=$(q x.ipv4only.arpa A)
check_eq "A x.ipv4only.arpa: NXDOMAIN, no answer" "NXDOMAIN 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_match "A x.ipv4only.arpa: SOA in authority" \
    '^ipv4only\.arpa\. [0-9]+ SOA ' "$(authority_rrs "$out")"
check_true "A x.ipv4only.arpa: answered locally" \
    proxy_logged x.ipv4only.arpa. A "local NXDOMAIN\$"
out=$(q ipv4only.arpa TXT)
check_eq "TXT ipv4only.arpa: NOERROR, no answer (NODATA)" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_match "TXT ipv4only.arpa: SOA in authority" \
    '^ipv4only\.arpa\. [0-9]+ SOA ' "$(authority_rrs "$out")"
check_true "TXT ipv4only.arpa: answered locally" \
    proxy_logged ipv4only.arpa. TXT "local NOERROR\$"

# SOA: the zone's apex, so the SOA itself is the answer (NOERROR, AA, in
# the ANSWER section, nothing in authority), not a NODATA.  NS has no data
# there: NODATA with the SOA in authority.
out=$(q ipv4only.arpa SOA)
check_eq "SOA ipv4only.arpa: NOERROR, AA, ANCOUNT 1" "NOERROR aa 1" \
    "$(status_of "$out") $(has_flag aa "$out" && echo aa) $(ancount_of "$out")"
check_match "SOA ipv4only.arpa: the SOA in the answer, owner ipv4only.arpa." \
    '^ipv4only\.arpa\. [0-9]+ SOA ' "$(answer_rrs "$out")"
check_eq "SOA ipv4only.arpa: authority empty" "" "$(authority_rrs "$out")"
check_true "SOA ipv4only.arpa: answered locally" \
    proxy_logged ipv4only.arpa. SOA "local NOERROR\$"
out=$(q ipv4only.arpa NS)
check_eq "NS ipv4only.arpa: NOERROR, no answer (NODATA)" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_match "NS ipv4only.arpa: SOA in authority" \
    '^ipv4only\.arpa\. [0-9]+ SOA ' "$(authority_rrs "$out")"

# The name in another case is still ours (RFC 4343); the client's case is
# kept in the answer.
out=$(q IPv4Only.ARPA A)
check_eq "A IPv4Only.ARPA: the two addresses, answered locally" \
    "NOERROR 192.0.0.170 192.0.0.171" \
    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//')"
check_true "A IPv4Only.ARPA: logged as local" \
    proxy_logged IPv4Only.ARPA. A "local NOERROR\$"

# Class CH is not DNS64's business (RFC 6147 5.1): forwarded, so with the
# forwarder down it fails instead of getting the local answer.
out=$(q -c CH -t A -q ipv4only.arpa)
check_ne "CH A ipv4only.arpa: not answered locally (RFC 6147 5.1)" \
    "NOERROR" "$(status_of "$out")"
check_nomatch "CH A ipv4only.arpa: no 192.0.0.170" '192\.0\.0\.170' "$out"
check_true "CH A ipv4only.arpa: logged as sent upstream (the IN one was local)" \
    wait_for_grep "$PROXY_LOG" \
    "^127\\.0\\.0\\.1@[0-9]+ ipv4only\\.arpa\\. A [a-z]+ [A-Z]+ upstream 127\\.0\\.0\\.1@$DEAD\$" 2

# Over TCP too.
out=$(q +tcp ipv4only.arpa A)
check_eq "A ipv4only.arpa over TCP: the two addresses" \
    "192.0.0.170 192.0.0.171" \
    "$(answer_rrs "$out" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//')"

# ====================================================================
# A Network-Specific Prefix.
# ====================================================================

proxy_conf "$DEAD" "prefix 2001:db8:64::/96"
out=$(q ipv4only.arpa AAAA)
check_eq "AAAA ipv4only.arpa (2001:db8:64::/96): exactly ::c000:aa and ::c000:ab (RFC 7050 3)" \
    "2001:db8:64::c000:aa
2001:db8:64::c000:ab" "$(aaaa_of "$out" | sort)"
out=$(q +dns64prefix)
check_eq "dig +dns64prefix: 2001:db8:64::/96" "2001:db8:64::/96" "$out"

name=$(rev6 2001:db8:64::c000:aa)
out=$(q "$name" PTR)
check_eq "PTR of 2001:db8:64::c000:aa: CNAME to 170.0.0.192.in-addr.arpa. + PTR ipv4only.arpa. (RFC 8880 7.2)" \
    "NOERROR $name CNAME 170.0.0.192.in-addr.arpa.
170.0.0.192.in-addr.arpa. PTR ipv4only.arpa." \
    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $1, $3, $4 }')"
check_true "PTR of 2001:db8:64::c000:aa: answered locally" \
    proxy_logged "$name" PTR "local NOERROR\$"

# ====================================================================
# Every prefix the client gets (RFC 7050 3, 5).
# ====================================================================

TWO="2001:db8:64::/96
2001:db8:122::/48"
TWO_CONF="prefix 2001:db8:64::/96
prefix 2001:db8:122::/48"
TWO_AAAA="2001:db8:122:c000:0:aa00::
2001:db8:122:c000:0:ab00::
2001:db8:64::c000:aa
2001:db8:64::c000:ab"

proxy_conf "$DEAD" "$TWO_CONF"
out=$(q ipv4only.arpa AAAA)
check_eq "two prefixes: 4 AAAA, both addresses with each prefix" \
    "$TWO_AAAA" "$(aaaa_of "$out" | sort)"
out=$(q +dns64prefix)
check_eq "two prefixes: dig +dns64prefix prints both, one line each" \
    "$(sort <<<"$TWO")" "$(sort <<<"$out")"

proxy_conf "$DEAD" "$TWO_CONF
prefix-selection round-robin"
for i in 1 2 3; do
	out=$(q ipv4only.arpa AAAA)
	check_eq "round-robin, query $i: still 4 AAAA (every prefix)" \
	    "$TWO_AAAA" "$(aaaa_of "$out" | sort)"
done

# Mapping and exclusion rules never suppress 192.0.0.170/171.
proxy_conf "$DEAD" "prefix 2001:db8:64::/96 { destinations { 10.0.0.0/8 } }
exclude-a { 192.0.0.0/24 }"
out=$(q ipv4only.arpa AAAA)
check_eq "exclude-a 192.0.0.0/24 + destinations 10/8: still synthesized (RFC 7050 5)" \
    "2001:db8:64::c000:aa
2001:db8:64::c000:ab" "$(aaaa_of "$out" | sort)"
out=$(q ipv4only.arpa A)
check_eq "exclude-a 192.0.0.0/24: A ipv4only.arpa unchanged" \
    "192.0.0.170 192.0.0.171" \
    "$(answer_rrs "$out" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//')"

# never-synthesize is a mapping rule too: it does not suppress the two
# AAAA of ipv4only.arpa (RFC 7050 3), neither for a parent domain nor for
# the name itself.
for dom in arpa ipv4only.arpa; do
	proxy_conf "$DEAD" "never-synthesize { $dom }"
	out=$(q ipv4only.arpa AAAA)
	check_eq "never-synthesize { $dom }: AAAA ipv4only.arpa still 64:ff9b::c000:aa and :ab (RFC 7050 3)" \
	    "NOERROR 64:ff9b::c000:aa
64:ff9b::c000:ab" "$(status_of "$out") $(aaaa_of "$out" | sort)"
	check_true "never-synthesize { $dom }: answered locally" \
	    proxy_logged ipv4only.arpa. AAAA "local NOERROR\$"
done

# A prefix for some clients only: the others do not learn it.
proxy_conf "$DEAD" "prefix 2001:db8:64::/96
prefix 2001:db8:122::/48 { clients { 127.0.0.2 } }"
out=$(q -b 127.0.0.1 ipv4only.arpa AAAA)
check_eq "client 127.0.0.1 outside the /48's clients: only the /96 prefix" \
    "2001:db8:64::c000:aa
2001:db8:64::c000:ab" "$(aaaa_of "$out" | sort)"
out=$(q -b 127.0.0.2 ipv4only.arpa AAAA)
check_eq "client 127.0.0.2: both prefixes" "$TWO_AAAA" \
    "$(aaaa_of "$out" | sort)"
out=$(q -b 127.0.0.1 +dns64prefix)
check_eq "client 127.0.0.1: dig +dns64prefix prints only 2001:db8:64::/96" \
    "2001:db8:64::/96" "$out"
out=$(q -b 127.0.0.2 +dns64prefix)
check_eq "client 127.0.0.2: dig +dns64prefix prints both" \
    "$(sort <<<"$TWO")" "$(sort <<<"$out")"

# A client outside dns64-clients gets no prefix, so it learns none: AAAA
# ipv4only.arpa answered locally without AAAA; A unchanged.
proxy_conf "$DEAD" "prefix 2001:db8:64::/96
dns64-clients { 127.0.0.2 }"
out=$(q -b 127.0.0.2 ipv4only.arpa AAAA)
check_eq "dns64-clients { 127.0.0.2 }: 127.0.0.2 gets the AAAA" \
    "2001:db8:64::c000:aa
2001:db8:64::c000:ab" "$(aaaa_of "$out" | sort)"
out=$(q -b 127.0.0.3 ipv4only.arpa AAAA)
check_eq "dns64-clients: 127.0.0.3 (no DNS64) -> NOERROR, no AAAA" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
out=$(q -b 127.0.0.3 +dns64prefix)
check_eq "dns64-clients: dig +dns64prefix from 127.0.0.3 prints nothing" \
    "" "$out"
out=$(q -b 127.0.0.3 ipv4only.arpa A)
check_eq "dns64-clients: 127.0.0.3 still gets A ipv4only.arpa" \
    "NOERROR 192.0.0.170 192.0.0.171" \
    "$(status_of "$out") $(answer_rrs "$out" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//')"

# The query ACL comes first: a refused client is refused here too.
proxy_conf "$DEAD" "prefix 2001:db8:64::/96
deny 127.0.0.3/32"
out=$(q -b 127.0.0.3 ipv4only.arpa AAAA)
check_eq "deny 127.0.0.3/32: AAAA ipv4only.arpa REFUSED" "REFUSED 0" \
    "$(status_of "$out") $(ancount_of "$out")"

# ====================================================================
# ipv4only-arpa no: forwarded like any other name (fakeup sees it).
# ====================================================================

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
match ipv4only.arpa. A
  answer ipv4only.arpa. 77 IN A 192.0.0.170
end
match ipv4only.arpa. AAAA
  answer ipv4only.arpa. 77 IN AAAA 2001:db8:77::c000:aa
end
match 170.0.0.192.in-addr.arpa. PTR
  answer 170.0.0.192.in-addr.arpa. 77 IN PTR upstream.example.
end
EOF
start_fakeup "$rules"

proxy_conf "$FAKEUP_PORT" "prefix 2001:db8:64::/96"
out=$(q ipv4only.arpa A)
check_eq "ipv4only-arpa yes (default): fakeup not asked" 0 \
    "$(fakeup_count 'qname=ipv4only\.arpa\.')"

proxy_conf "$FAKEUP_PORT" "prefix 2001:db8:64::/96
ipv4only-arpa no"
out=$(q ipv4only.arpa A)
check_eq "ipv4only-arpa no: A forwarded, the forwarder's answer" \
    "ipv4only.arpa. 77 A 192.0.0.170" "$(answer_rrs "$out")"
check_eq "ipv4only-arpa no: fakeup got the A query" 1 \
    "$(fakeup_count 'qname=ipv4only\.arpa\. qtype=A ')"
out=$(q ipv4only.arpa AAAA)
check_eq "ipv4only-arpa no: AAAA forwarded, the forwarder's answer" \
    "ipv4only.arpa. 77 AAAA 2001:db8:77::c000:aa" "$(answer_rrs "$out")"
check_eq "ipv4only-arpa no: fakeup got the AAAA query" 1 \
    "$(fakeup_count 'qname=ipv4only\.arpa\. qtype=AAAA ')"
check_true "ipv4only-arpa no: logged as passed" wait_for_grep "$PROXY_LOG" \
    "ipv4only\\.arpa\\. A passed NOERROR upstream 127\\.0\\.0\\.1@$FAKEUP_PORT\$" 2
out=$(q -x 192.0.0.170)
check_eq "ipv4only-arpa no: PTR 170.0.0.192.in-addr.arpa forwarded" \
    "170.0.0.192.in-addr.arpa. 77 PTR upstream.example." "$(answer_rrs "$out")"
name=$(rev6 2001:db8:64::c000:aa)
out=$(q "$name" PTR)
check_eq "ipv4only-arpa no: PTR of 2001:db8:64::c000:aa -> the CNAME + the forwarder's PTR" \
    "$name 600 CNAME 170.0.0.192.in-addr.arpa.
170.0.0.192.in-addr.arpa. 77 PTR upstream.example." "$(answer_rrs "$out")"
check_eq "ipv4only-arpa no: fakeup got both PTR queries for 170.0.0.192.in-addr.arpa" 2 \
    "$(fakeup_count 'qname=170\.0\.0\.192\.in-addr\.arpa\. qtype=PTR ')"

finish
