#!/bin/bash
#
# control.sh - the control socket and dns64proxy-control(8): every command
# and the shape of its output (status, stats, reload, flush, verbosity,
# dump-config), the socket's mode, the tool's exit codes (0 ok, 1 error or
# bad command, 3 not running, 4 permission denied), a live socket never
# taken over by a second daemon, a stale one replaced, the default path
# best effort (a user who cannot create it runs without), and a reload that
# moves the socket (new one first; a failure keeps the old).  Every socket
# lives under $TEST_TMP; the proxy forwards to the fixture unbound.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig python3

CTL=$top_builddir/src/dns64proxy-control
[ -x "$CTL" ] || bail "$CTL not built"

start_unbound

# The socket's directory does not exist yet: the daemon makes it.
SOCK=$TEST_TMP/run/control.sock
CONF=$TEST_TMP/proxy.conf
NSP1=2001:db8:64::
NSP2=2001:db8:65::

# write_conf PREFIX [LINE...]: the proxy's config file.
write_conf() {
	local pfx=$1
	shift
	{
		printf 'forwarder 127.0.0.1 port %s\n' "$UNBOUND_PORT"
		printf 'prefix %s/96\n' "$pfx"
		printf 'control-socket "%s"\n' "$SOCK"
		printf 'cache-size 1\n'
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$CONF"
}

# ctl ARGS...: run the tool on $SOCK; sets RC, OUT (stdout), ERR (stderr).
ctl() {
	RC=0
	"$CTL" -s "$SOCK" "$@" >"$TEST_TMP/ctl.out" 2>"$TEST_TMP/ctl.err" ||
	    RC=$?
	OUT=$(cat "$TEST_TMP/ctl.out")
	ERR=$(cat "$TEST_TMP/ctl.err")
}

# stat_of NAME: the value of NAME in the last "stats" output ($OUT).
stat_of() {
	printf '%s\n' "$OUT" | sed -n "s/^$(re_escape "$1")=//p"
}

# stat_now NAME: NAME's value, from a fresh "stats" (in $(...), $OUT stays
# as it was).
stat_now() {
	ctl stats
	stat_of "$1"
}

# raw LINE [noeol]: send LINE and a newline to the socket as it is (with
# noeol: no newline, then shut down the sending side), print the reply.
raw() {
	python3 - "$SOCK" "$1" "${2:-}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
if sys.argv[3] == "noeol":
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
else:
    s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
EOF
}

# stale_socket PATH: leave a unix socket file at PATH that nobody serves.
stale_socket() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])' "$1"
}

write_conf "$NSP1"
start_proxy -f "$CONF"
FWD=127.0.0.1@$UNBOUND_PORT

# ---------------------------------------------------------------- socket

check_eq "the socket is mode 0660" "660" "$(stat -c %a "$SOCK")"
check_eq "its directory was created with mode 0750" "750" \
    "$(stat -c %a "$TEST_TMP/run")"
check_true "it is a socket" test -S "$SOCK"
check_match "the log names it" "^control socket $(re_escape "$SOCK")\$" \
    "$(cat "$PROXY_LOG")"

# ---------------------------------------------------------------- status

ctl status
check_eq "status: exit 0" 0 "$RC"
check_match "status: version" '^version: [0-9]+\.[0-9]+' "$OUT"
check_match "status: pid" "^pid: $PROXY_PID\$" "$OUT"
check_match "status: uptime" '^uptime: [0-9]+ seconds$' "$OUT"
check_match "status: config file" "^config: /" "$OUT"
check_match "status: generation 1" '^config_generation: 1$' "$OUT"
check_match "status: workers" '^workers: 1$' "$OUT"
check_match "status: listen addresses" \
    "^listen: 127\\.0\\.0\\.1@$PROXY_PORT( |\$)" "$OUT"
check_match "status: control socket" "^control: $(re_escape "$SOCK")\$" \
    "$OUT"
check_match "status: metrics off" '^metrics: none$' "$OUT"
check_match "status: prefix" "^prefix: $(re_escape "$NSP1")/96\$" "$OUT"
check_match "status: forwarder, state per group" \
    "^forwarder: $(re_escape "$FWD") A up, AAAA up, other up, (no reply yet|srtt [0-9]+ ms)\$" \
    "$OUT"
