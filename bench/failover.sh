#!/bin/bash
# bench/failover.sh -- "make bench-failover": how dns64proxy copes with a
# forwarder that does not answer.  Two forwarders, each a bench/udprelay
# in front of the same NSD: A (listed first) and B (listed second, RELAY_B_MS
# further away, so that A is also the fastest while it answers).  A
# "silent" relay drops every query, as a firewalled or dead host does: no
# reply, no ICMP.  The client load is a steady stream of unique names
# (every query goes upstream), alternately A-only (synthesized: AAAA and A
# legs) and dual-stack, at RATE q/s.  It reports; it never asserts.
#
# 1. A silent from the start: latency of the answers once the first SKIP
#    queries (by send order) are past: median, p99, max; synthesized names
#    alone; lost.  Goal: median <= 5 ms.
# 2. A answers, goes silent after BEFORE s for DOWN s, then answers again;
#    the stream runs AFTER s more: queries slower than 1 s (%), lost (dnsperf
#    timeout 5 s), queries the proxy sent to A while it was silent.  Goal:
#    < 1% slower than 1 s, none lost.
# 3. Fail-back, from A's own log (the upstream side): seconds from A
#    answering again to the first query it relays, and to the first second
#    in which it carries at least half the stream.  Goal: within 30 s.
#
# Phase 1 uses the proxy's default forwarder-selection (SELECTION to
# override); phases 2 and 3 "forwarder-selection ordered", so that A must
# be taken back.  Both go through kw: left out if this dns64proxy does not
# know the keyword (today's proxy tries the forwarders in order anyway).
#
# Tunables: RATE (200), PHASE1_SECONDS (20), SKIP (20), BEFORE (5), DOWN
# (15), AFTER (40), RELAY_B_MS (1), SELECTION (default: none),
# UPSTREAM_TIMEOUT (ms; default: the proxy's), PROXY_EXTRA, RESULTS_DIR.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=bench/lib.sh
. "$top_srcdir/bench/lib.sh"

RATE=${RATE:-200}
PHASE1_SECONDS=${PHASE1_SECONDS:-20}
SKIP=${SKIP:-20}
BEFORE=${BEFORE:-5}
DOWN=${DOWN:-15}
AFTER=${AFTER:-40}
RELAY_B_MS=${RELAY_B_MS:-1}
SELECTION=${SELECTION:-}
UPSTREAM_TIMEOUT=${UPSTREAM_TIMEOUT:-}

need_tool "$DNSPERF" taskset
bench_cpus 1
start_nsd
start_relay "$NSD_PORT" -x
A_PORT=$RELAY_PORT A_PID=$RELAY_PID A_LOG=$RELAY_LOG
start_relay "$NSD_PORT" -d "$RELAY_B_MS"
B_PORT=$RELAY_PORT B_LOG=$RELAY_LOG

lines=()
[ -n "$UPSTREAM_TIMEOUT" ] && lines+=("upstream-timeout $UPSTREAM_TIMEOUT")

# lat_stats OUT SKIP REGEX: "answers p50 p99 max" (ms) of the answers in
# OUT (dnsperf -v) whose send order is above SKIP and name matches REGEX.
lat_stats() {
	awk -v skip="$2" -v re="$3" '
		$1 == ">" && $2 != "T" {
			label = $3
			sub(/\..*/, "", label)
			i = label
			sub(/.*-/, "", i)
			if (i + 0 > skip && $3 ~ re)
				print $NF * 1000
		}' "$1" | sort -g |
	    awk '{ v[NR] = $1 }
		function p(q,  i) {
			i = int(NR * q + 0.999999)
			return v[i < 1 ? 1 : i]
		}
		END {
			if (NR == 0) { print "0 - - -"; exit }
			printf "%d %.2f %.2f %.2f\n", NR, p(0.5), p(0.99), v[NR]
		}'
}

# ------------------------------------------------- 1: A silent from the start
sel1=()
[ -n "$SELECTION" ] && sel1=("forwarder-selection $SELECTION")
proxy_conf_file failover1 "$A_PORT" "$B_PORT" -- "${lines[@]}" "${sel1[@]}"
CONF1=$PROXY_CONF
start_bench_proxy "$SERVER_CPUS" "$PROXY_CONF"
n=$((RATE * PHASE1_SECONDS))
names_stream "$TEST_TMP/p1.txt" "$n" p1
note "phase 1: forwarder A silent, $RATE q/s for $PHASE1_SECONDS s"
dnsperf_run "$TEST_TMP/p1.out" "$PROXY_PORT" "$TEST_TMP/p1.txt" -n 1 \
    -Q "$RATE" -l "$PHASE1_SECONDS" -q 10000 -c 16 -t 5 -v
stop_proxy
read -r p1_n p1_50 p1_99 p1_max <<<"$(lat_stats "$TEST_TMP/p1.out" "$SKIP" .)"
read -r p1s_n p1s_50 p1s_99 p1s_max <<<"$(lat_stats "$TEST_TMP/p1.out" \
    "$SKIP" '\.a\.')"
