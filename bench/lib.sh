# shellcheck shell=bash
#
# bench/lib.sh - what the benchmark scripts (bench/*.sh) share.  Sourced
# after setting TEST_TIMEOUT if the default (2 h) does not suit:
#
#	: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
#	. "$top_srcdir/bench/lib.sh"
#
# It sources tests/integration/lib.sh, so everything started is tracked and
# killed on exit, and everything binds loopback on random ports.
#
# The upstream of every target is NSD, an authoritative server fast enough
# not to be the bottleneck, serving a generated zone $ZONE:
#	hit-1 .. hit-$HIT_NAMES	A only (the cached set of W1)
#	*.a			A only (unique names: W2)
#	*.d			A and AAAA (W3's set hit-N.d, W4's unique names)
# Its query counter (nsd-control stats) counts upstream queries, for every
# target alike.
#
# API:
#   cores:      bench_cpus NSERVER -> SERVER_CPUS LOAD_CPUS LOAD_NCPU;
#               server_cpus N (the first N cores, at most all)
#   upstream:   start_nsd -> NSD_PORT NSD_PID NSD_CONF; nsd_queries,
#                   nsd_cpu_ticks
#               start_relay UPPORT ARGS... -> RELAY_PORT RELAY_PID RELAY_LOG
#                   RELAY_ERR (bench/udprelay: -d MS delay, -x silent);
#                   relay_counters PID ERRFILE
#   proxy:      kw_ok LINE (true if this dns64proxy accepts it; if not, it
#                   is remembered in KW_UNSUPPORTED), kw LINE (LINE if
#                   kw_ok, else nothing); proxy_conf_file NAME
#                   FORWARDER_PORT... -- LINE... -> PROXY_CONF;
#                   conf_summary CONF;
#                   start_bench_proxy CPUS CONF -> PROXY_PORT PROXY_PID
#   peers:      start_unbound64 CPUS UPPORT -> U64_PORT U64_PID
#               start_named64 CPUS UPPORT -> NAMED_PORT NAMED_PID
#   queries:    names_hit FILE TYPE [SUFFIX], names_unique FILE N TAG SUFFIX,
#               names_stream FILE N TAG (A-only and dual-stack, numbered),
#               dnsperf_run OUT PORT FILE ARGS... (pinned to LOAD_CPUS),
#               dp_stat OUT KEY, dp_latency_pct OUT PCT... (ms, -v lines),
#               dp_slower OUT SECONDS (count of answers slower than that)
#   process:    cpu_ticks PID, proc_kb PID FIELD (VmRSS, VmHWM), CLK_TCK
#   numbers:    ratio A B, calc EXPR
#   report:     report_header TITLE; RESULTS (the file), report WORDS...
#
# Config keywords the proxy may not have yet (workers, cache-size,
# dns64-parallel, forwarder-selection) are passed through kw, which asks
# "dns64proxy -n" whether they parse: the scripts run against older builds
# and say in the report which lines were left out.  DNS64PROXY=path measures
# another build than src/dns64proxy.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TEST_TIMEOUT=${TEST_TIMEOUT:-7200}
# The tests' lib.sh pins one worker and turns the cache off for every
# proxy; a benchmark measures the defaults (and what its own variables
# set), so only the control socket is left out.
PROXY_MODE_CONF=${BENCH_MODE_CONF-control-socket none}
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

# DNS64PROXY: measure another build (e.g. the previous release).
PROXY_BIN=${DNS64PROXY:-$PROXY_BIN}
RELAY_BIN=$top_builddir/bench/udprelay
NSD=${NSD:-/usr/sbin/nsd}
NSD_CONTROL=${NSD_CONTROL:-/usr/sbin/nsd-control}
NAMED=${NAMED:-/usr/sbin/named}
DNSPERF=${DNSPERF:-dnsperf}
ZONE=bench.example
PREFIX=${PREFIX:-2001:db8:64::/96}
HIT_NAMES=${HIT_NAMES:-1000}
CLK_TCK=$(getconf CLK_TCK)
KW_UNSUPPORTED=

