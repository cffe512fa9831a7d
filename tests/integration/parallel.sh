#!/bin/bash
#
# parallel.sh - the A query leaves with the AAAA query (RFC 6147 5.1.8,
# "dns64-parallel yes", the default) and the answers are those of the
# sequential mode ("dns64-parallel no").  Each scenario sets
# dns64-parallel in the test's own config, and runs with "cache-size 16"
# and "cache-size 0".
#
# Part 1, against tests/fakeup:
#  - when: fakeup drops the AAAA query and answers the A.  In parallel the
#    A query is upstream while the client still waits (3 s, upstream-
#    timeout), before the AAAA's first try times out (fakeup then gets
#    the AAAA's retry); sequentially only after the AAAA leg is over.
#  - a real AAAA (answered after the A) wins: the A answer is not used.
#  - an upstream that does not follow CNAMEs for A (authoritative-like:
#    the A query for the alias gets the CNAME only): the proxy asks for
#    the A at the chain's end and synthesizes from it.
# Part 2, against the fixture unbound: two proxies, one of each mode, give
# the same answers (TTLs aside) to the AAAA, A and PTR questions of
# synth.sh, aaaa-errors.sh and dnssec.sh that the fixture can answer.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TEST_TIMEOUT:=600}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq

NSP=2001:db8:64::/96

rules=$TEST_TMP/rules
cat >"$rules" <<EOF
match drop.t.example. AAAA
  drop
end
match drop.t.example. A
  answer drop.t.example. 300 IN A 192.0.2.20
end
match real.t.example. AAAA
  delay 300
  answer real.t.example. 300 IN AAAA 2001:db8::5
end
match real.t.example. A
  answer real.t.example. 300 IN A 192.0.2.21
end
# Authoritative-like: CNAMEs are not followed, the target is elsewhere.
match alias.t.example. AAAA
  flags aa
  answer alias.t.example. 300 IN CNAME target.u.example.
end
match alias.t.example. A
  flags aa
  answer alias.t.example. 300 IN CNAME target.u.example.
end
match target.u.example. A
  flags aa
  answer target.u.example. 300 IN A 192.0.2.44
end
match target.u.example. AAAA
  flags aa
  authority u.example. 300 IN SOA ns.u.example. h.u.example. 1 3600 900 604800 300
end
EOF

# answer_of OUT: "RCODE RR;RR" of a dnsq reply, TTLs left out.
answer_of() {
	printf '%s %s\n' "$(dq_field rcode "$1")" \
	    "$(dq_answer "$1" | tr ';' '\n' | awk '{ $2 = ""; print }' |
	    tr '\n' ';')"
}

# fakeup_scenarios CACHESIZE PARALLEL: part 1 for one mode; sets ANS_<name>
# to each final answer, for the comparison of the modes.
fakeup_scenarios() {
	local cs=$1 par=$2 m="[c$1 par=$2]" out n a_at i pid order
	start_fakeup "$rules"
	PROXY_CONF_BASE="cache-size $cs
prefix $NSP
upstream-timeout 3000
dns64-parallel $par"
	proxy_conf "$FAKEUP_PORT"

	# --- When the A query leaves.
	run_bg "$TEST_TMP/drop-$cs-$par" "$DNSQ_BIN" -s 127.0.0.1 \
	    -p "$PROXY_PORT" -T 8000 drop.t.example/AAAA
	pid=$BG_PID
	i=$(_pid_index "$pid")
	# Poll fakeup's log until the A query is there (or 5 s).
	a_at=
	for n in $(seq 1 100); do
		if [ "$(fakeup_legs drop.t.example. A)" -ge 1 ]; then
			a_at=$( [ -s "$TEST_TMP/drop-$cs-$par" ] &&
			    echo answered || echo waiting)
			break
		fi
		_pid_alive "$i" || break
		sleep 0.05
	done
	wait "$pid"
	# The order of the queries fakeup got (it logs them on receipt):
	# the AAAA leg's retry leaves when its first try times out.
	order=$(sed -n 's/.* qname=drop\.t\.example\. qtype=\([A-Z]*\) .*/\1/p' \
	    "$FAKEUP_LOG" | tr '\n' ' ')
	if [ "$par" = yes ]; then
		check_eq "$m drop: the A query left before the AAAA's retry" \
		    "AAAA A AAAA " "$order"
		check_eq "$m drop: the A query upstream while the client waits" \
		    waiting "$a_at"
	else
		check_eq "$m drop: the A query left after the AAAA leg was over" \
		    "AAAA AAAA A " "$order"
	fi
	out=$(cat "$TEST_TMP/drop-$cs-$par")
	ANS_drop=$(answer_of "$out")
	check_eq "$m drop: synthesized from the A (RFC 6147 5.1.3)" \
	    "NOERROR drop.t.example.  AAAA 2001:db8:64::c000:214;" "$ANS_drop"
	check_eq "$m drop: one A query upstream" 1 \
	    "$(fakeup_legs drop.t.example. A)"

	# --- A real AAAA wins; the A answer is not used.
	out=$(dq -T 4000 real.t.example/AAAA)
	ANS_real=$(answer_of "$out")
	check_eq "$m real: the real AAAA only" \
	    "NOERROR real.t.example.  AAAA 2001:db8::5;" "$ANS_real"
	check_eq "$m real: no EDE 29 (nothing synthesized)" - \
	    "$(dq_field ede "$out")"
	check_match "$m real: logged as passed" \
	    ' real\.t\.example\. AAAA passed NOERROR ' "$(cat "$PROXY_LOG")"
	if [ "$par" = yes ]; then
		check_eq "$m real: the A query left with the AAAA query" 1 \
		    "$(fakeup_legs real.t.example. A)"
	else
		check_eq "$m real: no A query" 0 \
		    "$(fakeup_legs real.t.example. A)"
	fi

	# --- CNAMEs not followed for A: the A at the chain's end.
	out=$(dq -T 4000 alias.t.example/AAAA)
	ANS_alias=$(answer_of "$out")
	check_eq "$m alias: the CNAME, then the synthesized AAAA of the target" \
	    "NOERROR alias.t.example.  CNAME target.u.example.;target.u.example.  AAAA 2001:db8:64::c000:22c;" \
	    "$ANS_alias"
	check_eq "$m alias: A for the target asked once" 1 \
	    "$(fakeup_legs target.u.example. A)"
	if [ "$par" = yes ]; then
		check_eq "$m alias: the parallel A query for the alias" 1 \
		    "$(fakeup_legs alias.t.example. A)"
	else
		check_eq "$m alias: no A query for the alias" 0 \
		    "$(fakeup_legs alias.t.example. A)"
	fi
	stop_proxy
	stop_fakeup
}

