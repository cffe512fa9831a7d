#!/bin/bash
#
# aaaa-errors.sh - what the client gets when the AAAA leg or the A leg fails
# or is odd: RFC 6147 5.1.2 (other RCODEs treated as empty), 5.1.3 (timeout
# = SERVFAIL), 5.1.6 (the A leg's result is the basis), 5.1.7 (TTL rules),
# RFC 2181 8 (TTL top bit) and 9 (truncation), with and without
# "synthesize-on-error".  All against tests/fakeup.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

PFX=2001:db8:64::/96
TIMEOUT_MS=300		# upstream-timeout; one forwarder = 2 tries within it
SYN9=2001:db8:64::c000:209	# 192.0.2.9 in $PFX
SOA7="e.test. 1200 SOA ns.e.test. host.e.test. 7 3600 900 604800 1200"
SOA8="e.test. 900 SOA ns.e.test. host.e.test. 8 3600 900 604800 900"

# rcode_num NAME: the RCODE's value (ldns spells NOTIMP "NOTIMPL").
rcode_num() {
	case $1 in
	FORMERR)	echo 1 ;;
	SERVFAIL)	echo 2 ;;
	NOTIMP)		echo 4 ;;
	REFUSED)	echo 5 ;;
	*)		bail "rcode_num: $1" ;;
	esac
}

# ---------------------------------------------------------------- rules

