#!/bin/bash
#
# synth.sh - DNS64 synthesis semantics (RFC 6147 section 5) against the real
# unbound fixture, plus the cases that need an upstream unbound cannot play
# (counting legs, AD from upstream, authority/additional on the A leg),
# against tests/fakeup.
#
# The fixture's addresses are documentation ranges, which the Well-Known
# Prefix never maps (RFC 6052 3.1), so a Network-Specific Prefix is used.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

PFX=2001:db8:64::/96

# proxy_line QNAME TYPE: the proxy's -v log lines for QNAME (lower case,
# absolute) and TYPE.
proxy_line() {
	grep -E "^127\\.0\\.0\\.1@[0-9]+ ${1//./\\.} $2 " "$PROXY_LOG"
}

# same_as_unbound DESC ARGS...: the proxy's answer to "ARGS" equals
# unbound's: status, flags, and each section (RRs sorted, since unbound may
# rotate RRsets).  RFC 6147 5.3.3: other types are not touched.
same_as_unbound() {
	local d=$1 p u
	shift
	p=$(q "$@")
	u=$(q_unbound "$@")
	check_eq "$d: status as unbound's" "$(status_of "$u")" \
	    "$(status_of "$p")"
	check_eq "$d: flags as unbound's" "$(flags_of "$u")" "$(flags_of "$p")"
	check_eq "$d: answer as unbound's" "$(answer_rrs "$u" | sort)" \
	    "$(answer_rrs "$p" | sort)"
	check_eq "$d: authority as unbound's" "$(authority_rrs "$u" | sort)" \
	    "$(authority_rrs "$p" | sort)"
	check_eq "$d: additional as unbound's" \
	    "$(additional_rrs "$u" | sort)" "$(additional_rrs "$p" | sort)"
}

# ====================================================================
# Part 1: the real unbound
# ====================================================================

start_unbound
start_proxy -v -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PFX"
UP="upstream 127\\.0\\.0\\.1@$UNBOUND_PORT"

# --- A only: one synthetic AAAA in place of the A (5.1.6, 5.1.7).
out=$(q a-only.t.example AAAA)
check_eq "a-only: NOERROR" NOERROR "$(status_of "$out")"
check_eq "a-only: exactly the synthetic AAAA, owner a-only, TTL 300 (5.1.7)" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"
check_eq "a-only: ANCOUNT 1" 1 "$(ancount_of "$out")"
check_nomatch "a-only: no A RR in any section (5.1.6)" \
    '^[^ ]+ [0-9]+ A ' "$(all_rrs "$out")"
check_match "a-only: class IN (5.1.7)" \
    '^a-only\.t\.example\.[[:space:]]+300[[:space:]]+IN[[:space:]]+AAAA[[:space:]]' \
    "$out"
check_match "a-only: logged as synthesized from unbound" \
    "synthesized NOERROR $UP\$" "$(proxy_line a-only.t.example. AAAA)"

# --- Dual stack: the real AAAA, unchanged, and no A leg (5.1.1).
out=$(q both.t.example AAAA)
check_eq "both: exactly the real AAAA (5.1.1)" \
    "NOERROR both.t.example. 3600 AAAA 2001:db8::2" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "both: logged once, as passed (no synthesis)" \
    "passed NOERROR" \
    "$(proxy_line both.t.example. AAAA | cut -d' ' -f4-5)"
check_eq "both: no EDE 29 on a passed answer" "" "$(ede_of "$out")"

# --- AAAA only: unchanged.
same_as_unbound "aaaa-only AAAA" aaaa-only.t.example AAAA
check_eq "aaaa-only: the real AAAA" \
    "aaaa-only.t.example. 3600 AAAA 2001:db8::1" \
    "$(answer_rrs "$(q aaaa-only.t.example AAAA)")"

