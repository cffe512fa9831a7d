#!/bin/bash
#
# rd-class.sh - which queries get DNS64 at all: RD=0 queries and the
# "recursive-only" keyword, and classes other than IN (RFC 6147 5.1:
# behave as if DNS64 were not configured; checklist 6147-03).  Against
# tests/fakeup, to see the upstream legs and their RD bit.
#
# README "DNSSEC and flags": RD=0 queries are forwarded with RD=0 and not
# synthesized unless "recursive-only no".  Classes other than IN get no
# DNS64 at all.  "How it answers": the client always gets back its own RD.
#
# fakeup does not match on the class (nor log it), so the CH/HS names have
# rules whose answers would lead to synthesis if the proxy treated them as
# IN; the A-leg counts show that it does not.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

NSP=2001:db8:64::/96
PROXY_CONF_BASE="prefix $NSP"

rules=$TEST_TMP/rules
{
	fakeup_a_only x.t.example. 192.0.2.33 "aa ra"
	cat <<EOF
match ch.t.example. AAAA
  rcode REFUSED
end
match ch.t.example. A
  answer ch.t.example. 300 IN A 192.0.2.34
end
match hs.t.example. AAAA
  flags aa ra
  authority $SOA_NEG_RR
end
match hs.t.example. A
  answer hs.t.example. 300 IN A 192.0.2.35
end
EOF
} >"$rules"

SYN="x.t.example. 300 AAAA 2001:db8:64::c000:221"
NODATA="NOERROR 0 $SOA_NEG"

start_fakeup "$rules"

# ====================================================================
# RD (recursive-only yes, the default).
# ====================================================================

proxy_conf "$FAKEUP_PORT"

# Control: RD=1 is synthesized, the A leg has RD=1.
q_legs x.t.example AAAA
check_eq "RD=1: synthesized" "NOERROR $SYN" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_true "RD=1: reply has RD" has_flag rd "$out"
check_match "RD=1: the A leg has rd=1" ' rd=1 ' "$aleg"

q_legs x.t.example AAAA +norec
check_eq "RD=0: not synthesized, the upstream NODATA (recursive-only yes)" \
    "$NODATA" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
check_eq "RD=0: forwarded once, no A leg" "1 0" "$aaaalegs $alegs"
check_match "RD=0: forwarded with rd=0" ' rd=0 ' "$aaaaleg"
check_false "RD=0: reply has RD=0 (RFC 1035 4.1.1)" has_flag rd "$out"
check_true "RD=0: logged as passed" wait_for_grep "$PROXY_LOG" \
    '^127\.0\.0\.1@[0-9]+ x\.t\.example\. AAAA passed NOERROR' 2

# Other types with RD=0: forwarded with rd=0 too.
q_legs x.t.example A +norec
check_eq "RD=0, A query: upstream answer, rd=0 upstream" \
    "NOERROR x.t.example. 300 A 192.0.2.33|1" \
    "$(status_of "$out") $(answer_rrs "$out")|$(grep -c ' rd=0 ' <<<"$aleg")"

# ====================================================================
# recursive-only no: RD=0 queries get DNS64 too.
# ====================================================================

proxy_conf "$FAKEUP_PORT" "recursive-only no"

q_legs x.t.example AAAA +norec
check_eq "recursive-only no, RD=0: synthesized" "NOERROR $SYN" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "recursive-only no, RD=0: one A leg" 1 "$alegs"
check_match "recursive-only no: the AAAA leg has rd=0" ' rd=0 ' "$aaaaleg"
check_match "recursive-only no: the A leg has rd=0" ' rd=0 ' "$aleg"
check_false "recursive-only no: reply has RD=0" has_flag rd "$out"

# ====================================================================
# Classes other than IN: no DNS64 (RFC 6147 5.1, 6147-03).
# ====================================================================

proxy_conf "$FAKEUP_PORT"

# CH: fakeup answers the AAAA with REFUSED; as IN that would be an error
# to synthesize over (synthesize-on-error yes).
q_legs ch.t.example AAAA -c CH
check_eq "class CH AAAA: the upstream REFUSED passed through (RFC 6147 5.1)" \
    "REFUSED 0" "$(status_of "$out") $(ancount_of "$out")"
check_eq "class CH AAAA: forwarded once, no A leg (6147-03)" "1 0" \
    "$aaaalegs $alegs"
check_match "class CH AAAA: question echoed with class CH" \
    '^;ch\.t\.example\.[[:space:]]+CH[[:space:]]+AAAA$' "$out"

# Control: the same name in class IN is synthesized over the REFUSED.
q_legs ch.t.example AAAA
check_eq "control: class IN AAAA ch -> synthesized over the REFUSED" \
    "NOERROR ch.t.example. 300 AAAA 2001:db8:64::c000:222" \
    "$(status_of "$out") $(answer_rrs "$out")"

# HS: fakeup answers NODATA; as IN that would be synthesized.
q_legs hs.t.example AAAA -c HS
check_eq "class HS AAAA: the upstream NODATA passed through (RFC 6147 5.1)" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
check_eq "class HS AAAA: forwarded once, no A leg (6147-03)" "1 0" \
    "$aaaalegs $alegs"
check_match "class HS AAAA: question echoed with class HS" \
    '^;hs\.t\.example\.[[:space:]]+HS[[:space:]]+AAAA$' "$out"
check_nomatch "class HS AAAA: nothing synthesized" 'c000:223' "$out"

# QCLASS ANY (255) is not IN either.
q_legs hs.t.example AAAA -c ANY
check_eq "class ANY AAAA: upstream NODATA passed through, forwarded once, no A leg" \
    "NOERROR 0 1 0" \
    "$(status_of "$out") $(ancount_of "$out") $aaaalegs $alegs"

# Even with recursive-only no and break-dnssec yes, class CH stays plain.
proxy_conf "$FAKEUP_PORT" "recursive-only no
break-dnssec yes"
q_legs hs.t.example AAAA -c CH +norec
check_eq "class CH, RD=0, recursive-only no: still no DNS64, no A leg" \
    "NOERROR 0 1 0" \
    "$(status_of "$out") $(ancount_of "$out") $aaaalegs $alegs"

finish