rules=$TEST_TMP/rules
{
	# One name per case and per proxy ("yes-" synthesizes on error,
	# "no-" has synthesize-on-error no), so legs can be counted.
	for mode in yes no; do
		for rc in SERVFAIL REFUSED FORMERR NOTIMP; do
			cat <<EOF
match $mode-$rc.e.test. AAAA
  rcode $(rcode_num $rc)
end
match $mode-$rc.e.test. A
  answer $mode-$rc.e.test. 3600 IN A 192.0.2.9
end
EOF
		done
		cat <<EOF
match $mode-drop.e.test. AAAA
  drop
end
match $mode-drop.e.test. A
  answer $mode-drop.e.test. 3600 IN A 192.0.2.9
end
EOF
	done
	cat <<'EOF'
# NODATA without SOA, A TTL 86400: TTL 600 (5.1.7)
match nosoa.e.test. AAAA
end
match nosoa.e.test. A
  answer nosoa.e.test. 86400 IN A 192.0.2.9
end
# NODATA with SOA TTL 1200, A TTL 86400: TTL 1200 (5.1.7)
match soa.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match soa.e.test. A
  answer soa.e.test. 86400 IN A 192.0.2.9
end
# NODATA whose SOA TTL (3600) is above its MINIMUM (1200), as an
# authoritative server sends it, A TTL 86400: TTL 1200 (RFC 2308 5: the
# negative answer is valid for min(SOA TTL, MINIMUM) only)
match soa-min.e.test. AAAA
  authority e.test. 3600 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match soa-min.e.test. A
  answer soa-min.e.test. 86400 IN A 192.0.2.9
end
# ... and SOA TTL 300, below MINIMUM 1200: TTL 300
match soa-ttl.e.test. AAAA
  authority e.test. 300 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match soa-ttl.e.test. A
  answer soa-ttl.e.test. 86400 IN A 192.0.2.9
end
# A TTL with the top bit set counts as 0 (RFC 2181 8)
match topbit.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match topbit.e.test. A
  answer topbit.e.test. 2147483664 IN A 192.0.2.9
end
# AAAA NODATA + A SERVFAIL: SERVFAIL (5.1.6)
match nodata-sf.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match nodata-sf.e.test. A
  rcode SERVFAIL
end
# AAAA SERVFAIL + A NODATA: the A leg's NODATA (5.1.6)
match sf-nodata.e.test. AAAA
  rcode SERVFAIL
end
match sf-nodata.e.test. A
  authority e.test. 900 IN SOA ns.e.test. host.e.test. 8 3600 900 604800 900
end
# both SERVFAIL
match sf-sf.e.test. *
  rcode SERVFAIL
end
# both failed, with different RCODEs: the AAAA leg's error stands
match ref-sf.e.test. AAAA
  rcode 5
end
match ref-sf.e.test. A
  rcode SERVFAIL
end
# AAAA timeout + A SERVFAIL: SERVFAIL (5.1.3: the timeout is a SERVFAIL)
match drop-sf.e.test. AAAA
  drop
end
match drop-sf.e.test. A
  rcode SERVFAIL
end
# AAAA timeout + A NODATA: the A leg's NODATA (5.1.6)
match drop-nodata.e.test. AAAA
  drop
end
match drop-nodata.e.test. A
  authority e.test. 900 IN SOA ns.e.test. host.e.test. 8 3600 900 604800 900
end
# AAAA SERVFAIL + A NXDOMAIN: the A leg's NXDOMAIN (5.1.6)
match sf-nx.e.test. AAAA
  rcode SERVFAIL
end
match sf-nx.e.test. A
  rcode NXDOMAIN
  authority e.test. 900 IN SOA ns.e.test. host.e.test. 8 3600 900 604800 900
end
# both NODATA: the AAAA leg's (serial 7), not the A leg's (serial 8)
match nodata-nodata.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match nodata-nodata.e.test. A
  authority e.test. 900 IN SOA ns.e.test. host.e.test. 8 3600 900 604800 900
end
# A leg with a CNAME chain to another name (5.1.5)
match chain.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match chain.e.test. A
  answer chain.e.test. 3600 IN CNAME mid.e.test.
  answer mid.e.test. 3600 IN CNAME target.e.test.
  answer target.e.test. 300 IN A 192.0.2.9
end
match sf-chain.e.test. AAAA
  rcode SERVFAIL
end
match sf-chain.e.test. A
  answer sf-chain.e.test. 3600 IN CNAME target.e.test.
  answer target.e.test. 300 IN A 192.0.2.9
end
EOF
	# The AAAA leg fails (SERVFAIL, REFUSED, no reply) and the A leg has
	# A records none of which the proxy may map: "wkp-" (the WKP; A
	# 10.1.2.3 is not global, RFC 6052 3.1), "exa-" (exclude-a
	# 192.168.0.0/16, A 192.168.7.7), "dst-" (destinations
	# 198.51.100.0/24, A 203.0.113.9).  NAME-ok: the same failure with a
	# mappable A (1.2.3.4, 192.0.2.9, 198.51.100.9): the control.
	for c in wkp:10.1.2.3:1.2.3.4 exa:192.168.7.7:192.0.2.9 \
	    dst:203.0.113.9:198.51.100.9; do
		IFS=: read -r kind bad good <<<"$c"
		for f in sf ref drop; do
			case $f in
			sf)	fail="rcode SERVFAIL" ;;
			ref)	fail="rcode REFUSED" ;;
			drop)	fail=drop ;;
			esac
			for n in "$kind-$f.u.test.:$bad" \
			    "$kind-$f-ok.u.test.:$good"; do
				cat <<EOF
match ${n%:*} AAAA
  $fail
end
match ${n%:*} A
  answer ${n%:*} 3600 IN A ${n##*:}
end
EOF
			done
		done
	done
	cat <<'EOF'
# 40 A: no room in 512 bytes (5.4, RFC 2181 9)
match big.e.test. AAAA
  authority e.test. 1200 IN SOA ns.e.test. host.e.test. 7 3600 900 604800 1200
end
match big.e.test. A
EOF
	for i in $(seq 1 40); do
		echo "  answer big.e.test. 300 IN A 198.51.100.$i"
	done
	echo "end"
} >"$rules"

start_fakeup "$rules"

cat >"$TEST_TMP/yes.conf" <<EOF
upstream-timeout $TIMEOUT_MS
EOF
cat >"$TEST_TMP/no.conf" <<EOF
upstream-timeout $TIMEOUT_MS
synthesize-on-error no
EOF