# --- NODATA for both types: the NODATA with its SOA (5.1.6).
out=$(q txt-only.t.example AAAA)
check_eq "txt-only: NOERROR" NOERROR "$(status_of "$out")"
check_eq "txt-only: 0 answers" 0 "$(ancount_of "$out")"
check_eq "txt-only: SOA in authority (5.1.6)" "$SOA_NEG" \
    "$(authority_rrs "$out")"

# --- NXDOMAIN: returned, never synthesized (5.1.2).
out=$(q nonexistent.t.example AAAA)
check_eq "nonexistent: NXDOMAIN (5.1.2)" NXDOMAIN "$(status_of "$out")"
check_eq "nonexistent: no answer" 0 "$(ancount_of "$out")"
check_eq "nonexistent: SOA in authority" "$SOA_NEG" "$(authority_rrs "$out")"

# --- CNAME chains (5.1.5).
out=$(q cname-a.t.example AAAA)
check_eq "cname-a: NOERROR" NOERROR "$(status_of "$out")"
check_eq "cname-a: CNAME then the synthetic AAAA (5.1.5)" \
    "cname-a.t.example. 3600 CNAME a-only.t.example.
a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"
check_eq "cname-a: ANCOUNT 2" 2 "$(ancount_of "$out")"

out=$(q cname-chain.t.example AAAA)
check_eq "cname-chain: 2 CNAMEs then the synthetic AAAA (5.1.5)" \
    "NOERROR 3 cname-chain.t.example. 3600 CNAME cname-a.t.example.
cname-a.t.example. 3600 CNAME a-only.t.example.
a-only.t.example. 300 AAAA 2001:db8:64::c000:221" \
    "$(status_of "$out") $(ancount_of "$out") $(answer_rrs "$out")"

# unbound answers both legs with the CNAME only and no SOA.
out=$(q cname-nodata.t.example AAAA)
check_eq "cname-nodata: NOERROR, ANCOUNT 1, the CNAME only" \
    "NOERROR 1 cname-nodata.t.example. 3600 CNAME txt-only.t.example." \
    "$(status_of "$out") $(ancount_of "$out") $(answer_rrs "$out")"

# unbound answers the AAAA leg NOERROR + CNAME (no SOA); the A leg for
# nonexistent.t.example is NXDOMAIN with SOA: that result is the basis
# (5.1.6, RFC 6604), with the chain in front.
out=$(q cname-nx.t.example AAAA)
check_eq "cname-nx: NXDOMAIN from the A leg (5.1.6)" NXDOMAIN \
    "$(status_of "$out")"
check_eq "cname-nx: the CNAME in the answer" \
    "cname-nx.t.example. 3600 CNAME nonexistent.t.example." \
    "$(answer_rrs "$out")"
check_eq "cname-nx: the A leg's SOA in authority" "$SOA_NEG" \
    "$(authority_rrs "$out")"

# --- Exclusion of ::ffff:0:0/96 (5.1.4).
out=$(q mapped-only.t.example AAAA)
check_eq "mapped-only: synthesized instead of the excluded AAAA (5.1.4)" \
    "NOERROR mapped-only.t.example. 600 AAAA 2001:db8:64::c000:204" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_nomatch "mapped-only: never a ::ffff: address" '::ffff:' \
    "$(all_rrs "$out")"
out=$(q mapped-mixed.t.example AAAA)
check_eq "mapped-mixed: exactly the non-excluded AAAA (5.1.4)" \
    "NOERROR mapped-mixed.t.example. 3600 AAAA 2001:db8::5" \
    "$(status_of "$out") $(answer_rrs "$out")"

# --- TTLs (5.1.7, RFC 2181 5.2).
out=$(q a-multi.t.example AAAA)
check_eq "a-multi: one AAAA per A" \
    "a-multi.t.example. 300 AAAA 2001:db8:64::c000:201
a-multi.t.example. 300 AAAA 2001:db8:64::c000:202" \
    "$(answer_rrs "$out" | sort)"