check_match "status: cache" '^cache: [0-9]+ entries, [0-9]+ bytes of [0-9]+$' \
    "$OUT"
check_match "status: queries in flight" '^queries_in_flight: [0-9]+$' "$OUT"
check_eq "status: last line" "dns64proxy (pid $PROXY_PID) is running" \
    "$(printf '%s\n' "$OUT" | tail -n 1)"

# ----------------------------------------------------------------- stats

ctl stats
check_eq "stats: exit 0" 0 "$RC"
check_eq "stats: every line is name=value" "" \
    "$(printf '%s\n' "$OUT" | grep -Ev '^[A-Za-z0-9_.@:-]+=[0-9]+(\.[0-9]{6})?$')"
check_range "stats: many counters" 100 1000 "$(printf '%s\n' "$OUT" | wc -l)"
for n in time.now time.up config.generation config.reloads.success \
    config.reloads.failure queries.udp.ipv4.AAAA queries.tcp.ipv6.PTR \
    queries.total queries.inflight outcome.synthesized outcome.refused \
    rcode.NOERROR rcode.BADVERS dns64.synthesized_records \
    dns64.aaaa_excluded dns64.a_unmapped cache.reply_hits cache.misses \
    cache.entries cache.bytes upstream.queries upstream.timeouts \
    tcp.accepted "forwarder.$FWD.tries" "forwarder.$FWD.up.AAAA" \
    latency.count latency.sum upstream.rtt.count \
    latency.histogram.0.000000.to.0.000250 \
    latency.histogram.8.192000.to.inf; do
	check_ne "stats: $n" "" "$(stat_of "$n")"
done
total0=$(stat_of queries.total)
aaaa0=$(stat_of queries.udp.ipv4.AAAA)
syn0=$(stat_of outcome.synthesized)
rrs0=$(stat_of dns64.synthesized_records)
tries0=$(stat_of "forwarder.$FWD.tries")
lat0=$(stat_of latency.count)

out=$(q a-multi.t.example AAAA)
check_eq "a-multi AAAA is synthesized" \
    "$(printf '%s\n' "${NSP1}c000:201" "${NSP1}c000:202" | sort)" \
    "$(aaaa_of "$out" | sort)"
ctl stats
check_eq "stats: queries.total +1" $((total0 + 1)) \
    "$(stat_of queries.total)"
check_eq "stats: queries.udp.ipv4.AAAA +1" $((aaaa0 + 1)) \
    "$(stat_of queries.udp.ipv4.AAAA)"
check_eq "stats: outcome.synthesized +1" $((syn0 + 1)) \
    "$(stat_of outcome.synthesized)"
check_eq "stats: dns64.synthesized_records +2" $((rrs0 + 2)) \
    "$(stat_of dns64.synthesized_records)"
check_range "stats: the forwarder's tries grew" $((tries0 + 1)) \
    $((tries0 + 3)) "$(stat_of "forwarder.$FWD.tries")"
check_eq "stats: latency.count +1" $((lat0 + 1)) "$(stat_of latency.count)"
hsum=$(printf '%s\n' "$OUT" | sed -n 's/^latency\.histogram\..*=//p' |
    awk '{ s += $1 } END { print s + 0 }')
check_eq "stats: the latency buckets add up to latency.count" \
    "$(stat_of latency.count)" "$hsum"
check_range "stats: cache.entries > 0" 1 1000 "$(stat_of cache.entries)"
# Reading resets nothing.
total1=$(stat_of queries.total)
check_eq "stats: a second read resets nothing" "$total1" \
    "$(stat_now queries.total)"

# ----------------------------------------------------------------- flush

# a-only A is answered from the cache the second time: the forwarder is
# not asked again.
q a-only.t.example A >/dev/null
ctl stats
tries1=$(stat_of "forwarder.$FWD.tries")
hits1=$(stat_of cache.reply_hits)
out=$(q a-only.t.example A)
check_eq "a-only A again" "a-only.t.example." \
    "$(answer_rrs "$out" | awk '{ print $1 }')"
ctl stats
check_eq "flush: (before) the second query is a cache hit" $((hits1 + 1)) \
    "$(stat_of cache.reply_hits)"
check_eq "flush: (before) the forwarder was not asked" "$tries1" \
    "$(stat_of "forwarder.$FWD.tries")"
