# shellcheck shell=bash
#
# lib.sh - helper library for the dns64proxy integration tests (bash).
#
# Usage, at the top of every tests/integration/*.sh (which must be bash
# scripts: "#!/bin/bash"):
#
#	: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
#	. "$top_srcdir/tests/integration/lib.sh"
#
# make check exports top_srcdir and top_builddir; when a script is run by
# hand both default to the repository root.
#
# Output is TAP, read by automake's tap-driver (make check counts every
# check): "ok N - ..." / "not ok N - ..." per check, "ok N - ... # SKIP why"
# per check that cannot run here, and the plan "1..N" from finish.  A script
# skipped as a whole prints "1..0 # SKIP why" (skip); "Bail out! why" means
# the harness itself could not do its job (bail, e.g. unbound would not
# start, or the watchdog).  A script that exits any other way than through
# finish, skip or bail also says "Bail out!", so it counts as an ERROR.
# Exit codes, for running a script by hand: 0 pass, 1 a check failed, 77
# skipped, 99 hard error.
#
# Sanitizer builds (configure --enable-sanitizers): every sanitized program
# a script starts writes its AddressSanitizer and LeakSanitizer reports to
# files in $SANITIZER_DIR rather than to its stderr.  UBSan's reports go to
# stderr (with gcc, UBSan is a runtime of its own that ignores log_path), so
# into the proxy's or fakeup's log.  stop_proxy and finish turn each report
# file and each log holding a report into a failed check; finish stops
# every process the script started first, so that the leak checks at their
# exit run while the script still counts.
#
# Everything a script starts through this file is tracked and killed on
# exit (SIGTERM, then SIGKILL after 5 s); only those pids are ever signalled.
# The per-test temp dir is removed on exit unless KEEP_TMP=1.  A watchdog
# ends the script after TEST_TIMEOUT seconds (default 300).
#
# API summary (details at each function):
#   environment:  need_tool NAME..., need_ipv6, need_root, need_dnsq,
#                 have_ipv6, skip MSG
#   processes:    track_pid PID, stop_pid PID, run_bg OUTFILE CMD...
#   ports:        random_port, dead_port, port_is_free PORT
#   servers:      start_unbound / stop_unbound   -> UNBOUND_PORT UNBOUND_PID
#                     UNBOUND_LOG UNBOUND_CONF
#                 start_fakeup RULEFILE [ADDR] / stop_fakeup -> FAKEUP_PORT
#                     FAKEUP_PID FAKEUP_LOG FAKEUP_ERR FAKEUP_ADDR
#                 start_proxy ARGS... / stop_proxy -> PROXY_PORT PROXY_PID
#                     PROXY_LOG
#                 proxy_conf FORWARDER_PORT [LINE...] (restart with a config
#                     file; PROXY_CONF_BASE), run_bin ARGS... -> RC OUT ERR
#   fakeup rules: fakeup_a_only NAME ADDR [FLAGS], fakeup_tc NAME ADDR...
#   queries:      q ARGS... (proxy), q_unbound ARGS..., q_fakeup ARGS...,
#                 dig_at PORT ARGS...,
#                 q_legs NAME TYPE ARGS... -> out alegs aaaalegs aleg aaaaleg
#   dig output:   status_of, flags_of, has_flag, answer_rrs, authority_rrs,
#                 additional_rrs, all_rrs, aaaa_of, ttls_of, ancount_of,
#                 ede_of  (dig output as $1, or on stdin)
#   addresses:    ipv6_norm ADDR..., rev6 ADDR [N]
#   dnsq:         dq ARGS... (proxy), dnsq_at PORT ARGS...; on its output:
#                 dq_field KEY OUT, dq_answer OUT, dq_count OUT,
#                 dq_has_flag FLAG OUT
#   answer path:  dq_norm OUT, proxy_stats, stat_of PHRASE LINE,
#                 start_fakeup_on PORT RULEFILE [ADDR]
#   tcphold:      need_python, hold NAME ARGS... -> HOLD_PID, held NAME,
#                 proxy_stats_line
#   logs:         wait_for_grep FILE REGEX [SECONDS], count_matches FILE REGEX,
#                 re_escape TEXT, proxy_logged QNAME TYPE REGEX,
#                 fakeup_count REGEX, fakeup_legs NAME TYPE,
#                 fakeup_last NAME TYPE
#   checks:       ok, not_ok, skip_check, check_eq, check_ne, check_match,
#                 check_nomatch, check_true, check_false, check_range,
#                 check_ge, finish; TODO=REASON before a check (known bug)
#   waiting:      wait_for_grep, wait_for_count FILE REGEX N [SECONDS],
#                 wait_until SECONDS CMD..., wait_gone PID [SECONDS]
#   sanitizers:   sanitizer_check [LOG...]
#   misc:         note MSG, bail MSG, fatal MSG, now_ms
#   variables:    TEST_NAME TEST_TMP; PROXY_BIN FAKEUP_BIN DNSQ_BIN (the
#                 built programs); SOA_NEG SOA_NEG_RR (fixture data);
#                 tunables UNBOUND (binary), UNBOUND_WRAP (command prefix,
#                 e.g. strace), DIG, KEEP_TMP, TEST_TIMEOUT; SANITIZER_DIR

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh: must be sourced by bash" >&2
	exit 99
fi

_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$_lib_dir/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

TEST_NAME=$(basename "$0" .sh)
FIXTURE_DIR=$top_srcdir/tests/integration/fixture
PROXY_BIN=$top_builddir/src/dns64proxy
FAKEUP_BIN=$top_builddir/tests/fakeup
DNSQ_BIN=$top_builddir/tests/dnsq
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
UNBOUND_WRAP=${UNBOUND_WRAP:-}
DIG=${DIG:-dig}
KEEP_TMP=${KEEP_TMP:-0}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}

# Retry and wait bounds.
_PORT_TRIES=50		# random_port candidates
_START_TRIES=8		# ports tried by start_* before giving up
_STOP_WAIT=50		# x 0.1 s before SIGKILL

# The SOA of the fixture zone t.example as unbound returns it with negative
# answers: TTL 1200 = min(SOA TTL 3600, MINIMUM 1200) (RFC 2308).  SOA_NEG
# as answer_rrs/authority_rrs print it; SOA_NEG_RR in zone-file form (class
# IN), for fakeup rules.
SOA_NEG_RR="t.example. 1200 IN SOA ns.t.example. hostmaster.t.example."
SOA_NEG_RR="$SOA_NEG_RR 1 3600 900 604800 1200"
# shellcheck disable=SC2034  # used by the tests
SOA_NEG=${SOA_NEG_RR/ IN / }

_checks=0
_failed=0
_pids=()
_pid_starts=()
_exit_rc=		# the status finish, skip or bail exits with
_watchdog=		# the watchdog's pid (finish leaves it running)
declare -A _san_seen	# sanitizer reports and logs already reported

