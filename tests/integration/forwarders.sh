#!/bin/bash
#
# forwarders.sh - forwarder health and selection (src/fwd.c, include/fwd.h,
# dns64proxy.conf(5) "forwarder-selection"), with two tests/fakeup
# forwarders:
#  - ordered, a silent first forwarder: the first queries wait and get the
#    second one's answer; after 4 timeouts in a row (one of them >= 800 ms)
#    it goes down for A, logged once, and the next 20 queries reach it at
#    most twice (probes); once it answers again a probe brings it back up
#    (logged) and queries go to it again;
#  - per group: a forwarder that drops only AAAA goes down for AAAA only
#    and still gets the A queries;
#  - every forwarder silent: SERVFAIL with EDE 22 (RFC 8914), and once all
#    are down still a SERVFAIL, within about upstream-timeout;
#  - a closed port (ICMP port unreachable): the query moves on at once,
#    and the forwarder is not taken down;
#  - fastest: a forwarder 150 ms away gets only the exploring tries (1 in
#    20) once the proxy knows the other one is faster; round-robin: each
#    gets about half.
# Every query has a name of its own, so the cache plays no part; all of it
# runs with "cache-size 16" and "cache-size 0".  Forwarders answer NXDOMAIN
# with a SOA naming them (ns1, ns2), so each answer says who gave it; the
# proxy's -v line says it too ("upstream ADDR@PORT").

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TEST_TIMEOUT:=900}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq

NSP=2001:db8:64::/96
TIMEOUT=1500

# rules_answer FILE K [DELAY_MS]: a forwarder that answers everything
# NXDOMAIN with the SOA of nsK, after DELAY_MS.
rules_answer() {
	{
		printf 'match * *\n  rcode NXDOMAIN\n'
		[ -n "${3:-}" ] && printf '  delay %s\n' "$3"
		printf '  authority t.example. 60 IN SOA ns%s.t.example. h.t.example. 1 3600 900 604800 60\nend\n' "$2"
	} >"$1"
}

silent=$TEST_TMP/silent.rules
printf 'match * *\n  drop\nend\n' >"$silent"
ans1=$TEST_TMP/ans1.rules
rules_answer "$ans1" 1
ans2=$TEST_TMP/ans2.rules
rules_answer "$ans2" 2
noaaaa=$TEST_TMP/noaaaa.rules
{
	printf 'match * AAAA\n  drop\nend\n'
	cat "$ans1"
} >"$noaaaa"
slow1=$TEST_TMP/slow1.rules
rules_answer "$slow1" 1 150

# fakeup1 RULES / fakeup2 RULES: start the first / second forwarder;
# F1_PORT F1_PID F1_LOG, F2_...
fakeup1() {
	start_fakeup "$1"
	F1_PORT=$FAKEUP_PORT F1_PID=$FAKEUP_PID F1_LOG=$FAKEUP_LOG
}
fakeup2() {
	start_fakeup "$1"
	F2_PORT=$FAKEUP_PORT F2_PID=$FAKEUP_PID F2_LOG=$FAKEUP_LOG
}

# fwd_proxy SELECTION PORT...: a proxy (-v) forwarding to 127.0.0.1 at
# each PORT, in this order.
fwd_proxy() {
	local sel=$1 p f
	shift
	stop_proxy
	f=$TEST_TMP/proxy-$CS-$sel-$RANDOM.conf
	{
		for p in "$@"; do
			printf 'forwarder 127.0.0.1 port %s\n' "$p"
		done
		printf 'forwarder-selection %s\nupstream-timeout %s\n' "$sel" \
		    "$TIMEOUT"
		printf 'cache-size %s\nprefix %s\n' "$CS" "$NSP"
	} >"$f"
	start_proxy -v -f "$f"
}

# ask NAME [TYPE]: query the proxy (generous client timeout); sets OUT.
ask() {
	OUT=$(dq -T 8000 -v "$1/${2:-A}")
}

# by OUT: who answered, from the SOA in the dnsq -v dump: ns1, ns2, or the
# rcode when it is not NXDOMAIN.
by() {
	local k
	k=$(printf '%s\n' "$1" | sed -n 's/.*SOA[[:space:]]*\(ns[0-9]\)\.t\.example\..*/\1/p' |
	    head -n 1)
	if [ "$(dq_field rcode "$1")" = NXDOMAIN ] && [ -n "$k" ]; then
		echo "$k"
	else
		dq_field rcode "$1"
	fi
}

