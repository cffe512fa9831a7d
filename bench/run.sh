#!/bin/bash
# bench/run.sh -- "make bench": dns64proxy against its peers, unbound's
# dns64 module and BIND 9's dns64, in the same run on the same machine, all
# forwarding to the same NSD on loopback serving a generated zone (see
# bench/lib.sh).  It reports; it never asserts a figure.
#
# Workloads (every query AAAA):
#   W1  A-only names, answer cached: the hit-N set, warmed first
#   W2  unique A-only names: every query a cache miss, AAAA + A upstream
#   W3  dual-stack names, cached: hit-N.d, warmed first
#   W4  unique dual-stack names: one upstream query each
# Unique names carry a random label and a counter, a fresh file per run,
# which dnsperf reads once (-n 1), so none ever repeats.
#
# Per target and workload: qps (dnsperf, at saturation), the server's CPU %
# and answers per CPU-second (utime + stime of all its threads, from
# /proc/PID/stat, over the measured interval), upstream queries per answer
# (NSD's counter), p50/p99 latency of the answers (dnsperf -v; at
# saturation this is mostly queueing: OUTSTANDING / qps), lost %.  Rounds
# are interleaved (round, workload, target) so drift hits all alike; each
# figure is the median over ROUNDS.  Then dns64proxy's answers per
# CPU-second over the best peer's.
#
# The servers under test run on the first core(s), dnsperf and NSD on the
# others (the last core if there are no others); see bench_cpus.
#
# Modes:
#   make bench                      the table above (MODE=throughput)
#   make bench MODE=latency         the upstream LAT_DELAY_MS (20) away via
#                                   bench/udprelay; W2 and W4 at LAT_QPS (20)
#                                   q/s for LAT_SECONDS (10): p50/p99 of a
#                                   synthesized (and a plain) cache miss
#   make bench WORKERS="1 2"        dns64proxy only, "workers N" for each N,
#                                   N cores; answers per CPU-second per N
#
# Tunables (environment or make variables): ROUNDS (3), SECONDS_PER_RUN
# (5), CLIENTS (32 dnsperf sockets, i.e. source ports), OUTSTANDING (200),
# THREADS (dnsperf threads; load cores, at most 8), WORKLOADS ("W1 W2 W3
# W4"), PEERS ("unbound bind"; "" for none), HIT_NAMES (1000), UNIQUE_QPS
# (100000: unique names generated per second of a run), CACHE_SIZE (MiB for
# dns64proxy's "cache-size"; empty = its default), DNS64_PARALLEL (yes|no;
# empty = default), PROXY_EXTRA (more config lines, verbatim), LATENCY
# (yes; "no" runs dnsperf without -v, which costs it 10-15% of its speed,
# and leaves the latency columns empty), DNS64PROXY (another build),
# RESULTS_DIR.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=bench/lib.sh
. "$top_srcdir/bench/lib.sh"

MODE=${MODE:-throughput}
WORKERS=${WORKERS:-}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CLIENTS=${CLIENTS:-32}
OUTSTANDING=${OUTSTANDING:-200}
WORKLOADS=${WORKLOADS:-W1 W2 W3 W4}
UNIQUE_QPS=${UNIQUE_QPS:-100000}
CACHE_SIZE=${CACHE_SIZE:-}
DNS64_PARALLEL=${DNS64_PARALLEL:-}
LAT_DELAY_MS=${LAT_DELAY_MS:-20}
LAT_QPS=${LAT_QPS:-20}
LAT_SECONDS=${LAT_SECONDS:-10}
LATENCY=${LATENCY:-yes}
if [ -n "$WORKERS" ]; then
	PEERS=${PEERS-}
else
	PEERS=${PEERS-unbound bind}
fi

case $MODE in
throughput|latency) ;;
*)	bail "MODE must be throughput or latency, not \"$MODE\"" ;;
esac
if [ "$MODE" = latency ]; then
	case " $WORKLOADS " in
	*" W1 "*|*" W3 "*)	WORKLOADS="W2 W4" ;;
	esac
fi
need_tool "$DNSPERF" taskset

# Worker counts: the servers under test get max(WORKERS) cores.
maxw=1
for n in $WORKERS; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || bail "WORKERS: \"$n\" is not a count"
	[ "$n" -gt "$maxw" ] && maxw=$n
done
bench_cpus "$maxw"
THREADS=${THREADS:-$((LOAD_NCPU > 8 ? 8 : LOAD_NCPU))}
[ "$CLIENTS" -lt "$THREADS" ] && CLIENTS=$THREADS