LC_ALL=C
export LC_ALL

# ---------------------------------------------------------------- messages

# note MSG...: a TAP comment line.
note() {
	printf '# %s\n' "$*"
}

# _indent TEXT: TEXT as TAP comment lines.
_indent() {
	printf '%s\n' "$1" | sed 's/^/#     /'
}

# skip MSG: skip the whole test: the TAP plan "1..0 # SKIP MSG" (exit 77).
# After some checks have run, the rest of the test is one skipped check and
# the test ends there (finish).
skip() {
	if [ "$_checks" -gt 0 ]; then
		skip_check "the rest of $TEST_NAME" "$*"
		finish
	fi
	echo "1..0 # SKIP $*"
	_exit_rc=77
	exit 77
}

# bail MSG: the harness cannot do its job (exit 99, "hard error").
bail() {
	echo "Bail out! $TEST_NAME: $*"
	_exit_rc=99
	exit 99
}

# fatal MSG: record a failed check and stop the test now (exit 1).
fatal() {
	not_ok "$*"
	finish
}

# now_ms: milliseconds since the epoch.
now_ms() {
	date +%s%3N
}

# ------------------------------------------------------------ requirements

# need_tool NAME...: skip unless each NAME is an executable (a path, or a
# command in PATH, /usr/sbin and /sbin included).
need_tool() {
	local t
	for t in "$@"; do
		case $t in
		*/*)	[ -x "$t" ] && continue ;;
		*)	PATH=$PATH:/usr/sbin:/sbin command -v "$t" \
			    >/dev/null 2>&1 && continue ;;
		esac
		skip "$t not installed"
	done
}

# have_ipv6: true if ::1 is configured on this host.
have_ipv6() {
	[ -r /proc/net/if_inet6 ] &&
	    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# need_ipv6: skip unless ::1 is usable.
need_ipv6() {
	have_ipv6 || skip "IPv6 loopback (::1) not available"
}

# need_root: skip unless running as root.
need_root() {
	[ "$(id -u)" = 0 ] || skip "must run as root"
}

# need_dnsq: hard error unless tests/dnsq is built (make check builds it).
need_dnsq() {
	[ -x "$DNSQ_BIN" ] || bail "$DNSQ_BIN not built (make check builds it)"
}

# ---------------------------------------------------------------- processes

# _proc_start PID: the process's start time (field 22 of /proc/PID/stat)
# and state, "START STATE"; fails if there is no such process.
_proc_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo "${20} $1"
}

# _pid_alive INDEX: true if tracked process INDEX is still running (same
# start time, so never a recycled pid; not a zombie).
_pid_alive() {
	local cur pid=${_pids[$1]} start=${_pid_starts[$1]}
	if [ "$start" = "-" ]; then
		kill -0 "$pid" 2>/dev/null
		return
	fi
	cur=$(_proc_start "$pid") || return 1
	[ "${cur% *}" = "$start" ] && [ "${cur#* }" != Z ]
}

# _pid_signal INDEX SIG: signal tracked process INDEX if it is still ours.
_pid_signal() {
	_pid_alive "$1" && kill "-$2" "${_pids[$1]}" 2>/dev/null
	return 0
}

# _pid_index PID: index of PID in the tracked list.
_pid_index() {
	local i
	for i in "${!_pids[@]}"; do
		[ "${_pids[$i]}" = "$1" ] && { echo "$i"; return 0; }
	done
	return 1
}

# track_pid PID: kill PID on exit.  Call right after starting it.
track_pid() {
	local st
	if st=$(_proc_start "$1"); then
		st=${st% *}
	else
		st=-
	fi
	_pids+=("$1")
	_pid_starts+=("$st")
}

# _untrack INDEX
_untrack() {
	unset "_pids[$1]" "_pid_starts[$1]"
}

# stop_pid PID: SIGTERM a tracked PID, SIGKILL after 5 s, reap it.  Returns
# its exit status when it is a child of this shell (143 = died of SIGTERM
# without handling it, 137 = had to be SIGKILLed).
stop_pid() {
	local i n rc
	i=$(_pid_index "$1") || { note "stop_pid: $1 not tracked"; return 1; }
	_pid_signal "$i" TERM
	n=0
	while _pid_alive "$i" && [ $n -lt $_STOP_WAIT ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if _pid_alive "$i"; then
		note "pid $1 ignored SIGTERM, sending SIGKILL"
		_pid_signal "$i" KILL
	fi
	rc=0
	wait "$1" 2>/dev/null || rc=$?
	_untrack "$i"
	return $rc
}

# run_bg OUTFILE CMD...: run CMD in the background (stdout and stderr to
# OUTFILE), tracked; sets BG_PID.  Collect it with "wait $BG_PID".
run_bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 </dev/null &
	BG_PID=$!
	track_pid "$BG_PID"
}

# _stop_tracked [KEEP]: SIGTERM every tracked process but pid KEEP, SIGKILL
# those still there after 5 s, reap them and forget them all.
_stop_tracked() {
	local keep=${1:-} i n alive
	for i in "${!_pids[@]}"; do
		[ "${_pids[$i]}" = "$keep" ] || _pid_signal "$i" TERM
	done
	n=0
	while [ $n -lt $_STOP_WAIT ]; do
		alive=0
		for i in "${!_pids[@]}"; do
			[ "${_pids[$i]}" = "$keep" ] && continue
			_pid_alive "$i" && { alive=1; break; }
		done
		[ $alive = 0 ] && break
		sleep 0.1
		n=$((n + 1))
	done
	for i in "${!_pids[@]}"; do
		[ "${_pids[$i]}" = "$keep" ] && continue
		if _pid_alive "$i"; then
			echo "# cleanup: SIGKILL ${_pids[$i]}"
			_pid_signal "$i" KILL
		fi
	done
	for i in "${!_pids[@]}"; do
		[ "${_pids[$i]}" = "$keep" ] && continue
		wait "${_pids[$i]}" 2>/dev/null
		_untrack "$i"
	done
}

# _late_reports: sanitizer report files written after finish (by processes
# the script did not track, stopped on its way out) make the run an error.
_late_reports() {
	local f
	[ -n "${SANITIZER_DIR:-}" ] && [ -d "$SANITIZER_DIR" ] || return 0
	for f in "$SANITIZER_DIR"/*; do
		[ -f "$f" ] || continue
		[ -n "${_san_seen[$f]:-}" ] && continue
		_san_seen[$f]=1
		_indent "$(head -n 40 "$f")"
		echo "Bail out! $TEST_NAME: sanitizer report ${f##*/} at exit"
	done
}

