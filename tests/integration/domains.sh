#!/bin/bash
#
# domains.sh - the per-domain lists "never-synthesize" and
# "always-synthesize", against the real unbound fixture, and against
# tests/fakeup where the A legs must be counted.
#
# README "Per-domain lists": never-synthesize: the AAAA answer of these
# names (and everything below) is passed through, even when empty.
# always-synthesize: real AAAA records are ignored and the answer is
# synthesized from the A records; if there is no A, the real AAAA answer
# is returned.  Domain names compare case-insensitively (RFC 4343).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

NSP=2001:db8:64::/96
PROXY_CONF_BASE="prefix $NSP"

# res OUTPUT: "STATUS ANCOUNT" then the answer RRs, one line each.
res() {
	echo "$(status_of "$1") $(ancount_of "$1")"
	answer_rrs "$1"
}

# nodata: what res prints for unbound's NODATA (plus its authority).
NODATA="NOERROR 0
$SOA_NEG"

# res_auth OUTPUT: res, then the authority RRs.
res_auth() {
	res "$1"
	authority_rrs "$1"
}

start_unbound

# ====================================================================
# never-synthesize
# ====================================================================

proxy_conf "$UNBOUND_PORT" "never-synthesize { a-only.t.example }"
out=$(q a-only.t.example AAAA)
check_eq "never-synthesize { a-only.t.example }: a-only -> unbound's NODATA with SOA" \
    "$NODATA" "$(res_auth "$out")"
check_true "never-synthesize: a-only logged as passed" wait_for_grep \
    "$PROXY_LOG" '^127\.0\.0\.1@[0-9]+ a-only\.t\.example\. AAAA passed NOERROR' 2
out=$(q a-multi.t.example AAAA)
check_eq "never-synthesize { a-only.t.example }: a-multi (not listed) still synthesized" \
    "NOERROR 2
a-multi.t.example. 300 AAAA 2001:db8:64::c000:201
a-multi.t.example. 300 AAAA 2001:db8:64::c000:202" \
    "$(status_of "$out") $(ancount_of "$out")
$(answer_rrs "$out" | sort)"

# Reached through a CNAME, a listed name is still listed: the chain ends at
# a-only.t.example, whose AAAA answer is passed through (empty), so the
# client gets the chain as unbound gives it and no AAAA for a-only.
out=$(q cname-a.t.example AAAA)
ub=$(q_unbound cname-a.t.example AAAA)
check_eq "never-synthesize { a-only.t.example }: cname-a (CNAME to a-only) -> unbound's answer, the CNAME only, no AAAA for a-only" \
    "$(res "$ub")" "$(res "$out")"

# Label boundaries: "only.t.example" is not a parent of a-only.t.example.
proxy_conf "$UNBOUND_PORT" "never-synthesize { only.t.example }"
out=$(q a-only.t.example AAAA)
check_eq "never-synthesize { only.t.example }: a-only is not below it -> synthesized" \
    "NOERROR 1
a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(res "$out")"

# Everything below a listed domain.
proxy_conf "$UNBOUND_PORT" "never-synthesize { t.example }"
out=$(q cname-a.t.example AAAA)
check_eq "never-synthesize { t.example }: cname-a -> the CNAME only, not synthesized" \
    "NOERROR 1
cname-a.t.example. 3600 CNAME a-only.t.example." "$(res "$out")"
out=$(q a-only.t.example AAAA)
check_eq "never-synthesize { t.example }: a-only (below it) -> NODATA" \
    "$NODATA" "$(res_auth "$out")"
out=$(q both.t.example AAAA)
check_eq "never-synthesize { t.example }: real AAAA still answered" \
    "NOERROR 1
both.t.example. 3600 AAAA 2001:db8::2" "$(res "$out")"

# Case-insensitive: list in mixed case, query in lower case and the other
# way round.
proxy_conf "$UNBOUND_PORT" "never-synthesize { A-Only.T.Example }"
out=$(q a-only.t.example AAAA)
check_eq "never-synthesize { A-Only.T.Example }: a-only (lower case) -> NODATA" \
    "$NODATA" "$(res_auth "$out")"
proxy_conf "$UNBOUND_PORT" "never-synthesize { a-only.t.example }"
out=$(q A-ONLY.T.EXAMPLE AAAA)
check_eq "never-synthesize { a-only.t.example }: A-ONLY.T.EXAMPLE -> NOERROR, no answer" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"

