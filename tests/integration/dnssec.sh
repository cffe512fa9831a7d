#!/bin/bash
#
# dnssec.sh - DNSSEC and DNS64 (RFC 6147 5.5; checklist 6147-22..24), the
# "break-dnssec" keyword, DNSSEC EDEs on the AAAA leg and EDE 29 (RFC 8914)
# on synthesized answers.  Against tests/fakeup, which serves RRSIG and
# NSEC records (the signatures are fake: the proxy does not validate, it
# only looks whether data is signed) and counts the A legs.
#
# README "DNSSEC and flags": CD=1 -> no synthesis, the upstream data as is.
# DO=1 and a signed AAAA denial or a signed A RRset (RRSIGs present) -> no
# synthesis, unless break-dnssec yes.  The A query carries the client's DO
# and CD.  "How it answers": synthesized answers never have AD set, never
# carry the RRSIG of the A RRset, and carry EDE 29 when the client sent
# EDNS; a SERVFAIL with a DNSSEC EDE (6-12) is always passed through.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

NSP=2001:db8:64::/96
PROXY_CONF_BASE="prefix $NSP"
SIG="20300101000000 20200101000000 12345 t.example. AAAA"

# Rule file.  Names: plain (unsigned NODATA, unsigned A), signed-nodata
# (NODATA with RRSIG(SOA), NSEC, RRSIG(NSEC); unsigned A), signed-a
# (unsigned NODATA; A with RRSIG(A)), ad (AD set on both legs), edeN
# (AAAA SERVFAIL with EDE N).
rules=$TEST_TMP/rules
{
	fakeup_a_only plain.t.example. 192.0.2.35 "aa ra"
	cat <<EOF
match signed-nodata.t.example. AAAA
  flags aa ra
  authority $SOA_NEG_RR
  authority t.example. 1200 IN RRSIG SOA 8 2 3600 $SIG
  authority signed-nodata.t.example. 1200 IN NSEC z.t.example. A RRSIG NSEC
  authority signed-nodata.t.example. 1200 IN RRSIG NSEC 8 3 1200 $SIG
end
match signed-nodata.t.example. A
  flags aa ra
  answer signed-nodata.t.example. 300 IN A 192.0.2.36
end
match signed-nsec3.t.example. AAAA
  flags aa ra
  authority $SOA_NEG_RR
  authority t.example. 1200 IN RRSIG SOA 8 2 3600 $SIG
  authority 2vptu5timamqttgl4luu9kg21e0aor3s.t.example. 1200 IN NSEC3 1 0 10 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG
  authority 2vptu5timamqttgl4luu9kg21e0aor3s.t.example. 1200 IN RRSIG NSEC3 8 3 1200 $SIG
end
match signed-nsec3.t.example. A
  flags aa ra
  answer signed-nsec3.t.example. 300 IN A 192.0.2.39
end
match signed-a.t.example. AAAA
  flags aa ra
  authority $SOA_NEG_RR
end
match signed-a.t.example. A
  flags aa ra
  answer signed-a.t.example. 300 IN A 192.0.2.37
  answer signed-a.t.example. 300 IN RRSIG A 8 3 300 $SIG
end
# AAAA SERVFAIL (no EDE, so not a DNSSEC failure) and a signed A RRset
match sf-signed-a.t.example. AAAA
  rcode SERVFAIL
end
match sf-signed-a.t.example. A
  flags aa ra
  answer sf-signed-a.t.example. 300 IN A 1.2.3.4
  answer sf-signed-a.t.example. 300 IN RRSIG A 8 3 300 $SIG
end
match ad.t.example. AAAA
  flags ad ra
  authority $SOA_NEG_RR
end
match ad.t.example. A
  flags ad ra
  answer ad.t.example. 300 IN A 192.0.2.38
end
# Signed AAAA RRsets with AAAA in the default exclude-aaaa ::ffff:0:0/96:
# all of them (xall, its A signed too), some of them (xsome), all of them
# at the end of a signed CNAME (xcname -> xtarget); xunsigned: like xall,
# unsigned.
match xall.t.example. AAAA
  flags aa ra
  answer xall.t.example. 300 IN AAAA ::ffff:192.0.2.50
  answer xall.t.example. 300 IN RRSIG AAAA 8 3 300 $SIG
end
match xall.t.example. A
  flags aa ra
  answer xall.t.example. 300 IN A 192.0.2.50
  answer xall.t.example. 300 IN RRSIG A 8 3 300 $SIG
end
match xsome.t.example. AAAA
  flags aa ra
  answer xsome.t.example. 300 IN AAAA ::ffff:192.0.2.51
  answer xsome.t.example. 300 IN AAAA 2001:db8:1::51
  answer xsome.t.example. 300 IN RRSIG AAAA 8 3 300 $SIG
end
match xsome.t.example. A
  flags aa ra
  answer xsome.t.example. 300 IN A 192.0.2.51
end
match xcname.t.example. AAAA
  flags aa ra
  answer xcname.t.example. 300 IN CNAME xtarget.t.example.
  answer xcname.t.example. 300 IN RRSIG CNAME 8 3 300 $SIG
  answer xtarget.t.example. 300 IN AAAA ::ffff:192.0.2.52
  answer xtarget.t.example. 300 IN RRSIG AAAA 8 3 300 $SIG
end
match xcname.t.example. A
  flags aa ra
  answer xcname.t.example. 300 IN CNAME xtarget.t.example.
  answer xtarget.t.example. 300 IN A 192.0.2.52
end
match xtarget.t.example. A
  flags aa ra
  answer xtarget.t.example. 300 IN A 192.0.2.52
end
match xunsigned.t.example. AAAA
  flags aa ra
  answer xunsigned.t.example. 300 IN AAAA ::ffff:192.0.2.53
end
match xunsigned.t.example. A
  flags aa ra
  answer xunsigned.t.example. 300 IN A 192.0.2.53
end
EOF
	for n in 6 7 8 9 10 11 12 13 18; do
		cat <<EOF
match ede$n.t.example. AAAA
  rcode SERVFAIL
  ede $n test code $n
end
match ede$n.t.example. A
  answer ede$n.t.example. 300 IN A 192.0.2.$((40 + n))
end
EOF
	done
} >"$rules"