_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	# Not through finish, skip or bail: a script that died halfway (an
	# error in the script, a signal) must not look like a pass or skip.
	if [ "$rc" != "$_exit_rc" ]; then
		echo "Bail out! $TEST_NAME: exited with status $rc before" \
		    "finishing"
	fi
	_stop_tracked
	_late_reports
	if [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ]; then
		if [ "$KEEP_TMP" = 1 ]; then
			echo "# kept $TEST_TMP"
		else
			rm -rf "$TEST_TMP"
		fi
	fi
	exit $rc
}

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dns64proxy-$TEST_NAME.XXXXXX") ||
    bail "mktemp failed"
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# _start_time PID: the process's start time (field 22 of /proc/PID/stat),
# which tells a process from a later one that got the same pid.
_start_time() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086  # split into the fields after "(comm)"
	set -- $s
	echo "${20}"
}

# Watchdog: SIGTERM this script after TEST_TIMEOUT seconds.  If the script
# was SIGKILLed meanwhile, its pid may belong to somebody else by then.
_self_start=$(_start_time $$)
(
	trap 'kill "$_wd_sleep" 2>/dev/null; exit 0' TERM
	sleep "$TEST_TIMEOUT" &
	_wd_sleep=$!
	wait "$_wd_sleep"
	[ "$(_start_time $$)" = "$_self_start" ] || exit 0
	echo "Bail out! $TEST_NAME: watchdog: still running after" \
	    "$TEST_TIMEOUT s"
	kill -TERM $$ 2>/dev/null
) </dev/null &
_watchdog=$!
track_pid "$_watchdog"

# Sanitizer reports go to files here (see the header; UBSan's only where
# its runtime honours log_path, e.g. clang's); the options are ours first,
# so that the caller's ASAN_OPTIONS / UBSAN_OPTIONS can change them.  Leaks
# are errors; no abort(), so that a report is a file and an exit status
# rather than a core; UBSan stops at the first report (the code is built
# with -fno-sanitize-recover) and prints the stack.
SANITIZER_DIR=$TEST_TMP/sanitizer
mkdir -p "$SANITIZER_DIR" || bail "cannot create $SANITIZER_DIR"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_exe_name=1:log_path=$SANITIZER_DIR/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_exe_name=1:log_path=$SANITIZER_DIR/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

# ------------------------------------------------------------------- ports

# port_is_free PORT: no UDP or TCP socket (any state, any address) uses
# PORT.  Without ss(8) it cannot know and says yes; start_* retry anyway.
port_is_free() {
	local out
	command -v ss >/dev/null 2>&1 || return 0
	out=$(ss -Hanut "sport = :$1" 2>/dev/null) || return 0
	[ -z "$out" ]
}