# upstream_of NAME TYPE: the forwarder the proxy's -v line names.
upstream_of() {
	grep -E "^127\\.0\\.0\\.1@[0-9]+ $(re_escape "$1") $2 " "$PROXY_LOG" |
	    tail -n 1 | sed -n 's/.* upstream \([^ ]*\).*/\1/p'
}

# seen LOG TAG: queries for names with TAG in a fakeup log.
seen() {
	count_matches "$1" "qname=$TAG-$2-[0-9]+\\.t\\.example\\. "
}

downline() {	# PORT GROUP
	printf 'forwarder 127\\.0\\.0\\.1@%s down for %s: [0-9]+ timeouts' "$1" "$2"
}
upline() {	# PORT GROUP
	printf 'forwarder 127\\.0\\.0\\.1@%s up for %s$' "$1" "$2"
}

# --- ordered, a silent first forwarder, fail-back ---------------------
ordered_silent() {
	local m="[c$CS] ordered" i n byl whol down_after start qs out
	fakeup1 "$silent"
	fakeup2 "$ans2"
	fwd_proxy ordered "$F1_PORT" "$F2_PORT"

	# Until it is down: each query waits for the first, then the second
	# answers.
	byl=
	down_after=
	for i in $(seq 1 8); do
		ask "$TAG-a-$i.t.example"
		byl="$byl $(by "$OUT")"
		if grep -Eq "$(downline "$F1_PORT" A)" "$PROXY_LOG"; then
			down_after=$i
			break
		fi
	done
	check_range "$m: down for A after 4-5 queries that timed out" 4 5 \
	    "${down_after:-0}"
	check_eq "$m: each of them answered by the second" \
	    "$(for n in $(seq 1 "${down_after:-8}"); do printf ' ns2'; done)" \
	    "$byl"

	# Down: the next 20 queries go to the second at once.  They leave
	# 20 ms apart from one socket, so that they all fall within the
	# first probe intervals (1 s, then 1.5 s waited + 2 s).
	qs=()
	for i in $(seq 1 20); do
		qs+=("$TAG-b-$i.t.example/A")
	done
	out=$(dq -T 8000 -d 20 -v "${qs[@]}")
	check_eq "$m: 20 queries while down, all answered by the second" \
	    "20 20" "$(printf '%s\n' "$out" | grep -c '^id=.* rcode=NXDOMAIN ') $(printf '%s\n' "$out" | grep -Ec 'SOA[[:space:]]+ns2\.t\.example\.')"
	whol=
	for i in $(seq 1 20); do
		whol="$whol $(upstream_of "$TAG-b-$i.t.example." A)"
	done
	check_eq "$m: ... as the -v lines say" \
	    "$(printf " 127.0.0.1@$F2_PORT%.0s" $(seq 1 20))" "$whol"
	check_range "$m: the silent one got at most 2 of them (probes)" 0 2 \
	    "$(seen "$F1_LOG" b)"
	check_eq "$m: 'down for A' logged once" 1 \
	    "$(count_matches "$PROXY_LOG" "$(downline "$F1_PORT" A)")"
	check_eq "$m: not down for the other groups" 0 \
	    "$(count_matches "$PROXY_LOG" "forwarder 127\\.0\\.0\\.1@$F1_PORT down for (AAAA|other)")"

	# Fail-back: the first forwarder answers again, on the same port; a
	# probe (1 s after going down, then doubling up to 15 s) finds it.
	stop_pid "$F1_PID"
	start_fakeup_on "$F1_PORT" "$ans1"
	F1_PID=$FAKEUP_PID F1_LOG=$FAKEUP_LOG
	start=$(now_ms)
	for i in $(seq 1 150); do
		grep -Eq "$(upline "$F1_PORT" A)" "$PROXY_LOG" && break
		[ $(( $(now_ms) - start )) -ge 35000 ] && break
		ask "$TAG-c-$i.t.example"
		sleep 0.2
	done
	check_true "$m: 'up for A' logged once it answers (within 35 s)" \
	    grep -Eq "$(upline "$F1_PORT" A)" "$PROXY_LOG"
	byl=
	for i in $(seq 1 5); do
		ask "$TAG-d-$i.t.example"
		byl="$byl $(by "$OUT")"
	done
	check_eq "$m: back up, the first forwarder answers again" \
	    " ns1 ns1 ns1 ns1 ns1" "$byl"
	stop_proxy
	stop_pid "$F1_PID"
	stop_pid "$F2_PID"
}