check_eq "a-multi: one TTL for the RRset, the smallest (RFC 2181 5.2)" \
    "300 300" "$(ttls_of "$out")"
out=$(q ttl-500.t.example AAAA)
check_eq "ttl-500: TTL 500 = min(A 500, SOA 1200) (5.1.7)" \
    "ttl-500.t.example. 500 AAAA 2001:db8:64::cb00:7101" \
    "$(answer_rrs "$out")"
out=$(q ttl-1300.t.example AAAA)
check_eq "ttl-1300: TTL 1200 = min(A 1300, SOA 1200) (5.1.7)" \
    "ttl-1300.t.example. 1200 AAAA 2001:db8:64::cb00:7102" \
    "$(answer_rrs "$out")"

# --- Other types and A queries: unchanged (5.3.3).
same_as_unbound "A a-only" a-only.t.example A
same_as_unbound "A both" both.t.example A
same_as_unbound "A a-multi" a-multi.t.example A
same_as_unbound "TXT txt-only" txt-only.t.example TXT
same_as_unbound "MX t.example (NODATA)" t.example MX
same_as_unbound "NS t.example" t.example NS
same_as_unbound "SOA t.example" t.example SOA
same_as_unbound "ANY both" both.t.example ANY
same_as_unbound "A txt-only (NODATA)" txt-only.t.example A
out=$(q a-only.t.example A)
check_eq "A a-only: the A itself" "a-only.t.example. 300 A 192.0.2.33" \
    "$(answer_rrs "$out")"
check_eq "A a-only: logged as passed" "passed NOERROR" \
    "$(proxy_line a-only.t.example. A | head -n 1 | cut -d' ' -f4-5)"

# --- Class CH: no DNS64 at all (5.1).
same_as_unbound "CH AAAA a-only (5.1)" -c CH -t AAAA a-only.t.example
out=$(q -c CH -t AAAA a-only.t.example)
check_nomatch "CH AAAA a-only: nothing synthesized" 'AAAA[[:space:]]+2001:' \
    "$out"

# --- The question keeps the client's case (5.4).
out=$(q A-ONLY.t.EXAMPLE AAAA)
check_match "A-ONLY.t.EXAMPLE: question as sent (5.4)" \
    '^;A-ONLY\.t\.EXAMPLE\.[[:space:]]+IN[[:space:]]+AAAA$' "$out"
check_eq "A-ONLY.t.EXAMPLE: synthesized" \
    "a-only.t.example. 300 aaaa 2001:db8:64::c000:221" \
    "$(answer_rrs "$out" | tr '[:upper:]' '[:lower:]')"

# --- EDE 29 (RFC 8914) iff the client sent EDNS.
out=$(q +edns=0 a-only.t.example AAAA)
check_eq "a-only with EDNS: EDE 29 (Synthesized)" 29 "$(ede_of "$out")"
out=$(q +noedns a-only.t.example AAAA)
check_nomatch "a-only without EDNS: no OPT, so no EDE" \
    'OPT PSEUDOSECTION|EDE:' "$out"
check_eq "a-only without EDNS: still synthesized" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"

stop_proxy
stop_unbound

# ====================================================================
# Part 2: fakeup, to count legs and to shape the A reply
# ====================================================================

rules=$TEST_TMP/rules
cat >"$rules" <<'EOF'
# dual stack: the A rule must never be used (5.1.1)
match both.f.test. AAAA
  answer both.f.test. 3600 IN AAAA 2001:db8::2
end
match both.f.test. A
  answer both.f.test. 3600 IN A 192.0.2.3
end
# NXDOMAIN: no A leg (5.1.2)
match nx.f.test. AAAA
  rcode NXDOMAIN
  authority f.test. 3600 IN SOA ns.f.test. host.f.test. 1 3600 900 604800 1200
end
match nx.f.test. A
  answer nx.f.test. 300 IN A 192.0.2.9
