#!/bin/bash
# bench/rss.sh -- "make bench-rss": dns64proxy's memory with INFLIGHT
# (50,000) client queries in flight against a slow upstream: bench/udprelay
# delays every query DELAY_MS (5000) before NSD, and dnsperf sends unique
# dual-stack names (one upstream query each, never in the cache) at
# INFLIGHT / DELAY rate for DELAY + HOLD (3) seconds, then waits for the
# answers.  "upstream-timeout" is set above the delay (TIMEOUT_MS, 15000)
# so that queries wait rather than fail.  Run once per CACHE_SIZES entry
# (MiB, "default" for none given): "0 default".
#
# Reports, per run: the most queries the relay held at once (what reached
# the upstream; client queries the kernel dropped before the proxy read
# them never show there), RSS before the load, the peak RSS (VmHWM), RSS
# once the answers are in, answered and lost queries, and the goal, 64 MiB
# + cache-size.  It never asserts.  NAMES=a asks A-only names instead (AAAA
# and A legs per query).  The proxy's open-files limit is this shell's
# (ulimit -n, in the report).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=bench/lib.sh
. "$top_srcdir/bench/lib.sh"

INFLIGHT=${INFLIGHT:-50000}
DELAY_MS=${DELAY_MS:-5000}
HOLD=${HOLD:-3}
TIMEOUT_MS=${TIMEOUT_MS:-15000}
CACHE_SIZES=${CACHE_SIZES:-0 default}
NAMES=${NAMES:-d}
CLIENTS=${CLIENTS:-64}

need_tool "$DNSPERF" taskset
bench_cpus 1
start_nsd
start_relay "$NSD_PORT" -d "$DELAY_MS"
rate=$((INFLIGHT * 1000 / DELAY_MS))
secs=$((DELAY_MS / 1000 + HOLD))

report_header "dns64proxy RSS with $INFLIGHT queries in flight"
report "- relay delay $DELAY_MS ms; dnsperf -Q $rate for $secs s, unique" \
    "$NAMES names, -c $CLIENTS, cores $LOAD_CPUS; dns64proxy cores" \
    "$SERVER_CPUS, ulimit -n $(ulimit -n)"
report ""
report "| cache-size | upstream queries in flight, peak | RSS before MiB |" \
    "peak RSS (VmHWM) MiB | RSS after MiB | answered | lost | goal MiB |"
report "|---|---:|---:|---:|---:|---:|---:|---:|"

n=0
for cs in $CACHE_SIZES; do
	n=$((n + 1))
	lines=("upstream-timeout $TIMEOUT_MS")
	[ "$cs" != default ] && lines+=("cache-size $cs")
	proxy_conf_file "rss-$n" "$RELAY_PORT" -- "${lines[@]}"
	label=$cs
	if [ "$cs" != default ] && ! kw_ok "cache-size $cs"; then
		label="$cs (not accepted: default)"
	fi
	start_bench_proxy "$SERVER_CPUS" "$PROXY_CONF"
	relay_counters "$RELAY_PID" "$RELAY_ERR" >/dev/null	# peak := 0
	before=$(proc_kb "$PROXY_PID" VmRSS)
	# dnsperf sleeps 1 ms every other query until its first answer
	# comes back, which caps it near 1,000 q/s for the whole delay:
	# ipv4only.arpa, answered by the proxy itself, lifts that at once.
	names_unique "$TEST_TMP/rss.u" $((rate * secs + 1000)) "rss$n" "$NAMES"
	{
		printf 'ipv4only.arpa AAAA\n%.0s' 1 2 3
		cat "$TEST_TMP/rss.u"
	} >"$TEST_TMP/rss.txt"
	note "cache-size $cs: $rate q/s for $secs s, upstream $DELAY_MS ms away"
	dnsperf_run "$TEST_TMP/rss.out" "$PROXY_PORT" "$TEST_TMP/rss.txt" \
	    -n 1 -Q "$rate" -l "$secs" -q $((INFLIGHT + INFLIGHT / 5)) \
	    -c "$CLIENTS" -t $(((TIMEOUT_MS + DELAY_MS) / 1000 + 2))
	peak=$(proc_kb "$PROXY_PID" VmHWM)
	after=$(proc_kb "$PROXY_PID" VmRSS)
	inflight=$(relay_counters "$RELAY_PID" "$RELAY_ERR" |
	    awk '{ print $NF }')
	goal=64
	[[ $cs =~ ^[0-9]+$ ]] && goal=$((64 + cs))
	[ "$cs" = default ] && goal="64 + default cache-size"
	report "| $label | $inflight | $(calc "sprintf(\"%.1f\", $before / 1024)") |" \
	    "$(calc "sprintf(\"%.1f\", $peak / 1024)") |" \
	    "$(calc "sprintf(\"%.1f\", $after / 1024)") |" \
	    "$(dp_stat "$TEST_TMP/rss.out" completed) |" \
	    "$(dp_stat "$TEST_TMP/rss.out" lost) | $goal |"
	note "$(grep -E 'Queries (sent|completed|lost)' "$TEST_TMP/rss.out" |
	    tr -s ' \n' ' ')"
	stop_proxy
	rm -f "$TEST_TMP/rss.txt" "$TEST_TMP/rss.u" "$TEST_TMP/rss.out"
done
[ -z "$KW_UNSUPPORTED" ] || {
	report ""
	report "Left out (not accepted by this dns64proxy): $KW_UNSUPPORTED"
}
printf '\n'
cat "$RESULTS"
printf '\n(written to %s)\n' "$RESULTS"
ok "rss benchmark ran"
finish