# random_port: print a port in 20000-59999 that is currently free for UDP and
# TCP.  Someone may still take it before it is bound, so callers retry.
random_port() {
	local n p
	for n in $(seq 1 $_PORT_TRIES); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if port_is_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# dead_port: print a free port in 10000-19999, for a forwarder that must not
# answer: below random_port's range (20000-59999) and Linux's ephemeral
# range, so no concurrently running test listens on it.  A proxy's upstream
# socket may happen to use it as its source port, but that socket is
# connected to its own forwarder and receives nothing else, so queries to
# the port still meet ICMP port unreachable.
dead_port() {
	local n p
	for n in $(seq 1 $_PORT_TRIES); do
		p=$((10000 + RANDOM % 10000))
		if port_is_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# ------------------------------------------------------------------ waiting

# wait_for_grep FILE REGEX [SECONDS]: wait (default 5 s) until a line of FILE
# matches the extended REGEX.
wait_for_grep() {
	local n max
	max=$(( ${3:-5} * 20 ))
	for n in $(seq 1 "$max"); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_for_count FILE REGEX N [SECONDS]: wait (default 5 s) until at least
# N lines of FILE match the extended REGEX.
wait_for_count() {
	local n max
	max=$(( ${4:-5} * 20 ))
	for n in $(seq 1 "$max"); do
		[ "$(count_matches "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds, at most
# SECONDS (an integer); its status is the last run's.
wait_until() {
	local n max=$(( $1 * 20 ))
	shift
	for n in $(seq 1 "$max"); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# wait_gone PID [SECONDS]: wait (default 5 s) until process PID is gone (or
# a zombie); true if it is.
wait_gone() {
	wait_until "${2:-5}" _proc_gone "$1"
}

# _proc_gone PID: there is no process PID, or it is a zombie.
_proc_gone() {
	local st
	st=$(_proc_start "$1") || return 0
	[ "${st#* }" = Z ]
}

# count_matches FILE REGEX: number of lines of FILE matching REGEX.
count_matches() {
	local c
	c=$(grep -Ec -- "$2" "$1" 2>/dev/null) || true
	echo "${c:-0}"
}

# re_escape TEXT: TEXT with its dots escaped, for a regex (names,
# addresses).
re_escape() {
	printf '%s' "${1//./\\.}"
}

# proxy_logged QNAME TYPE REGEX: wait (2 s) for the proxy's -v line for a
# query from 127.0.0.1 for QNAME and TYPE whose rest (outcome, rcode,
# upstream) matches the extended REGEX.
proxy_logged() {
	wait_for_grep "$PROXY_LOG" \
	    "^127\\.0\\.0\\.1@[0-9]+ $(re_escape "$1") $2 $3" 2
}

# fakeup_count REGEX: number of lines of $FAKEUP_LOG matching REGEX.
fakeup_count() {
	count_matches "$FAKEUP_LOG" "$1"
}

# fakeup_legs NAME TYPE: number of queries for NAME (absolute, e.g.
# a-only.t.example.) and TYPE in $FAKEUP_LOG.
fakeup_legs() {
	fakeup_count "qname=$(re_escape "$1") qtype=$2 "
}

# fakeup_last NAME TYPE: the last line of $FAKEUP_LOG for a query for NAME
# (absolute) and TYPE; empty if there was none.
fakeup_last() {
	grep -F " qname=$1 qtype=$2 " "$FAKEUP_LOG" | tail -n 1
}

# _dig_probe ADDR PORT: true if a DNS server answers a query for t.example.
_dig_probe() {
	"$DIG" +tries=1 +time=1 +norec -p "$2" "@$1" t.example. SOA +short \
	    2>/dev/null | grep -q 'hostmaster'
}

# ------------------------------------------------------------------ unbound

# start_unbound: start a real unbound serving the fixture zones on 127.0.0.1
# and ::1 (::1 only if have_ipv6) at a random port; wait until it answers.
# Sets UNBOUND_PORT, UNBOUND_PID, UNBOUND_LOG (its stderr), UNBOUND_CONF.
# With UNBOUND_WRAP="cmd args" unbound runs as "cmd args unbound -d -c ...";
# then UNBOUND_WRAP_PID is the wrapper's pid and UNBOUND_PID unbound's.
start_unbound() {
	local port pid n i child ready
	[ -x "$UNBOUND" ] || skip "unbound not installed ($UNBOUND)"
	need_tool "$DIG"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		UNBOUND_CONF=$TEST_TMP/unbound-$port.conf
		UNBOUND_LOG=$TEST_TMP/unbound-$port.log
		sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$TEST_TMP|g" \
		    -e "s|@FIXTURE@|$FIXTURE_DIR|g" \
		    "$FIXTURE_DIR/unbound.conf.in" >"$UNBOUND_CONF" ||
		    bail "cannot write $UNBOUND_CONF"
		if ! have_ipv6; then
			sed -i -e '/::1@/d' -e '/outgoing-interface: ::1/d' \
			    -e 's/do-ip6: yes/do-ip6: no/' "$UNBOUND_CONF"
		fi
		# shellcheck disable=SC2086
		$UNBOUND_WRAP "$UNBOUND" -d -c "$UNBOUND_CONF" \
		    >"$UNBOUND_LOG" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		ready=0
		for n in $(seq 1 100); do
			i=$(_pid_index "$pid")
			if ! _pid_alive "$i"; then
				break
			fi
			if grep -q 'start of service' "$UNBOUND_LOG" &&
			    _dig_probe 127.0.0.1 "$port" &&
			    { ! have_ipv6 || _dig_probe ::1 "$port"; }; then
				ready=1
				break
			fi
			sleep 0.1
		done
		if [ $ready = 1 ]; then
			UNBOUND_PORT=$port
			UNBOUND_PID=$pid
			UNBOUND_WRAP_PID=
			if [ -n "$UNBOUND_WRAP" ]; then
				UNBOUND_WRAP_PID=$pid
				child=$(ps -o pid= --ppid "$pid" 2>/dev/null |
				    head -n 1 | tr -d ' ')
				[ -n "$child" ] ||
				    bail "cannot find unbound under wrapper"
				track_pid "$child"
				UNBOUND_PID=$child
			fi
			note "unbound ready on port $port (pid $UNBOUND_PID)"
			return 0
		fi
		stop_pid "$pid"
		if grep -qi 'already in use' "$UNBOUND_LOG"; then
			note "unbound: port $port in use, retrying"
			continue
		fi
		_indent "$(tail -n 20 "$UNBOUND_LOG")"
		bail "unbound did not start (see above)"
	done
	bail "unbound: no usable port after $_START_TRIES tries"
}

# stop_unbound: stop the unbound started last (and its wrapper).
stop_unbound() {
	local rc=0
	[ -n "${UNBOUND_PID:-}" ] || return 0
	stop_pid "$UNBOUND_PID" || rc=$?
	if [ -n "${UNBOUND_WRAP_PID:-}" ]; then
		stop_pid "$UNBOUND_WRAP_PID" || rc=$?
		# the wrapper passes on unbound's status
	fi
	UNBOUND_PID=
	UNBOUND_WRAP_PID=
	return $rc
}

# ------------------------------------------------------------------- fakeup

# start_fakeup RULEFILE [ADDR]: start tests/fakeup on ADDR (127.0.0.1
# default, or ::1) at a random port; wait for "ready".  Sets FAKEUP_PORT,
# FAKEUP_PID, FAKEUP_ADDR, FAKEUP_LOG (its query log) and FAKEUP_ERR (its
# stderr).  To run two at once, save these before the second call.
start_fakeup() {
	local rules=$1 addr=${2:-127.0.0.1} bin=$FAKEUP_BIN port pid n i rc
	[ -x "$bin" ] || bail "$bin not built (make check builds it)"
	[ -r "$rules" ] || bail "rule file $rules not readable"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		FAKEUP_LOG=$TEST_TMP/fakeup-$port.log
		FAKEUP_ERR=$TEST_TMP/fakeup-$port.err
		: >"$FAKEUP_LOG"
		"$bin" -a "$addr" -p "$port" -r "$rules" -l "$FAKEUP_LOG" \
		    >"$FAKEUP_ERR" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			grep -qx 'ready' "$FAKEUP_ERR" && break
			_pid_alive "$i" || break
			sleep 0.05
		done
		if grep -qx 'ready' "$FAKEUP_ERR"; then
			FAKEUP_PORT=$port
			FAKEUP_PID=$pid
			FAKEUP_ADDR=$addr
			note "fakeup ready on $addr port $port (pid $pid)"
			return 0
		fi
		rc=0
		stop_pid "$pid" || rc=$?
		if [ $rc = 2 ]; then
			note "fakeup: port $port in use, retrying"
			continue
		fi
		_indent "$(tail -n 20 "$FAKEUP_ERR")"
		bail "fakeup did not start (status $rc, see above)"
	done
	bail "fakeup: no usable port after $_START_TRIES tries"
}

# stop_fakeup: SIGTERM the fakeup started last; returns its exit status.
stop_fakeup() {
	local rc=0
	[ -n "${FAKEUP_PID:-}" ] || return 0
	stop_pid "$FAKEUP_PID" || rc=$?
	FAKEUP_PID=
	return $rc
}

# fakeup_a_only NAME ADDR [FLAGS]: print fakeup rules for NAME (absolute)
# as a-only.t.example is in the fixture: AAAA NODATA with $SOA_NEG_RR, A
# ADDR (TTL 300); both replies with header FLAGS (e.g. "aa ra") if given.
fakeup_a_only() {
	local flags=
	[ -n "${3:-}" ] && flags="  flags $3"$'\n'
	printf 'match %s AAAA\n%s  authority %s\nend\n' "$1" "$flags" \
	    "$SOA_NEG_RR"
	printf 'match %s A\n%s  answer %s 300 IN A %s\nend\n' "$1" "$flags" \
	    "$1" "$2"
}

# fakeup_tc NAME ADDR...: print fakeup rules for "NAME A" (NAME absolute):
# over UDP an empty reply with TC=1, over TCP the A records ADDR... (TTL 60).
fakeup_tc() {
	local name=$1 a
	shift
	printf 'match %s A\n  transport udp\n  flags tc ra\nend\n' "$name"
	printf 'match %s A\n  transport tcp\n' "$name"
	for a in "$@"; do
		printf '  answer %s 60 IN A %s\n' "$name" "$a"
	done
	printf 'end\n'
}

# -------------------------------------------------------------------- proxy

# start_proxy ARGS...: start "src/dns64proxy -d ARGS... -l 127.0.0.1@PORT
# -l ::1@PORT" (no ::1 without have_ipv6) at a random port, retrying when
# the proxy reports "address already in use"; wait until its log has a line
# with the word "ready".  Sets PROXY_PORT, PROXY_PID, PROXY_LOG (stdout and
# stderr).  If the proxy does not start, the test fails (exit 1).
# PROXY_MODE_CONF: config lines every proxy started with "-f FILE" gets on
# top of FILE (unless FILE sets that keyword itself).  make check runs the
# suite in several modes through it (see Makefile.am); the default pins one
# worker, no cache (the tests of the cache turn it on themselves), the A
# query always sent with the AAAA query (dns64-parallel yes; "auto" would
# depend on the forwarder's speed) and no control socket, so that tests are
# deterministic and never share the default socket path.
: "${PROXY_MODE_CONF=workers 1
cache-size 0
dns64-parallel yes
control-socket none}"

# dns64_parallel: true when the mode sends the A query with the AAAA query
# (dns64-parallel yes, RFC 6147 5.1.8); dns64_sequential: when it never
# does (no).  Under "auto" neither is certain.
dns64_parallel() {
	printf '%s\n' "$PROXY_MODE_CONF" | grep -qx 'dns64-parallel yes'
}
dns64_sequential() {
	printf '%s\n' "$PROXY_MODE_CONF" | grep -qx 'dns64-parallel no'
}

# check_no_a_leg DESC COUNT: the A answer was not needed.  Sequentially no
# A query may have been sent; otherwise at most the one that left with (or
# soon after) the AAAA query.
check_no_a_leg() {
	if dns64_sequential; then
		check_eq "$1" 0 "$2"
	else
		check_range "$1" 0 1 "$2"
	fi
}

# _mode_conf FILE: print the path of a config file that includes FILE and
# adds the lines of $PROXY_MODE_CONF that FILE does not set.
_mode_conf() {
	local f=$1 w line kw
	case $f in
	/*|"") ;;
	*)	f=$PWD/$f ;;
	esac
	w=$(mktemp "$TEST_TMP/mode-XXXXXX.conf") || bail "mktemp failed"
	{
		[ "$f" = /dev/null ] || printf 'include "%s"\n' "$f"
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			kw=${line%% *}
			[ "$f" != /dev/null ] && [ -r "$f" ] &&
			    grep -Eq "^[[:space:]]*$kw([[:space:]]|\$)" "$f" &&
			    continue
			printf '%s\n' "$line"
		done <<<"$PROXY_MODE_CONF"
	} >"$w"
	echo "$w"
}

start_proxy() {
	local bin=$PROXY_BIN port pid n i rc listen a args=() prev=
	[ -x "$bin" ] || bail "$bin not built"
	for a in "$@"; do
		if [ "$prev" = -f ]; then
			a=$(_mode_conf "$a")
		fi
		args+=("$a")
		prev=$a
	done
	set -- "${args[@]}"
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		PROXY_LOG=$TEST_TMP/proxy-$port.log
		listen=(-l "127.0.0.1@$port")
		have_ipv6 && listen+=(-l "::1@$port")
		"$bin" -d "$@" "${listen[@]}" >"$PROXY_LOG" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			grep -qw 'ready' "$PROXY_LOG" && break
			_pid_alive "$i" || break
			sleep 0.1
		done
		if grep -qw 'ready' "$PROXY_LOG" && _pid_alive "$i"; then
			PROXY_PORT=$port
			PROXY_PID=$pid
			note "dns64proxy ready on port $port (pid $pid)"
			return 0
		fi
		rc=0
		stop_pid "$pid" || rc=$?
		if grep -qi 'address already in use' "$PROXY_LOG"; then
			note "dns64proxy: port $port in use, retrying"
			continue
		fi
		_indent "$(tail -n 20 "$PROXY_LOG")"
		fatal "dns64proxy $* did not start (status $rc, see above)"
	done
	bail "dns64proxy: no usable port after $_START_TRIES tries"
}

# stop_proxy: SIGTERM the proxy started last; returns its exit status.  A
# sanitizer report (its leak check runs at exit) is a failed check.
stop_proxy() {
	local rc=0
	[ -n "${PROXY_PID:-}" ] || return 0
	stop_pid "$PROXY_PID" || rc=$?
	PROXY_PID=
	sanitizer_check
	return $rc
}

# proxy_conf FORWARDER_PORT [LINE...]: stop the proxy and start it again
# ("start_proxy -v -f FILE") with a new config file: "forwarder 127.0.0.1
# port FORWARDER_PORT", then the lines of $PROXY_CONF_BASE (set it once for
# what every config of a test has, e.g. "prefix ..."), then each LINE (one
# or more lines of text).
PROXY_CONF_BASE=
_proxy_nconf=0
proxy_conf() {
	local f port=$1
	shift
	stop_proxy
	_proxy_nconf=$((_proxy_nconf + 1))
	f=$TEST_TMP/proxy-$_proxy_nconf.conf
	{
		printf 'forwarder 127.0.0.1 port %s\n' "$port"
		[ -z "$PROXY_CONF_BASE" ] || printf '%s\n' "$PROXY_CONF_BASE"
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$f"
	start_proxy -v -f "$f"
}

# run_bin ARGS...: run "src/dns64proxy ARGS" in the foreground until it
# exits, at most 10 s (a proxy that wrongly starts is then stopped); sets RC
# (its exit status, or "still-running"), OUT (stdout) and ERR (stderr).
# shellcheck disable=SC2034  # RC OUT ERR are for the caller
run_bin() {
	local pid n=0
	RC=0
	"$PROXY_BIN" "$@" >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" \
	    </dev/null &
	pid=$!
	track_pid "$pid"
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		stop_pid "$pid"
		RC=still-running
	else
		# not signalled any more: gives the exit status
		stop_pid "$pid" || RC=$?
	fi
	OUT=$(cat "$TEST_TMP/run.out")
	ERR=$(cat "$TEST_TMP/run.err")
}

# ------------------------------------------------------------------ queries

# dig_at PORT ARGS...: dig -p PORT @127.0.0.1 +tries=1 +time=3 ARGS; an
# @SERVER in ARGS (e.g. @::1) replaces @127.0.0.1.  Returns dig's status.
dig_at() {
	local port=$1 a server=@127.0.0.1
	shift
	for a in "$@"; do
		case $a in
		@*)	server= ;;
		esac
	done
	"$DIG" -p "$port" $server +tries=1 +time=3 "$@"
}

# q ARGS...: query the proxy.  E.g. q a-only.t.example AAAA; q @::1 +tcp x.
q() {
	[ -n "${PROXY_PORT:-}" ] || bail "q: no proxy started"
	dig_at "$PROXY_PORT" "$@"
}

# q_unbound ARGS...: query the fixture unbound directly.
q_unbound() {
	[ -n "${UNBOUND_PORT:-}" ] || bail "q_unbound: no unbound started"
	dig_at "$UNBOUND_PORT" "$@"
}

# q_fakeup ARGS...: query the last fakeup directly (at $FAKEUP_ADDR).
q_fakeup() {
	[ -n "${FAKEUP_PORT:-}" ] || bail "q_fakeup: no fakeup started"
	case $FAKEUP_ADDR in
	127.0.0.1)	dig_at "$FAKEUP_PORT" "$@" ;;
	*)		dig_at "$FAKEUP_PORT" "@$FAKEUP_ADDR" "$@" ;;
	esac
}

# q_legs NAME TYPE ARGS...: "q ARGS -t TYPE -q NAME" (a proxy that forwards
# to the last fakeup); sets out (dig's output), alegs and aaaalegs (the A
# and AAAA queries for NAME it caused upstream), aleg and aaaaleg (the last
# fakeup log lines for NAME A / AAAA).  -t/-q: with -c, dig would take a
# positional type for a name.
# shellcheck disable=SC2034  # the variables set are for the caller
q_legs() {
	local name=${1%.}. type=$2 a0 q0
	shift 2
	a0=$(fakeup_legs "$name" A)
	q0=$(fakeup_legs "$name" AAAA)
	out=$(q "$@" -t "$type" -q "${name%.}")
	alegs=$(( $(fakeup_legs "$name" A) - a0 ))
	aaaalegs=$(( $(fakeup_legs "$name" AAAA) - q0 ))
	aleg=$(fakeup_last "$name" A)
	aaaaleg=$(fakeup_last "$name" AAAA)
}

# ---------------------------------------------------------- dig extraction
#
# Each takes dig's output as $1, or reads it from stdin.  When the output
# holds several messages (+keepopen with two names, dig's TCP retry), the
# header helpers report the last one.

_dig_in() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$1"
	else
		cat
	fi
}

# status_of: NOERROR, NXDOMAIN, SERVFAIL, ... (needs dig's comments, i.e.
# not +noall without +comments); empty if there was no answer.
status_of() {
	_dig_in "$@" | sed -n 's/^;; ->>HEADER<<-.* status: \([A-Z0-9]*\),.*/\1/p' |
	    tail -n 1
}

# flags_of: header flags as dig prints them, e.g. "qr aa rd ra".
flags_of() {
	_dig_in "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' | tail -n 1 |
	    sed 's/ *$//'
}

# has_flag FLAG [OUTPUT]: true if the header flags include FLAG.
has_flag() {
	local f=$1
	shift
	case " $(flags_of "$@") " in
	*" $f "*)	return 0 ;;
	esac
	return 1
}

# ancount_of: the header's ANSWER count.
ancount_of() {
	_dig_in "$@" | sed -n 's/^;; flags:.* ANSWER: \([0-9]*\),.*/\1/p' |
	    tail -n 1
}

# ede_of: EDE info codes of the OPT pseudosection (one per line).
ede_of() {
	_dig_in "$@" | sed -n 's/^; EDE: \([0-9]*\).*/\1/p'
}

# _section NAME: RRs of section NAME (ANSWER, AUTHORITY, ADDITIONAL) from a
# full dig output; for output without section headers (+noall +answer) all
# RR lines.  Normalized to "owner TTL TYPE rdata" (class dropped when IN),
# single spaces, one RR per line.
_section() {
	awk -v want="$1" '
	/^;; [A-Z]+ SECTION:$/ { hdr = 1; insec = ($2 == want); next }
	/^;; [A-Z]+ PSEUDOSECTION:$/ { hdr = 1; insec = 0; next }
	/^$/ { insec = 0; next }
	/^;/ { next }
	{
		if (hdr && !insec)
			next
		if (!hdr && want != "ANSWER")
			next
		line = $1 " " $2
		i = 3
		if ($3 == "IN")
			i = 4
		for (; i <= NF; i++)
			line = line " " $i
		print line
	}'
}

# answer_rrs / authority_rrs / additional_rrs: see _section.
answer_rrs() {
	_dig_in "$@" | _section ANSWER
}
authority_rrs() {
	_dig_in "$@" | _section AUTHORITY
}
additional_rrs() {
	_dig_in "$@" | _section ADDITIONAL
}

# all_rrs: the RRs of the answer, authority and additional sections.
all_rrs() {
	local out
	out=$(_dig_in "$@")
	answer_rrs "$out"
	authority_rrs "$out"
	additional_rrs "$out"
}

# aaaa_of: the addresses of the answer's AAAA RRs, in answer order, one per
# line (pipe to sort to compare sets).
aaaa_of() {
	answer_rrs "$@" | awk '$3 == "AAAA" { print $4 }'
}

# ttls_of: TTLs of the answer RRs, space separated, in order.
ttls_of() {
	answer_rrs "$@" | awk '{ printf "%s%s", sep, $2; sep = " " }'
}

# ---------------------------------------------------------------- addresses

# ipv6_norm ADDR...: each IPv6 address (RFC 4291 2.2 text, "::" and a
# dotted-quad tail allowed) as 32 lower-case hex digits, one per line;
# "invalid" for what cannot be parsed.  Comparing these compares the
# 16-byte values, whatever the text form.
ipv6_norm() {
	printf '%s\n' "$@" | awk '
	function hex4(s) {
		if (s !~ /^[0-9a-fA-F]+$/ || length(s) > 4)
			return ""
		return substr("0000", 1, 4 - length(s)) tolower(s)
	}
	function groups(s, out,    n, i, g, p, q) {
		# out = the hex of the groups in s (no "::"); "" on error
		if (s == "")
			return ""
		n = split(s, g, ":")
		out = ""
		for (i = 1; i <= n; i++) {
			if (i == n && g[i] ~ /\./) {
				if (split(g[i], q, ".") != 4)
					return "x"
				for (p = 1; p <= 4; p++) {
					if (q[p] !~ /^[0-9]+$/ || q[p] > 255)
						return "x"
					out = out sprintf("%02x", q[p])
				}
				continue
			}
			if ((p = hex4(g[i])) == "")
				return "x"
			out = out p
		}
		return out
	}
	{
		addr = $0
		c = gsub(/::/, "::", addr)
		if (c > 1) { print "invalid"; next }
		if (c == 1) {
			i = index(addr, "::")
			head = groups(substr(addr, 1, i - 1))
			tail = groups(substr(addr, i + 2))
			if (head ~ /x/ || tail ~ /x/) { print "invalid"; next }
			fill = 32 - length(head) - length(tail)
			if (fill < 4) { print "invalid"; next }
			mid = ""
			for (j = 0; j < fill; j++)
				mid = mid "0"
			res = head mid tail
		} else
			res = groups(addr)
		if (res ~ /x/ || length(res) != 32) { print "invalid"; next }
		print res
	}'
}

# rev6 ADDR [N]: the ip6.arpa name (lower case, absolute) of the IPv6
# address ADDR, keeping only the N most significant nibbles (default 32,
# the full name).
rev6() {
	local nib out="" i
	nib=$(ipv6_norm "$1")
	[ "$nib" != invalid ] || bail "rev6: not an IPv6 address: $1"
	for ((i = ${2:-32} - 1; i >= 0; i--)); do
		out+="${nib:i:1}."
	done
	echo "${out}ip6.arpa."
}

# --------------------------------------------------------------------- dnsq
#
# tests/dnsq (call need_dnsq first) sends what dig cannot: raw bytes,
# pipelined TCP, exact IDs and flags.  It prints one line per reply,
# "id=ID rcode=RCODE flags=qr,rd,... qd=N an=N ... qname=Q qtype=T
# answer=RR;RR..." (or "timeout id=ID", "closed", "unexpected-source ...").
# The extraction helpers take that output as OUT and read its first reply.

# dnsq_at PORT ARGS...: tests/dnsq -s 127.0.0.1 -p PORT ARGS; a -s in ARGS
# (e.g. -s ::1) replaces 127.0.0.1.  Returns dnsq's status.
dnsq_at() {
	local port=$1
	shift
	"$DNSQ_BIN" -s 127.0.0.1 -p "$port" "$@"
}

# dq ARGS...: dnsq at the proxy.  E.g. dq a-only.t.example/A/id=7; dq -t x.
dq() {
	[ -n "${PROXY_PORT:-}" ] || bail "dq: no proxy started"
	dnsq_at "$PROXY_PORT" "$@"
}

# dq_field KEY OUT: the value of KEY=... in the first reply line.
dq_field() {
	printf '%s\n' "$2" | grep -m 1 '^id=' | tr ' ' '\n' |
	    sed -n "s/^$1=//p" | head -n 1
}

# dq_answer OUT: the answer= field (RRs separated by ';') of the first reply
# line.
dq_answer() {
	printf '%s\n' "$1" | grep -m 1 '^id=' | sed -n 's/.* answer=//p'
}

# dq_count OUT: the number of reply lines.
dq_count() {
	printf '%s\n' "$1" | grep -c '^id='
}

# dq_has_flag FLAG OUT: true if the first reply's flags include FLAG.
dq_has_flag() {
	case ",$(dq_field flags "$2")," in
	*",$1,"*)	return 0 ;;
	esac
	return 1
}

# ------------------------------------------------------------- answer path
#
# For the tests of the cache, coalescing, forwarder health and the rest of
# the answer path (cache.sh, coalesce.sh, parallel.sh, forwarders.sh,
# forgery.sh).

# dq_norm OUT: the output of "dnsq -v" in a canonical form that equal
# replies share whatever their TTLs and RR order: per reply, its line
# without answer=, the header of the dump without the ID, and every RR of
# the dump as "SECTION owner class type rdata" (TTL dropped); each line
# starts with the reply's ID, so that the replies to a list of queries stay
# apart (give the queries whose replies are compared the same IDs).  Lines
# are sorted.
dq_norm() {
	printf '%s\n' "$1" | awk '
	/^id=/ { id = $1; sub(/^id=/, "", id); sub(/ answer=.*/, "")
		print id " 0 " $0; next }
	/^timeout id=/ { id = $2; sub(/^id=/, "", id)
		print id " 0 timeout"; next }
	/^;; ->>HEADER<<-/ { sub(/, id: [0-9]+/, ""); print id " 1 " $0; next }
	/^;; (Query time|WHEN|SERVER):/ { next }
	/^;; [A-Z]+ SECTION:/ { sec = $2; next }
	/^;/ { print id " 1 " $0; next }
	/^[[:space:]]*$/ { next }
	{ $2 = ""; print id " 2 " sec " " $0 }' | sort
}

# proxy_stats: make the proxy log its counters (SIGUSR1) and print the
# "stats:" line it wrote; fails if none came within 5 s.
proxy_stats() {
	local n0 n
	n0=$(count_matches "$PROXY_LOG" 'stats: ')
	kill -USR1 "$PROXY_PID" 2>/dev/null || return 1
	for n in $(seq 1 100); do
		[ "$(count_matches "$PROXY_LOG" 'stats: ')" -gt "$n0" ] && break
		sleep 0.05
	done
	[ "$(count_matches "$PROXY_LOG" 'stats: ')" -gt "$n0" ] || return 1
	grep 'stats: ' "$PROXY_LOG" | tail -n 1
}

# stat_of PHRASE LINE: the number after the last PHRASE of a "stats:" line,
# e.g. stat_of unmatched "$line", stat_of "reply hits" "$line", stat_of
# "upstream queries" "$line"; empty if there is none.
stat_of() {
	printf '%s\n' "$2" | sed -n "s/.* $1 \\([0-9][0-9]*\\).*/\\1/p"
}

# start_fakeup_on PORT RULEFILE [ADDR]: start_fakeup on a given port (a
# forwarder that comes back where it was), retrying for up to 5 s while the
# port is still taken.  Sets the same variables as start_fakeup.
start_fakeup_on() {
	local port=$1 rules=$2 addr=${3:-127.0.0.1} pid n i rc try
	[ -x "$FAKEUP_BIN" ] || bail "$FAKEUP_BIN not built"
	[ -r "$rules" ] || bail "rule file $rules not readable"
	for try in $(seq 1 20); do
		FAKEUP_LOG=$TEST_TMP/fakeup-$port.$try.log
		FAKEUP_ERR=$TEST_TMP/fakeup-$port.$try.err
		: >"$FAKEUP_LOG"
		"$FAKEUP_BIN" -a "$addr" -p "$port" -r "$rules" \
		    -l "$FAKEUP_LOG" >"$FAKEUP_ERR" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			grep -qx 'ready' "$FAKEUP_ERR" && break
			_pid_alive "$i" || break
			sleep 0.05
		done
		if grep -qx 'ready' "$FAKEUP_ERR"; then
			FAKEUP_PORT=$port
			FAKEUP_PID=$pid
			FAKEUP_ADDR=$addr
			note "fakeup ready on $addr port $port (pid $pid)"
			return 0
		fi
		rc=0
		stop_pid "$pid" || rc=$?
		[ $rc = 2 ] || break
		sleep 0.25
	done
	_indent "$(tail -n 20 "$FAKEUP_ERR")"
	bail "fakeup did not start on port $port"
}

# ------------------------------------------------------------------ tcphold
#
# tests/integration/tcphold.py (python3, see its header) holds TCP
# connections open: idle, stalled mid-message, or with a query in flight.

# need_python: skip unless python3 is there; sets PYTHON, the system's
# /usr/bin/python3 when there is one (a version manager's shim in PATH can
# take a second to start, every time).
need_python() {
	if [ -x /usr/bin/python3 ]; then
		PYTHON=/usr/bin/python3
	else
		need_tool python3
		PYTHON=python3
	fi
}

# hold NAME ARGS...: tcphold.py -s $HOLD_SERVER (127.0.0.1) -p $PROXY_PORT
# -L 120 ARGS in the background (call need_python first), its output in
# $TEST_TMP/NAME.out; sets HOLD_PID.  With HOLD_NS=PID it runs in the
# network namespace of process PID (nsenter).
# shellcheck disable=SC2034  # HOLD_PID is for the caller
hold() {
	local name=$1 ns=()
	shift
	[ -z "${HOLD_NS:-}" ] || ns=(nsenter -t "$HOLD_NS" -n)
	run_bg "$TEST_TMP/$name.out" "${ns[@]}" "$PYTHON" \
	    "$top_srcdir/tests/integration/tcphold.py" \
	    -s "${HOLD_SERVER:-127.0.0.1}" -p "$PROXY_PORT" -L 120 "$@"
	HOLD_PID=$BG_PID
}

# held NAME: what holder NAME printed so far.
held() {
	cat "$TEST_TMP/$1.out" 2>/dev/null
}

# proxy_stats_line: a fresh "stats:" line from the proxy (SIGUSR1); empty
# if none came within 2 s.
proxy_stats_line() {
	local n
	n=$(count_matches "$PROXY_LOG" '^stats: ')
	kill -USR1 "$PROXY_PID"
	for _ in $(seq 1 40); do
		if [ "$(count_matches "$PROXY_LOG" '^stats: ')" -gt "$n" ]; then
			grep '^stats: ' "$PROXY_LOG" | tail -n 1
			return 0
		fi
		sleep 0.05
	done
}

# ------------------------------------------------------------------- checks

# A check made with TODO=REASON in its environment, e.g.
#	TODO="known bug: ..." check_eq ...
# is a TAP TODO: expected to fail (XFAIL, not counted as a failure) until
# the bug is fixed; then it passes (XPASS, which make check reports).
_result() {
	local todo=
	[ -n "${TODO:-}" ] && todo=" # TODO $TODO"
	_checks=$((_checks + 1))
	if [ "$1" = ok ]; then
		echo "ok $_checks - $2$todo"
	else
		[ -n "$todo" ] || _failed=$((_failed + 1))
		echo "not ok $_checks - $2$todo"
	fi
}

# ok DESC / not_ok DESC [DETAIL]: record a passed / failed check.
ok() {
	_result ok "$1"
}
not_ok() {
	_result fail "$1"
	[ $# -gt 1 ] && _indent "$2"
	return 0
}

# skip_check DESC REASON: a check that could not be run here.
skip_check() {
	_checks=$((_checks + 1))
	echo "ok $_checks - $1 # SKIP $2"
}

# check_eq DESC EXPECTED ACTUAL (strings, exact).
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		_indent "expected: $2"
		_indent "actual:   $3"
	fi
}

# check_ne DESC UNEXPECTED ACTUAL.
check_ne() {
	if [ "$2" != "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		_indent "unexpected: $3"
	fi
}

# check_match DESC REGEX TEXT: some line of TEXT matches the extended REGEX.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1"
		_indent "regex: $2"
		_indent "text:"
		_indent "$3"
	fi
}

# check_nomatch DESC REGEX TEXT: no line of TEXT matches REGEX.
check_nomatch() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		not_ok "$1"
		_indent "regex: $2"
		_indent "matched:"
		_indent "$(printf '%s\n' "$3" | grep -E -- "$2")"
	else
		ok "$1"
	fi
}

# check_true DESC CMD...: CMD exits 0.  check_false: CMD exits non-zero.
check_true() {
	local d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		not_ok "$d" "command failed: $*"
	fi
}
check_false() {
	local d=$1
	shift
	if "$@"; then
		not_ok "$d" "command succeeded: $*"
	else
		ok "$d"
	fi
}

# check_range DESC MIN MAX ACTUAL: integer MIN <= ACTUAL <= MAX.
check_range() {
	case $4 in
	''|*[!0-9-]*)
		not_ok "$1" "not a number: '$4'"
		return 0 ;;
	esac
	if [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected $2..$3, got $4"
	fi
}

# check_ge DESC MIN ACTUAL: integer ACTUAL >= MIN.  For "it waited for the
# timer" (elapsed time has no upper bound in a functional test: those belong
# in make bench).
check_ge() {
	case $3 in
	''|*[!0-9-]*)
		not_ok "$1" "not a number: '$3'"
		return 0 ;;
	esac
	if [ "$3" -ge "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "expected >= $2, got $3"
	fi
}

# finish: stop every process the script started (the watchdog aside) and
# look for sanitizer reports (sanitizer_check), then print the plan and a
# summary; exit 1 if a check failed or none ran, else 0.
finish() {
	_stop_tracked "$_watchdog"
	sanitizer_check
	if [ "$_checks" -eq 0 ]; then
		not_ok "$TEST_NAME: no checks were run"
	fi
	echo "1..$_checks"
	if [ "$_failed" -gt 0 ]; then
		echo "# $TEST_NAME: $_failed of $_checks checks FAILED"
		_exit_rc=1
		exit 1
	fi
	echo "# $TEST_NAME: all $_checks checks passed"
	_exit_rc=0
	exit 0
}

# ---------------------------------------------------------------- sanitizers

# The lines that start a sanitizer report on stderr.
_SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|'
_SAN_RE+='AddressSanitizer:DEADLYSIGNAL|Sanitizer has encountered a fatal|'
_SAN_RE+="ERROR: Can't open file"

# sanitizer_check [LOG...]: one failed check for each sanitizer report in
# $SANITIZER_DIR and for each LOG holding a report, unless reported before.
# LOG defaults to every *.log, *.err and *.out in $TEST_TMP and the
# directories in it: the proxy and fakeup logs, run_bin's stderr, and
# whatever a script names so.  Processes still running cannot have written
# their leak report yet: stop them first (stop_proxy and finish do).
# shellcheck disable=SC2120  # LOG... is for the scripts
sanitizer_check() {
	local f logs=()
	for f in "$SANITIZER_DIR"/*; do
		[ -f "$f" ] || continue
		[ -n "${_san_seen[$f]:-}" ] && continue
		_san_seen[$f]=1
		not_ok "sanitizer report ${f##*/}" "$(head -n 40 "$f")"
	done
	if [ $# -gt 0 ]; then
		logs=("$@")
	else
		while IFS= read -r -d '' f; do
			logs+=("$f")
		done < <(find "$TEST_TMP" -maxdepth 2 -type f \( -name '*.log' \
		    -o -name '*.err' -o -name '*.out' \) -print0 2>/dev/null)
	fi
	for f in "${logs[@]}"; do
		[ -f "$f" ] || continue
		[ -n "${_san_seen[$f]:-}" ] && continue
		grep -Eq -- "$_SAN_RE" "$f" || continue
		_san_seen[$f]=1
		not_ok "sanitizer report in ${f#"$TEST_TMP"/}" \
		    "$(grep -E -A 30 -- "$_SAN_RE" "$f" | head -n 40)"
	done
	return 0
}
