#!/bin/bash
# bench/run.sh -- dnsperf benchmark of dns64proxy, as ratios against
# baselines measured in the same run on the same machine:
#
#   unbound      the fixture unbound answering directly (no DNS64, no
#                proxy): the upper bound of the backend itself
#   dns64proxy   dns64proxy -> that unbound
#   unbound64    a second unbound with its dns64 module, forwarding to the
#                same backend: the peer (note: it caches, dns64proxy
#                does not)
#
# Query sets: A passthrough, AAAA synthesized (A-only names), AAAA real
# (dual-stack names).  Each (target, set) pair runs ROUNDS times, the
# rounds interleaved so drift hits every target alike; the median QPS is
# reported.  Run with "make bench"; it binds loopback only, on random
# ports, and needs unbound, dig and dnsperf.
#
# Tunables: ROUNDS (3), SECONDS_PER_RUN (5), CLIENTS (4), OUTSTANDING (200).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
TEST_TIMEOUT=${TEST_TIMEOUT:-1800}
. "$top_srcdir/tests/integration/lib.sh"

ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-200}
PREFIX=2001:db8:64::/96

need_tool dnsperf
start_unbound
start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PREFIX"

# The peer: unbound's dns64 module in front of the same backend.
start_unbound64() {
	local port conf log pid n
	for _ in 1 2 3 4 5; do
		port=$(random_port) || bail "no free port"
		conf=$TEST_TMP/unbound64.conf
		log=$TEST_TMP/unbound64.log
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
			access-control: 127.0.0.0/8 allow
			do-not-query-localhost: no
			module-config: "dns64 iterator"
			dns64-prefix: $PREFIX
		remote-control:
			control-enable: no
		forward-zone:
			name: "."
			forward-addr: 127.0.0.1@$UNBOUND_PORT
		CONF
		"$UNBOUND" -d -c "$conf" >"$log" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		for n in $(seq 1 50); do
			if dig_at "$port" +short +tries=1 +time=1 \
			    a-only.t.example AAAA 2>/dev/null | grep -q :; then
				UNBOUND64_PORT=$port
				return 0
			fi
			sleep 0.1
		done
		stop_pid "$pid"
	done
	bail "unbound64 did not start"
}
start_unbound64

cat >"$TEST_TMP/a.txt" <<-EOF2
	a-only.t.example A
	a-multi.t.example A
	both.t.example A
	ttl-500.t.example A
EOF2
cat >"$TEST_TMP/synth.txt" <<-EOF2
	a-only.t.example AAAA
	a-multi.t.example AAAA
	ttl-500.t.example AAAA
	cname-a.t.example AAAA
EOF2
cat >"$TEST_TMP/real.txt" <<-EOF2
	both.t.example AAAA
	aaaa-only.t.example AAAA
	mapped-mixed.t.example AAAA
EOF2

# run PORT SET: print the QPS dnsperf measured, or 0.
run() {
	dnsperf -s 127.0.0.1 -p "$1" -d "$TEST_TMP/$2.txt" \
	    -l "$SECONDS_PER_RUN" -c "$CLIENTS" -q "$OUTSTANDING" 2>&1 |
	    awk '/Queries per second/ { printf "%d\n", $4; found = 1 }
		END { if (!found) print 0 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

declare -A qps
for r in $(seq 1 "$ROUNDS"); do
	for set in a synth real; do
		for t in unbound dns64proxy unbound64; do
			case $t in
			unbound)	port=$UNBOUND_PORT ;;
			dns64proxy)	port=$PROXY_PORT ;;
			unbound64)	port=$UNBOUND64_PORT ;;
			esac
			qps[$t.$set]+="$(run "$port" "$set") "
		done
	done
done

printf '\n%s, %s cores, dnsperf -c %s -q %s, %s x %s s per cell (median)\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$CLIENTS" "$OUTSTANDING" "$ROUNDS" \
    "$SECONDS_PER_RUN"
printf '| query set | unbound direct | dns64proxy | unbound dns64 | proxy/direct | proxy/unbound-dns64 |\n'
printf '|---|---|---|---|---|---|\n'
for set in a synth real; do
	u=$(echo "${qps[unbound.$set]}" | tr ' ' '\n' | grep . | median)
	p=$(echo "${qps[dns64proxy.$set]}" | tr ' ' '\n' | grep . | median)
	u64=$(echo "${qps[unbound64.$set]}" | tr ' ' '\n' | grep . | median)
	printf '| %s | %s | %s | %s | %s | %s |\n' "$set" "$u" "$p" "$u64" \
	    "$(awk -v a="$p" -v b="$u" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" \
	    "$(awk -v a="$p" -v b="$u64" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
done
ok "benchmark ran"
finish
