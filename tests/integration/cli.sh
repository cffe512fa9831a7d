#!/bin/bash
#
# cli.sh - the command line: -n/-nv config checks, file:line errors, -l/-u/-p
# replacing the config file's lists, bad option values, usage, a bind
# failure, and the signals (TERM stops with a stats line, USR1 logs one,
# HUP says a restart is needed).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig ss

# stat_of NAME LINE: the number after NAME in a "stats:" log line.
stat_of() {
	printf '%s\n' "$2" |
	    sed -n "s/.*[:,;0-9] $1 \([0-9][0-9]*\).*/\1/p"
}

start_unbound

# ---------------------------------------------------------------- -n

good=$TEST_TMP/good.conf
cat >"$good" <<EOF
# a valid file
forwarder 127.0.0.1 port $UNBOUND_PORT
prefix 2001:db8:64::/96
upstream-timeout 700
EOF
run_bin -n -f "$good"
check_eq "-n -f good.conf: exit 0" 0 "$RC"
check_match "-n -f good.conf: 'configuration OK'" '^configuration OK$' "$ERR"
check_eq "-n without -v: the configuration is not printed" "" "$OUT"

run_bin -n -v -f "$good"
check_eq "-n -v -f good.conf: exit 0" 0 "$RC"
check_match "-n -v: prints the forwarder" \
    "^forwarder 127\\.0\\.0\\.1 port $UNBOUND_PORT\$" "$OUT"
check_match "-n -v: prints the prefix" '^prefix 2001:db8:64::/96$' "$OUT"
check_match "-n -v: prints a value from the file" '^upstream-timeout 700$' \
    "$OUT"
check_match "-n -v: prints a default not in the file" \
    '^synthesize-on-error yes$' "$OUT"
check_match "-n -v: prints the default listen address" \
    '^listen on 127\.0\.0\.1 port 53$' "$OUT"

bad=$TEST_TMP/bad.conf
cat >"$bad" <<EOF
# unknown keyword on line 3
forwarder 127.0.0.1 port $UNBOUND_PORT
frobnicate yes
EOF
run_bin -n -f "$bad"
check_eq "-n -f bad.conf: exit 1" 1 "$RC"
check_match "-n -f bad.conf: file:3: message" "^${bad//./\\.}:3: " "$ERR"
check_nomatch "-n -f bad.conf: not OK" 'configuration OK' "$ERR"

run_bin -n -f "$TEST_TMP/does-not-exist.conf"
check_eq "-n -f missing file: exit 1" 1 "$RC"
check_match "-n -f missing file: names the file" 'does-not-exist\.conf' "$ERR"

# Without -n too: a bad file stops startup.
run_bin -d -f "$bad" -l "127.0.0.1@$(random_port)"
check_eq "-d -f bad.conf: startup fails with exit 1" 1 "$RC"
check_match "-d -f bad.conf: file:3:" "^${bad//./\\.}:3: " "$ERR"

run_bin -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -n
check_eq "-f /dev/null -u ... -n: exit 0" "0 configuration OK" "$RC $ERR"

# ---------------------------------------------------------------- bad values

# check_bad DESC REGEX ARGS...: exit 1 with a message matching REGEX.
check_bad() {
	local d=$1 re=$2
	shift 2
	run_bin "$@"
	check_eq "$d: exit 1" 1 "$RC"
	check_match "$d: message" "$re" "$ERR"
	check_nomatch "$d: never ready" ' ready$' "$ERR"
}
check_bad "-u 1.2.3.4@0" '^-u 1\.2\.3\.4@0: .*port' \
    -d -f /dev/null -u 1.2.3.4@0 -l "127.0.0.1@$(random_port)"
check_bad "-p foo" '^-p foo: ' \
    -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p foo \
    -l "127.0.0.1@$(random_port)"
check_bad "-l bad" '^-l bad: .*address' \
    -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -l bad
check_bad "unknown option -x: usage" '^usage: dns64proxy ' \
    -d -x -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" \
    -l "127.0.0.1@$(random_port)"
check_bad "stray argument: usage" '^usage: dns64proxy ' \
    -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" \
    -l "127.0.0.1@$(random_port)" stray

# A port that unbound holds: no fallback for an explicit -l, exit 1.
check_bad "-l on a taken port" '[Aa]ddress already in use' \
    -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" \
    -l "127.0.0.1@$UNBOUND_PORT"

# ------------------------------------------------------- -l/-u/-p replace

# A second "wrong" forwarder that would answer differently and logs every
# query it gets; the file names it, its listen port and a wrong prefix.
cat >"$TEST_TMP/wrong.rules" <<'EOF'
match * *
  answer a-only.t.example. 60 IN A 198.51.100.99
