#!/bin/bash
#
# cache.sh - the answer cache and the lean path (README "Cache"; issue 9).
#
# Every scenario runs twice, with "cache-size 16" and with "cache-size 0"
# set in the test's own config files (which win over PROXY_MODE_CONF); the
# expectations differ where the cache is the point: with the cache off,
# every query goes upstream.
#
# Part 1, against the fixture unbound: the lean path (a repeated plain query
# answered on the wire from the reply cache, src/wire.c) gives the same
# reply as the full path, for a list of names and types, with and without
# EDNS, with DO, over UDP and TCP, and with the name in another case (the
# question comes back in the client's case).  Replies are compared field by
# field from "dnsq -v" output, TTLs and IDs left out (dq_norm).
#
# Part 2, against tests/fakeup (which logs every query it gets): what the
# cache keeps apart (DO, CD, RD, clients with different prefixes, the
# round-robin turn), how long it keeps things (TTLs counted down, negative
# answers for their SOA's negative TTL and at most cache-max-negative-ttl,
# cache-max-ttl, SERVFAIL at most 5 s), what it never keeps (a truncated UDP
# reply, additional data for another question: RFC 5452 6, RFC 2181 5.4.1),
# and serve-stale (RFC 8767).  Each check that needs the forwarder to be
# asked again uses a name of its own.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TEST_TIMEOUT:=600}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig
need_dnsq

NSP=2001:db8:64::/96
PA=2001:db8:aaaa::
PB=2001:db8:bbbb::
SOA="t.example. 3600 IN SOA ns.t.example. hostmaster.t.example."

# last_log NAME TYPE: the last -v line of the proxy for NAME (absolute).
last_log() {
	grep -E "^127\\.0\\.0\\.[0-9]+@[0-9]+ $(re_escape "$1") $2 " \
	    "$PROXY_LOG" | tail -n 1
}

# ttl1 OUT: the TTL of the first answer RR of a dnsq reply line.
ttl1() {
	dq_answer "$1" | cut -d';' -f1 | cut -d' ' -f2
}

# addrs OUT: the rdata of the answer RRs of a dnsq reply, sorted.
addrs() {
	dq_answer "$1" | tr ';' '\n' | awk 'NF >= 4 { print $4 }' | sort |
	    tr '\n' ' ' | sed 's/ $//'
}

# fk REGEX: fakeup_count with dots in the name escaped by the caller.
fk() {
	fakeup_count "$1"
}

# shellcheck disable=SC2317  # called through check_true
# reasked NAME TYPE COUNT SECONDS QUERY: send QUERY (dnsq syntax) every
# 0.2 s until fakeup has seen COUNT queries for NAME and TYPE; false if it
# did not within SECONDS.
reasked() {
	local name=$1 type=$2 want=$3 secs=$4 n
	shift 4
	for n in $(seq 1 $((secs * 5))); do
		dq "$@" >/dev/null
		[ "$(fakeup_legs "$name" "$type")" -ge "$want" ] && return 0
		sleep 0.2
	done
	return 1
}

# ====================================================================
# Part 1: the lean path gives the full path's replies (fixture unbound)
# ====================================================================

# The questions: every kind of answer the fixture has (synthesized,
# passed, excluded, CNAME chains, NODATA, NXDOMAIN, truncated over UDP,
# reverse-mapped PTR, local).
QUESTIONS=(
	a-only.t.example/AAAA a-only.t.example/A a-multi.t.example/AAAA
	a-multi.t.example/A aaaa-only.t.example/AAAA both.t.example/AAAA
	both.t.example/A mapped-only.t.example/AAAA
	mapped-mixed.t.example/AAAA txt-only.t.example/AAAA
	txt-only.t.example/TXT cname-a.t.example/AAAA
	cname-chain.t.example/AAAA cname-nodata.t.example/AAAA
	cname-nx.t.example/AAAA nonexistent.t.example/AAAA
	nonexistent.t.example/A ttl-500.t.example/AAAA big.t.example/AAAA
	big.t.example/A t.example/SOA t.example/NS
	"$(rev6 2001:db8:64::c000:221 | sed 's/\.$//')/PTR"
	33.2.0.192.in-addr.arpa/PTR
	ipv4only.arpa/AAAA global.t.example/AAAA private.t.example/AAAA
)