# ------------------------------------------------------------------ numbers

# calc EXPR: evaluate an awk expression, print the result.
calc() {
	awk "BEGIN { print ($1) }"
}

# ratio A B: A / B with two decimals, "-" if either is "-" or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0)
			print "-"
		else
			printf "%.2f\n", a / b
	}'
}

# ------------------------------------------------------------------- cores

# server_cpus N: the cpu list of the first N cores (all, if N >= nproc).
server_cpus() {
	local n=$1 np
	np=$(nproc)
	[ "$n" -gt "$np" ] && n=$np
	[ "$n" -lt 1 ] && n=1
	if [ "$n" = 1 ]; then echo 0; else echo "0-$((n - 1))"; fi
}

# bench_cpus NSERVER: the servers under test get the first NSERVER cores
# (SERVER_CPUS); dnsperf and the upstream get the rest (LOAD_CPUS,
# LOAD_NCPU of them), or the last core when none is left.  With 2 cores and
# one server thread: server on core 0, load on core 1.
bench_cpus() {
	local n=$1 np
	np=$(nproc)
	SERVER_CPUS=$(server_cpus "$n")
	if [ "$n" -lt "$np" ]; then
		LOAD_CPUS="$n-$((np - 1))"
		[ "$n" = $((np - 1)) ] && LOAD_CPUS=$n
		LOAD_NCPU=$((np - n))
	else
		LOAD_CPUS=$((np - 1))
		LOAD_NCPU=1
	fi
}

# ----------------------------------------------------------------- process

# cpu_ticks PID: utime + stime of the process, all its threads, in clock
# ticks (CLK_TCK per second).
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 1; }
	s=${s##*) }
	# shellcheck disable=SC2086  # fields 3.. after "(comm)"
	set -- $s
	echo $(( ${12} + ${13} ))
}

# proc_kb PID FIELD: a field of /proc/PID/status in kB (VmRSS, VmHWM).
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ------------------------------------------------------------------- zone

_bench_zone() {
	local f=$1 i
	{
		printf '$ORIGIN %s.\n$TTL 3600\n' "$ZONE"
		printf '@ IN SOA ns hostmaster 1 3600 900 604800 3600\n'
		printf '@ IN NS ns\nns IN A 127.0.0.1\n'
		for ((i = 1; i <= HIT_NAMES; i++)); do
			printf 'hit-%d IN A 198.51.100.%d\n' "$i" \
			    $((i % 250 + 1))
		done
		printf '*.a IN A 192.0.2.7\n'
		printf '*.d IN A 192.0.2.8\n*.d IN AAAA 2001:db8::8\n'
	} >"$f"
}

# -------------------------------------------------------------------- NSD

# start_nsd: NSD serving the generated zone on 127.0.0.1 at a random port,
# its processes pinned to LOAD_CPUS, rate limiting off.  Sets NSD_PORT,
# NSD_PID, NSD_CONF.
start_nsd() {
	local port pid n dir=$TEST_TMP/nsd i
	need_tool "$NSD" "$NSD_CONTROL" taskset
	mkdir -p "$dir"
	_bench_zone "$dir/zone"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		NSD_CONF=$dir/nsd.conf
		cat >"$NSD_CONF" <<-EOF
		server:
			ip-address: 127.0.0.1@$port
			port: $port
			server-count: ${LOAD_NCPU:-1}
			username: ""
			chroot: ""
			zonesdir: "$dir"
			database: ""
			zonelistfile: "$dir/zone.list"
			xfrdfile: "$dir/xfrd.state"
			pidfile: "$dir/nsd.pid"
			logfile: "$dir/nsd.log"
			verbosity: 0
			hide-version: yes
			rrl-ratelimit: 0
			rrl-whitelist-ratelimit: 0
			receive-buffer-size: 4194304
		remote-control:
			control-enable: yes
			control-interface: $dir/nsd.ctl
		zone:
			name: $ZONE.
			zonefile: $dir/zone
		EOF
		taskset -c "${LOAD_CPUS:-0}" "$NSD" -d -c "$NSD_CONF" \
		    >"$dir/nsd.out" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			_pid_alive "$i" || break
			if "$DIG" +tries=1 +time=1 +norec -p "$port" @127.0.0.1 \
			    "$ZONE." SOA +short 2>/dev/null | grep -q hostmaster
			then
				NSD_PORT=$port
				NSD_PID=$pid
				note "nsd ready on port $port (pid $pid)"
				return 0
			fi
			sleep 0.1
		done
		stop_pid "$pid"
		grep -qi 'in use' "$dir/nsd.out" "$dir/nsd.log" 2>/dev/null &&
		    continue
		_indent "$(tail -n 20 "$dir/nsd.out" "$dir/nsd.log" 2>&1)"
		bail "nsd did not start (see above)"
	done
	bail "nsd: no usable port after $_START_TRIES tries"
}