start_nsd
upstream=$NSD_PORT
if [ "$MODE" = latency ]; then
	start_relay "$NSD_PORT" -d "$LAT_DELAY_MS"
	upstream=$RELAY_PORT
fi

# Targets: name -> port, pid, and the cores the server runs on.
TARGETS=()
declare -A T_PORT T_PID T_CPUS
add_target() {
	TARGETS+=("$1")
	T_PORT[$1]=$2
	T_PID[$1]=$3
	T_CPUS[$1]=$4
}

SKIPPED=()
for n in ${WORKERS:-1}; do
	lines=("workers $n")
	[ -n "$CACHE_SIZE" ] && lines+=("cache-size $CACHE_SIZE")
	[ -n "$DNS64_PARALLEL" ] && lines+=("dns64-parallel $DNS64_PARALLEL")
	if [ "$n" != 1 ] && ! kw_ok "workers $n"; then
		note "skipping workers $n: this dns64proxy has no \"workers\""
		SKIPPED+=("workers $n")
		continue
	fi
	proxy_conf_file "proxy-w$n" "$upstream" -- "${lines[@]}"
	cpus=$(server_cpus "$n")
	start_bench_proxy "$cpus" "$PROXY_CONF"
	name=dns64proxy
	[ -n "$WORKERS" ] && name=dns64proxy-w$n
	add_target "$name" "$PROXY_PORT" "$PROXY_PID" "$cpus"
done
for p in $PEERS; do
	case $p in
	unbound)
		start_unbound64 "$SERVER_CPUS" "$upstream"
		add_target unbound "$U64_PORT" "$U64_PID" "$SERVER_CPUS" ;;
	bind)
		start_named64 "$SERVER_CPUS" "$upstream"
		add_target bind "$NAMED_PORT" "$NAMED_PID" "$SERVER_CPUS" ;;
	*)	bail "PEERS: unknown peer \"$p\" (unbound, bind)" ;;
	esac
done
[ ${#TARGETS[@]} -gt 0 ] || bail "no target to measure"

# Every target must answer right before its speed means anything.
for t in "${TARGETS[@]}"; do
	out=$(dig_at "${T_PORT[$t]}" +short +time=5 \
	    "check-$RANDOM.a.$ZONE" AAAA)
	check_eq "$t synthesizes for an A-only name" "2001:db8:64::c000:207" \
	    "$out"
	out=$(dig_at "${T_PORT[$t]}" +short +time=5 \
	    "check-$RANDOM.d.$ZONE" AAAA)
	check_eq "$t passes a real AAAA" "2001:db8::8" "$out"
done
[ "$_failed" = 0 ] || fatal "a target answers wrongly: not measuring it"

names_hit "$TEST_TMP/hit-a.txt" AAAA
names_hit "$TEST_TMP/hit-d.txt" AAAA d

CELLS=$TEST_TMP/cells.tsv	# one line per measured run
: >"$CELLS"

# cell TARGET WORKLOAD ROUND: one measured run, a line of $CELLS.
cell() {
	local t=$1 w=$2 r=$3 port=${T_PORT[$1]} pid=${T_PID[$1]}
	local file out=$TEST_TMP/dnsperf.out args c0 c1 u0 u1 ans qps
	local lost sent cpu len n0 n1 t0 t1 dp ws wl w0 w1 ns0 ns1 p50 p99
	args=(-c "$CLIENTS" -T "$THREADS")
	[ "$LATENCY" = no ] && [ "$MODE" = throughput ] || args+=(-v)
	if [ "$MODE" = latency ]; then
		args+=(-l "$LAT_SECONDS" -Q "$LAT_QPS" -q 1000 -t 5)
		len=$LAT_SECONDS
	else
		args+=(-l "$SECONDS_PER_RUN" -q "$OUTSTANDING" -t 2)
		len=$SECONDS_PER_RUN
	fi
	case $w in
	W1|W3)
		file=$TEST_TMP/hit-a.txt
		[ "$w" = W3 ] && file=$TEST_TMP/hit-d.txt
		# Warm the cache: every name asked once, then measured.
		dnsperf_run "$TEST_TMP/warm.out" "$port" "$file" -n 1 -q 50
		;;
	W2|W4)
		file=$TEST_TMP/unique.txt
		if [ "$MODE" = latency ]; then
			n=$((LAT_QPS * LAT_SECONDS + 100))
		else
			n=$((UNIQUE_QPS * SECONDS_PER_RUN))
		fi
		sfx=a
		[ "$w" = W4 ] && sfx=d
		names_unique "$file" "$n" "r$r$w${t//[^a-z0-9]/}" "$sfx"
		args+=(-n 1)
		;;
	esac
	u0=$(nsd_queries)
	n0=$(nsd_cpu_ticks)
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s%N)
	dnsperf_run "$out" "$port" "$file" "${args[@]}" &
	dp=$!
	track_pid "$dp"
	# CPU % over the steady part of the run, without dnsperf's start and
	# its wait for the last answers: from 0.5 s to 0.5 s before the end.
	ws=0.5 wl=$((len - 1))
	[ "$len" -ge 2 ] || ws=0 wl=$len
	sleep "$ws"
	w0=$(cpu_ticks "$pid")
	ns0=$(date +%s%N)
	sleep "$wl"
	w1=$(cpu_ticks "$pid")
	ns1=$(date +%s%N)
	wait "$dp"
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$pid")
	n1=$(nsd_cpu_ticks)
	u1=$(nsd_queries)
	ans=$(dp_stat "$out" completed)
	sent=$(dp_stat "$out" sent)
	lost=$(dp_stat "$out" lost)
	qps=$(dp_stat "$out" qps)
	cpu=$(calc "($c1 - $c0) / $CLK_TCK")
	read -r p50 p99 <<<"$(dp_latency_pct "$out" 50 99)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$w" \
	    "$r" "$qps" \
	    "$(calc "100 * ($w1 - $w0) / $CLK_TCK / (($ns1 - $ns0) / 1e9)")" \
	    "$(calc "$cpu > 0 ? $ans / $cpu : \"-\"")" \
	    "$(calc "$ans > 0 ? ($u1 - $u0) / $ans : \"-\"")" \
	    "$p50" "$p99" "$(calc "$sent > 0 ? 100 * $lost / $sent : 0")" \
	    "$(calc "100 * ($n1 - $n0) / $CLK_TCK / (($t1 - $t0) / 1e9)")" \
	    >>"$CELLS"
	note "round $r $w $t: $qps qps, $ans answers, $lost lost, cpu $cpu s," \
	    "upstream $((u1 - u0))"
	rm -f "$out" "$TEST_TMP/unique.txt"
}