# The NODATA authority sections as fakeup sends them (normalized).
AUTH_PLAIN=$SOA_NEG
AUTH_SIGNED="$AUTH_PLAIN
t.example. 1200 RRSIG SOA 8 2 3600 $SIG
signed-nodata.t.example. 1200 NSEC z.t.example. A RRSIG NSEC
signed-nodata.t.example. 1200 RRSIG NSEC 8 3 1200 $SIG"

# syn NAME V4HEX: the synthesized answer RR (TTL min(A 300, SOA 1200)).
syn() {
	echo "$1.t.example. 300 AAAA 2001:db8:64::$2"
}

start_fakeup "$rules"

# Control: fakeup really sets AD (so the AD checks below can fail).
out=$(q_fakeup ad.t.example A)
check_true "control: fakeup sets AD on ad.t.example" has_flag ad "$out"

proxy_conf "$FAKEUP_PORT"

# ====================================================================
# CD=1: no synthesis, upstream data as is, no A leg (RFC 6147 5.5 (3)).
# ====================================================================

q_legs plain.t.example AAAA +cd
check_eq "CD=1, DO=0: plain -> the upstream NODATA as is (RFC 6147 5.5)" \
    "NOERROR 0 $AUTH_PLAIN" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
check_eq "CD=1, DO=0: AAAA forwarded once, no A leg (6147-24)" "1 0" \
    "$aaaalegs $alegs"
check_true "CD=1: reply has CD set" has_flag cd "$out"
check_match "CD=1: the AAAA leg carried cd=1" ' cd=1 ' "$aaaaleg"

q_legs signed-nodata.t.example AAAA +cd +dnssec
check_eq "CD=1, DO=1: signed-nodata -> NODATA with RRSIG/NSEC as is (6147-24)" \
    "NOERROR 0
$AUTH_SIGNED" "$(status_of "$out") $(ancount_of "$out")
$(authority_rrs "$out")"
check_eq "CD=1, DO=1: signed-nodata: no A leg (6147-24)" 0 "$alegs"
check_match "CD=1, DO=1: the AAAA leg carried cd=1 do=1" ' cd=1 .* do=1 ' \
    "$aaaaleg"

q_legs plain.t.example AAAA +cd +dnssec
check_eq "CD=1, DO=1, unsigned: plain -> NODATA, no A leg" "NOERROR 0 0" \
    "$(status_of "$out") $(ancount_of "$out") $alegs"

# ====================================================================
# DO=1 without break-dnssec: signed data is not rewritten.
# ====================================================================

q_legs signed-nodata.t.example AAAA +dnssec
check_eq "DO=1: signed NODATA -> relayed with RRSIG/NSEC as is (RFC 6147 5.5 (2))" \
    "NOERROR 0