# nsd_queries: queries NSD has received so far.
nsd_queries() {
	"$NSD_CONTROL" -c "$NSD_CONF" stats_noreset 2>/dev/null |
	    awk -F= '$1 == "num.queries" { print $2; f = 1 }
		END { if (!f) print 0 }'
}

# ------------------------------------------------------------------ relay

# start_relay UPPORT ARGS...: bench/udprelay on 127.0.0.1 at a random port
# in front of 127.0.0.1@UPPORT, pinned to LOAD_CPUS, logging to RELAY_LOG;
# ARGS are more udprelay options (-d MS, -x).  Sets RELAY_PORT, RELAY_PID,
# RELAY_LOG (one line per query), RELAY_ERR (its stderr: the counters at
# exit).  Save them before starting a second one.
start_relay() {
	local up=$1 port pid n i rc
	shift
	[ -x "$RELAY_BIN" ] || bail "$RELAY_BIN not built (make bench builds it)"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		RELAY_LOG=$TEST_TMP/relay-$port.log
		RELAY_ERR=$TEST_TMP/relay-$port.err
		taskset -c "${LOAD_CPUS:-0}" "$RELAY_BIN" -a 127.0.0.1 \
		    -p "$port" -u 127.0.0.1 -P "$up" -L "$RELAY_LOG" "$@" \
		    >"$RELAY_ERR" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			grep -qx ready "$RELAY_ERR" && break
			_pid_alive "$i" || break
			sleep 0.05
		done
		if grep -qx ready "$RELAY_ERR"; then
			RELAY_PORT=$port
			RELAY_PID=$pid
			note "relay ready on port $port -> $up ($*)"
			return 0
		fi
		rc=0
		stop_pid "$pid" || rc=$?
		[ $rc = 2 ] && continue
		_indent "$(cat "$RELAY_ERR")"
		bail "udprelay did not start (status $rc)"
	done
	bail "udprelay: no usable port after $_START_TRIES tries"
}

# relay_counters PID ERRFILE: ask the relay PID for its counters (SIGHUP)
# and print them: "received N forwarded N replies N dropped N overflow N
# stray N peak N" (peak: most queries relayed and unanswered at once since
# the previous call).
relay_counters() {
	local n0 n
	n0=$(count_matches "$2" '^received')
	kill -HUP "$1"
	for n in $(seq 1 100); do
		[ "$(count_matches "$2" '^received')" -gt "$n0" ] && break
		sleep 0.05
	done
	grep '^received' "$2" | tail -n 1
}

# ------------------------------------------------------------------ proxy

declare -A _kw_ok

