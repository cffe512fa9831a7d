#!/bin/bash
#
# daemon.sh - without -d, dns64proxy detaches and logs to syslog: the
# command returns 0 once the proxy is set up, the daemon is another process
# in a session of its own with /dev/null as stdin, stdout and stderr, it
# answers queries, and its lines ("ready", the -v per-query lines, the
# statistics at exit) reach /dev/log with facility daemon and its pid, none
# reach stderr.  With -d (the control) it is the other way round.
#
# Hermetic: the proxy runs in a mount namespace of its own, where /dev is a
# tmpfs holding null, zero, random and urandom from the host and, as log,
# the socket of tests/logsink; the host's syslog never sees a line.  The
# daemon is not our child: it is found by its command line (our temp dir is
# in it) and by its "ready" line, tracked, and stopped by its pid.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_root
need_tool unshare mount umount "$DIG"
LOGSINK_BIN=$top_builddir/tests/logsink
[ -x "$LOGSINK_BIN" ] || bail "$LOGSINK_BIN not built (make check builds it)"

mkdir "$TEST_TMP/probe" || bail "mkdir failed"
# shellcheck disable=SC2016  # $1 is expanded by sh -c
if ! timeout 10 unshare -m sh -c 'mount -t tmpfs tmpfs "$1"' probe \
    "$TEST_TMP/probe" >"$TEST_TMP/probe.err" 2>&1; then
	skip "cannot use a mount namespace: $(head -n 1 "$TEST_TMP/probe.err")"
fi

# NS_RUN: the command that runs "dns64proxy ARGS" (ARGS after it) in a new
# mount namespace whose /dev has null, zero, random, urandom and log
# ($SOCK).  unshare execs bash, which execs the proxy: started by run_bg,
# the pid is the proxy's.
# shellcheck disable=SC2016  # expanded by the namespace's bash
NS_SETUP='
set -e
t=$1
shift
mkdir -p "$t/dev.host"
mount --rbind /dev "$t/dev.host"
mount -t tmpfs -o mode=0755,size=64k tmpfs /dev
for f in null zero random urandom; do
	touch "/dev/$f"
	mount --bind "$t/dev.host/$f" "/dev/$f"
done
touch /dev/log
mount --bind "$t/log.sock" /dev/log
umount -l "$t/dev.host"
exec "$@"
'
NS_RUN=(unshare -m bash -c "$NS_SETUP" ns-setup "$TEST_TMP" "$PROXY_BIN")

# daemons_of CONF: pids of the processes running $PROXY_BIN with CONF (a
# path under our temp dir) on their command line: ours and nobody else's.
daemons_of() {
	local d exe
	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		[ "$exe" = "$PROXY_REAL" ] || continue
		tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF -- "$1" ||
		    continue
		echo "${d#/proc/}"
	done
}