# --- per group: silent for AAAA only -----------------------------------
per_group() {
	local m="[c$CS] per group" i byl down_after a0 t_down probes
	fakeup1 "$noaaaa"
	fakeup2 "$ans2"
	fwd_proxy ordered "$F1_PORT" "$F2_PORT"
	down_after=
	for i in $(seq 1 8); do
		ask "$TAG-g-$i.t.example" AAAA
		if grep -Eq "$(downline "$F1_PORT" AAAA)" "$PROXY_LOG"; then
			down_after=$i
			t_down=$(now_ms)
			break
		fi
	done
	check_range "$m: down for AAAA after 4-5 AAAA queries" 4 5 \
	    "${down_after:-0}"
	check_eq "$m: not down for A" 0 \
	    "$(count_matches "$PROXY_LOG" "$(downline "$F1_PORT" A)")"
	byl=
	for i in $(seq 1 5); do
		ask "$TAG-h-$i.t.example" A
		byl="$byl $(by "$OUT")"
	done
	check_eq "$m: A queries still answered by the first" \
	    " ns1 ns1 ns1 ns1 ns1" "$byl"
	a0=$(count_matches "$F1_LOG" "qname=$TAG-i-[0-9]+\\.t\\.example\\. qtype=AAAA ")
	byl=
	for i in $(seq 1 5); do
		ask "$TAG-i-$i.t.example" AAAA
		byl="$byl $(by "$OUT")"
	done
	check_eq "$m: AAAA queries answered by the second" \
	    " ns2 ns2 ns2 ns2 ns2" "$byl"
	# Probes are due 1 s after going down, then 2, 4... s apart: k of
	# them within 2^k - 1 s (plus the second it took to see it go down).
	probes=$(awk -v s="$(( ($(now_ms) - ${t_down:-0} + 1999) / 1000 ))" \
	    'BEGIN { k = 0; while (2 ^ (k + 1) - 1 <= s) k++; print (k < 1 ? 1 : k) }')
	check_range "$m: AAAA reached the first only as probes (at most $probes)" \
	    0 "$probes" \
	    "$(( $(count_matches "$F1_LOG" "qname=$TAG-i-[0-9]+\\.t\\.example\\. qtype=AAAA ") - a0 ))"
	stop_proxy
	stop_pid "$F1_PID"
	stop_pid "$F2_PID"
}

# --- every forwarder silent -------------------------------------------
all_silent() {
	local m="[c$CS] all silent" i out f got start
	fakeup1 "$silent"
	fakeup2 "$silent"
	fwd_proxy ordered "$F1_PORT" "$F2_PORT"
	out=$(q +time=8 "$TAG-s-1.t.example" A)
	check_eq "$m: SERVFAIL, EDE 22" "SERVFAIL 22" \
	    "$(status_of "$out") $(ede_of "$out" | tr '\n' ' ' | sed 's/ $//')"
	check_match "$m: the EDE text names the forwarder that timed out" \
	    'EDE: 22 .*forwarder 127\.0\.0\.1@[0-9]+ timed out' "$out"
	# Until both are down.
	for i in $(seq 2 10); do
		[ "$(count_matches "$PROXY_LOG" 'forwarder 127\.0\.0\.1@[0-9]+ down for A: ')" -ge 2 ] &&
		    break
		ask "$TAG-s-$i.t.example"
	done
	check_eq "$m: both down for A" 2 \
	    "$(count_matches "$PROXY_LOG" 'forwarder 127\.0\.0\.1@[0-9]+ down for A: ')"
	# Now every query still gets its SERVFAIL, within about
	# upstream-timeout (+ 1 s for a loaded machine).
	# The poll is bounded by the clock: "within" is the point here.
	for i in 1 2 3; do
		f=$TEST_TMP/down-$CS-$i
		start=$(now_ms)
		run_bg "$f" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
		    -T 8000 "$TAG-t-$i.t.example/A"
		got=late
		while [ $(( $(now_ms) - start )) -lt $((TIMEOUT + 1000)) ]; do
			if [ -s "$f" ]; then
				got=$(dq_field rcode "$(cat "$f")")
				break
			fi
			sleep 0.05
		done
		wait "$BG_PID"
		# Fails at 84bf5ea: when probes are due, each forwarder gets
		# one in turn and each waits its own timeout (1500 ms here),
		# so the SERVFAIL comes after 3000 ms.
		check_eq "$m, down: query $i gets SERVFAIL within upstream-timeout (+1 s)" \
		    SERVFAIL "$got"
		[ "$got" = late ] &&
		    note "query $i: after $(( $(now_ms) - start )) ms: $(head -n 1 "$f")"
	done
	stop_proxy
	stop_pid "$F1_PID"
	stop_pid "$F2_PID"
}