# kw_ok LINE: true if this dns64proxy accepts the config line LINE
# ("dns64proxy -n"); unsupported lines are collected in KW_UNSUPPORTED for
# the report.  Call it in the script's shell, not in a $(...), so that it
# remembers.
kw_ok() {
	local f
	if [ -z "${_kw_ok[$1]:-}" ]; then
		f=$TEST_TMP/kw.conf
		printf 'forwarder 127.0.0.1 port 53\n%s\n' "$1" >"$f"
		if "$PROXY_BIN" -n -f "$f" >/dev/null 2>&1; then
			_kw_ok[$1]=yes
		else
			_kw_ok[$1]=no
			KW_UNSUPPORTED="${KW_UNSUPPORTED:+$KW_UNSUPPORTED; }$1"
			note "dns64proxy does not accept \"$1\": left out" >&2
		fi
	fi
	[ "${_kw_ok[$1]}" = yes ]
}

# kw LINE: print LINE if kw_ok LINE, else nothing.  An empty LINE prints
# nothing.
kw() {
	[ -n "$1" ] || return 0
	if kw_ok "$1"; then
		printf '%s\n' "$1"
	fi
	return 0
}

# proxy_conf_file NAME FORWARDER_PORT... -- LINE...: write a config file
# (forwarders on 127.0.0.1 in order, the prefix, then each LINE that kw
# accepts, then $PROXY_EXTRA verbatim); its path in PROXY_CONF.  Not in a
# $(...): kw must remember what it learnt.
proxy_conf_file() {
	local f=$TEST_TMP/$1.conf l
	shift
	PROXY_CONF=$f
	{
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			printf 'forwarder 127.0.0.1 port %s\n' "$1"
			shift
		done
		[ $# -gt 0 ] && shift
		printf 'prefix %s\n' "$PREFIX"
		for l in "$@"; do
			kw "$l"
		done
		[ -z "${PROXY_EXTRA:-}" ] || printf '%s\n' "$PROXY_EXTRA"
	} >"$f"
}

# conf_summary CONF: the lines of CONF but the forwarders, joined by "; ".
conf_summary() {
	grep -v '^forwarder ' "$1" | paste -sd';' | sed 's/;/; /g'
}

# start_bench_proxy CPUS CONF: dns64proxy -d -f CONF on a random port, all
# its threads pinned to CPUS.  Sets PROXY_PORT, PROXY_PID, PROXY_LOG.
start_bench_proxy() {
	local cpus=$1 conf=$2
	start_proxy -f "$conf"
	taskset -a -cp "$cpus" "$PROXY_PID" >/dev/null ||
	    bail "taskset $cpus $PROXY_PID failed"
}

# ------------------------------------------------------------------ peers

# _wait_synth PORT PID: wait until the server at PORT synthesizes AAAA for
# hit-1 (10 s); fails if PID died.
_wait_synth() {
	local n i
	i=$(_pid_index "$2")
	for n in $(seq 1 100); do
		_pid_alive "$i" || return 1
		dig_at "$1" +short +tries=1 +time=1 "hit-1.$ZONE" AAAA \
		    2>/dev/null | grep -q '^2001:db8:64::' && return 0
		sleep 0.1
	done
	return 1
}

# start_unbound64 CPUS UPPORT: unbound (one thread) with its dns64 module,
# forwarding everything to 127.0.0.1@UPPORT, pinned to CPUS.  Sets
# U64_PORT, U64_PID.
start_unbound64() {
	local cpus=$1 up=$2 port conf log pid
	[ -x "$UNBOUND" ] || skip "unbound not installed ($UNBOUND)"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		conf=$TEST_TMP/unbound64-$port.conf
		log=$TEST_TMP/unbound64-$port.log
		cat >"$conf" <<-CONF
		server:
			interface: 127.0.0.1@$port
			port: $port
			do-ip6: no
			username: ""
			chroot: ""
			directory: "$TEST_TMP"
			pidfile: ""
			use-syslog: no
			logfile: ""
			verbosity: 0
			num-threads: 1
			so-reuseport: no
			so-rcvbuf: 4m
			access-control: 127.0.0.0/8 allow
			do-not-query-localhost: no
			qname-minimisation: no
			module-config: "dns64 iterator"
			dns64-prefix: $PREFIX
		remote-control:
			control-enable: no
		forward-zone:
			name: "."
			forward-addr: 127.0.0.1@$up
		CONF
		taskset -c "$cpus" "$UNBOUND" -d -c "$conf" >"$log" 2>&1 \
		    </dev/null &
		pid=$!
		track_pid "$pid"
		if _wait_synth "$port" "$pid"; then
			U64_PORT=$port
			U64_PID=$pid
			note "unbound dns64 ready on port $port (pid $pid)"
			return 0
		fi
		stop_pid "$pid"
		grep -qi 'in use' "$log" && continue
		_indent "$(tail -n 20 "$log")"
		bail "unbound dns64 did not start (see above)"
	done
	bail "unbound dns64: no usable port"
}

# start_named64 CPUS UPPORT: BIND 9 named (-n 1) with dns64, forwarding
# everything to 127.0.0.1@UPPORT, validation off, pinned to CPUS.  Sets
# NAMED_PORT, NAMED_PID.
start_named64() {
	local cpus=$1 up=$2 port dir conf log pid
	need_tool "$NAMED"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		dir=$TEST_TMP/named-$port
		mkdir -p "$dir"
		conf=$dir/named.conf
		log=$dir/named.log
		cat >"$conf" <<-CONF
		options {
			directory "$dir";
			pid-file none;
			session-keyfile none;
			listen-on port $port { 127.0.0.1; };
			listen-on-v6 { none; };
			recursion yes;
			allow-query { 127.0.0.0/8; };
			allow-recursion { 127.0.0.0/8; };
			forwarders { 127.0.0.1 port $up; };
			forward only;
			dnssec-validation no;
			qname-minimization off;
			notify no;
			querylog no;
			dns64 $PREFIX { clients { any; }; };
		};
		controls { };
		CONF
		taskset -c "$cpus" "$NAMED" -g -n 1 -c "$conf" >"$log" 2>&1 \
		    </dev/null &
		pid=$!
		track_pid "$pid"
		if _wait_synth "$port" "$pid"; then
			NAMED_PORT=$port
			NAMED_PID=$pid
			note "named dns64 ready on port $port (pid $pid)"
			return 0
		fi
		stop_pid "$pid"
		grep -qi 'in use' "$log" && continue
		_indent "$(tail -n 20 "$log")"
		bail "named did not start (see above)"
	done
	bail "named: no usable port"
}

# ---------------------------------------------------------------- queries

# names_hit FILE TYPE [SUFFIX]: the cached set, hit-1..hit-$HIT_NAMES
# under SUFFIX (default: the zone apex), TYPE queries, one per line.
names_hit() {
	local sfx=${3:-}
	awk -v n="$HIT_NAMES" -v t="$2" -v z="${sfx:+$sfx.}$ZONE" \
	    'BEGIN { for (i = 1; i <= n; i++) printf "hit-%d.%s %s\n", i, z, t }' \
	    >"$1"
}

# names_unique FILE N TAG SUFFIX: N AAAA queries for names never asked
# before: a random label per run plus a counter, under SUFFIX (a or d).
names_unique() {
	awk -v n="$2" -v tag="$3" -v z="$4.$ZONE" -v seed="$RANDOM$$" \
	    'BEGIN {
		srand(seed)
		r = sprintf("%06x", int(rand() * 16777216))
		for (i = 1; i <= n; i++)
			printf "%s%s-%x.%s AAAA\n", tag, r, i, z
	}' >"$1"
}