ctl flush a-only.t.example
check_eq "flush NAME: exit 0" 0 "$RC"
check_match "flush NAME: says what it dropped" \
    '^ok: [1-9][0-9]* cache entr(y|ies) for a-only\.t\.example dropped$' "$OUT"
q a-only.t.example A >/dev/null
check_range "flush NAME: the next query goes to the forwarder" \
    $((tries1 + 1)) $((tries1 + 2)) "$(stat_now "forwarder.$FWD.tries")"
ctl flush A-ONLY.T.Example.
check_match "flush NAME: any case, absolute" '^ok: [1-9][0-9]* cache entr' \
    "$OUT"
ctl flush
check_eq "flush: exit 0" 0 "$RC"
check_match "flush: says how many it dropped" \
    '^ok: [0-9]+ cache entr(y|ies) dropped$' "$OUT"
check_eq "flush: the cache is empty" 0 "$(stat_now cache.entries)"
ctl flush 'a..b'
check_eq "flush with a bad name: exit 1" 1 "$RC"
check_match "flush with a bad name: error" '^error: .*not a domain name' \
    "$ERR"

# ------------------------------------------------------------- verbosity

q both.t.example A >/dev/null
check_false "verbosity 0 (started without -v): no per-query line" \
    proxy_logged both.t.example. A 'passed'
ctl verbosity 1
check_eq "verbosity 1: exit 0" 0 "$RC"
check_eq "verbosity 1: reply" "ok: verbosity 1 (was 0)" "$OUT"
q both.t.example A >/dev/null
check_true "verbosity 1: per-query lines" \
    proxy_logged both.t.example. A 'passed NOERROR'
ctl status
check_match "status shows verbosity 1" '^verbosity: 1$' "$OUT"
for bad in x 3 -1 1x ""; do
	ctl verbosity "$bad"
	check_eq "verbosity '$bad': exit 1" 1 "$RC"
done
ctl verbosity x
check_match "verbosity x: error" '^error: verbosity is 0, 1 or 2' "$ERR"
ctl verbosity 0
check_eq "verbosity 0: back" "ok: verbosity 0 (was 1)" "$OUT"
n=$(count_matches "$PROXY_LOG" '^127\.0\.0\.1@[0-9]+ ')
q both.t.example AAAA >/dev/null
q both.t.example AAAA >/dev/null
check_eq "verbosity 0: no per-query line any more" "$n" \
    "$(count_matches "$PROXY_LOG" '^127\.0\.0\.1@[0-9]+ ')"

# ----------------------------------------------------------- dump-config

ctl dump-config
check_eq "dump-config: exit 0" 0 "$RC"
printf '%s\n' "$OUT" >"$TEST_TMP/dump.conf"
check_match "dump-config: the running prefix" "^prefix $(re_escape "$NSP1")/96\$" \
    "$OUT"
check_match "dump-config: the control socket" \
    "^control-socket \"$(re_escape "$SOCK")\"\$" "$OUT"
run_bin -n -f "$TEST_TMP/dump.conf"
check_eq "dump-config: dns64proxy -n accepts it" "0 configuration OK" \
    "$RC $ERR"
# And it parses back to itself: -nv prints the same configuration.
run_bin -nv -f "$TEST_TMP/dump.conf"
check_eq "dump-config: -nv of the dump prints the dump" \
    "$(grep -v '^#' "$TEST_TMP/dump.conf")" "$(printf '%s\n' "$OUT" |
    grep -v '^#')"

# ---------------------------------------------------------------- reload

write_conf "$NSP2"
ctl reload
check_eq "reload: exit 0" 0 "$RC"
check_eq "reload: ok after the swap" \
    "ok: configuration generation 2 is running" "$OUT"
check_eq "reload: the new prefix answers" "${NSP2}c000:221" \
    "$(aaaa_of "$(q a-only.t.example AAAA)")"
ctl status
check_match "reload: status says generation 2" '^config_generation: 2$' \
    "$OUT"
check_eq "reload: stats count it" 1 "$(stat_now config.reloads.success)"

printf 'forwarder 127.0.0.1 port %s\nprefix %s/96\nbogus-keyword 1\n' \
    "$UNBOUND_PORT" "$NSP1" >"$CONF"