# --- a closed port -------------------------------------------------------
closed_port() {
	local m="[c$CS] closed port" dead i byl
	dead=$(dead_port) || bail "no free port for dead_port"
	fakeup2 "$ans2"
	fwd_proxy ordered "$dead" "$F2_PORT"
	byl=
	for i in $(seq 1 10); do
		ask "$TAG-k-$i.t.example"
		byl="$byl $(by "$OUT")"
	done
	check_eq "$m: 10 queries answered by the second" \
	    "$(printf ' ns2%.0s' $(seq 1 10))" "$byl"
	check_match "$m: the ICMP error is seen" \
	    "upstream 127\\.0\\.0\\.1@$dead: Connection refused" \
	    "$(cat "$PROXY_LOG")"
	check_eq "$m: no query waited for it to time out" 0 \
	    "$(count_matches "$PROXY_LOG" "upstream 127\\.0\\.0\\.1@$dead: timed out")"
	check_eq "$m: not taken down" 0 \
	    "$(count_matches "$PROXY_LOG" "forwarder 127\\.0\\.0\\.1@$dead down")"
	stop_proxy
	stop_pid "$F2_PID"
}

# --- fastest ------------------------------------------------------------
fastest() {
	local m="[c$CS] fastest" i n qs=() out n1 n2
	fakeup1 "$slow1"
	fakeup2 "$ans2"
	# The slow one first: "fastest" is not "ordered".
	fwd_proxy fastest "$F1_PORT" "$F2_PORT"
	# Learn: until the fast one has answered 5 times (it is unknown at
	# first, and the slow one known, until an exploring try finds it).
	# Batches of 20 (one explores, on average), at most 10.
	for i in $(seq 1 10); do
		[ "$(count_matches "$PROXY_LOG" " upstream 127\\.0\\.0\\.1@$F2_PORT\$")" -ge 5 ] &&
		    break
		qs=()
		for n in $(seq 1 20); do
			qs+=("$TAG-l-$i-$n.t.example/A")
		done
		dq -T 8000 -d 10 "${qs[@]}" >/dev/null
	done
	qs=()
	for i in $(seq 1 60); do
		qs+=("$TAG-f-$i.t.example/A")
	done
	out=$(dq -T 8000 -d 20 "${qs[@]}")
	check_eq "$m: 60 answers" 60 "$(dq_count "$out")"
	n1=$(count_matches "$PROXY_LOG" "$TAG-f-[0-9]+\\.t\\.example\\. A passed NXDOMAIN upstream 127\\.0\\.0\\.1@$F1_PORT\$")
	n2=$(count_matches "$PROXY_LOG" "$TAG-f-[0-9]+\\.t\\.example\\. A passed NXDOMAIN upstream 127\\.0\\.0\\.1@$F2_PORT\$")
	note "fastest: $n1 answered by the slow one, $n2 by the fast one"
	check_range "$m: most (>= 48 of 60) answered by the fast one" 48 60 "$n2"
	check_range "$m: a few (exploring, 1 in 20) by the slow one" 0 12 "$n1"
	stop_proxy
	stop_pid "$F1_PID"
	stop_pid "$F2_PID"
}

# --- round-robin --------------------------------------------------------
round_robin() {
	local m="[c$CS] round-robin" i qs=() out n1 n2
	fakeup1 "$ans1"
	fakeup2 "$ans2"
	fwd_proxy round-robin "$F1_PORT" "$F2_PORT"
	for i in $(seq 1 60); do
		qs+=("$TAG-r-$i.t.example/A")
	done
	out=$(dq -T 8000 -d 5 "${qs[@]}")
	check_eq "$m: 60 answers" 60 "$(dq_count "$out")"
	n1=$(seen "$F1_LOG" r)
	n2=$(seen "$F2_LOG" r)
	note "round-robin: $n1 to the first, $n2 to the second"
	check_range "$m: about half to the first" 20 40 "$n1"
	check_range "$m: about half to the second" 20 40 "$n2"
	stop_proxy
	stop_pid "$F1_PID"
	stop_pid "$F2_PID"
}

for CS in 16 0; do
	note "=== cache-size $CS"
	TAG=c$CS
	ordered_silent
	per_group
	all_silent
	closed_port
	fastest
	round_robin
done

finish