$AUTH_SIGNED" "$(status_of "$out") $(ancount_of "$out")
$(authority_rrs "$out")"
check_no_a_leg "DO=1: signed NODATA: no A leg" "$alegs"

q_legs signed-nsec3.t.example AAAA +dnssec
check_eq "DO=1: NSEC3-signed NODATA -> relayed as is, not synthesized" \
    "NOERROR 0 4" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out" | grep -c .)"
check_no_a_leg "DO=1: NSEC3-signed NODATA: no A leg" "$alegs"

q_legs signed-a.t.example AAAA +dnssec
check_eq "DO=1: unsigned NODATA, signed A RRset -> the original NODATA, no synthesis" \
    "NOERROR 0 $AUTH_PLAIN" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
check_nomatch "DO=1: signed A RRset: no AAAA, no A, no RRSIG(A) in the answer" \
    ' (AAAA|A|RRSIG) ' "$(answer_rrs "$out")"
check_match "DO=1: signed-a: the A leg carried do=1" ' do=1 ' "$aleg"

# The AAAA leg failed (SERVFAIL, no EDE) and the A RRset is signed: for a
# DO=1 client it may not be rewritten (RFC 6147 5.5), and the A RRset and
# its RRSIG must not be put into an AAAA answer either: the AAAA leg's
# SERVFAIL is passed through.
out=$(q_fakeup +dnssec sf-signed-a.t.example A)
check_eq "control: fakeup sends sf-signed-a's A with its RRSIG" \
    "sf-signed-a.t.example. 300 A 1.2.3.4
sf-signed-a.t.example. 300 RRSIG A 8 3 300 $SIG" "$(answer_rrs "$out")"
q_legs sf-signed-a.t.example AAAA +dnssec
check_eq "DO=1: AAAA SERVFAIL + signed A RRset -> SERVFAIL passed through, ANCOUNT 0" \
    "SERVFAIL 0" "$(status_of "$out") $(ancount_of "$out")"
check_nomatch "DO=1: AAAA SERVFAIL + signed A: no A, no RRSIG in the answer" \
    ' (A|RRSIG) ' "$(answer_rrs "$out")"
check_eq "DO=1: AAAA SERVFAIL + signed A: the A leg was asked, with do=1" \
    "1 do=1" "$alegs $(grep -o ' do=1 ' <<<"$aleg" | tr -d ' ')"
# Control: without DO the same data is synthesized (the A leg's RRSIG is
# dropped), so the SERVFAIL above comes from the signature.
q_legs sf-signed-a.t.example AAAA
check_eq "DO=0: AAAA SERVFAIL + signed A RRset -> synthesized, no RRSIG" \
    "NOERROR sf-signed-a.t.example. 300 AAAA 2001:db8:64::102:304" \
    "$(status_of "$out") $(answer_rrs "$out")"

# Unsigned data with DO=1 is synthesized; the A leg carries DO=1, CD=0.
q_legs plain.t.example AAAA +dnssec
check_eq "DO=1, unsigned: plain -> synthesized" "NOERROR $(syn plain c000:223)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "DO=1: one A leg" 1 "$alegs"
check_match "DO=1: the A leg carries the client's DO (do=1) and CD (cd=0)" \
    ' rd=1 cd=0 edns=1 do=1 ' "$aleg"

# ====================================================================
# DO=1 and a signed AAAA RRset whose AAAA are excluded (exclude-aaaa,
# default ::ffff:0:0/96): RFC 6147 5.5, no DNS64 processing at all, the
# exclusion included; removing an AAAA would break the signature of the
# rest.  The client gets the upstream's answer section as it was.
# ====================================================================

# upstream NAME: the answer section fakeup sends for "NAME AAAA", DO=1.
upstream() {
	answer_rrs "$(q_fakeup +dnssec "$1" AAAA)"
}

up=$(upstream xall.t.example)
check_match "control: fakeup signs xall's excluded AAAA" \
    '^xall\.t\.example\. 300 RRSIG AAAA ' "$up"
q_legs xall.t.example AAAA +dnssec
check_eq "DO=1, signed AAAA all in exclude-aaaa: the upstream's AAAA and RRSIG, untouched (RFC 6147 5.5)" \
    "NOERROR
$up" "$(status_of "$out")
$(answer_rrs "$out")"
check_no_a_leg "DO=1, signed AAAA all excluded: no A leg" "$alegs"
check_eq "DO=1, signed AAAA all excluded: not synthesized (no EDE 29)" "" \
    "$(ede_of "$out" | grep -x 29)"

