#!/bin/bash
#
# coalesce.sh - identical questions in flight are sent upstream once (RFC
# 5452 5; src/upstream.c, fetch_find): 50 clients asking the same thing at
# once cost one upstream query and each gets the answer under its own ID;
# queries that differ in what changes the answer (DO) are not merged; the
# two legs of DNS64 queries merge too; a query that would join a fetch
# older than 2/3 of upstream-timeout starts a new one instead.
#
# Against tests/fakeup, which delays its answers so that the queries meet
# in flight.  dnsq sends each burst from one UDP socket (one worker in
# every mode).  Every scenario runs with "cache-size 16" and "cache-size 0"
# (a fresh proxy and fakeup each).
#
# A try waits the forwarder's RTO before the next one goes out; a first
# query answered after 2 s teaches the proxy that this forwarder is slow
# (RTO = srtt + 4 rttvar = 6 s, capped at upstream-timeout 4500 ms), so
# that the delayed answers below never cause a retry and the counts are
# those of the coalescing alone.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TEST_TIMEOUT:=600}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq

NSP=2001:db8:64::/96
TIMEOUT=4500
N=50

rules=$TEST_TMP/rules
cat >"$rules" <<EOF
match warm.t.example. A
  delay 2000
  answer warm.t.example. 300 IN A 192.0.2.1
end
match late.t.example. A
  delay 4000
  answer late.t.example. 300 IN A 192.0.2.2
end
match co.t.example. A
  delay 700
  answer co.t.example. 300 IN A 192.0.2.3
end
match co-do.t.example. A
  delay 700
  answer co-do.t.example. 300 IN A 192.0.2.4
end
match co64.t.example. AAAA
  delay 700
  authority $SOA_NEG_RR
end
match co64.t.example. A
  delay 700
  answer co64.t.example. 300 IN A 192.0.2.5
end
EOF

# burst NAME TYPE [OPTS_ODD]: N queries for NAME TYPE with IDs 1..N from
# one socket; queries with an odd ID get OPTS_ODD too.
burst() {
	local i o qs=()
	for i in $(seq 1 $N); do
		o=id=$i
		[ $((i % 2)) = 1 ] && [ -n "${3:-}" ] && o="$o,$3"
		qs+=("$1/$2/$o")
	done
	dq -T 8000 "${qs[@]}"
}

# ids OUT: the IDs of the replies, sorted, space separated.
ids() {
	printf '%s\n' "$1" | sed -n 's/^id=\([0-9]*\) .*/\1/p' | sort -n |
	    tr '\n' ' ' | sed 's/ $//'
}

# answers OUT: the distinct "rcode answer" pairs of the replies.
answers() {
	printf '%s\n' "$1" | grep '^id=' | sed 's/.* rcode=\([A-Z]*\) .* answer=/\1 /' |
	    sort -u
}

ALL_IDS=$(seq 1 $N | tr '\n' ' ' | sed 's/ $//')