# names_stream FILE N TAG: N AAAA queries for unique names, alternately
# A-only (synthesized) and dual-stack: "TAGrandom-I.a" and "...-I.d", I the
# decimal send order from 1 (dnsperf -v lists answers as they come).
names_stream() {
	awk -v n="$2" -v tag="$3" -v z="$ZONE" -v seed="$RANDOM$$" \
	    'BEGIN {
		srand(seed)
		r = sprintf("%06x", int(rand() * 16777216))
		for (i = 1; i <= n; i++)
			printf "%s%s-%d.%s.%s AAAA\n", tag, r, i,
			    i % 2 ? "a" : "d", z
	}' >"$1"
}

# dnsperf_run OUT PORT FILE ARGS...: dnsperf against 127.0.0.1@PORT with
# FILE, pinned to LOAD_CPUS, its output (with ARGS, e.g. -v) to OUT.
dnsperf_run() {
	local out=$1 port=$2 file=$3
	shift 3
	taskset -c "${LOAD_CPUS:-0}" "$DNSPERF" -s 127.0.0.1 -p "$port" \
	    -d "$file" "$@" >"$out" 2>&1 </dev/null
}

# dp_stat OUT KEY: a figure of dnsperf's summary: sent, completed, lost,
# qps, runtime; 0 if absent.
dp_stat() {
	awk -v k="$2" '
		k == "sent" && /Queries sent:/ { v = $3 }
		k == "completed" && /Queries completed:/ { v = $3 }
		k == "lost" && /Queries lost:/ { v = $3 }
		k == "qps" && /Queries per second:/ { v = $4 }
		k == "runtime" && /Run time \(s\):/ { v = $4 }
		END { print v == "" ? 0 : v }' "$1"
}

