#!/bin/bash
# bench/soak.sh -- "make soak": dns64proxy overloaded, then back to normal.
# Not part of make check; it reports, never asserts.
#
# 1. Capacity: dnsperf at full speed (-q OUTSTANDING) for CAP_SECONDS
#    (10): C answers per second.
# 2. Overload: OVERLOAD (2) x C q/s for SOAK_SECONDS (60), dnsperf timeout
#    2 s; RSS sampled every 0.5 s.
# 3. Normal load: NORMAL (0.5) x C q/s for RECOVER_SECONDS (30), with
#    per-second figures (dnsperf -S 1).
# Every query is a unique name (NAMES=a: A-only, synthesized, AAAA and A
# upstream, never cached; NAMES=d: dual-stack, one upstream query), from
# NSD on loopback.  Reports answered % per phase, RSS at start, peak
# (sampled and VmHWM) and end, and the time to full service: from the end
# of the overload to the start of the first second from which every second
# answered at least 95% of the offered rate.
#
# Tunables: CAP_SECONDS, SOAK_SECONDS, RECOVER_SECONDS, OVERLOAD, NORMAL,
# NAMES, CLIENTS (32), OUTSTANDING (200), WORKERS (a "workers N" line;
# default: the proxy's), CACHE_SIZE ("cache-size N"), PROXY_EXTRA,
# RESULTS_DIR.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=bench/lib.sh
. "$top_srcdir/bench/lib.sh"

CAP_SECONDS=${CAP_SECONDS:-10}
SOAK_SECONDS=${SOAK_SECONDS:-60}
RECOVER_SECONDS=${RECOVER_SECONDS:-30}
OVERLOAD=${OVERLOAD:-2}
NORMAL=${NORMAL:-0.5}
NAMES=${NAMES:-a}
CLIENTS=${CLIENTS:-32}
OUTSTANDING=${OUTSTANDING:-200}
WORKERS=${WORKERS:-}
CACHE_SIZE=${CACHE_SIZE:-}

need_tool "$DNSPERF" taskset
bench_cpus "${WORKERS:-1}"
start_nsd
lines=()
[ -n "$WORKERS" ] && lines+=("workers $WORKERS")
[ -n "$CACHE_SIZE" ] && lines+=("cache-size $CACHE_SIZE")
proxy_conf_file soak "$NSD_PORT" -- "${lines[@]}"
start_bench_proxy "$SERVER_CPUS" "$PROXY_CONF"

# 1. capacity
names_unique "$TEST_TMP/cap.txt" $((200000 * CAP_SECONDS)) cap "$NAMES"
dnsperf_run "$TEST_TMP/cap.out" "$PROXY_PORT" "$TEST_TMP/cap.txt" -n 1 \
    -l "$CAP_SECONDS" -q "$OUTSTANDING" -c "$CLIENTS" -t 2
cap=$(dp_stat "$TEST_TMP/cap.out" qps)
cap=${cap%.*}
[ "${cap:-0}" -gt 0 ] || fatal "capacity run answered nothing"
rm -f "$TEST_TMP/cap.txt"
over=$(calc "int($cap * $OVERLOAD)")
normal=$(calc "int($cap * $NORMAL)")
[ "$normal" -gt 0 ] || normal=1
note "capacity $cap q/s: overload at $over q/s, then $normal q/s"

# 2. overload, RSS sampled meanwhile
rss_start=$(proc_kb "$PROXY_PID" VmRSS)
names_unique "$TEST_TMP/over.txt" $((over * SOAK_SECONDS + 1000)) over \
    "$NAMES"
(
	peak=0
	while kill -0 "$PROXY_PID" 2>/dev/null; do
		v=$(proc_kb "$PROXY_PID" VmRSS)
		[ "${v:-0}" -gt "$peak" ] && peak=$v && echo "$peak" \
		    >"$TEST_TMP/rss.peak"
		sleep 0.5
	done
) &
sampler=$!
track_pid "$sampler"
q=$((over * 2 + 1000))
[ "$q" -gt 60000 ] && q=60000
dnsperf_run "$TEST_TMP/over.out" "$PROXY_PORT" "$TEST_TMP/over.txt" -n 1 \
    -Q "$over" -l "$SOAK_SECONDS" -q "$q" -c "$CLIENTS" -t 2
t_end=$(now_ms)
rm -f "$TEST_TMP/over.txt"

# 3. normal load
names_unique "$TEST_TMP/norm.txt" $((normal * RECOVER_SECONDS + 1000)) norm \
    "$NAMES"
dnsperf_run "$TEST_TMP/norm.out" "$PROXY_PORT" "$TEST_TMP/norm.txt" -n 1 \
    -Q "$normal" -l "$RECOVER_SECONDS" -q 10000 -c "$CLIENTS" -t 2 -S 1
rss_end=$(proc_kb "$PROXY_PID" VmRSS)
hwm=$(proc_kb "$PROXY_PID" VmHWM)
stop_pid "$sampler"
rss_peak=$(cat "$TEST_TMP/rss.peak" 2>/dev/null || echo 0)
alive=yes
kill -0 "$PROXY_PID" 2>/dev/null || alive=no

# Per-second lines of dnsperf -S: "EPOCH.USEC: QPS", each at the end of
# its second.  Full service from the first second after which none falls
# below 95% of the offered rate.
recover=$(awk -F': ' -v end="$t_end" -v want="$normal" '
	/^[0-9]+\.[0-9]+: / {
		n++
		start[n] = $1 * 1000 - 1000
		good[n] = ($2 >= 0.95 * want)
	}
	END {
		first = ""
		for (i = n; i >= 1 && good[i]; i--)
			first = i
		if (n == 0 || first == "")
			print "never"
		else
			printf "%.1f\n", (start[first] < end ? 0 : \
			    (start[first] - end) / 1000)
	}' "$TEST_TMP/norm.out")

pct() {
	local s c
	s=$(dp_stat "$1" sent)
	c=$(dp_stat "$1" completed)
	calc "$s > 0 ? sprintf(\"%.2f\", 100 * $c / $s) : \"-\""
}
mib() {
	calc "sprintf(\"%.1f\", ${1:-0} / 1024)"
}

report_header "dns64proxy soak"
report "- config: $(conf_summary "$PROXY_CONF")"
[ -z "$KW_UNSUPPORTED" ] ||
    report "- left out (not accepted by this dns64proxy): $KW_UNSUPPORTED"
report "- unique $NAMES names; dns64proxy cores $SERVER_CPUS, dnsperf cores" \
    "$LOAD_CPUS, -c $CLIENTS, timeout 2 s"
report ""
report "| figure | value |"
report "|---|---:|"
report "| capacity (q/s, $CAP_SECONDS s at -q $OUTSTANDING) | $cap |"
report "| overload: $over q/s for $SOAK_SECONDS s, answered % | $(pct \
    "$TEST_TMP/over.out") |"
report "| normal: $normal q/s for $RECOVER_SECONDS s, answered % | $(pct \
    "$TEST_TMP/norm.out") |"
report "| time to full service after the overload (s) | $recover |"
report "| RSS at start MiB | $(mib "$rss_start") |"
report "| RSS peak MiB (sampled / VmHWM) | $(mib "$rss_peak") /" \
    "$(mib "$hwm") |"
report "| RSS at end MiB | $(mib "$rss_end") |"
report "| proxy still running | $alive |"
printf '\n'
cat "$RESULTS"
printf '\n(written to %s)\n' "$RESULTS"
ok "soak ran"
finish