# stat_field PID N: field N of /proc/PID/stat (N > 2).
stat_field() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086  # the fields after "(comm)"
	set -- $s "$2"
	shift $(( ${!#} - 3 ))
	echo "$1"
}

PROXY_REAL=$(readlink -f "$PROXY_BIN")
SOCK=$TEST_TMP/log.sock
SYSLOG=$TEST_TMP/syslog
PFX=2001:db8:64::
A33="a-only.t.example. 300 AAAA ${PFX}c000:221"

start_unbound
run_bg "$TEST_TMP/logsink.err" "$LOGSINK_BIN" -s "$SOCK" -o "$SYSLOG"
wait_for_grep "$TEST_TMP/logsink.err" '^ready$' 10 ||
    bail "logsink did not start: $(cat "$TEST_TMP/logsink.err")"

# The test mode's lines too (lib.sh PROXY_MODE_CONF: start_proxy is not
# what starts these).
CONF=$TEST_TMP/daemon.conf
printf 'forwarder 127.0.0.1 port %s\nprefix %s/96\n%s\n' "$UNBOUND_PORT" \
    "$PFX" "$PROXY_MODE_CONF" >"$CONF"

# ================================================ without -d: a daemon
starter='' dpid='' port=''
for _ in 1 2 3 4 5; do
	port=$(random_port) || bail "no free port found"
	run_bg "$TEST_TMP/start.out" "${NS_RUN[@]}" -f "$CONF" -v \
	    -l "127.0.0.1@$port"
	starter=$BG_PID
	wait_gone "$starter" 30 || break
	grep -qi 'address already in use' "$TEST_TMP/start.out" || break
	stop_pid "$starter"
	note "port $port in use, retrying"
done
PROXY_PORT=$port
check_true "no -d: the command returns (the daemon detaches)" \
    _proc_gone "$starter"
rc=0
stop_pid "$starter" || rc=$?
check_eq "no -d: the command exits 0" 0 "$rc"
check_eq "no -d: nothing on stdout or stderr" "" \
    "$(cat "$TEST_TMP/start.out")"

# Track the daemon before anything else can fail.
found=$(daemons_of "$CONF")
for p in $found; do
	track_pid "$p"
done
check_eq "no -d: exactly one daemon running" 1 "$(wc -w <<<"$found")"
check_true "no -d: syslog has the \"ready\" line" \
    wait_for_grep "$SYSLOG" '^<[0-9]+>.* dns64proxy\[[0-9]+\]: .*\<ready\>' 10
ready=$(grep -E '^<[0-9]+>.* dns64proxy\[[0-9]+\]: .*\<ready\>' "$SYSLOG" |
    head -n 1)
dpid=$(sed -n 's/.* dns64proxy\[\([0-9]*\)\]: .*/\1/p' <<<"$ready")
check_eq "no -d: the \"ready\" line carries the daemon's pid" "$found" "$dpid"
check_ne "no -d: the daemon is not the process started" "$starter" "$dpid"
check_eq "syslog: \"ready\" is daemon.info (priority 3 * 8 + 6)" "<30>" \
    "${ready%%>*}>"

if [ -n "$dpid" ] && [ "$dpid" = "$found" ]; then
	check_eq "no -d: the daemon leads a session of its own (setsid)" \
	    "$dpid" "$(stat_field "$dpid" 6)"
	check_ne "no -d: the daemon is not our child" "$$" \
	    "$(stat_field "$dpid" 4)"
	check_eq "no -d: stdin, stdout and stderr are /dev/null" \
	    "/dev/null /dev/null /dev/null" \
	    "$(readlink "/proc/$dpid/fd/0" "/proc/$dpid/fd/1" \
	    "/proc/$dpid/fd/2" | tr '\n' ' ' | sed 's/ $//')"

	check_true "syslog: the startup line of the listen address, with the pid" \
	    grep -Eq "^<30>.* dns64proxy\\[$dpid\\]: listening on " "$SYSLOG"
	check_true "syslog: the startup line of the forwarders, with the pid" \
	    grep -Eq "^<30>.* dns64proxy\\[$dpid\\]: forwarders " "$SYSLOG"
	out=$(q a-only.t.example AAAA)
	check_eq "daemon: synthesizes" "$A33" "$(answer_rrs "$out")"
	out=$(q +tcp a-only.t.example AAAA)
	check_eq "daemon: over TCP too" "$A33" "$(answer_rrs "$out")"
	check_true "syslog: the -v line of each query, daemon.debug, with the pid" \
	    wait_for_count "$SYSLOG" "^<31>.* dns64proxy\\[$dpid\\]: 127\\.0\\.0\\.1@[0-9]+ a-only\\.t\\.example\\. AAAA synthesized NOERROR" 2 10

	stop_pid "$dpid"
	check_true "daemon: gone after SIGTERM" wait_gone "$dpid" 10
	check_true "syslog: its statistics at exit (daemon.info)" \
	    wait_for_grep "$SYSLOG" "^<30>.* dns64proxy\\[$dpid\\]: stats: " 10
else
	not_ok "no -d: no daemon to look at" "found: '$found', syslog: '$dpid'"
fi
check_eq "no -d: still nothing on stdout or stderr" "" \
    "$(cat "$TEST_TMP/start.out")"
check_eq "no -d: no daemon left" "" "$(daemons_of "$CONF")"

# ============================================ -d: foreground, stderr
n0=$(grep -c . "$SYSLOG")
port=$(random_port) || bail "no free port found"
run_bg "$TEST_TMP/fg.out" "${NS_RUN[@]}" -d -f "$CONF" -v \
    -l "127.0.0.1@$port"
fg=$BG_PID
PROXY_PORT=$port
check_true "-d: \"ready\" on stderr" wait_for_grep "$TEST_TMP/fg.out" \
    '\<ready\>' 10
out=$(q a-only.t.example AAAA)
check_eq "-d: synthesizes" "$A33" "$(answer_rrs "$out")"
check_true "-d: the -v line on stderr" wait_for_grep "$TEST_TMP/fg.out" \
    '^127\.0\.0\.1@[0-9]+ a-only\.t\.example\. AAAA synthesized NOERROR' 10
check_true "-d: still the process started (no fork)" kill -0 "$fg"
rc=0
stop_pid "$fg" || rc=$?
check_eq "-d: exits 0 on SIGTERM" 0 "$rc"
check_eq "-d: nothing in syslog" "$n0" "$(grep -c . "$SYSLOG")"

finish