end
# class CH AAAA: no DNS64, no A leg (5.1); fakeup ignores the class
match ch.f.test. AAAA
  authority f.test. 3600 IN SOA ns.f.test. host.f.test. 1 3600 900 604800 1200
end
match ch.f.test. A
  answer ch.f.test. 300 IN A 192.0.2.9
end
# authority and additional of the A reply go to the client (5.3.2, 5.4)
match sect.f.test. AAAA
  authority f.test. 1200 IN SOA ns.f.test. host.f.test. 1 3600 900 604800 1200
end
match sect.f.test. A
  answer sect.f.test. 300 IN A 192.0.2.20
  authority f.test. 300 IN NS ns.f.test.
  additional ns.f.test. 300 IN A 192.0.2.53
end
# AAAA NODATA behind a CNAME: sequentially the A leg asks for the chain's
# end (real.x.test), not the query name (5.1.5); with dns64-parallel the A
# query for the query name left with the AAAA query, and its answer, which
# leads to real.x.test, is used
match alias.x.test. AAAA
  answer alias.x.test. 3600 IN CNAME real.x.test.
  authority x.test. 1200 IN SOA ns.x.test. host.x.test. 1 3600 900 604800 1200
end
match alias.x.test. A
  answer alias.x.test. 3600 IN CNAME real.x.test.
  answer real.x.test. 300 IN A 192.0.2.77
end
match real.x.test. AAAA
  authority x.test. 1200 IN SOA ns.x.test. host.x.test. 1 3600 900 604800 1200
end
match real.x.test. A
  answer real.x.test. 300 IN A 192.0.2.77
end
# A DNAME (RFC 6672) with the CNAME a resolver synthesizes from it: the
# chain is followed through the CNAME and both are kept (5.1.5)
match www.old.test. AAAA
  answer old.test. 3600 IN DNAME new.test.
  answer www.old.test. 3600 IN CNAME www.new.test.
  authority new.test. 1200 IN SOA ns.new.test. host.new.test. 1 3600 900 604800 1200
end
match www.new.test. A
  answer www.new.test. 300 IN A 192.0.2.79
end
# An A leg whose only A record is of class CH: not ours (5.1)
match chclass.f.test. AAAA
  authority f.test. 1200 IN SOA ns.f.test. host.f.test. 1 3600 900 604800 1200
end
match chclass.f.test. A
  answer chclass.f.test. 300 CH A 8.8.8.8
end
# AD from upstream on both legs (5.5)
match ad.f.test. AAAA
  flags ra ad
  authority f.test. 1200 IN SOA ns.f.test. host.f.test. 1 3600 900 604800 1200
end
match ad.f.test. A
  flags ra ad
  answer ad.f.test. 300 IN A 192.0.2.21
end
EOF
start_fakeup "$rules"
start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -p "$PFX"

out=$(q both.f.test AAAA)
check_eq "fakeup both: the real AAAA only (5.1.1)" \
    "both.f.test. 3600 AAAA 2001:db8::2" "$(answer_rrs "$out")"
check_eq "fakeup both: one AAAA leg" 1 "$(fakeup_legs both.f.test. AAAA)"
check_no_a_leg "fakeup both: no A leg (5.1.1)" "$(fakeup_legs both.f.test. A)"

out=$(q nx.f.test AAAA)
check_eq "fakeup nx: NXDOMAIN, no answer (5.1.2)" "NXDOMAIN 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "fakeup nx: the SOA" \
    "f.test. 3600 SOA ns.f.test. host.f.test. 1 3600 900 604800 1200" \
    "$(authority_rrs "$out")"
check_eq "fakeup nx: AAAA leg sent" 1 "$(fakeup_legs nx.f.test. AAAA)"
check_no_a_leg "fakeup nx: no A leg (5.1.2)" "$(fakeup_legs nx.f.test. A)"

