#!/bin/bash
# bench/tcp-fairness.sh -- "make bench-tcp-fairness": TCP service for
# everybody while one client hogs connections (RFC 7766 6.2.2; issue 8's
# goal: while one address holds 1,200 connections, at least 95% of fresh
# TCP queries from another allowed address are answered within 1 s).
#
# The hog, 127.0.0.2, opens HOLD_IDLE (1000) connections that send nothing
# and HOLD_STALLED (200) that stop halfway through a message
# (tests/integration/tcphold.py), as fast as it can, and keeps whatever the
# proxy leaves open.  Then FRESH (30) TCP queries from 127.0.0.3, all at
# once, each on its own connection (tcphold.py -m burst: one process, each
# answer timed from the start of its connect()), for names the forwarder
# (tests/fakeup) answers at once.  Reported per
# configuration: connections the hog opened and still holds, fresh
# queries answered within 1 s, and the proxy's TCP counters (SIGUSR1).
#
# CONFIGS (default "default nolimit"): "default" runs the proxy's defaults
# (tcp-clients 256, tcp-clients-per-address 32); "nolimit" sets
# tcp-clients-per-address 65535, so that only the closing of the
# connection idle longest at tcp-clients protects the others.  Lines this
# dns64proxy does not accept are left out and named in the report
# (DNS64PROXY=path measures another build).  The open-files limit of this
# shell (the proxy, the hog) is raised to FD_LIMIT (4096) if the hard
# limit allows.  Other tunables: HOLD_IDLE, HOLD_STALLED, FRESH,
# RESULTS_DIR.  Not part of "make check": it reports, it never asserts.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
TEST_TIMEOUT=${TEST_TIMEOUT:-1200}
# shellcheck source=bench/lib.sh
. "$top_srcdir/bench/lib.sh"

HOLD_IDLE=${HOLD_IDLE:-1000}
HOLD_STALLED=${HOLD_STALLED:-200}
FRESH=${FRESH:-30}
FD_LIMIT=${FD_LIMIT:-4096}
CONFIGS=${CONFIGS:-default nolimit}

need_dnsq
need_python
[ -x "$FAKEUP_BIN" ] || bail "$FAKEUP_BIN not built (make check builds it)"
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$FD_LIMIT" ]; then
	FD_LIMIT=$hard
fi
ulimit -n "$FD_LIMIT" || bail "cannot raise the open-files limit"
# The proxy's own defaults (workers, cache), not the test suite's mode.
PROXY_MODE_CONF=$(kw 'control-socket none')

cat >"$TEST_TMP/rules" <<'EOF'
match * A
  rcode NXDOMAIN
end
EOF
start_fakeup "$TEST_TMP/rules"

dir=${RESULTS_DIR:-$top_builddir/bench}
mkdir -p "$dir"
RESULTS=$dir/results-$TEST_NAME-$(date -u +%Y%m%dT%H%M%SZ).md
rev=$(git -C "$top_srcdir" describe --always --dirty 2>/dev/null) || rev=unknown
[ -z "${DNS64PROXY:-}" ] || rev=$DNS64PROXY
{
	printf '## TCP fairness: one address holds %s connections\n\n' \
	    $((HOLD_IDLE + HOLD_STALLED))
	printf -- '- %s, dns64proxy %s, %s cores, load average at start %s\n' \
	    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$rev" "$(nproc)" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf -- '- hog 127.0.0.2: %s idle + %s stalled mid-message; then %s' \
	    "$HOLD_IDLE" "$HOLD_STALLED" "$FRESH"
	printf ' fresh TCP queries from 127.0.0.3 at once, 1 s timeout;'
	printf ' ulimit -n %s\n\n' "$(ulimit -n)"
	printf '| config | hog opened | hog holds | fresh answered in 1 s |'
	printf ' %% | slowest answer ms | proxy tcp counters |\n'
	printf '|---|---:|---:|---:|---:|---:|---|\n'
} >"$RESULTS"

# settle NAME...: wait until the holders NAME... print nothing new for 1 s
# (at most 20 s): the proxy has done its closing.
settle() {
	local before after n=0 name
	before=
	while [ $n -lt 100 ]; do
		after=
		for name in "$@"; do
			after+=$(wc -l <"$TEST_TMP/$name.out")/
		done
		[ "$after" = "$before" ] && break
		before=$after
		sleep 1
		n=$((n + 5))
	done
}

for c in $CONFIGS; do
	lines=()
	case $c in
	default)	;;
	nolimit)	lines=("tcp-clients-per-address 65535") ;;
	*)		bail "unknown configuration $c" ;;
	esac
	conf=$TEST_TMP/$c.conf
	{
		printf 'forwarder 127.0.0.1 port %s\n' "$FAKEUP_PORT"
		for l in "${lines[@]}"; do
			kw "$l"
		done
	} >"$conf"
	start_proxy -f "$conf"

	hold idle -b 127.0.0.2 -n "$HOLD_IDLE" -m idle -L 600
	IDLE_PID=$HOLD_PID
	hold stalled -b 127.0.0.2 -n "$HOLD_STALLED" -m stalled -L 600
	STALLED_PID=$HOLD_PID
	for h in idle stalled; do
		wait_for_grep "$TEST_TMP/$h.out" '^opened ' 300 ||
		    note "$c: the $h holder did not finish opening"
	done
	settle idle stalled
	opened=$(cat "$TEST_TMP/idle.out" "$TEST_TMP/stalled.out" |
	    grep -c '^connected ')
	closed=$(cat "$TEST_TMP/idle.out" "$TEST_TMP/stalled.out" |
	    grep -c '^closed ')

	# The fresh queries: one process, every connection at once, each
	# timed from its connect() to its answer.
	hold fresh -b 127.0.0.3 -n "$FRESH" -m burst -T 1000 -q "f#.fresh.test/A"
	wait "$HOLD_PID"
	answered=$(awk '$1 == "answered" && $4 <= 1000 { n++ }
	    END { print n + 0 }' "$TEST_TMP/fresh.out")
	slowest=$(awk '$1 == "answered" && $4 > m { m = $4 } END { print m + 0 }' \
	    "$TEST_TMP/fresh.out")
	line=$(proxy_stats_line)
	tcp=$(printf '%s\n' "$line" | sed -n 's/.*; \(tcp clients .*\)$/\1/p')
	extra=$(grep -v '^forwarder ' "$conf" | paste -sd';')
	report "| $c${extra:+ ($extra)} |" \
	    "$opened | $((opened - closed)) | $answered of $FRESH |" \
	    "$(ratio "$((answered * 100))" "$FRESH") | $slowest |" \
	    "${tcp:--} |"
	note "$c: hog opened $opened, holds $((opened - closed));" \
	    "$answered of $FRESH fresh queries answered within 1 s" \
	    "(slowest answer $slowest ms)"

	stop_pid "$IDLE_PID"
	stop_pid "$STALLED_PID"
	stop_proxy
done

if [ -n "$KW_UNSUPPORTED" ]; then
	report ""
	report "Left out (not accepted by this dns64proxy): $KW_UNSUPPORTED"
fi
cat "$RESULTS"
note "results in $RESULTS"