# The three proxies of the *.u.test cases: the WKP; an NSP with exclude-a;
# an NSP with destinations.
cat >"$TEST_TMP/exa.conf" <<EOF
upstream-timeout $TIMEOUT_MS
exclude-a { 192.168.0.0/16 }
EOF
cat >"$TEST_TMP/dst.conf" <<EOF
upstream-timeout $TIMEOUT_MS
prefix $PFX { destinations { 198.51.100.0/24 } }
EOF

# Proxies "wkp", "exa", "dst", "no", then proxy "yes" (the one used to the
# end).
start_proxy -v -f "$TEST_TMP/yes.conf" -u "127.0.0.1@$FAKEUP_PORT" \
    -p 64:ff9b::/96
WKP_PORT=$PROXY_PORT
start_proxy -v -f "$TEST_TMP/exa.conf" -u "127.0.0.1@$FAKEUP_PORT" -p "$PFX"
EXA_PORT=$PROXY_PORT
start_proxy -v -f "$TEST_TMP/dst.conf" -u "127.0.0.1@$FAKEUP_PORT"
DST_PORT=$PROXY_PORT
start_proxy -v -f "$TEST_TMP/no.conf" -u "127.0.0.1@$FAKEUP_PORT" -p "$PFX"
NO_PORT=$PROXY_PORT
start_proxy -v -f "$TEST_TMP/yes.conf" -u "127.0.0.1@$FAKEUP_PORT" -p "$PFX"

# q_no ARGS...: query the "synthesize-on-error no" proxy.
q_no() {
	dig_at "$NO_PORT" "$@"
}

# --- Other RCODEs on the AAAA leg (5.1.2).
for rc in SERVFAIL REFUSED FORMERR NOTIMP; do
	n=yes-$rc.e.test
	out=$(q "$n" AAAA)
	check_eq "AAAA $rc: NOERROR, synthesized from the A (5.1.2)" \
	    "NOERROR $n. 600 AAAA $SYN9" \
	    "$(status_of "$out") $(answer_rrs "$out")"
	check_range "AAAA $rc: TTL <= 600, no SOA (5.1.7)" 0 600 \
	    "$(ttls_of "$out")"
	check_eq "AAAA $rc: one A leg" 1 "$(fakeup_legs "$n." A)"

	n=no-$rc.e.test
	out=$(q_no "$n" AAAA)
	check_eq "AAAA $rc, synthesize-on-error no: $rc passed through" \
	    "$rc 0" "$(status_of "$out") $(ancount_of "$out")"
	check_no_a_leg "AAAA $rc, synthesize-on-error no: no A leg" \
	    "$(fakeup_legs "$n." A)"
done

# --- Timeout (5.1.3): the AAAA leg is never answered.
t0=$(now_ms)
out=$(q +time=5 yes-drop.e.test AAAA)
t1=$(now_ms)
check_eq "AAAA timeout: NOERROR, synthesized (5.1.3)" \
    "NOERROR yes-drop.e.test. 600 AAAA $SYN9" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_ge "AAAA timeout: answered once upstream-timeout ($TIMEOUT_MS ms) is over" \
    $((TIMEOUT_MS - 50)) $((t1 - t0))
check_eq "AAAA timeout: 2 AAAA tries (one forwarder: once more)" 2 \
    "$(fakeup_legs yes-drop.e.test. AAAA)"

t0=$(now_ms)
out=$(q_no +time=5 no-drop.e.test AAAA)
t1=$(now_ms)
check_eq "AAAA timeout, synthesize-on-error no: SERVFAIL" "SERVFAIL 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "AAAA timeout, synthesize-on-error no: EDE 22 (RFC 8914)" 22 \
    "$(ede_of "$out")"
check_match "AAAA timeout, synthesize-on-error no: the EDE text names the forwarder" \
    "^; EDE: 22 \\(No Reachable Authority\\): \\(forwarder 127\\.0\\.0\\.1@$FAKEUP_PORT timed out\\)\$" \
    "$out"
check_ge "AAAA timeout, synthesize-on-error no: after upstream-timeout" \
    $((TIMEOUT_MS - 50)) $((t1 - t0))
check_no_a_leg "AAAA timeout, synthesize-on-error no: no A leg" \
    "$(fakeup_legs no-drop.e.test. A)"