up=$(upstream xsome.t.example)
q_legs xsome.t.example AAAA +dnssec
check_eq "DO=1, signed AAAA partly in exclude-aaaa: every AAAA and the RRSIG (RFC 6147 5.5)" \
    "NOERROR
$up" "$(status_of "$out")
$(answer_rrs "$out")"
check_match "DO=1, signed AAAA partly excluded: ::ffff:192.0.2.51 kept" \
    ' AAAA ::ffff:192\.0\.2\.51$' "$(answer_rrs "$out")"
check_no_a_leg "DO=1, signed AAAA partly excluded: no A leg" "$alegs"

up=$(upstream xcname.t.example)
q_legs xcname.t.example AAAA +dnssec
check_eq "DO=1, signed CNAME to signed AAAA all excluded: the upstream's chain, AAAA and RRSIGs (RFC 6147 5.5)" \
    "NOERROR
$up" "$(status_of "$out")
$(answer_rrs "$out")"
check_eq "DO=1, signed CNAME to excluded AAAA: no A leg for the target" 0 \
    "$(fakeup_legs xtarget.t.example. A)"
check_no_a_leg "DO=1, signed CNAME to excluded AAAA: at most the parallel A leg" \
    "$alegs"

# Unsigned, DO=1: the exclusion applies as usual.
q_legs xunsigned.t.example AAAA +dnssec
check_eq "DO=1, unsigned AAAA all excluded: synthesized from the A" \
    "NOERROR $(syn xunsigned c000:235)" \
    "$(status_of "$out") $(answer_rrs "$out")"

# ====================================================================
# DO=0: signed data is synthesized, without AD and without RRSIG(A).
# ====================================================================

q_legs signed-a.t.example AAAA
check_eq "DO=0: signed A RRset -> synthesized, only the AAAA (no RRSIG(A))" \
    "NOERROR $(syn signed-a c000:225)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_nomatch "DO=0: signed-a: no RRSIG anywhere" ' RRSIG ' "$(all_rrs "$out")"
check_false "DO=0: signed-a: AD not set (RFC 6147 5.5)" has_flag ad "$out"
check_match "DO=0: the A leg carries do=0 cd=0" ' cd=0 .* do=0 ' "$aleg"

q_legs signed-nodata.t.example AAAA
check_eq "DO=0: signed NODATA -> synthesized" \
    "NOERROR $(syn signed-nodata c000:224)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_false "DO=0: signed-nodata: AD not set" has_flag ad "$out"

# Without DO the excluded AAAA are stripped, signed or not.
q_legs xall.t.example AAAA
check_eq "DO=0: signed AAAA all excluded -> synthesized from the A" \
    "NOERROR $(syn xall c000:232)" "$(status_of "$out") $(answer_rrs "$out")"
q_legs xsome.t.example AAAA
check_eq "DO=0: signed AAAA partly excluded -> the others only" \
    "NOERROR 2001:db8:1::51" "$(status_of "$out") $(aaaa_of "$out")"
q_legs xcname.t.example AAAA
check_eq "DO=0: signed CNAME to excluded AAAA -> synthesized at the target" \
    "NOERROR xtarget.t.example. 300 AAAA 2001:db8:64::c000:234" \
    "$(status_of "$out") $(answer_rrs "$out" | grep ' AAAA ')"
check_match "DO=0: signed CNAME to excluded AAAA: the CNAME in front" \
    '^xcname\.t\.example\. 300 CNAME xtarget\.t\.example\.$' \
    "$(answer_rrs "$out")"

# ====================================================================
# AD is never set on a synthesized answer (6147-22), even when upstream
# set it on both legs.
# ====================================================================

q_legs ad.t.example AAAA +adflag
check_eq "AD from upstream, DO=0: synthesized" "NOERROR $(syn ad c000:226)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_false "AD from upstream, DO=0: AD not set (6147-22)" has_flag ad "$out"
q_legs ad.t.example AAAA +adflag +dnssec
check_eq "AD from upstream, DO=1 (unsigned): synthesized" \
    "NOERROR $(syn ad c000:226)" "$(status_of "$out") $(answer_rrs "$out")"
check_false "AD from upstream, DO=1: AD not set (6147-22)" has_flag ad "$out"

# ====================================================================
# EDE on the AAAA leg: DNSSEC failures (6..12) are passed through with no
# A leg; others are an ordinary error (synthesize-on-error yes).
# ====================================================================