p1_sent=$(dp_stat "$TEST_TMP/p1.out" sent)
p1_lost=$(dp_stat "$TEST_TMP/p1.out" lost)
p1_toa=$(count_matches "$A_LOG" ' drop$')
p1_tob=$(count_matches "$B_LOG" ' fwd$')

# ------------------------------------ 2, 3: A stops answering, then answers
kill -USR2 "$A_PID"
: >"$A_LOG"
proxy_conf_file failover2 "$A_PORT" "$B_PORT" -- "${lines[@]}" \
    "forwarder-selection ordered"
CONF2=$PROXY_CONF
start_bench_proxy "$SERVER_CPUS" "$PROXY_CONF"
total=$((BEFORE + DOWN + AFTER))
names_stream "$TEST_TMP/p2.txt" $((RATE * total)) p2
note "phase 2: $RATE q/s for $total s; A silent from $BEFORE s to" \
    "$((BEFORE + DOWN)) s"
run_bg "$TEST_TMP/p2.out" taskset -c "$LOAD_CPUS" "$DNSPERF" -s 127.0.0.1 \
    -p "$PROXY_PORT" -d "$TEST_TMP/p2.txt" -n 1 -Q "$RATE" -l "$total" \
    -q 10000 -c 16 -t 5 -v
dp=$BG_PID
sleep "$BEFORE"
t_down=$(now_ms)
kill -USR1 "$A_PID"
sleep "$DOWN"
t_up=$(now_ms)
kill -USR2 "$A_PID"
wait "$dp"
stop_proxy
p2_sent=$(dp_stat "$TEST_TMP/p2.out" sent)
p2_ans=$(dp_stat "$TEST_TMP/p2.out" completed)
p2_lost=$(dp_stat "$TEST_TMP/p2.out" lost)
p2_slow=$(dp_slower "$TEST_TMP/p2.out" 1)
read -r _ p2_50 p2_99 p2_max <<<"$(lat_stats "$TEST_TMP/p2.out" 0 .)"
p2_toa=$(count_matches "$A_LOG" ' drop$')
# Fail-back: A's relayed queries after t_up, by second.
read -r fb_first fb_half <<<"$(awk -v up="$t_up" -v half=$((RATE / 2)) '
	$2 == "fwd" && $1 >= up {
		if (first == "") first = $1 - up
		s = int(($1 - up) / 1000)
		c[s]++
		if (c[s] >= half && hs == "") hs = s
	}
	END {
		printf "%s %s\n", first == "" ? "never" : sprintf("%.1f", first / 1000),
		    hs == "" ? "never" : hs
	}' "$A_LOG")"

report_header "dns64proxy failover"
report "- phase 1 config: $(conf_summary "$CONF1")"
report "- phases 2-3 config: $(conf_summary "$CONF2")"
[ -z "$KW_UNSUPPORTED" ] ||
    report "- left out (not accepted by this dns64proxy): $KW_UNSUPPORTED"
report "- forwarders: A (first, udprelay, silent when said), B (second," \
    "udprelay -d $RELAY_B_MS); dns64proxy on cores $SERVER_CPUS; dnsperf" \
    "-Q $RATE, unique names, half synthesized, cores $LOAD_CPUS"
report ""
report "| phase | figure | value | goal |"
report "|---|---|---:|---|"
report "| 1 A silent | answers after the first $SKIP queries | $p1_n |  |"
report "| 1 A silent | median ms | $p1_50 | <= 5 |"
report "| 1 A silent | p99 ms | $p1_99 |  |"
report "| 1 A silent | max ms | $p1_max |  |"
report "| 1 A silent | synthesized: median / p99 ms | $p1s_50 / $p1s_99 |  |"
report "| 1 A silent | lost / sent | $p1_lost / $p1_sent |  |"
report "| 1 A silent | queries sent to A / to B | $p1_toa / $p1_tob |  |"
report "| 2 A stops | sent / answered | $p2_sent / $p2_ans |  |"
report "| 2 A stops | slower than 1 s | $p2_slow" \
    "($(calc "$p2_sent > 0 ? sprintf(\"%.2f\", 100 * $p2_slow / $p2_sent) : 0")%)" \
    "| < 1% |"
report "| 2 A stops | lost | $p2_lost | 0 |"
report "| 2 A stops | median / p99 / max ms | $p2_50 / $p2_99 / $p2_max |  |"
report "| 2 A stops | queries sent to A while silent ($DOWN s) | $p2_toa |  |"
report "| 3 fail-back | s to A's first relayed query | $fb_first |  |"
report "| 3 fail-back | s to A carrying half the stream | $fb_half" \
    "| <= 30 |"
printf '\n'
cat "$RESULTS"
printf '\n(written to %s)\n' "$RESULTS"
ok "failover benchmark ran"
finish