# mixcase NAME: NAME with every other character in upper case.
mixcase() {
	awk -v s="$1" 'BEGIN {
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			out = out (i % 2 ? toupper(c) : c)
		}
		print out
	}'
}

# lean_vs_full VARIANT CACHESIZE: on a fresh proxy, every question once
# (the full path builds each reply) and then again (the lean path, when
# the cache is on); the replies must be the same.  The queries of a round
# leave together from one socket (one connection over TCP), query i with
# ID i in both rounds.
lean_vs_full() {
	local v=$1 cs=$2 i qq name first second n1 n2 want s0 s1 hits
	local args=(-T 4000 -v) opts='' q1=() q2=() d casebad
	case $v in
	noedns)	opts=,noedns ;;
	'do')	opts=,do ;;
	tcp)	args+=(-t) ;;
	esac
	for i in "${!QUESTIONS[@]}"; do
		qq=${QUESTIONS[$i]}
		name=${qq%%/*}
		q1+=("$qq/id=$((i + 1))$opts")
		[ "$v" = case ] && qq="$(mixcase "$name")/${qq#*/}"
		q2+=("$qq/id=$((i + 1))$opts")
	done
	proxy_conf "$UNBOUND_PORT" "prefix $NSP"
	s0=$(proxy_stats)
	first=$(dq "${args[@]}" "${q1[@]}")
	second=$(dq "${args[@]}" "${q2[@]}")
	n1=$(dq_norm "$first" | tr '[:upper:]' '[:lower:]' | sort)
	n2=$(dq_norm "$second" | tr '[:upper:]' '[:lower:]' | sort)
	d=$(diff <(printf '%s\n' "$n1") <(printf '%s\n' "$n2"))
	check_eq "[c$cs] $v: ${#QUESTIONS[@]} replies the first time" \
	    "${#QUESTIONS[@]}" "$(dq_count "$first")"
	if [ -z "$d" ]; then
		ok "[c$cs] $v: the same ${#QUESTIONS[@]} replies the second time"
	else
		not_ok "[c$cs] $v: the same replies the second time" \
		    "(lines start with the query's index)