# ====================================================================
# always-synthesize
# ====================================================================

proxy_conf "$UNBOUND_PORT" "always-synthesize { both.t.example aaaa-only.t.example }"
out=$(q both.t.example AAAA)
check_eq "always-synthesize { both.t.example }: both -> synthesized from 192.0.2.3 (TTL min(3600, 600)), not 2001:db8::2" \
    "NOERROR 1
both.t.example. 600 AAAA 2001:db8:64::c000:203" "$(res "$out")"
check_nomatch "always-synthesize: both: the real 2001:db8::2 is not returned" \
    '2001:db8::2' "$out"
check_true "always-synthesize: both logged as synthesized" wait_for_grep \
    "$PROXY_LOG" '^127\.0\.0\.1@[0-9]+ both\.t\.example\. AAAA synthesized NOERROR' 2

out=$(q aaaa-only.t.example AAAA)
check_eq "always-synthesize { aaaa-only.t.example } (no A): the real AAAA 2001:db8::1" \
    "NOERROR 1
aaaa-only.t.example. 3600 AAAA 2001:db8::1" "$(res "$out")"

out=$(q a-only.t.example AAAA)
check_eq "always-synthesize: a-only (not listed) synthesized as usual" \
    "NOERROR 1
a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(res "$out")"
out=$(q mapped-mixed.t.example AAAA)
check_eq "always-synthesize: mapped-mixed (not listed) keeps its real AAAA" \
    "NOERROR 1
mapped-mixed.t.example. 3600 AAAA 2001:db8::5" "$(res "$out")"

# A parent domain and mixed case in the list, query in another case.
proxy_conf "$UNBOUND_PORT" "always-synthesize { T.Example }"
out=$(q Mapped-Mixed.t.EXAMPLE AAAA)
check_eq "always-synthesize { T.Example }: Mapped-Mixed.t.EXAMPLE -> synthesized from 192.0.2.5" \
    "NOERROR 1
mapped-mixed.t.example. 600 AAAA 2001:db8:64::c000:205" \
    "$(res "$out" | awk 'NR > 1 { $1 = tolower($1) } { print }')"

stop_unbound

# ====================================================================
# A legs (fakeup): never-synthesize sends none, always-synthesize one.
# ====================================================================

rules=$TEST_TMP/rules
{
	fakeup_a_only a-only.t.example. 192.0.2.33
	cat <<'EOF'
match both.t.example. AAAA
  answer both.t.example. 3600 IN AAAA 2001:db8::2
end
match both.t.example. A
  answer both.t.example. 3600 IN A 192.0.2.3
end
match alias.t.example. AAAA
  answer alias.t.example. 3600 IN CNAME both.t.example.
  answer both.t.example. 3600 IN AAAA 2001:db8::2
end
match alias.t.example. A
  answer alias.t.example. 3600 IN CNAME both.t.example.
  answer both.t.example. 3600 IN A 192.0.2.3
end
EOF
} >"$rules"
start_fakeup "$rules"

proxy_conf "$FAKEUP_PORT" "never-synthesize { a-only.t.example }
always-synthesize { both.t.example }"
out=$(q a-only.t.example AAAA)
check_eq "fakeup, never-synthesize: a-only -> NODATA" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "fakeup, never-synthesize: a-only: 1 AAAA leg, no A leg" "1 0" \
    "$(fakeup_legs a-only.t.example. AAAA) $(fakeup_legs a-only.t.example. A)"
out=$(q both.t.example AAAA)
check_eq "fakeup, always-synthesize: both -> synthesized" \
    "both.t.example. 600 AAAA 2001:db8:64::c000:203" "$(answer_rrs "$out")"
check_eq "fakeup, always-synthesize: both: one A leg despite the real AAAA" 1 \
    "$(fakeup_legs both.t.example. A)"

# Reached through a CNAME, a listed name is still listed: its real AAAA
# is ignored, the chain is kept and both's A is used.
out=$(q alias.t.example AAAA)
check_eq "fakeup, always-synthesize { both.t.example }: alias (CNAME to both) -> the CNAME + both's synthesized AAAA, not 2001:db8::2" \
    "alias.t.example. 3600 CNAME both.t.example.
both.t.example. 600 AAAA 2001:db8:64::c000:203" "$(answer_rrs "$out")"

finish