scenarios() {
	local cs=$1 m="[c$1]" out s0 s1 order

	start_fakeup "$rules"
	PROXY_CONF_BASE="cache-size $cs
prefix $NSP
upstream-timeout $TIMEOUT"
	# -vv: the messages in the log show in which order things came.
	stop_proxy
	printf 'forwarder 127.0.0.1 port %s\n%s\n' "$FAKEUP_PORT" \
	    "$PROXY_CONF_BASE" >"$TEST_TMP/proxy-$cs.conf"
	start_proxy -v -v -f "$TEST_TMP/proxy-$cs.conf"

	# Teach the proxy this forwarder's RTT.
	out=$(dq -T 8000 warm.t.example/A)
	check_eq "$m warm: answered after 2 s" 192.0.2.1 \
	    "$(dq_answer "$out" | awk '{ print $4 }')"

	# --- A late joiner starts a new upstream query.  Three queries
	# from one socket (so one worker: fetches are per worker), 1750 ms
	# apart: the second joins the first's fetch, the third comes past
	# 2/3 of upstream-timeout (3000 ms), before the answer (4000 ms).
	s0=$(proxy_stats)
	out=$(dq -T 9000 -d 1750 late.t.example/A/id=60001 \
	    late.t.example/A/id=60002 late.t.example/A/id=60003)
	s1=$(proxy_stats)
	check_eq "$m late: all three answered" \
	    "NOERROR late.t.example. 300 A 192.0.2.2" "$(answers "$out")"
	check_eq "$m late: three replies" 3 "$(dq_count "$out")"
	# The order in the -vv log: each "query from" (on arrival) and the
	# first client's "reply to".
	order=$(awk '
	/^query from / { kind = "Q"; next }
	/^reply to / { kind = "R"; next }
	/^[^;]/ { kind = ""; next }
	/->>HEADER<<-.* id: 6000[123]$/ && kind != "" {
		printf "%s%s ", kind, substr($NF, 5)
	}' "$PROXY_LOG")
	case $order in
	"Q1 Q2 Q3 R1 "*)
		check_eq "$m late: 2 upstream queries (early joiner merged, late one not)" \
		    2 "$(fakeup_legs late.t.example. A)"
		check_eq "$m late: only the early joiner coalesced" 1 \
		    $(( $(stat_of coalesced "$s1") - $(stat_of coalesced "$s0") ))
		;;
	*)
		# A loaded machine: the late query came after the answer.
		skip_check "$m late: a new upstream query for the late joiner" \
		    "queries and the first reply came in the order $order"
		;;
	esac

	# --- 50 identical queries at once: one upstream query.
	s0=$(proxy_stats)
	out=$(burst co.t.example A)
	s1=$(proxy_stats)
	check_eq "$m co: the forwarder saw one query" 1 \
	    "$(fakeup_legs co.t.example. A)"
	check_eq "$m co: $N replies, each with its own ID" "$ALL_IDS" \
	    "$(ids "$out")"
	check_eq "$m co: all with the answer" \
	    "NOERROR co.t.example. 300 A 192.0.2.3" "$(answers "$out")"
	check_eq "$m co: $((N - 1)) coalesced" $((N - 1)) \
	    $(( $(stat_of coalesced "$s1") - $(stat_of coalesced "$s0") ))
	check_eq "$m co: each client logged" $N \
	    "$(count_matches "$PROXY_LOG" ' co\.t\.example\. A passed NOERROR ')"

	# --- DO and no DO are not merged.
	out=$(burst co-do.t.example A 'do')
	check_eq "$m co-do: one upstream query with DO, one without" "1 1" \
	    "$(fakeup_count 'qname=co-do\.t\.example\. qtype=A .* do=1 ') $(fakeup_count 'qname=co-do\.t\.example\. qtype=A .* do=0 ')"
	check_eq "$m co-do: $N replies, each with its own ID" "$ALL_IDS" \
	    "$(ids "$out")"
	check_eq "$m co-do: DO echoed to exactly the $((N / 2)) DO queries" \
	    "$((N / 2)) $((N / 2))" \
	    "$(printf '%s\n' "$out" | grep -Ec '^id=[0-9]*[13579] .* do=1 ') $(printf '%s\n' "$out" | grep -c ' do=1 ')"

	# --- DNS64: both legs merge (one AAAA and one A upstream).
	out=$(burst co64.t.example AAAA)
	check_eq "$m co64: upstream AAAA / A" "1 1" \
	    "$(fakeup_legs co64.t.example. AAAA) $(fakeup_legs co64.t.example. A)"
	check_eq "$m co64: $N replies, each with its own ID" "$ALL_IDS" \
	    "$(ids "$out")"
	check_eq "$m co64: all synthesized" \
	    "NOERROR co64.t.example. 300 AAAA 2001:db8:64::c000:205" \
	    "$(answers "$out")"
	stop_proxy
	stop_fakeup
}

for CS in 16 0; do
	note "=== cache-size $CS"
	scenarios "$CS"
done

finish