out=$(q -c CH -t AAAA ch.f.test)
check_eq "fakeup CH: NOERROR, no answer (passed through)" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_match "fakeup CH: question class CH" \
    '^;ch\.f\.test\.[[:space:]]+CH[[:space:]]+AAAA$' "$out"
check_eq "fakeup CH: the upstream's SOA" \
    "f.test. 3600 SOA ns.f.test. host.f.test. 1 3600 900 604800 1200" \
    "$(authority_rrs "$out")"
check_eq "fakeup CH: AAAA forwarded once" 1 "$(fakeup_legs ch.f.test. AAAA)"
check_eq "fakeup CH: no A leg (5.1)" 0 "$(fakeup_legs ch.f.test. A)"

out=$(q sect.f.test AAAA)
check_eq "fakeup sect: synthesized" \
    "sect.f.test. 300 AAAA 2001:db8:64::c000:214" "$(answer_rrs "$out")"
check_eq "fakeup sect: authority of the A reply, unchanged (5.4)" \
    "f.test. 300 NS ns.f.test." "$(authority_rrs "$out")"
check_eq "fakeup sect: additional of the A reply, unchanged (5.3.2)" \
    "ns.f.test. 300 A 192.0.2.53" "$(additional_rrs "$out")"
check_nomatch "fakeup sect: no AAAA synthesized in additional (5.3.2)" \
    ' AAAA ' "$(additional_rrs "$out")"

# 192.0.2.77 = c000:24d; a documentation address, mapped by the NSP only.
out=$(q alias.x.test AAAA)
check_eq "fakeup alias: the CNAME, then the AAAA at its end (5.1.5)" \
    "NOERROR alias.x.test. 3600 CNAME real.x.test.
real.x.test. 300 AAAA 2001:db8:64::c000:24d" \
    "$(status_of "$out") $(answer_rrs "$out")"
if dns64_parallel; then
	check_eq "fakeup alias: the A query that left with the AAAA (5.1.8)" \
	    1 "$(fakeup_legs alias.x.test. A)"
	check_eq "fakeup alias: its answer reached real.x.test: no other A" \
	    0 "$(fakeup_legs real.x.test. A)"
elif dns64_sequential; then
	check_eq "fakeup alias: the A leg asked for the chain's end (5.1.5)" \
	    1 "$(fakeup_legs real.x.test. A)"
	check_eq "fakeup alias: no A query for the query name alias.x.test" \
	    0 "$(fakeup_legs alias.x.test. A)"
else
	check_eq "fakeup alias: one A query, for the name or its chain's end" \
	    1 $(( $(fakeup_legs alias.x.test. A) + $(fakeup_legs real.x.test. A) ))
fi

# 192.0.2.79 = c000:24f.
out=$(q www.old.test AAAA)
check_eq "fakeup DNAME: DNAME, its CNAME, then the AAAA at the end (5.1.5)" \
    "NOERROR old.test. 3600 DNAME new.test.
www.old.test. 3600 CNAME www.new.test.
www.new.test. 300 AAAA 2001:db8:64::c000:24f" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "fakeup DNAME: the A leg asked for www.new.test" 1 \
    "$(fakeup_legs www.new.test. A)"

out=$(q chclass.f.test AAAA)
check_eq "fakeup chclass: a class CH A is not synthesized from: the NODATA (5.1)" \
    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
check_eq "fakeup chclass: the A leg was asked" 1 \
    "$(fakeup_legs chclass.f.test. A)"

out=$(q ad.f.test AAAA)
check_eq "fakeup ad: synthesized" \
    "ad.f.test. 300 AAAA 2001:db8:64::c000:215" "$(answer_rrs "$out")"
check_false "fakeup ad: AD clear although upstream set it (5.5)" \
    has_flag ad "$out"
check_eq "fakeup ad: both legs carried AD (the test is meaningful)" 1 \
    "$(has_flag ad "$(q_fakeup ad.f.test A)" && echo 1)"

finish
