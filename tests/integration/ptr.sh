#!/bin/bash
#
# ptr.sh - reverse mapping of synthesized addresses (RFC 6147 5.3.1, the
# CNAME option; RFC 6052 2.3 extraction for every prefix length; RFC 3596
# 2.5 nibble names) and the "reverse-ttl" keyword, against the real unbound
# fixture (reverse zone 2.0.192.in-addr.arpa: 33 PTR a-only.t.example.,
# 1 PTR a-multi.t.example., everything else NXDOMAIN with SOA TTL 1200).
#
# README "Reverse mapping": a PTR query for a full 32-nibble ip6.arpa name
# inside a prefix gets a CNAME to d.c.b.a.in-addr.arpa. (TTL reverse-ttl,
# lowered to the negative TTL) plus the forwarder's answer for that name; a
# shorter name inside a prefix gets a local NODATA with the prefix's reverse
# zone SOA; the zone's apex has that SOA and an NS, and NODATA for other
# types, all answered locally; names outside every prefix are forwarded
# unchanged, and so is every query DNS64 does not apply to (CD=1, RD=0
# with recursive-only, a client outside dns64-clients).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

# unbound's answers from the reverse zone.
PTR33="33.2.0.192.in-addr.arpa. 3600 PTR a-only.t.example."
SOA_REV="2.0.192.in-addr.arpa. 1200 SOA ns.t.example. hostmaster.t.example."
SOA_REV="$SOA_REV 1 3600 900 604800 1200"

# lc: stdin's RRs with their owner names in lower case (the CNAME's owner
# is the question name in the client's case).
lc() {
	awk '{ $1 = tolower($1); print }'
}

start_unbound
UP="upstream 127\\.0\\.0\\.1@$UNBOUND_PORT"

# ====================================================================
# Every RFC 6052 prefix length (the RFC 6052 2.4 table for 192.0.2.33,
# the same placement for 192.0.2.34 = 0xc0000222).
# ====================================================================

# prefix  address of 192.0.2.33  address of 192.0.2.34
CASES="2001:db8::/32 2001:db8:c000:221:: 2001:db8:c000:222::
2001:db8:100::/40 2001:db8:1c0:2:21:: 2001:db8:1c0:2:22::
2001:db8:122::/48 2001:db8:122:c000:2:2100:: 2001:db8:122:c000:2:2200::
2001:db8:122:300::/56 2001:db8:122:3c0:0:221:: 2001:db8:122:3c0:0:222::
2001:db8:122:344::/64 2001:db8:122:344:c0:2:2100:0 2001:db8:122:344:c0:2:2200:0
2001:db8:122:344::/96 2001:db8:122:344::c000:221 2001:db8:122:344::c000:222"