# dp_latency_pct OUT PCT...: the PCT-th percentiles (one line, blank
# separated) of the latencies of the answered queries in OUT (dnsperf -v),
# in ms with two decimals; "-" for each if none was answered.
dp_latency_pct() {
	local out=$1
	shift
	awk '$1 == ">" && $2 != "T" { print $NF }' "$out" | sort -g |
	    awk -v ps="$*" '{ v[NR] = $1 }
		END {
			n = split(ps, p, " ")
			for (k = 1; k <= n; k++) {
				if (NR == 0) {
					printf "%s-", (k > 1 ? " " : "")
					continue
				}
				i = int(NR * p[k] / 100 + 0.999999)
				if (i < 1) i = 1
				if (i > NR) i = NR
				printf "%s%.2f", (k > 1 ? " " : ""), v[i] * 1000
			}
			printf "\n"
		}'
}

# _tree PID: PID and all its descendants.
_tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do
		_tree "$c"
	done
}

# nsd_cpu_ticks: CPU ticks used so far by the running NSD processes (the
# one started forks main, which forks the servers).
nsd_cpu_ticks() {
	local p sum=0
	for p in $(_tree "$NSD_PID"); do
		sum=$((sum + $(cpu_ticks "$p")))
	done
	echo "$sum"
}

# dp_slower OUT SECONDS: answered queries in OUT (dnsperf -v) that took
# longer than SECONDS.
dp_slower() {
	awk -v s="$2" '$1 == ">" && $2 != "T" && $NF + 0 > s { n++ }
		END { print n + 0 }' "$1"
}

# ----------------------------------------------------------------- report

# report_header TITLE: start the results file $RESULTS (default
# bench/results-NAME-DATE.md under the build tree, or $RESULTS_DIR) with
# TITLE and what the figures depend on.
report_header() {
	local dir=${RESULTS_DIR:-$top_builddir/bench} rev
	mkdir -p "$dir"
	RESULTS=$dir/results-$TEST_NAME${MODE:+-$MODE}-$(date -u +%Y%m%dT%H%M%SZ).md
	rev=$(git -C "$top_srcdir" describe --always --dirty 2>/dev/null) ||
	    rev=unknown
	[ -z "${DNS64PROXY:-}" ] || rev=$DNS64PROXY
	{
		printf '## %s\n\n' "$1"
		printf -- '- %s, dns64proxy %s, %s cores (%s), load average' \
		    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$rev" "$(nproc)" \
		    "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
		printf ' at start %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
		printf -- '- upstream: NSD %s on 127.0.0.1, cores %s\n' \
		    "$("$NSD" -v 2>&1 | awk '/version/ { print $NF; exit }')" \
		    "${LOAD_CPUS:-?}"
	} >"$RESULTS"
}

# report WORDS...: append one line, the WORDS joined by blanks, to $RESULTS.
report() {
	printf '%s\n' "$*" >>"$RESULTS"
}