ctl reload
check_eq "reload of a bad file: exit 1" 1 "$RC"
check_match "reload of a bad file: error, the log has file:line" \
    '^error: .*not loaded, see the file:line messages in the log; the running configuration is kept$' \
    "$ERR"
check_match "reload of a bad file: file:line in the log" \
    "^$(re_escape "$CONF"):3: " "$(cat "$PROXY_LOG")"
check_eq "reload of a bad file: the old prefix still answers" \
    "${NSP2}c000:221" "$(aaaa_of "$(q a-only.t.example AAAA)")"
ctl stats
check_eq "reload of a bad file: still generation 2" 2 \
    "$(stat_of config.generation)"
check_eq "reload of a bad file: counted as a failure" 1 \
    "$(stat_of config.reloads.failure)"

# SIGHUP is the same reload.
write_conf "$NSP1"
kill -HUP "$PROXY_PID"
if wait_for_grep "$PROXY_LOG" '^configuration generation 3 is running$' 5
then
	ok "SIGHUP: generation 3"
else
	not_ok "SIGHUP: generation 3"
fi
check_eq "SIGHUP: the prefix changed back" "${NSP1}c000:221" \
    "$(aaaa_of "$(q a-only.t.example AAAA)")"

# ------------------------------------------------------ errors and codes

"$CTL" -s "$SOCK" bogus >/dev/null 2>"$TEST_TMP/bogus.err"
check_eq "bad command: exit 1" 1 "$?"
check_match "bad command: says so" 'unknown command "bogus"' \
    "$(cat "$TEST_TMP/bogus.err")"
"$CTL" -s "$SOCK" status extra >/dev/null 2>&1
check_eq "status with an argument: exit 1" 1 "$?"
"$CTL" >/dev/null 2>&1
check_eq "no command: exit 1" 1 "$?"
"$CTL" -h >"$TEST_TMP/help.out" 2>&1
check_eq "-h: exit 0" 0 "$?"
check_match "-h: usage" '^usage: dns64proxy-control ' \
    "$(cat "$TEST_TMP/help.out")"
check_match "-h: lists dump-config" 'dump-config' "$(cat "$TEST_TMP/help.out")"

# The server checks too: the protocol tag, the command, its arguments.
check_match "server: unknown command" '^error: unknown command "bogus"' \
    "$(raw "DNS64P1 bogus")"
check_match "server: wrong tag" '^error: not a DNS64P1 request' \
    "$(raw "HELLO status")"
check_match "server: too many arguments" '^error: usage: flush \[name\]' \
    "$(raw "DNS64P1 flush a b")"
check_match "server: CRLF is fine" '^dns64proxy \(pid [0-9]+\) is running' \
    "$(raw $'DNS64P1 status\r')"
check_match "server: no newline, then EOF: the request is what came" \
    '^dns64proxy \(pid [0-9]+\) is running' "$(raw 'DNS64P1 status' noeol)"
check_match "server: a request too long" '^error: request too long' \
    "$(raw "DNS64P1 flush $(printf 'a%.0s' $(seq 1 600))")"

# Not running: no socket, or nobody listening.
RC=0
"$CTL" -s "$TEST_TMP/nothing.sock" status >/dev/null \
    2>"$TEST_TMP/nr.err" || RC=$?
check_eq "not running (no socket): exit 3" 3 "$RC"
check_eq "not running (no socket): message" \
    "dns64proxy is not running (no control socket at $TEST_TMP/nothing.sock)" \
    "$(cat "$TEST_TMP/nr.err")"
stale_socket "$TEST_TMP/stale1.sock"
RC=0
"$CTL" -s "$TEST_TMP/stale1.sock" status >/dev/null \
    2>"$TEST_TMP/nr.err" || RC=$?
check_eq "not running (stale socket): exit 3" 3 "$RC"
check_match "not running (stale socket): message" \
    '^dns64proxy is not running' "$(cat "$TEST_TMP/nr.err")"

# Permission denied: an unprivileged user cannot reach the socket.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	RC=0
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$CTL" -s "$SOCK" status >/dev/null 2>"$TEST_TMP/perm.err" ||
	    RC=$?
	check_eq "permission denied: exit 4" 4 "$RC"
	check_match "permission denied: message" \
	    'permission denied: run as root or as a member of the socket'"'"'s group' \
	    "$(cat "$TEST_TMP/perm.err")"