while read -r pfx a33 a34; do
	len=${pfx#*/}
	base=${pfx%/*}
	t="/$len"
	proxy_conf "$UNBOUND_PORT" "prefix $pfx"

	# Full name, lower case: CNAME (TTL reverse-ttl 600) + unbound's PTR.
	name=$(rev6 "$a33")
	out=$(q "$name" PTR)
	check_eq "$t $a33: NOERROR (RFC 6147 5.3.1)" NOERROR "$(status_of "$out")"
	check_eq "$t $a33: CNAME to 33.2.0.192.in-addr.arpa. (TTL 600) + the PTR (RFC 6147 5.3.1, RFC 6052 2.3)" \
	    "$name 600 CNAME 33.2.0.192.in-addr.arpa.
$PTR33" "$(answer_rrs "$out" | lc)"
	check_true "$t $a33: logged as mapped via the forwarder" \
	    proxy_logged "$name" PTR "mapped NOERROR $UP\$"

	# The same name in upper case, IP6.ARPA included (RFC 3596 2.5).
	# Names compare case-insensitively (RFC 4343): so do we.
	uname=${name^^}
	out=$(q "$uname" PTR)
	check_eq "$t upper-case nibbles: same mapping (RFC 3596 2.5)" \
	    "noerror $name 600 cname 33.2.0.192.in-addr.arpa.
${PTR33,,}" "$(status_of "$out" | tr '[:upper:]' '[:lower:]') $(answer_rrs "$out" | tr '[:upper:]' '[:lower:]')"

	# No PTR for 192.0.2.34: the CNAME, NXDOMAIN and unbound's SOA; the
	# CNAME TTL is min(600, 1200) = 600.
	name=$(rev6 "$a34")
	out=$(q "$name" PTR)
	check_eq "$t $a34 (no PTR): NXDOMAIN (RFC 6147 5.3.1)" NXDOMAIN \
	    "$(status_of "$out")"
	check_eq "$t $a34 (no PTR): CNAME to 34.2.0.192.in-addr.arpa., TTL 600" \
	    "$name 600 CNAME 34.2.0.192.in-addr.arpa." \
	    "$(answer_rrs "$out" | lc)"
	check_eq "$t $a34 (no PTR): unbound's SOA in authority" "$SOA_REV" \
	    "$(authority_rrs "$out")"

	# Inside the prefix but shorter than 32 nibbles: local NODATA with
	# the prefix's reverse zone SOA, nothing sent upstream.
	zone=$(rev6 "$base" $((len / 4)))
	for n in $((len / 4 + 1)) 31; do
		name=$(rev6 "$a33" $n)
		out=$(q "$name" PTR)
		check_eq "$t $n-nibble name inside the prefix: NOERROR, no answer (NODATA)" \
		    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
		check_match "$t $n-nibble name: SOA of the prefix's reverse zone" \
		    "^$(re_escape "$zone") [0-9]+ SOA " \
		    "$(authority_rrs "$out")"
		check_true "$t $n-nibble name: answered locally (no upstream)" \
		    proxy_logged "$name" PTR "local NOERROR\$"
	done
	soa_below=$(authority_rrs "$out")

	# The apex of the prefix's reverse zone ($((len / 4)) nibbles) is
	# ours too: SOA and NS here, the same SOA as in the NODATA answers
	# below it, NODATA with that SOA for every other type (RFC 2308,
	# RFC 8020: a forwarded NXDOMAIN would deny every name below).
	out=$(q "$zone" SOA)
	check_eq "$t apex $zone SOA: the SOA of the NODATA answers below it" \
	    "NOERROR $soa_below" "$(status_of "$out") $(answer_rrs "$out")"
	check_true "$t apex SOA: answered locally (no upstream)" \
	    proxy_logged "$zone" SOA "local NOERROR\$"
	out=$(q "$zone" NS)
	check_match "$t apex NS: one NS record at the apex" \
	    "^NOERROR 1 $(re_escape "$zone") [0-9]+ NS [^ ]+\$" \
	    "$(status_of "$out") $(ancount_of "$out") $(answer_rrs "$out")"
	check_true "$t apex NS: answered locally (no upstream)" \
	    proxy_logged "$zone" NS "local NOERROR\$"
	# AAAA too: a name in the reverse zone is no DNS64 case.
	for type in PTR TXT A AAAA; do
		out=$(q "$zone" "$type")
		check_eq "$t apex $type: NODATA with the zone's SOA" \
		    "NOERROR 0 $soa_below" \
		    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
		check_true "$t apex $type: answered locally (no upstream)" \
		    proxy_logged "$zone" "$type" "local NOERROR\$"
	done
	# Above the apex: not ours.
	name=$(rev6 "$base" $((len / 4 - 1)))
	out=$(q "$name" SOA)
	check_true "$t SOA one nibble above the apex: forwarded" \
	    proxy_logged "$name" SOA "passed [A-Z]+ $UP\$"

	# Above the prefix (fewer nibbles than the prefix): not ours,
	# forwarded; the client gets unbound's answer.
	name=$(rev6 "$base" $((len / 4 - 1)))
	out=$(q "$name" PTR)
	ub=$(q_unbound "$name" PTR)
	check_eq "$t $((len / 4 - 1))-nibble name above the prefix: unbound's answer" \
	    "$(status_of "$ub") $(answer_rrs "$ub") $(authority_rrs "$ub")" \
	    "$(status_of "$out") $(answer_rrs "$out") $(authority_rrs "$out")"
	check_true "$t name above the prefix: forwarded (passed)" \
	    proxy_logged "$name" PTR "passed [A-Z]+ $UP\$"
done <<<"$CASES"

# ====================================================================
# Names the proxy must not touch (/96 prefix still running).
# ====================================================================

# RFC 6147 5.3.1: outside every prefix -> resolved normally.
name=$(rev6 2001:db8::1)
out=$(q "$name" PTR)
ub=$(q_unbound "$name" PTR)
check_eq "reverse of 2001:db8::1 (outside the prefix): unbound's status" \
    "$(status_of "$ub")" "$(status_of "$out")"
check_eq "reverse of 2001:db8::1: unbound's answer and authority, no CNAME" \
    "$(answer_rrs "$ub")|$(authority_rrs "$ub")" \
    "$(answer_rrs "$out")|$(authority_rrs "$out")"
check_true "reverse of 2001:db8::1: forwarded (passed)" \
    proxy_logged "$name" PTR "passed $(status_of "$ub") $UP\$"

# An address in the same /64 but outside the /96.
name=$(rev6 2001:db8:122:344:1::c000:221)
out=$(q "$name" PTR)
check_nomatch "2001:db8:122:344:1::c000:221 (outside the /96): no CNAME" \
    ' CNAME ' "$(answer_rrs "$out")"
check_true "2001:db8:122:344:1::c000:221: forwarded (passed)" \
    proxy_logged "$name" PTR "passed [A-Z]+ $UP\$"

# in-addr.arpa PTR queries are plain forwarding (RFC 6147 5.3.3).
out=$(q -x 192.0.2.33)
check_eq "PTR 33.2.0.192.in-addr.arpa: passed through unchanged" \
    "NOERROR $PTR33" "$(status_of "$out") $(answer_rrs "$out")"
check_true "PTR 33.2.0.192.in-addr.arpa: logged as passed" \
    proxy_logged 33.2.0.192.in-addr.arpa. PTR "passed NOERROR $UP\$"
out=$(q -x 192.0.2.34)
check_eq "PTR 34.2.0.192.in-addr.arpa: NXDOMAIN passed through with its SOA" \
    "NXDOMAIN|$SOA_REV" "$(status_of "$out")|$(answer_rrs "$out")$(authority_rrs "$out")"

# ====================================================================
# Overlapping prefixes: every address the proxy hands out maps back to
# the IPv4 address it was made from (RFC 6052 2.3 is the inverse of 2.2;
# RFC 6147 5.3.1).  2001:db8:122:344::c000:221 is inside both prefixes,
# but only the /96 reading is an RFC 6052 address (for the /32 its u-octet
# and suffix are not zero), and the /96 is the one that made it.
# ====================================================================

proxy_conf "$UNBOUND_PORT" "prefix 2001:db8::/32
prefix 2001:db8:122:344::/96"
out=$(q a-only.t.example AAAA)
check_eq "overlapping /32 + /96: a-only synthesized with both" \
    "2001:db8:122:344::c000:221
2001:db8:c000:221::" \
    "$(aaaa_of "$out" | sort)"
for a in 2001:db8:c000:221:: 2001:db8:122:344::c000:221; do
	name=$(rev6 "$a")
	out=$(q "$name" PTR)
	check_eq "overlapping /32 + /96: PTR of $a -> CNAME to 33.2.0.192.in-addr.arpa. + the PTR" \
	    "NOERROR $name 600 CNAME 33.2.0.192.in-addr.arpa.
$PTR33" "$(status_of "$out") $(answer_rrs "$out")"
done

# ====================================================================
# reverse-ttl: the CNAME's TTL, lowered to the negative TTL (1200).
# ====================================================================

P96=2001:db8:122:344::/96
N33=$(rev6 2001:db8:122:344::c000:221)
N34=$(rev6 2001:db8:122:344::c000:222)

proxy_conf "$UNBOUND_PORT" "prefix $P96
reverse-ttl 3000"
out=$(q "$N33" PTR)
check_eq "reverse-ttl 3000, PTR exists: CNAME TTL 3000, PTR TTL unchanged" \
    "3000 3600" "$(ttls_of "$out")"
out=$(q "$N34" PTR)
check_eq "reverse-ttl 3000, NXDOMAIN: CNAME TTL min(3000, SOA 1200) = 1200" \
    "NXDOMAIN 1200" "$(status_of "$out") $(ttls_of "$out")"

proxy_conf "$UNBOUND_PORT" "prefix $P96
reverse-ttl 77"
out=$(q "$N33" PTR)
check_eq "reverse-ttl 77, PTR exists: CNAME TTL 77" \
    "$N33 77 CNAME 33.2.0.192.in-addr.arpa.
$PTR33" "$(answer_rrs "$out")"
out=$(q "$N34" PTR)
check_eq "reverse-ttl 77, NXDOMAIN: CNAME TTL min(77, 1200) = 77" \
    "NXDOMAIN 77" "$(status_of "$out") $(ttls_of "$out")"

# The same over TCP (the mapping does not depend on the transport).
out=$(q +tcp "$N33" PTR)
check_eq "reverse-ttl 77 over TCP: same answer" \
    "$N33 77 CNAME 33.2.0.192.in-addr.arpa.
$PTR33" "$(answer_rrs "$out")"

# ====================================================================
# The in-addr.arpa leg, against fakeup: one query for the in-addr.arpa
# name and none for the ip6.arpa name; NODATA lowers the CNAME TTL like
# NXDOMAIN; a positive answer keeps reverse-ttl whatever the PTR's TTL.
# ====================================================================

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
match 35.2.0.192.in-addr.arpa. PTR
  authority 2.0.192.in-addr.arpa. 100 IN SOA ns.t.example. hostmaster.t.example. 1 3600 900 604800 100
end
match 36.2.0.192.in-addr.arpa. PTR
  rcode NXDOMAIN
  authority 2.0.192.in-addr.arpa. 50 IN SOA ns.t.example. hostmaster.t.example. 1 3600 900 604800 50
end
match 37.2.0.192.in-addr.arpa. PTR
  answer 37.2.0.192.in-addr.arpa. 30 IN PTR host37.t.example.
end
EOF
# The apex of $P96's reverse zone, for the clients that do not get DNS64.
APEX96=$(rev6 2001:db8:122:344:: 24)
cat >>"$rules" <<EOF
match $APEX96 SOA
  rcode NXDOMAIN
  authority ip6.arpa. 77 IN SOA b.ip6-servers.arpa. nstld.iana.org. 1 1800 900 604800 77
end
EOF
start_fakeup "$rules"
stop_proxy
start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -p "$P96"

name=$(rev6 2001:db8:122:344::c000:223)
out=$(q "$name" PTR)
check_eq "fakeup NODATA (SOA TTL 100): NOERROR, CNAME TTL min(600, 100) = 100" \
    "NOERROR $name 100 CNAME 35.2.0.192.in-addr.arpa." \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "fakeup NODATA: the SOA passed on" \
    "2.0.192.in-addr.arpa. 100 SOA ns.t.example. hostmaster.t.example. 1 3600 900 604800 100" \
    "$(authority_rrs "$out")"
check_eq "fakeup NODATA: one upstream query, for 35.2.0.192.in-addr.arpa. PTR" \
    1 "$(fakeup_count 'qname=35\.2\.0\.192\.in-addr\.arpa\. qtype=PTR ')"

name=$(rev6 2001:db8:122:344::c000:224)
out=$(q "$name" PTR)
check_eq "fakeup NXDOMAIN (SOA TTL 50): CNAME TTL 50" \
    "NXDOMAIN $name 50 CNAME 36.2.0.192.in-addr.arpa." \
    "$(status_of "$out") $(answer_rrs "$out")"

name=$(rev6 2001:db8:122:344::c000:225)
out=$(q "$name" PTR)
check_eq "fakeup PTR with TTL 30: CNAME keeps reverse-ttl 600, PTR as sent" \
    "NOERROR $name 600 CNAME 37.2.0.192.in-addr.arpa.
37.2.0.192.in-addr.arpa. 30 PTR host37.t.example." \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "fakeup: the ip6.arpa names were never sent upstream" 0 \
    "$(fakeup_count 'qname=[^ ]*ip6\.arpa\.')"

# A partial name: nothing at all upstream.
before=$(grep -c . "$FAKEUP_LOG")
out=$(q "$(rev6 2001:db8:122:344::c000:225 28)" PTR)
check_eq "fakeup: 28-nibble name under the /96 -> NODATA, no upstream query" \
    "NOERROR 0 $before" \
    "$(status_of "$out") $(ancount_of "$out") $(grep -c . "$FAKEUP_LOG")"

# The apex: SOA, NS and any other type, nothing upstream.
before=$(grep -c . "$FAKEUP_LOG")
for type in SOA NS TXT PTR AAAA; do
	out=$(q "$APEX96" "$type")
	check_eq "fakeup: apex of the /96 $type -> NOERROR, no upstream query" \
	    "NOERROR $before" "$(status_of "$out") $(grep -c . "$FAKEUP_LOG")"
done

# A client that does not get DNS64 gets the forwarder's answer for the
# apex: CD=1 (RFC 6147 5.5), and a client outside dns64-clients.
out=$(q +cd "$APEX96" SOA)
check_eq "CD=1: apex SOA forwarded, the forwarder's NXDOMAIN" \
    "NXDOMAIN ip6.arpa. 77 SOA b.ip6-servers.arpa. nstld.iana.org. 1 1800 900 604800 77" \
    "$(status_of "$out") $(authority_rrs "$out")"
check_eq "CD=1: the apex SOA query reached the forwarder" 1 \
    "$(fakeup_count "qname=$(re_escape "$APEX96") qtype=SOA .* cd=1 ")"
printf 'dns64-clients { 10.0.0.0/8 }\n' >"$TEST_TMP/d64c.conf"
stop_proxy
start_proxy -v -f "$TEST_TMP/d64c.conf" -u "127.0.0.1@$FAKEUP_PORT" -p "$P96"
out=$(q "$APEX96" SOA)
check_eq "outside dns64-clients: apex SOA forwarded, the forwarder's NXDOMAIN" \
    "NXDOMAIN ip6.arpa. 77 SOA b.ip6-servers.arpa. nstld.iana.org. 1 1800 900 604800 77" \
    "$(status_of "$out") $(authority_rrs "$out")"
check_eq "outside dns64-clients: the apex SOA query reached the forwarder" 1 \
    "$(fakeup_count "qname=$(re_escape "$APEX96") qtype=SOA .* cd=0 ")"

# ====================================================================
# When DNS64 does not apply, PTR is not mapped either: CD=1 (the client
# validates, RFC 6147 5.5), RD=0 with recursive-only on (the default), a
# client outside dns64-clients (RFC 6147 6.3.3).  Such a query is
# forwarded as it is, and fakeup's own PTR for the ip6.arpa name comes
# back, without a CNAME and without an in-addr.arpa query.  The same name
# from an allowed client with RD=1 and CD=0 is the control: mapped.
# ====================================================================

N38=$(rev6 2001:db8:122:344::c000:226)
V6PTR="$N38 300 PTR v6-own.example."
MAPPED="$N38 600 CNAME 38.2.0.192.in-addr.arpa.
38.2.0.192.in-addr.arpa. 300 PTR host38.t.example."
cat >"$TEST_TMP/ptr-fwd.rules" <<EOF
match 38.2.0.192.in-addr.arpa. PTR
  answer 38.2.0.192.in-addr.arpa. 300 IN PTR host38.t.example.
end
match $N38 PTR
  answer $V6PTR
end
EOF
start_fakeup "$TEST_TMP/ptr-fwd.rules"
stop_proxy
ACL_CONF=$TEST_TMP/ptr-acl.conf
printf 'forwarder 127.0.0.1 port %s\nprefix %s\ndns64-clients { 127.0.0.1 ::1 }\n' \
    "$FAKEUP_PORT" "$P96" >"$ACL_CONF"
start_proxy -v -f "$ACL_CONF"

# ptr_case DESC ARGS...: query N38 PTR with dig ARGS; sets out, v4legs (the
# in-addr.arpa queries it caused upstream), v6legs (the ip6.arpa ones) and
# v6leg (fakeup's last line for the ip6.arpa name).
ptr_case() {
	local a0 b0
	shift
	a0=$(fakeup_legs 38.2.0.192.in-addr.arpa. PTR)
	b0=$(fakeup_legs "$N38" PTR)
	out=$(q "$@" "$N38" PTR)
	v4legs=$(( $(fakeup_legs 38.2.0.192.in-addr.arpa. PTR) - a0 ))
	v6legs=$(( $(fakeup_legs "$N38" PTR) - b0 ))
	v6leg=$(fakeup_last "$N38" PTR)
}

ptr_case "control"
check_eq "control (dns64 client, RD=1, CD=0): mapped, CNAME + the in-addr.arpa PTR" \
    "NOERROR $MAPPED" "$(status_of "$out") $(answer_rrs "$out" | lc)"
check_eq "control: one in-addr.arpa query upstream, no ip6.arpa query" \
    "1 0" "$v4legs $v6legs"
check_true "control: logged as mapped" \
    proxy_logged "$N38" PTR "mapped NOERROR upstream "

ptr_case "CD=1" +cdflag
check_eq "CD=1: forwarded, the upstream's own PTR, no CNAME (RFC 6147 5.5)" \
    "NOERROR $V6PTR" "$(status_of "$out") $(answer_rrs "$out" | lc)"
check_eq "CD=1: the ip6.arpa name asked upstream, no in-addr.arpa query" \
    "0 1" "$v4legs $v6legs"
check_match "CD=1: passed on upstream with cd=1" ' cd=1 ' "$v6leg"
check_true "CD=1: logged as passed" \
    proxy_logged "$N38" PTR "passed NOERROR upstream "

ptr_case "RD=0" +norec
check_eq "RD=0 (recursive-only on by default): forwarded, the upstream's own PTR, no CNAME" \
    "NOERROR $V6PTR" "$(status_of "$out") $(answer_rrs "$out" | lc)"
check_eq "RD=0: the ip6.arpa name asked upstream, no in-addr.arpa query" \
    "0 1" "$v4legs $v6legs"
check_match "RD=0: passed on upstream with rd=0" ' rd=0 ' "$v6leg"

ptr_case "outside dns64-clients" -b 127.0.0.5
check_eq "client outside dns64-clients: forwarded, the upstream's own PTR, no CNAME (RFC 6147 6.3.3)" \
    "NOERROR $V6PTR" "$(status_of "$out") $(answer_rrs "$out" | lc)"
check_eq "client outside dns64-clients: the ip6.arpa name asked upstream, no in-addr.arpa query" \
    "0 1" "$v4legs $v6legs"
check_true "client outside dns64-clients: logged as passed" \
    wait_for_grep "$PROXY_LOG" \
    "^127\\.0\\.0\\.5@[0-9]+ $(re_escape "$N38") PTR passed NOERROR upstream " 2

# recursive-only no: RD=0 is mapped like RD=1.
stop_proxy
printf 'recursive-only no\n' >>"$ACL_CONF"
start_proxy -v -f "$ACL_CONF"
ptr_case "RD=0, recursive-only no" +norec
check_eq "RD=0 with recursive-only no: mapped" \
    "NOERROR $MAPPED" "$(status_of "$out") $(answer_rrs "$out" | lc)"
check_eq "RD=0 with recursive-only no: one in-addr.arpa query, rd=0" \
    "1 0 1" "$v4legs $v6legs $(fakeup_last 38.2.0.192.in-addr.arpa. PTR |
    grep -c ' rd=0 ')"

finish