# --- TTL rules (5.1.7, RFC 2181 8).
out=$(q nosoa.e.test AAAA)
check_eq "NODATA without SOA, A TTL 86400: TTL 600 (5.1.7)" \
    "nosoa.e.test. 600 AAAA $SYN9" "$(answer_rrs "$out")"
out=$(q soa.e.test AAAA)
check_eq "NODATA with SOA TTL 1200, A TTL 86400: TTL 1200 (5.1.7)" \
    "soa.e.test. 1200 AAAA $SYN9" "$(answer_rrs "$out")"
# The SOA's own TTL and its MINIMUM both bound the negative answer (RFC
# 2308 5), so both bound the synthesized TTL: an authoritative-style
# upstream sends SOA TTL 3600 with MINIMUM 1200.
out=$(q soa-min.e.test AAAA)
check_eq "NODATA with SOA TTL 3600 MINIMUM 1200, A TTL 86400: TTL 1200 (RFC 2308 5)" \
    "soa-min.e.test. 1200 AAAA $SYN9" "$(answer_rrs "$out")"
out=$(q soa-ttl.e.test AAAA)
check_eq "NODATA with SOA TTL 300 MINIMUM 1200, A TTL 86400: TTL 300 (RFC 2308 5)" \
    "soa-ttl.e.test. 300 AAAA $SYN9" "$(answer_rrs "$out")"
check_eq "fakeup really sends A TTL 2147483664 (the next check means it)" \
    "topbit.e.test. 2147483664 A 192.0.2.9" \
    "$(answer_rrs "$(q_fakeup topbit.e.test A)")"
out=$(q topbit.e.test AAAA)
check_eq "A TTL 2147483664 (top bit set): synthesized TTL 0 (RFC 2181 8)" \
    "topbit.e.test. 0 AAAA $SYN9" "$(answer_rrs "$out")"

# --- The A leg's result as the basis (5.1.6).
out=$(q nodata-sf.e.test AAAA)
check_eq "AAAA NODATA + A SERVFAIL: SERVFAIL (5.1.6)" "SERVFAIL 0" \
    "$(status_of "$out") $(ancount_of "$out")"
out=$(q sf-nodata.e.test AAAA)
check_eq "AAAA SERVFAIL + A NODATA: NOERROR, no answer (5.1.6)" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "AAAA SERVFAIL + A NODATA: the A leg's SOA" "$SOA8" \
    "$(authority_rrs "$out")"
out=$(q sf-sf.e.test AAAA)
check_eq "AAAA SERVFAIL + A SERVFAIL: SERVFAIL" "SERVFAIL 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "AAAA SERVFAIL + A SERVFAIL: the A leg was tried" 1 \
    "$(fakeup_legs sf-sf.e.test. A)"
out=$(q ref-sf.e.test AAAA)
check_eq "AAAA REFUSED + A SERVFAIL: the AAAA leg's REFUSED stands" \
    "REFUSED 0" "$(status_of "$out") $(ancount_of "$out")"
out=$(q +time=5 drop-sf.e.test AAAA)
check_eq "AAAA timeout + A SERVFAIL: SERVFAIL (5.1.3, 5.1.6)" "SERVFAIL 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "AAAA timeout + A SERVFAIL: the A leg was tried" 1 \
    "$(fakeup_legs drop-sf.e.test. A)"
out=$(q +time=5 drop-nodata.e.test AAAA)
check_eq "AAAA timeout + A NODATA: the A leg's NODATA (5.1.6)" \
    "NOERROR 0 $SOA8" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
out=$(q sf-nx.e.test AAAA)
check_eq "AAAA SERVFAIL + A NXDOMAIN: the A leg's NXDOMAIN (5.1.6)" \
    "NXDOMAIN 0 $SOA8" \
    "$(status_of "$out") $(ancount_of "$out") $(authority_rrs "$out")"
out=$(q nodata-nodata.e.test AAAA)
check_eq "AAAA NODATA + A NODATA: NOERROR, no answer" "NOERROR 0" \
    "$(status_of "$out") $(ancount_of "$out")"