end
EOF
start_fakeup "$TEST_TMP/wrong.rules"
file_port=$(random_port) || bail "no free port"
over=$TEST_TMP/override.conf
cat >"$over" <<EOF
listen on 127.0.0.1 port $file_port
forwarder 127.0.0.1 port $FAKEUP_PORT
prefix 2001:db8:bad::/96
EOF
start_proxy -v -f "$over" -u "127.0.0.1@$UNBOUND_PORT" -p 2001:db8:64::/96
out=$(q a-only.t.example AAAA)
check_eq "-p replaces the file's prefix, -u its forwarder" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"
check_match "-u: the query went to unbound" \
    "^127\\.0\\.0\\.1@[0-9]+ a-only\\.t\\.example\\. AAAA synthesized NOERROR upstream 127\\.0\\.0\\.1@$UNBOUND_PORT\$" \
    "$(cat "$PROXY_LOG")"
check_eq "-u: the file's forwarder got nothing" 0 "$(fakeup_count .)"
# (the proxy's own sockets only: another test may take that port meanwhile)
check_eq "-l replaces the file's listen: port $file_port not bound by it" "" \
    "$(ss -Hanutp "sport = :$file_port" 2>/dev/null | grep "pid=$PROXY_PID,")"
check_match "-l: the proxy's sockets are on port $PROXY_PORT (ss works)" \
    "pid=$PROXY_PID," "$(ss -Hanutp "sport = :$PROXY_PORT" 2>/dev/null)"
check_match "-l: listening on the -l address" \
    "^listening on 127\\.0\\.0\\.1@$PROXY_PORT\$" "$(cat "$PROXY_LOG")"
check_nomatch "-l: not listening on the file's address" \
    "^listening on .*@$file_port\$" "$(cat "$PROXY_LOG")"
stop_proxy

# The file's lists are used when there is no -l/-u/-p (the test above
# means something): the proxy from the file alone answers from fakeup.
run_bg "$TEST_TMP/fileonly.log" "$PROXY_BIN" -d -v -f "$over" \
    -s "$TEST_TMP/fileonly.sock"
fo_pid=$BG_PID
if wait_for_grep "$TEST_TMP/fileonly.log" 'ready' 5; then
	out=$(dig_at "$file_port" a-only.t.example AAAA)
	check_eq "file only: its prefix, its forwarder" \
	    "a-only.t.example. 60 AAAA 2001:db8:bad::c633:6463" \
	    "$(answer_rrs "$out")"
else
	not_ok "file only: proxy started" "$(cat "$TEST_TMP/fileonly.log")"
fi
stop_pid "$fo_pid"
stop_fakeup

# ---------------------------------------------------------------- signals

start_proxy -v -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p 2001:db8:64::/96
q a-only.t.example AAAA >/dev/null
q +tcp a-only.t.example A >/dev/null

kill -USR1 "$PROXY_PID"
if wait_for_grep "$PROXY_LOG" '^stats: ' 5; then
	ok "USR1: a stats line is logged"
else
	not_ok "USR1: a stats line is logged" "$(cat "$PROXY_LOG")"
fi
line=$(grep '^stats: ' "$PROXY_LOG" | tail -n 1)
check_eq "USR1: counters: 1 UDP and 1 TCP query" "1 1" \
    "$(stat_of 'queries udp' "$line") $(stat_of tcp "$line")"
check_eq "USR1: counters: 1 synthesized" 1 "$(stat_of synthesized "$line")"
check_eq "USR1: counters: 1 passed (the A query)" 1 "$(stat_of passed "$line")"
check_eq "USR1: counters: 3 upstream queries (AAAA, A leg, A)" 3 \
    "$(stat_of 'upstream queries' "$line")"
out=$(q a-only.t.example AAAA)
check_eq "USR1: still running and answering" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"

kill -HUP "$PROXY_PID"
if wait_for_grep "$PROXY_LOG" '^configuration generation 2 is running$' 5; then
	ok "HUP: reloaded, generation 2"
else
	not_ok "HUP: reloaded, generation 2" "$(cat "$PROXY_LOG")"
fi
out=$(q a-only.t.example AAAA)
check_eq "HUP: still running and answering" \
    "a-only.t.example. 300 AAAA 2001:db8:64::c000:221" "$(answer_rrs "$out")"

before=$(count_matches "$PROXY_LOG" '^stats: ')
rc=0
stop_proxy || rc=$?
check_eq "TERM: exit status 0" 0 "$rc"
check_eq "TERM: one more stats line at exit" $((before + 1)) \
    "$(count_matches "$PROXY_LOG" '^stats: ')"
line=$(grep '^stats: ' "$PROXY_LOG" | tail -n 1)
check_eq "TERM: final counters: 2 more UDP queries, synthesized" "3 1 3" \
    "$(stat_of 'queries udp' "$line") $(stat_of tcp "$line") $(stat_of synthesized "$line")"
check_eq "TERM: final counters: still 1 passed" 1 "$(stat_of passed "$line")"

finish