else
	skip_check "permission denied" "needs root, setpriv and user nobody"
	skip_check "permission denied: message" \
	    "needs root, setpriv and user nobody"
fi

# ------------------------------------------------- live and stale sockets

# The default path is best effort: a user who may not create it gets a
# warning and a daemon without control socket (nothing is created).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	run_bg "$TEST_TMP/nobody.log" setpriv --reuid=nobody \
	    --regid="$(id -g nobody)" --clear-groups "$PROXY_BIN" -d \
	    -f /dev/null -u "$FWD" -l "127.0.0.1@$(random_port)"
	nb_pid=$BG_PID
	if wait_for_grep "$TEST_TMP/nobody.log" ' ready$' 10; then
		ok "default path unusable: the daemon starts anyway"
	else
		not_ok "default path unusable: the daemon starts anyway" \
		    "$(cat "$TEST_TMP/nobody.log")"
	fi
	check_match "default path unusable: a warning says so" \
	    "^control socket /run/dns64proxy/control\\.sock: .*; running without a control socket" \
	    "$(cat "$TEST_TMP/nobody.log")"
	stop_pid "$nb_pid"
else
	skip_check "default path unusable" "needs root, setpriv and user nobody"
	skip_check "default path unusable: warning" \
	    "needs root, setpriv and user nobody"
fi

# A second daemon on the same socket refuses to start; the first keeps it.
run_bin -d -f /dev/null -u "$FWD" -l "127.0.0.1@$(random_port)" -s "$SOCK"
check_eq "second daemon on a live socket: exit 1" 1 "$RC"
check_match "second daemon: says why" \
    "control socket $(re_escape "$SOCK") is in use by another running daemon" \
    "$ERR"
ctl status
check_match "the first daemon still has its socket" \
    "^dns64proxy \\(pid $PROXY_PID\\) is running\$" "$OUT"

# A path that is not a socket is left alone.
: >"$TEST_TMP/plain-file"
run_bin -d -f /dev/null -u "$FWD" -l "127.0.0.1@$(random_port)" \
    -s "$TEST_TMP/plain-file"
check_eq "a regular file at the path: exit 1" 1 "$RC"
check_match "a regular file at the path: says why" 'exists and is not a socket' \
    "$ERR"
check_true "the file is still there" test -f "$TEST_TMP/plain-file"

# ------------------------------------------------- reload moves the socket

SOCK1=$SOCK
SOCK2=$TEST_TMP/run/control2.sock
write_conf "$NSP1"
sed -i "s|^control-socket .*|control-socket \"$SOCK2\"|" "$CONF"
ctl reload
check_eq "reload to a new socket: ok" \
    "ok: configuration generation 4 is running" "$OUT"
check_false "the old socket is gone" test -e "$SOCK1"
SOCK=$SOCK2
ctl status
check_match "the new socket serves" '^config_generation: 4$' "$OUT"
check_eq "the new socket is mode 0660" "660" "$(stat -c %a "$SOCK2")"

# A socket that cannot be made: the reload fails, the old one stays.
sed -i "s|^control-socket .*|control-socket \"$TEST_TMP/plain-file/x.sock\"|" \
    "$CONF"
ctl reload
check_eq "reload to an impossible socket: exit 1" 1 "$RC"
check_match "reload to an impossible socket: says why" \
    "^error: control socket $(re_escape "$TEST_TMP/plain-file/x.sock"): " \
    "$ERR"
ctl status
check_match "the old socket still serves, same generation" \
    '^config_generation: 4$' "$OUT"

# Exit removes the socket.
stop_proxy
check_false "the socket is removed at exit" test -e "$SOCK2"

# A stale socket (a daemon that died) is replaced.
SOCK=$TEST_TMP/stale2.sock
stale_socket "$SOCK"
write_conf "$NSP1"
start_proxy -f "$CONF" -s "$SOCK"
check_match "stale socket: replaced, and logged" \
    "^control socket $(re_escape "$SOCK"): replaced a stale socket\$" \
    "$(cat "$PROXY_LOG")"
ctl status
check_eq "stale socket: the new daemon answers on it" 0 "$RC"
check_match "stale socket: -s replaces the file's control-socket" \
    "^control: $(re_escape "$SOCK")\$" "$OUT"

finish