$d"
	fi
	if [ "$v" = case ]; then
		# The question comes back as the client wrote it.
		casebad=
		for i in "${!q2[@]}"; do
			name=${q2[$i]%%/*}
			printf '%s\n' "$second" | grep -q "^id=$((i + 1)) .* qname=$(re_escape "${name%.}")\. " ||
			    casebad="$casebad ${name%.}"
		done
		check_eq "[c$cs] case: each question in the client's case" "" \
		    "$casebad"
	fi
	s1=$(proxy_stats)
	hits=$(( $(stat_of "reply hits" "$s1") - $(stat_of "reply hits" "$s0") ))
	if [ "$cs" = 0 ]; then
		check_eq "[c$cs] $v: no lean path without a cache" 0 "$hits"
		return
	fi
	# Every second reply from the lean path, but for the truncated
	# ones, which are never cached: big AAAA over UDP, big A as well
	# without EDNS (512 bytes).
	case $v in
	noedns)	want=$(( ${#QUESTIONS[@]} - 2 )) ;;
	tcp)	want=${#QUESTIONS[@]} ;;
	*)	want=$(( ${#QUESTIONS[@]} - 1 )) ;;
	esac
	check_eq "[c$cs] $v: second replies from the lean path" "$want" "$hits"
}

start_unbound

for CS in 16 0; do
	note "=== part 1, cache-size $CS"
	PROXY_CONF_BASE="cache-size $CS"
	for v in udp noedns 'do' tcp case; do
		lean_vs_full "$v" "$CS"
	done
done
stop_proxy

# ====================================================================
# Part 2: keys, lifetimes, what is never cached, serve-stale (fakeup)
# ====================================================================

rules=$TEST_TMP/rules
{
	printf 'match rep.t.example. A\n  answer rep.t.example. 300 IN A 192.0.2.1\nend\n'
	printf 'match rep0.t.example. A\n  answer rep0.t.example. 300 IN A 192.0.2.2\nend\n'
	for n in k-do k-cd k-rd k-view k-rr; do
		fakeup_a_only "$n.t.example." 192.0.2.33
	done
	cat <<EOF
# NODATA, SOA TTL 60 but MINIMUM 1: cached 1 s (RFC 2308 5).
match neg-min.t.example. A
  authority $SOA 1 3600 900 604800 1
end
# NODATA, SOA TTL 1, MINIMUM 60: cached 1 s as well.
match neg-ttl.t.example. A
  authority t.example. 1 IN SOA ns.t.example. hostmaster.t.example. 1 3600 900 604800 60
end
# NXDOMAIN, SOA TTL 60, MINIMUM 1.
match nx-min.t.example. A
  rcode NXDOMAIN
  authority $SOA 1 3600 900 604800 1
end
# NODATA for an hour: cache-max-negative-ttl 1 cuts it to 1 s.
match neg-cap.t.example. A
  authority $SOA 1 3600 900 604800 3600
end
match cm.t.example. A
  answer cm.t.example. 300 IN A 192.0.2.5
end
match sf.t.example. A
  rcode SERVFAIL
end
# RFC 5452 6, RFC 2181 5.4.1: the additional data are not an answer.
match x.t.example. A
  answer x.t.example. 300 IN A 192.0.2.60
  additional victim.t.example. 300 IN A 6.6.6.6
  additional victim.t.example. 300 IN AAAA 2001:db8::666
end
EOF
	fakeup_a_only victim.t.example. 192.0.2.77
	fakeup_tc tc.t.example. 192.0.2.50 192.0.2.51
} >"$rules"

# Serve-stale: a forwarder that is stopped once it has answered.
strules=$TEST_TMP/strules
printf 'match st.t.example. A\n  answer st.t.example. 1 IN A 192.0.2.90\nend\n' \
    >"$strules"

part2() {
	local cs=$1 on=1 out o1 o2 o3 o4 t1 t2 n want mode ss
	local pa pb r1 rr_ok i
	[ "$cs" = 0 ] && on=0
	mode="[c$cs]"
	start_fakeup "$rules"
	PROXY_CONF_BASE="cache-size $cs"
	proxy_conf "$FAKEUP_PORT" "prefix $NSP"

	# --- A repeated query: one upstream query, TTLs counted down.
	r0=$(now_ms)
	o1=$(dq rep.t.example/A)
	t1=$(ttl1 "$o1")
	check_eq "$mode rep: first answer from the forwarder, TTL 300" \
	    "192.0.2.1 300" "$(addrs "$o1") $t1"
	if [ $on = 1 ]; then
		# Until a second has passed, the TTL is still 300.
		for n in $(seq 1 15); do
			o2=$(dq rep.t.example/A)
			t2=$(ttl1 "$o2")
			[ "${t2:-300}" -lt "$t1" ] && break
			sleep 0.2
		done
		# Lowered by the seconds that passed since it was stored.
		r1=$(( ($(now_ms) - r0) / 1000 + 1 ))
		check_range "$mode rep: TTL counted down (by at most the ${r1} s since)" \
		    $((300 - r1)) 299 "$t2"
		check_eq "$mode rep: the forwarder saw one query" 1 \
		    "$(fakeup_legs rep.t.example. A)"
		check_match "$mode rep: -v says upstream cache" \
		    ' passed NOERROR upstream cache$' \
		    "$(last_log rep.t.example. A)"
	else
		o2=$(dq rep.t.example/A)
		check_eq "$mode rep: second answer from the forwarder, TTL 300" \
		    "192.0.2.1 300" "$(addrs "$o2") $(ttl1 "$o2")"
		check_eq "$mode rep: the forwarder saw both queries" 2 \
		    "$(fakeup_legs rep.t.example. A)"
		check_match "$mode rep: -v names the forwarder" \
		    " passed NOERROR upstream 127\\.0\\.0\\.1@$FAKEUP_PORT\$" \
		    "$(last_log rep.t.example. A)"
	fi

	# --- cache-size 0: every query goes upstream.
	for n in 1 2 3 4 5; do
		dq rep0.t.example/A >/dev/null
	done
	want=1
	[ $on = 1 ] || want=5
	check_eq "$mode rep0: 5 queries, $want upstream" "$want" \
	    "$(fakeup_legs rep0.t.example. A)"

	# --- DO is part of the key.
	o1=$(dq k-do.t.example/AAAA)
	o2=$(dq k-do.t.example/AAAA/do)
	o3=$(dq k-do.t.example/AAAA)
	o4=$(dq k-do.t.example/AAAA/do)
	check_eq "$mode k-do: DO echoed only to the DO queries" "0 1 0 1" \
	    "$(dq_field 'do' "$o1") $(dq_field 'do' "$o2") $(dq_field 'do' "$o3") $(dq_field 'do' "$o4")"
	check_eq "$mode k-do: all four synthesized" \
	    "2001:db8:64::c000:221 2001:db8:64::c000:221 2001:db8:64::c000:221 2001:db8:64::c000:221" \
	    "$(addrs "$o1") $(addrs "$o2") $(addrs "$o3") $(addrs "$o4")"
	want=$((2 - on))
	check_eq "$mode k-do: AAAA upstream with DO=1 / DO=0" "$want $want" \
	    "$(fk 'qname=k-do\.t\.example\. qtype=AAAA .* do=1 ') $(fk 'qname=k-do\.t\.example\. qtype=AAAA .* do=0 ')"

	# --- CD is part of the key: CD=1 means no DNS64 (RFC 6147 5.5).
	o1=$(dq k-cd.t.example/AAAA)
	o2=$(dq k-cd.t.example/AAAA/cd)
	o3=$(dq k-cd.t.example/AAAA)
	o4=$(dq k-cd.t.example/AAAA/cd)
	check_eq "$mode k-cd: synthesized without CD, NODATA with CD" \
	    "1 0 1 0" \
	    "$(dq_field an "$o1") $(dq_field an "$o2") $(dq_field an "$o3") $(dq_field an "$o4")"
	check_true "$mode k-cd: CD echoed on the cached CD reply" \
	    dq_has_flag cd "$o4"
	check_eq "$mode k-cd: AAAA upstream with CD=1 / CD=0" "$want $want" \
	    "$(fk 'qname=k-cd\.t\.example\. qtype=AAAA .* cd=1 ') $(fk 'qname=k-cd\.t\.example\. qtype=AAAA .* cd=0 ')"

	# --- RD is part of the key: RD=0 gets no DNS64 (recursive-only).
	o1=$(dq k-rd.t.example/AAAA)
	o2=$(dq k-rd.t.example/AAAA/nord)
	o3=$(dq k-rd.t.example/AAAA)
	o4=$(dq k-rd.t.example/AAAA/nord)
	check_eq "$mode k-rd: synthesized with RD=1, NODATA with RD=0" \
	    "1 0 1 0" \
	    "$(dq_field an "$o1") $(dq_field an "$o2") $(dq_field an "$o3") $(dq_field an "$o4")"
	check_false "$mode k-rd: no RD on the cached RD=0 reply" \
	    dq_has_flag rd "$o4"
	check_eq "$mode k-rd: AAAA upstream with RD=0 / RD=1" "$want $want" \
	    "$(fk 'qname=k-rd\.t\.example\. qtype=AAAA rd=0 ') $(fk 'qname=k-rd\.t\.example\. qtype=AAAA rd=1 ')"

	# --- RFC 5452 6: additional data never answers another question.
	o1=$(dq x.t.example/A)
	check_eq "$mode x: its own A" "192.0.2.60" "$(addrs "$o1")"
	o2=$(dq victim.t.example/A)
	check_eq "$mode victim A: asked upstream (not from x's additional)" \
	    1 "$(fakeup_legs victim.t.example. A)"
	check_eq "$mode victim A: the forwarder's answer, not 6.6.6.6" \
	    "192.0.2.77" "$(addrs "$o2")"
	o3=$(dq victim.t.example/AAAA)
	check_eq "$mode victim AAAA: asked upstream (not from x's additional)" \
	    1 "$(fakeup_legs victim.t.example. AAAA)"
	check_eq "$mode victim AAAA: synthesized, not 2001:db8::666" \
	    "2001:db8:64::c000:24d" "$(addrs "$o3")"

	# --- A truncated UDP reply is not what is cached; the TCP one is.
	o1=$(dq tc.t.example/A)
	o2=$(dq tc.t.example/A)
	check_eq "$mode tc: both answers are the TCP answer, without TC" \
	    "192.0.2.50 192.0.2.51 qr,rd,ra|192.0.2.50 192.0.2.51 qr,rd,ra" \
	    "$(addrs "$o1") $(dq_field flags "$o1")|$(addrs "$o2") $(dq_field flags "$o2")"
	want=$((2 - on))
	check_eq "$mode tc: upstream over UDP / over TCP" "$want $want" \
	    "$(fk '^udp .* qname=tc\.t\.example\. qtype=A ') $(fk '^tcp .* qname=tc\.t\.example\. qtype=A ')"

	# --- Negative answers: for min(SOA TTL, MINIMUM) (RFC 2308 5).
	for n in neg-min neg-ttl nx-min; do
		o1=$(dq $n.t.example/A)
		o2=$(dq $n.t.example/A)
		check_eq "$mode $n: second query $( [ $on = 1 ] &&
		    echo 'from the cache' || echo upstream)" "$want" \
		    "$(fakeup_legs $n.t.example. A)"
		# Fails at 84bf5ea for neg-min and nx-min: the reply cache
		# (query.c cache_reply, wire_entry_make) keeps a negative
		# reply for its smallest RR TTL, the SOA's own (60 s), not
		# min(SOA TTL, MINIMUM) as the forwarder cache does.
		if [ $on = 1 ]; then
			check_true "$mode $n: asked again once 1 s is over" \
			    reasked $n.t.example. A 2 4 "$n.t.example/A"
		fi
	done

	# --- cache-max-ttl: the TTLs shown, and how long it is kept.
	proxy_conf "$FAKEUP_PORT" "prefix $NSP" "cache-max-ttl 2"
	o1=$(dq cm.t.example/A)
	o2=$(dq cm.t.example/A)
	if [ $on = 1 ]; then
		check_range "$mode cm: cached answer's TTL lowered to 2" 0 2 \
		    "$(ttl1 "$o2")"
		# The first answer is stored in the cache as well; at
		# 84bf5ea it still shows the forwarder's TTL (300).
		check_range "$mode cm: first answer's TTL lowered to 2 too" \
		    0 2 "$(ttl1 "$o1")"
		check_eq "$mode cm: one upstream query while cached" 1 \
		    "$(fakeup_legs cm.t.example. A)"
		check_true "$mode cm: asked again after 2 s" \
		    reasked cm.t.example. A 2 6 cm.t.example/A
	else
		check_eq "$mode cm: TTLs as the forwarder's (nothing cached)" \
		    "300 300" "$(ttl1 "$o1") $(ttl1 "$o2")"
	fi

	# --- cache-max-negative-ttl.
	proxy_conf "$FAKEUP_PORT" "prefix $NSP" "cache-max-negative-ttl 1"
	dq neg-cap.t.example/A >/dev/null
	dq neg-cap.t.example/A >/dev/null
	check_eq "$mode neg-cap: second query $( [ $on = 1 ] &&
	    echo 'from the cache' || echo upstream)" "$want" \
	    "$(fakeup_legs neg-cap.t.example. A)"
	if [ $on = 1 ]; then
		check_true "$mode neg-cap: asked again after 1 s, not 3600" \
		    reasked neg-cap.t.example. A 2 4 neg-cap.t.example/A
	fi

	# --- A SERVFAIL from the forwarder: at most 5 s.
	o1=$(dq sf.t.example/A)
	o2=$(dq sf.t.example/A)
	check_eq "$mode sf: SERVFAIL both times" "SERVFAIL SERVFAIL" \
	    "$(dq_field rcode "$o1") $(dq_field rcode "$o2")"
	check_eq "$mode sf: second query $( [ $on = 1 ] &&
	    echo 'from the cache' || echo upstream)" "$want" \
	    "$(fakeup_legs sf.t.example. A)"
	if [ $on = 1 ]; then
		check_true "$mode sf: asked again within 8 s" \
		    reasked sf.t.example. A 2 8 sf.t.example/A
	fi

	# --- Keys per client view: each client its own prefix.
	proxy_conf "$FAKEUP_PORT" "prefix ${PA}/96 { clients { 127.0.0.2 } }
prefix ${PB}/96 { clients { 127.0.0.3 } }"
	r1=
	for i in 2 3 2 3; do
		out=$(dq -b "127.0.0.$i" k-view.t.example/AAAA)
		r1="$r1 $(addrs "$out")"
	done
	check_eq "$mode k-view: .2 gets prefix A, .3 prefix B, also cached" \
	    " ${PA}c000:221 ${PB}c000:221 ${PA}c000:221 ${PB}c000:221" "$r1"
	want=1
	[ $on = 1 ] || want=4
	check_eq "$mode k-view: upstream AAAA / A (synthesis per client)" \
	    "$want $want" \
	    "$(fakeup_legs k-view.t.example. AAAA) $(fakeup_legs k-view.t.example. A)"

	# --- Round-robin: the turns alternate, also when cached.
	proxy_conf "$FAKEUP_PORT" "prefix ${PA}/96
prefix ${PB}/96
prefix-selection round-robin"
	pa=${PA}c000:221
	pb=${PB}c000:221
	r1=()
	for i in 1 2 3 4 5 6; do
		r1+=("$(addrs "$(dq k-rr.t.example/AAAA)")")
	done
	rr_ok=1
	for i in 0 1 2 3 4 5; do
		case ${r1[$i]} in
		"$pa"|"$pb")	;;
		*)		rr_ok=0 ;;
		esac
		[ $i -lt 5 ] && [ "${r1[$i]}" = "${r1[$((i + 1))]}" ] && rr_ok=0
	done
	if [ $rr_ok = 1 ]; then
		ok "$mode k-rr: 6 answers alternate between the prefixes"
	else
		not_ok "$mode k-rr: 6 answers alternate between the prefixes" \
		    "got: ${r1[*]}"
	fi
	stop_proxy
	stop_fakeup

	# --- serve-stale (RFC 8767): the forwarder gone, an expired answer.
	for ss in yes no; do
		start_fakeup "$strules"
		proxy_conf "$FAKEUP_PORT" "serve-stale $ss"
		o1=$(dq st.t.example/A)
		check_eq "$mode stale-$ss: fresh answer, TTL 1" "192.0.2.90 1" \
		    "$(addrs "$o1") $(ttl1 "$o1")"
		stop_fakeup
		# Until it expires, the fresh entry answers.
		for n in $(seq 1 30); do
			o2=$(dq -T 4000 st.t.example/A)
			[ "$(dq_field ede "$o2")" != - ] ||
			    [ "$(dq_field rcode "$o2")" != NOERROR ] && break
			sleep 0.2
		done
		if [ $on = 1 ] && [ $ss = yes ]; then
			check_eq "$mode stale-yes: the expired answer, EDE 3" \
			    "NOERROR 192.0.2.90 3" \
			    "$(dq_field rcode "$o2") $(addrs "$o2") $(dq_field ede "$o2")"
			# dns64proxy.conf(5) and RFC 8767 4 say 30; at 84bf5ea
			# upstream.c age_ttls() gives min(TTL, 30): 1 here.
			check_eq "$mode stale-yes: TTL 30 (RFC 8767 4)" 30 \
			    "$(ttl1 "$o2")"
			o3=$(dq -T 4000 st.t.example/A/noedns)
			check_eq "$mode stale-yes: without EDNS no EDE, TTL 30" \
			    "NOERROR 192.0.2.90 0 30" \
			    "$(dq_field rcode "$o3") $(addrs "$o3") $(dq_field edns "$o3") $(ttl1 "$o3")"
			check_match "$mode stale-yes: -v says upstream cache" \
			    ' passed NOERROR upstream cache$' \
			    "$(last_log st.t.example. A)"
		else
			# Nothing stale to serve: the forwarder's port is
			# closed (RFC 8914 23, network error).
			check_eq "$mode stale-$ss: SERVFAIL, EDE 23" \
			    "SERVFAIL 23" \
			    "$(dq_field rcode "$o2") $(dq_field ede "$o2")"
		fi
		stop_proxy
	done
}

for CS in 16 0; do
	note "=== part 2, cache-size $CS"
	part2 "$CS"
done

finish