check_eq "AAAA NODATA + A NODATA: the original AAAA NODATA (its SOA)" \
    "$SOA7" "$(authority_rrs "$out")"

# --- The AAAA leg failed and the A leg has A records that this proxy may
# not map (WKP + non-global, RFC 6052 3.1; exclude-a; destinations).  With
# nothing synthesized, the A records must not reach the AAAA answer: the
# client gets the AAAA leg's own reply, or SERVFAIL after a timeout (5.1.3),
# as without DNS64.  The NAME-ok controls (a mappable A) are synthesized,
# so the proxies and rules are right.
for c in wkp:10.1.2.3:64:ff9b::102:304 exa:192.168.7.7:$SYN9 \
    dst:203.0.113.9:2001:db8:64::c633:6409; do
	kind=${c%%:*} rest=${c#*:}
	bad=${rest%%:*} syn=${rest#*:}
	case $kind in
	wkp)	port=$WKP_PORT ;;
	exa)	port=$EXA_PORT ;;
	dst)	port=$DST_PORT ;;
	esac
	for f in sf:SERVFAIL ref:REFUSED drop:SERVFAIL; do
		rc=${f#*:} f=${f%:*}
		n=$kind-$f.u.test
		out=$(dig_at "$port" +time=5 "$n" AAAA)
		check_eq "$kind: AAAA $f + only A $bad (not mappable): $rc, ANCOUNT 0" \
		    "$rc 0" "$(status_of "$out") $(ancount_of "$out")"
		check_nomatch "$kind: AAAA $f + A $bad: no A RR in the answer" \
		    ' A ' "$(answer_rrs "$out")"
		check_eq "$kind: AAAA $f: the A leg was asked and answered A $bad" \
		    1 "$(fakeup_legs "$n." A)"
		out=$(dig_at "$port" +time=5 "$kind-$f-ok.u.test" AAAA)
		check_eq "$kind: control: AAAA $f + A that maps: synthesized" \
		    "NOERROR $kind-$f-ok.u.test. 600 AAAA $syn" \
		    "$(status_of "$out") $(answer_rrs "$out")"
	done
done

# --- A CNAME chain in the A answer (5.1.5): synthesized at its end, with
# the chain in front.
out=$(q chain.e.test AAAA)
check_eq "A leg chain: the chain, then the AAAA at its end (5.1.5)" \
    "NOERROR chain.e.test. 3600 CNAME mid.e.test.
mid.e.test. 3600 CNAME target.e.test.
target.e.test. 300 AAAA $SYN9" \
    "$(status_of "$out") $(answer_rrs "$out")"
out=$(q sf-chain.e.test AAAA)
check_eq "AAAA SERVFAIL + A leg chain: the chain, then the AAAA" \
    "NOERROR sf-chain.e.test. 3600 CNAME target.e.test.
target.e.test. 300 AAAA $SYN9" \
    "$(status_of "$out") $(answer_rrs "$out")"
check_nomatch "A leg chain: no A RR left" ' A ' "$(answer_rrs "$out")"

# --- 40 synthesized AAAA do not fit 512 bytes (5.4, RFC 2181 9).
out=$(q +noedns +ignore big.e.test AAAA)
check_true "big, UDP without EDNS: TC=1 (RFC 2181 9)" has_flag tc "$out"
out=$(q +bufsize=1232 +ignore big.e.test AAAA)
check_eq "big, UDP with EDNS 1232: all 40 fit, no TC (RFC 6891 6.2.5)" \
    "40 no" "$(ancount_of "$out") $(has_flag tc "$out" && echo tc || echo no)"
out=$(q +noedns +tcp big.e.test AAAA)
check_false "big over TCP: no TC" has_flag tc "$out"
check_eq "big over TCP: all 40 AAAA" \
    "$(seq 1 40 | awk '{ printf "big.e.test. 300 AAAA 2001:db8:64::c633:64%02x\n", $1 }' |
    sort)" "$(answer_rrs "$out" | sort)"

finish