for CS in 16 0; do
	note "=== part 1, cache-size $CS"
	fakeup_scenarios "$CS" yes
	y="$ANS_drop|$ANS_real|$ANS_alias"
	fakeup_scenarios "$CS" no
	check_eq "[c$CS] drop, real, alias: the same answers in both modes" \
	    "$y" "$ANS_drop|$ANS_real|$ANS_alias"
done

# ====================================================================
# Part 2: both modes answer alike (fixture unbound)
# ====================================================================

QUESTIONS=()
for n in a-only a-multi aaaa-only both mapped-only mapped-mixed txt-only \
    cname-a cname-nodata cname-nx cname-chain ttl-500 ttl-1300 private \
    global global-private split big nonexistent ns; do
	QUESTIONS+=("$n.t.example/AAAA")
done
QUESTIONS+=(t.example/AAAA
	a-only.t.example/AAAA/do both.t.example/AAAA/do
	cname-a.t.example/AAAA/do nonexistent.t.example/AAAA/do
	a-only.t.example/AAAA/cd mapped-only.t.example/AAAA/cd
	big.t.example/AAAA/noedns a-multi.t.example/AAAA/noedns
	A-ONLY.t.EXAMPLE/AAAA CNAME-CHAIN.T.example/AAAA
	a-only.t.example/AAAA/nord
	a-only.t.example/A both.t.example/A txt-only.t.example/A
	cname-a.t.example/A nonexistent.t.example/A big.t.example/A
	txt-only.t.example/TXT t.example/SOA
	33.2.0.192.in-addr.arpa/PTR)
for a in 2001:db8:64::c000:221 2001:db8:64::c000:201 2001:db8:64::c000:263 \
    2001:db8:64::cb00:7101 2001:db8::1; do
	QUESTIONS+=("$(rev6 "$a" | sed 's/\.$//')/PTR")
done

start_unbound
for CS in 16 0; do
	note "=== part 2, cache-size $CS: ${#QUESTIONS[@]} questions"
	PROXY_CONF_BASE="cache-size $CS
prefix $NSP"
	qs=()
	for i in "${!QUESTIONS[@]}"; do
		case ${QUESTIONS[$i]} in
		*/*/*)	qs+=("${QUESTIONS[$i]},id=$((i + 1))") ;;
		*)	qs+=("${QUESTIONS[$i]}/id=$((i + 1))") ;;
		esac
	done
	proxy_conf "$UNBOUND_PORT" "dns64-parallel yes"
	yes_out=$(dq -T 4000 -v "${qs[@]}")
	proxy_conf "$UNBOUND_PORT" "dns64-parallel no"
	no_out=$(dq -T 4000 -v "${qs[@]}")
	check_eq "[c$CS] parallel: every question answered" \
	    "${#QUESTIONS[@]}" "$(dq_count "$yes_out")"
	check_eq "[c$CS] sequential: every question answered" \
	    "${#QUESTIONS[@]}" "$(dq_count "$no_out")"
	d=$(diff <(dq_norm "$yes_out") <(dq_norm "$no_out"))
	if [ -z "$d" ]; then
		ok "[c$CS] the same ${#QUESTIONS[@]} answers in both modes"
	else
		not_ok "[c$CS] the same answers in both modes" \
		    "(lines start with the question's index, from 1)
$d"
	fi
	stop_proxy
done

finish