for r in $(seq 1 "$ROUNDS"); do
	for w in $WORKLOADS; do
		for t in "${TARGETS[@]}"; do
			cell "$t" "$w" "$r"
		done
	done
done

# Medians over the rounds: MED[target|workload|metric] raw, FMT[...] for
# the table.
declare -A MED FMT
while read -r k raw fmt; do
	MED[$k]=$raw
	FMT[$k]=$fmt
done < <(awk -F'\t' '
	BEGIN { split("qps cpu qpcs upq p50 p99 lost", name, " ") }
	{
		for (i = 1; i <= 7; i++) {
			k = $1 "|" $2 "|" name[i]
			if ($(i + 3) !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/)
				continue
			v[k, ++n[k]] = $(i + 3) + 0
			keys[k] = name[i]
		}
	}
	END {
		for (k in keys) {
			c = n[k]
			for (i = 2; i <= c; i++)
				for (j = i; j > 1 && v[k, j - 1] > v[k, j]; j--) {
					x = v[k, j]; v[k, j] = v[k, j - 1]; v[k, j - 1] = x
				}
			m = c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
			t = keys[k]
			if (t == "qps" || t == "qpcs")
				f = m >= 10000 ? sprintf("%.1fk", m / 1000) : sprintf("%d", m + 0.5)
			else if (t == "cpu")
				f = sprintf("%.1f", m)
			else
				f = sprintf("%.2f", m)
			print k, m, f
		}
	}' "$CELLS")

# fmt KEY: the formatted median, "-" if there is none.
fmt() {
	echo "${FMT[$1]:--}"
}
declare -A GOAL=([W1]=1.5 [W2]=3 [W3]=1.5 [W4]=2)
declare -A WDESC=(
	[W1]="W1 AAAA, A-only names, cached"
	[W2]="W2 AAAA, unique A-only names"
	[W3]="W3 AAAA, dual-stack names, cached"
	[W4]="W4 AAAA, unique dual-stack names"
)

report_header "dns64proxy benchmark, MODE=$MODE${WORKERS:+, WORKERS=\"$WORKERS\"}"
for t in "${TARGETS[@]}"; do
	report "- $t: cores ${T_CPUS[$t]}"
done
if [ "$MODE" = latency ]; then
	report "- upstream $LAT_DELAY_MS ms away (bench/udprelay -d" \
	    "$LAT_DELAY_MS); dnsperf -Q $LAT_QPS -l $LAT_SECONDS -c $CLIENTS" \
	    "on cores $LOAD_CPUS; $ROUNDS rounds, medians"
else
	report "- dnsperf -c $CLIENTS -T $THREADS -q $OUTSTANDING, cores" \
	    "$LOAD_CPUS; $ROUNDS rounds x $SECONDS_PER_RUN s, medians;" \
	    "$HIT_NAMES names in the cached sets"
fi
read -r firstw _ <<<"${WORKERS:-1}"
report "- dns64proxy config: $(conf_summary "$TEST_TMP/proxy-w$firstw.conf")"
[ -z "$KW_UNSUPPORTED" ] ||
    report "- left out (not accepted by this dns64proxy): $KW_UNSUPPORTED"
[ ${#SKIPPED[@]} = 0 ] || report "- not measured: ${SKIPPED[*]}"
report ""

if [ "$MODE" = latency ]; then
	report "| workload | target | p50 ms | p99 ms | upstream q/answer | lost % |"
	report "|---|---|---:|---:|---:|---:|"
	for w in $WORKLOADS; do
		for t in "${TARGETS[@]}"; do
			report "| ${WDESC[$w]} | $t | $(fmt "$t|$w|p50") |" \
			    "$(fmt "$t|$w|p99") | $(fmt "$t|$w|upq") |" \
			    "$(fmt "$t|$w|lost") |"
		done
	done
	report ""
	report "Goal: dns64proxy W2 p50 <= $((LAT_DELAY_MS + 2)) ms (one" \
	    "round trip, A and AAAA in parallel)."
else
	report "| workload | target | qps | server CPU % | answers/CPU-s |" \
	    "upstream q/answer | p50 ms | p99 ms | lost % |"
	report "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for w in $WORKLOADS; do
		for t in "${TARGETS[@]}"; do
			report "| ${WDESC[$w]} | $t | $(fmt "$t|$w|qps") |" \
			    "$(fmt "$t|$w|cpu") | $(fmt "$t|$w|qpcs") |" \
			    "$(fmt "$t|$w|upq") | $(fmt "$t|$w|p50") |" \
			    "$(fmt "$t|$w|p99") | $(fmt "$t|$w|lost") |"
		done
	done
	if [ -n "$PEERS" ] && [ -z "$WORKERS" ]; then
		report ""
		report "| workload | dns64proxy answers/CPU-s | best peer |" \
		    "peer answers/CPU-s | ratio | goal |"
		report "|---|---:|---|---:|---:|---:|"
		for w in $WORKLOADS; do
			best=- bv=0
			for t in $PEERS; do
				v=${MED[$t|$w|qpcs]:-}
				[ -n "$v" ] || continue
				if awk -v a="$v" -v b="$bv" 'BEGIN { exit !(a > b) }'
				then
					best=$t bv=$v
				fi
			done
			report "| $w | $(fmt "dns64proxy|$w|qpcs") | $best |" \
			    "$(fmt "$best|$w|qpcs") |" \
			    "$(ratio "${MED[dns64proxy|$w|qpcs]:--}" "$bv") |" \
			    "${GOAL[$w]} |"
		done
	fi
	if [ -n "$WORKERS" ]; then
		first=${TARGETS[0]}
		report ""
		report "| workload | target | answers/CPU-s | vs $first |"
		report "|---|---|---:|---:|"
		for w in $WORKLOADS; do
			b=${MED[$first|$w|qpcs]:--}
			for t in "${TARGETS[@]}"; do
				report "| $w | $t | $(fmt "$t|$w|qpcs") |" \
				    "$(ratio "${MED[$t|$w|qpcs]:--}" "$b") |"
			done
		done
	fi
fi

{
	printf 'target\tworkload\tround\tqps\tcpu%%\tanswers/cpu-s'
	printf '\tupstream/answer\tp50ms\tp99ms\tlost%%\tnsd-cpu%%\n'
	cat "$CELLS"
} >"${RESULTS%.md}.tsv"
if [ "$MODE" = throughput ]; then
	report ""
	report "Server CPU % well below 100 means the load side (dnsperf, NSD," \
	    "other processes) was the limit: qps is then a floor, answers/CPU-s" \
	    "still holds."
	busy=$(awk -F'\t' '$11 + 0 > m { m = $11 + 0 } END { printf "%d", m }' \
	    "$CELLS")
	[ "$busy" -lt 80 ] ||
	    report "NSD used up to $busy% of a core in a run: the upstream may" \
	    "have been the limit (more cores for the load, or fewer for the" \
	    "servers)."
fi
printf '\n'
cat "$RESULTS"
printf '\n(written to %s; every run in %s)\n' "$RESULTS" "${RESULTS%.md}.tsv"
ok "benchmark ran"
finish