for n in 6 7 8 9 10 11 12; do
	q_legs "ede$n.t.example" AAAA
	check_eq "AAAA SERVFAIL with EDE $n: SERVFAIL passed through, no answer" \
	    "SERVFAIL 0" "$(status_of "$out") $(ancount_of "$out")"
	check_match "AAAA SERVFAIL with EDE $n: EDE $n kept for the EDNS client" \
	    "^$n\$" "$(ede_of "$out")"
	check_no_a_leg "AAAA SERVFAIL with EDE $n: no A leg" "$alegs"
done
q_legs ede6.t.example AAAA +noedns
check_eq "EDE 6, client without EDNS: SERVFAIL" SERVFAIL "$(status_of "$out")"
check_no_a_leg "EDE 6, client without EDNS: no A leg" "$alegs"
check_nomatch "EDE 6, client without EDNS: no OPT in the reply" \
    'OPT PSEUDOSECTION' "$out"

for n in 13 18; do
	q_legs "ede$n.t.example" AAAA
	check_eq "AAAA SERVFAIL with EDE $n (not DNSSEC): synthesized (RFC 6147 5.1.2)" \
	    "NOERROR $(syn "ede$n" "c000:2$(printf '%x' $((40 + n)))")" \
	    "$(status_of "$out") $(answer_rrs "$out")"
	check_eq "EDE $n: one A leg" 1 "$alegs"
done

# ====================================================================
# EDE 29 (Synthesized, RFC 8914) on synthesized answers.
# ====================================================================

q_legs plain.t.example AAAA
check_eq "EDNS client: synthesized answer" "$(syn plain c000:223)" \
    "$(answer_rrs "$out")"
check_match "EDNS client: EDE 29 on the synthesized answer (RFC 8914)" \
    '^29$' "$(ede_of "$out")"
q_legs plain.t.example AAAA +noedns
check_eq "client without EDNS: synthesized answer" "$(syn plain c000:223)" \
    "$(answer_rrs "$out")"
check_nomatch "client without EDNS: no OPT, so no EDE" 'OPT PSEUDOSECTION' \
    "$out"
q_legs plain.t.example AAAA +dnssec +cd
check_nomatch "CD=1 (not synthesized): no EDE 29" '^29$' "$(ede_of "$out")"

# ====================================================================
# break-dnssec yes: DO=1 and signed data synthesized anyway.
# ====================================================================

proxy_conf "$FAKEUP_PORT" "break-dnssec yes"

q_legs signed-a.t.example AAAA +dnssec
check_eq "break-dnssec yes, DO=1: signed A RRset -> synthesized" \
    "NOERROR $(syn signed-a c000:225)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_nomatch "break-dnssec yes: no RRSIG(A) anywhere" ' RRSIG A ' \
    "$(all_rrs "$out")"
check_false "break-dnssec yes: AD not set" has_flag ad "$out"

q_legs signed-nodata.t.example AAAA +dnssec
check_eq "break-dnssec yes, DO=1: signed NODATA -> synthesized" \
    "NOERROR $(syn signed-nodata c000:224)" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_eq "break-dnssec yes: signed NODATA: one A leg" 1 "$alegs"

# break-dnssec yes: signed AAAA in exclude-aaaa are processed for DO=1.
q_legs xall.t.example AAAA +dnssec
check_eq "break-dnssec yes, DO=1: signed AAAA all excluded -> synthesized" \
    "NOERROR $(syn xall c000:232)" "$(status_of "$out") $(answer_rrs "$out")"
q_legs xsome.t.example AAAA +dnssec
check_eq "break-dnssec yes, DO=1: signed AAAA partly excluded -> stripped" \
    "NOERROR 2001:db8:1::51" "$(status_of "$out") $(aaaa_of "$out")"

# The AAAA leg's SERVFAIL (no EDE) and a signed A RRset: with
# break-dnssec, synthesized from the A (RFC 6147 5.1.2), without its RRSIG.
q_legs sf-signed-a.t.example AAAA +dnssec
check_eq "break-dnssec yes, DO=1: AAAA SERVFAIL + signed A -> synthesized" \
    "NOERROR sf-signed-a.t.example. 300 AAAA 2001:db8:64::102:304" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_nomatch "break-dnssec yes: AAAA SERVFAIL + signed A: no RRSIG anywhere" \
    ' RRSIG ' "$(all_rrs "$out")"

# CD=1 still wins over break-dnssec.
q_legs signed-nodata.t.example AAAA +dnssec +cd
check_eq "break-dnssec yes, CD=1: not synthesized, no A leg" "NOERROR 0 0" \
    "$(status_of "$out") $(ancount_of "$out") $alegs"

finish
