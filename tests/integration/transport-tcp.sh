#!/bin/bash
#
# transport-tcp.sh - the proxy's TCP service (RFC 7766): same answers as
# UDP, pipelining and out-of-order replies, one reply stream per
# connection, messages in pieces, the idle timeout (only a complete message
# resets it), clients closing early, and the connection and pipeline caps.
# Client: tests/dnsq (-t pipelines every query on one connection) and bash
# /dev/tcp for connections that send nothing or dribble bytes.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
PREFIX=2001:db8:64::

# ids TEXT: reply IDs in arrival order, space separated.
ids() {
	printf '%s\n' "$1" | sed -n 's/^id=\([0-9]*\) .*/\1/p' | tr '\n' ' ' |
	    sed 's/ $//'
}

# id_qname TEXT: "ID QNAME" per reply, sorted by ID.
id_qname() {
	printf '%s\n' "$1" | grep '^id=' | tr ' ' '\n' |
	    sed -n 's/^id=//p; s/^qname=//p' | paste -d' ' - - | sort -n
}

# tcp_close_ms PORT MODE: open a TCP connection to 127.0.0.1@PORT and print
# "MS SENDING": how many ms passed until the proxy closed it (99999: still
# open after 20 s) and whether the client was still sending then (yes, no;
# - for idle).  MODE idle: send nothing; dribble: send one byte every 0.5 s
# for 30 s, a 256-byte message that never completes.
tcp_close_ms() {
	local port=$1 mode=$2 fd t0 t1 wpid= n rc sending=-
	if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
		echo "-1 -"
		return
	fi
	t0=$(now_ms)
	if [ "$mode" = dribble ]; then
		(
			trap '' PIPE
			printf '\001' >&"$fd" || exit 0
			for n in $(seq 1 60); do
				sleep 0.5
				printf '\000' >&"$fd" 2>/dev/null || exit 0
			done
		) &
		wpid=$!
	fi
	# The proxy never writes on this connection: EOF (or a reset) is
	# read status 1, a timeout is > 128.
	for n in $(seq 1 20); do
		rc=0
		read -r -t 1 -n 1 -u "$fd" _ 2>/dev/null || rc=$?
		[ "$rc" -gt 128 ] || break
	done
	t1=$(now_ms)
	if [ -n "$wpid" ]; then
		sending=no
		kill -0 "$wpid" 2>/dev/null && sending=yes
	fi
	exec {fd}>&-
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
	fi
	if [ "$rc" -gt 128 ]; then
		echo "99999 $sending"
	else
		echo "$((t1 - t0)) $sending"
	fi
}

start_unbound

rules=$TEST_TMP/tcp.rules
cat >"$rules" <<'EOF'
match slow.x.test. A
  delay 1500
  answer slow.x.test. 60 IN A 192.0.2.1
end
match fast.x.test. A
  answer fast.x.test. 60 IN A 192.0.2.2
end
match slow-a.x.test. A
  delay 500
  answer slow-a.x.test. 60 IN A 192.0.2.10
end
match slow-b.x.test. A
  delay 500
  answer slow-b.x.test. 60 IN A 192.0.2.11
end
EOF
for i in 1 2 3 4 5 6 7 8; do
	printf 'match p%d.x.test. A\n  delay 500\n  answer p%d.x.test. 60 IN A 192.0.2.%d\nend\n' \
	    "$i" "$i" $((100 + i))
done >>"$rules"
# h1-h4: never answered (the proxy's upstream-timeout ends them); marker:
# answered at once, to see where a query stands in fakeup's log order.
for i in 1 2 3 4; do
	printf 'match h%d.x.test. A\n  drop\nend\n' "$i"
done >>"$rules"
for i in 1 2 3; do
	printf 'match marker%d.x.test. A\n  answer marker%d.x.test. 60 IN A 192.0.2.99\nend\n' \
	    "$i" "$i"
done >>"$rules"
start_fakeup "$rules"

# PU: unbound upstream, 2 s idle timeout.
printf 'tcp-idle-timeout 2\n' >"$TEST_TMP/pu.conf"
start_proxy -f "$TEST_TMP/pu.conf" -u "127.0.0.1@$UNBOUND_PORT" \
    -p "$PREFIX/96" -v
PU_PORT=$PROXY_PORT PU_PID=$PROXY_PID PU_LOG=$PROXY_LOG

# ------------------------------------------------- RFC 7766 5: same answer
udp=$(q a-only.t.example AAAA)
tcp=$(q +tcp a-only.t.example AAAA)
check_eq "RFC 7766 5: dig +tcp AAAA a-only: NOERROR" NOERROR "$(status_of "$tcp")"
check_eq "RFC 7766 5: dig +tcp: synthesized AAAA" \
    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(answer_rrs "$tcp")"
check_eq "RFC 7766 5: TCP answer = UDP answer" "$(answer_rrs "$udp")" \
    "$(answer_rrs "$tcp")"
check_eq "RFC 7766 5: TCP flags = UDP flags" "$(flags_of "$udp")" \
    "$(flags_of "$tcp")"
out=$(dq -t A-OnLy.T.Example/A/id=9)
check_eq "dnsq -t: ID and question case echoed over TCP" \
    "9 A-OnLy.T.Example." "$(dq_field id "$out") $(dq_field qname "$out")"
check_eq "dnsq -t: passthrough answer" "a-only.t.example. 300 a 192.0.2.33" \
    "$(dq_answer "$out" | tr 'A-Z' 'a-z')"
if have_ipv6; then
	out=$(dq -t -s ::1 a-only.t.example/AAAA)
	check_eq "TCP over ::1: synthesized AAAA" \
	    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(dq_answer "$out")"
else
	skip_check "TCP over ::1" "no IPv6 loopback"
fi
out=$(q +tcp +noedns big.t.example A)
check_eq "TCP has no 512-byte limit: 60 A without EDNS" 60 "$(ancount_of "$out")"
check_false "TCP, 60 A: TC=0" has_flag tc "$out"

# ---------------------------------------- RFC 7766 6.2.1: pipelining
names="a-only a-multi both ns ttl-500 ttl-1300 private global split big"
qs=() exp=
i=100
for n in $names; do
	i=$((i + 1))
	qs+=("$n.t.example/A/id=$i")
	exp+="$i $n.t.example."$'\n'
done
out=$(dq -t "${qs[@]}")
rc=$?
check_eq "RFC 7766 6.2.1: 10 pipelined queries: exit 0" 0 "$rc"
check_eq "RFC 7766 6.2.1: 10 pipelined queries: 10 replies" 10 \
    "$(dq_count "$out")"
check_eq "RFC 7766 6.2.1: each ID answered with its own question" \
    "${exp%$'\n'}" "$(id_qname "$out")"
check_nomatch "RFC 7766 6.2.1: connection not closed" '^closed' "$out"
check_match "pipelined: reply 101 has a-only's A" \
    '^id=101 rcode=NOERROR .* answer=a-only\.t\.example\. 300 A 192\.0\.2\.33$' "$out"
check_match "pipelined: reply 110 has all 60 A of big" \
    '^id=110 rcode=NOERROR .* an=60 ' "$out"
check_eq "pipelined: all 10 came from one client port (one connection)" 1 \
    "$(grep -E '^127\.0\.0\.1@[0-9]+ [a-z0-9-]+\.t\.example\. A passed' \
    "$PU_LOG" | tail -n 10 | cut -d' ' -f1 | sort -u | wc -l)"

# ------------------------------------- RFC 7766 8: message in pieces
t0=$(now_ms)
out=$(dq -t -S -d 200 a-only.t.example/AAAA/id=21 both.t.example/AAAA/id=22)
t1=$(now_ms)
check_eq "RFC 7766 8: split messages: 2 replies" "21 22" "$(ids "$out")"
check_eq "RFC 7766 8: split message: synthesized answer" \
    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(dq_answer "$out")"
check_match "RFC 7766 8: second split message: real AAAA" \
    '^id=22 .* answer=both\.t\.example\. 3600 AAAA 2001:db8::2$' "$out"
check_ge "RFC 7766 8: the pieces really were 200 ms apart (>= 1.2 s)" \
    1200 $((t1 - t0))

# ------------------------------------- RFC 7766 6.2.3: idle timeout
# The timer (2 s) runs out before anything else happens: the silent
# connection is closed, not before 1.5 s; the dribbling one while it is
# still sending (30 s of bytes), since bytes that do not complete a
# message do not reset the timer.
read -r ms sending < <(tcp_close_ms "$PU_PORT" idle)
note "silent connection closed after $ms ms"
check_ne "RFC 7766 6.2.3: silent connection closed by the proxy" 99999 "$ms"
check_ge "RFC 7766 6.2.3: ... not before the 2 s idle timeout" 1500 "$ms"
read -r ms sending < <(tcp_close_ms "$PU_PORT" dribble)
note "dribbling connection closed after $ms ms"
check_eq "RFC 7766 6.2.3: 1 byte / 0.5 s never completing: closed while the client was still sending" \
    yes "$sending"
check_ge "RFC 7766 6.2.3: ... not before the 2 s idle timeout" 1500 "$ms"
# A complete message resets the timer: 4 queries 1 s apart (3 s in all)
# on one connection are all answered.
out=$(dq -t -d 1000 -T 3000 a-only.t.example/A/id=31 both.t.example/A/id=32 \
    a-multi.t.example/A/id=33 ns.t.example/A/id=34)
check_eq "RFC 7766 6.2.3: each complete message resets the idle timer" \
    "31 32 33 34" "$(ids "$out")"
check_nomatch "RFC 7766 6.2.3: ... and the connection stays open" '^closed' "$out"

# ----------------- RFC 7766 6.2.3: a client that never reads its replies
# One connection writes FLOOD_N queries for big.t.example (60 A, ~1 KB per
# reply: ~40 MB of replies) and never reads.  The proxy stops reading from
# a connection while more than 64 KiB of replies wait to be written, so
# the idle timeout (2 s) closes it soon, and its memory stays bounded.
# Without that bound the proxy reads all 40000 and keeps the replies the
# kernel will not take: ~38 MB more peak RSS here.  With it the proxy takes
# only what fills the kernel's socket buffers (a few MB, ~3000 queries
# here).  Meanwhile other clients are served.  The close is seen on the
# proxy's side of the connection (/proc/net/tcp): the client, which reads
# nothing, gets the FIN only after the unsent replies.  The memory this
# takes (peak RSS) is a figure for make bench, not a check here.
# PB: a fresh proxy of its own.
FLOOD_N=40000
start_proxy -f "$TEST_TMP/pu.conf" -u "127.0.0.1@$UNBOUND_PORT" \
    -p "$PREFIX/96" -v
PB_PORT=$PROXY_PORT PB_PID=$PROXY_PID PB_LOG=$PROXY_LOG

# tcp_port_hex FD: the local port (4 hex digits, as /proc/net/tcp has it)
# of this shell's TCP socket FD.
tcp_port_hex() {
	local ino
	ino=$(readlink "/proc/$$/fd/$1") || return 1
	ino=${ino#socket:[}
	awk -v i="${ino%]}" '$10 == i { split($2, a, ":"); print a[2] }' \
	    /proc/net/tcp
}

# tcp_state LPORT RPORT: the state (hex, 01 = established) of the socket
# 127.0.0.1:LPORT -> 127.0.0.1:RPORT (hex ports); empty if there is none.
tcp_state() {
	awk -v l="0100007F:$1" -v r="0100007F:$2" \
	    '$2 == l && $3 == r { print $4; exit }' /proc/net/tcp
}

# The flood: 1000 framed queries (length 31, ID i, RD, no EDNS), FLOOD_N/1000
# times.
qbody='\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03big\x01t\x07example\x00\x00\x01\x00\x01'
fmt=
for ((i = 0; i < 1000; i++)); do
	printf -v f '\\x00\\x1f\\x%02x\\x%02x%s' $((i >> 8)) $((i & 255)) \
	    "$qbody"
	fmt+=$f
done
printf '%b' "$fmt" >"$TEST_TMP/flood1k.bin"
for ((i = 0; i < FLOOD_N / 1000; i++)); do
	cat "$TEST_TMP/flood1k.bin"
done >"$TEST_TMP/flood.bin"

exec {fl}<>"/dev/tcp/127.0.0.1/$PB_PORT" || bail "cannot connect to proxy"
cport=$(tcp_port_hex "$fl")
pport=$(printf '%04X' "$PB_PORT")
if [ -z "$cport" ] || [ "$(tcp_state "$pport" "$cport")" != 01 ]; then
	bail "flood connection not found in /proc/net/tcp"
fi
t0=$(now_ms)
# The writer blocks once the proxy stops reading and the kernel buffers are
# full; it ends when the proxy closes (EPIPE) or at the latest with the
# test (tracked).
cat "$TEST_TMP/flood.bin" 1>&"$fl" 2>/dev/null </dev/null &
fpid=$!
track_pid "$fpid"
wait_for_grep "$PB_LOG" ' big\.t\.example\. A ' 10 ||
    note "flood: no query of it answered yet"
st=$(tcp_state "$pport" "$cport")
out=$(dq -t -T 2000 a-only.t.example/AAAA/id=81)
check_eq "unread replies: another TCP client is answered meanwhile" \
    "81 a-only.t.example. 300 AAAA ${PREFIX}c000:221" \
    "$(dq_field id "$out") $(dq_answer "$out")"
out=$(dq -T 2000 a-only.t.example/AAAA/id=82)
check_eq "unread replies: a UDP client is answered meanwhile" \
    "82 a-only.t.example. 300 AAAA ${PREFIX}c000:221" \
    "$(dq_field id "$out") $(dq_answer "$out")"
check_eq "unread replies: ... while the flooding connection was open" 01 "$st"
# Wait (at most 60 s) for the proxy to close its side; note when it last
# answered a query of the flood (taken = their number).
taken=0 t_last=$t0
for n in $(seq 1 600); do
	st=$(tcp_state "$pport" "$cport")
	c=$(count_matches "$PB_LOG" ' big\.t\.example\. A ')
	if [ "$c" != "$taken" ]; then
		taken=$c t_last=$(now_ms)
	fi
	[ "$st" = 01 ] || break
	sleep 0.1
done
t1=$(now_ms)
note "flood of $FLOOD_N unread queries: $taken answered, the last after" \
    "$((t_last - t0)) ms; closed after $((t1 - t0)) ms (state '$st')"
check_range "unread replies: the proxy stopped reading: took < half of the $FLOOD_N queries" \
    1 $((FLOOD_N / 2)) "$taken"
check_ne "unread replies: the proxy closed the connection (idle timeout) while the client held it" \
    01 "$st"
exec {fl}>&-
stop_pid "$fpid"
check_true "unread replies: proxy PB still running" kill -0 "$PB_PID"
out=$(dq -t a-only.t.example/A/id=83)
check_eq "unread replies: afterwards a new connection is served" \
    "83 a-only.t.example. 300 A 192.0.2.33" \
    "$(dq_field id "$out") $(dq_answer "$out")"
stop_pid "$PB_PID"

# fu_before NAME_RE MARKER_RE: the number of fakeup log lines for names
# matching NAME_RE before the first line for MARKER_RE (log order is
# arrival order).
fu_before() {
	awk -v n=" qname=$1 " -v m=" qname=$2 " '
	    $0 ~ m { exit } $0 ~ n { c++ } END { print c + 0 }' "$FAKEUP_LOG"
}

# fu_names_before NAME_RE MARKER_RE: the number of distinct names matching
# NAME_RE asked before the first line for MARKER_RE (a retry of a name that
# waits long for its answer is no new query).
fu_names_before() {
	awk -v n=" qname=$1 " -v m=" qname=$2 " '
	    $0 ~ m { exit }
	    $0 ~ n { for (i = 1; i <= NF; i++) if ($i ~ /^qname=/) seen[$i] = 1 }
	    END { c = 0; for (k in seen) c++; print c }' "$FAKEUP_LOG"
}

# marker_via_proxy PORT NAME: a UDP query for NAME (a marker) through the
# proxy at PORT; true when it is answered (by then fakeup has logged it).
marker_via_proxy() {
	[ "$(dq_answer "$(dnsq_at "$1" -T 5000 "$2/A")")" = \
	    "$2. 60 A 192.0.2.99" ]
}

# PF: fakeup upstream, default limits; upstream-timeout well above the
# 1500 ms of slow.x.test.
printf 'upstream-timeout 3000\n' >"$TEST_TMP/pf.conf"
start_proxy -f "$TEST_TMP/pf.conf" -u "127.0.0.1@$FAKEUP_PORT" \
    -p "$PREFIX/96" -v
PF_PORT=$PROXY_PORT PF_PID=$PROXY_PID PF_LOG=$PROXY_LOG

# ------------------------------------- RFC 7766 7: out of order
out=$(dq -t -T 10000 slow.x.test/A/id=1 fast.x.test/A/id=2)
check_eq "RFC 7766 7: slow then fast pipelined: fast's reply first" "2 1" \
    "$(ids "$out")"
check_match "RFC 7766 7: slow's answer" \
    '^id=1 .* answer=slow\.x\.test\. 60 A 192\.0\.2\.1$' "$out"
check_match "RFC 7766 7: fast's answer" \
    '^id=2 .* answer=fast\.x\.test\. 60 A 192\.0\.2\.2$' "$out"

# RFC 7766 6.2.1.1: pipelined queries are processed concurrently: all four
# (500 ms upstream delay each) are sent upstream before a later UDP query
# for a marker name, which a proxy working through them one at a time
# would send after the first.
run_bg "$TEST_TMP/conc.out" dnsq_at "$PF_PORT" -t -T 10000 \
    p1.x.test/A/id=41 p2.x.test/A/id=42 p3.x.test/A/id=43 p4.x.test/A/id=44
conc=$BG_PID
wait_for_grep "$FAKEUP_LOG" ' qname=p1\.x\.test\. ' 10 ||
    note "p1.x.test never reached fakeup"
check_true "RFC 7766 6.2.1.1: marker query answered meanwhile" \
    marker_via_proxy "$PF_PORT" marker1.x.test
check_eq "RFC 7766 6.2.1.1: the 4 pipelined queries all went upstream before the marker" \
    4 "$(fu_names_before 'p[1-4]\.x\.test\.' 'marker1\.x\.test\.')"
wait "$conc"
out=$(cat "$TEST_TMP/conc.out")
check_eq "RFC 7766 6.2.1.1: 4 pipelined slow queries: 4 replies" 4 \
    "$(dq_count "$out")"

# ------------------------- RFC 7766 5: replies on their own connection
run_bg "$TEST_TMP/c1.out" dq -t -T 10000 slow-a.x.test/A/id=7
c1=$BG_PID
run_bg "$TEST_TMP/c2.out" dq -t -T 10000 slow-b.x.test/A/id=7
c2=$BG_PID
wait "$c1"
wait "$c2"
o1=$(cat "$TEST_TMP/c1.out")
o2=$(cat "$TEST_TMP/c2.out")
check_eq "RFC 7766 5: connection 1: exactly one reply" 1 "$(dq_count "$o1")"
check_eq "RFC 7766 5: connection 1 gets its own answer" \
    "7 slow-a.x.test. slow-a.x.test. 60 A 192.0.2.10" \
    "$(dq_field id "$o1") $(dq_field qname "$o1") $(dq_answer "$o1")"
check_eq "RFC 7766 5: connection 2 (same ID): exactly one reply" 1 \
    "$(dq_count "$o2")"
check_eq "RFC 7766 5: connection 2 gets its own answer" \
    "7 slow-b.x.test. slow-b.x.test. 60 A 192.0.2.11" \
    "$(dq_field id "$o2") $(dq_field qname "$o2") $(dq_answer "$o2")"

# ------------------- RFC 7766 6.2.4: the client leaves with answers pending
# The upstream answers (500 ms) arrive for a closed connection; the proxy
# logs each query when it is done with it.
n0=$(count_matches "$PF_LOG" ' p[5-8]\.x\.test\. A ')
dq -t -c p5.x.test/A p6.x.test/A p7.x.test/A p8.x.test/A \
    >"$TEST_TMP/early.out" 2>&1
check_true "RFC 7766 6.2.4: the four abandoned queries were completed" \
    wait_for_count "$PF_LOG" ' p[5-8]\.x\.test\. A ' $((n0 + 4)) 10
check_true "RFC 7766 6.2.4: proxy still running after the client left" \
    kill -0 "$PF_PID"
out=$(dq -t fast.x.test/A/id=51)
check_eq "RFC 7766 6.2.4: a new TCP connection is served" \
    "fast.x.test. 60 A 192.0.2.2" "$(dq_answer "$out")"
out=$(dq fast.x.test/A/id=52)
check_eq "RFC 7766 6.2.4: UDP still served" "fast.x.test. 60 A 192.0.2.2" \
    "$(dq_answer "$out")"
check_nomatch "RFC 7766 6.2.4: nothing alarming logged" \
    'fatal|abort|assert|segmentation|double free|corrupt' \
    "$(tr 'A-Z' 'a-z' <"$PF_LOG")"

# PL: at most 2 TCP clients, 2 queries in flight per connection; a query
# fakeup never answers (h1-h4) fails once upstream-timeout (2 s) is over.
# One worker in every mode: the cap and the choice of the connection to
# close are each worker's own (tcp-clients in dns64proxy.conf(5)).
printf 'workers 1\ntcp-clients 2\ntcp-pipeline 2\nupstream-timeout 2000\n' \
    >"$TEST_TMP/pl.conf"
start_proxy -f "$TEST_TMP/pl.conf" -u "127.0.0.1@$FAKEUP_PORT" -v
PL_PORT=$PROXY_PORT PL_PID=$PROXY_PID

# ------------------------------------- tcp-pipeline (RFC 7766 6.2.1.1)
# h1 and h2 (never answered) take both slots; p1 and p2 must wait until
# they fail: not sent before a later UDP marker query, and answered in the
# end.
p0=$(fakeup_count ' qname=p[12]\.x\.test\. ')
run_bg "$TEST_TMP/pipe.out" dnsq_at "$PL_PORT" -t -T 15000 \
    h1.x.test/A/id=61 h2.x.test/A/id=62 p1.x.test/A/id=63 p2.x.test/A/id=64
pipe=$BG_PID
wait_for_count "$FAKEUP_LOG" ' qname=h[12]\.x\.test\. ' 2 10 ||
    note "h1/h2 never reached fakeup"
check_true "tcp-pipeline 2: marker query answered meanwhile" \
    marker_via_proxy "$PL_PORT" marker2.x.test
check_eq "tcp-pipeline 2: h1 and h2 went upstream before the marker" 2 \
    "$(fu_names_before 'h[12]\.x\.test\.' 'marker2\.x\.test\.')"
check_eq "tcp-pipeline 2: p1 and p2 did not (only 2 in flight)" "$p0" \
    "$(fu_before 'p[12]\.x\.test\.' 'marker2\.x\.test\.')"
wait "$pipe"
out=$(cat "$TEST_TMP/pipe.out")
check_eq "tcp-pipeline 2: all 4 answered: h1, h2 SERVFAIL, p1, p2 NOERROR" \
    "61 SERVFAIL
62 SERVFAIL
63 NOERROR
64 NOERROR" "$(printf '%s\n' "$out" |
    sed -n 's/^id=\([0-9]*\) rcode=\([A-Z]*\) .*/\1 \2/p' | sort -n)"
check_nomatch "tcp-pipeline 2: connection not closed" '^closed' "$out"

# -------------------------------------- tcp-clients (RFC 7766 6.2.2)
# At the cap (tcp-clients 2) a new client is served and the connection
# idle longest is closed to make room, instead of refusing the newcomer.
exec {h1}<>"/dev/tcp/127.0.0.1/$PL_PORT" || bail "cannot connect to proxy"
exec {h2}<>"/dev/tcp/127.0.0.1/$PL_PORT" || bail "cannot connect to proxy"
# Both accepted: a query on h2 is answered (h2 is then the more recent);
# the third connects only once the proxy has logged h2's answer.
seen=$(count_matches "$PROXY_LOG" ' fast\.x\.test\. A ')
printf '\000\035\000\105\001\000\000\001\000\000\000\000\000\000\004fast\001x\004test\000\000\001\000\001' >&"$h2"
wait_for_count "$PROXY_LOG" ' fast\.x\.test\. A ' $((seen + 1)) 10 ||
    note "h2's query was not logged"
out=$(dq -t -T 3000 fast.x.test/A/id=71)
check_eq "RFC 7766 6.2.2: 3rd connection at the cap of 2: answered" \
    "71 fast.x.test. 60 A 192.0.2.2" "$(dq_field id "$out") $(dq_answer "$out")"
rc=0
read -r -t 3 -u "$h1" _ || rc=$?
check_eq "RFC 7766 6.2.2: the idle connection was closed to make room (EOF)" \
    1 "$rc"
check_true "RFC 7766 6.2.2: logged as closed to make room" \
    wait_for_grep "$PROXY_LOG" 'tcp connection closed to make room' 3
out=$(dq fast.x.test/A/id=72)
check_eq "RFC 7766 6.2.2: UDP clients unaffected" "fast.x.test. 60 A 192.0.2.2" \
    "$(dq_answer "$out")"
exec {h1}>&-
exec {h2}>&-

check_true "proxy PU still running" kill -0 "$PU_PID"
check_true "proxy PL still running" kill -0 "$PL_PID"
rc=0
stop_pid "$PF_PID" || rc=$?
check_eq "proxy PF exits 0 on SIGTERM after the early closes" 0 "$rc"

# ------------------------------------------- stopping with work pending
# Six pipelined queries on PL (tcp-pipeline 2): h3 and h4 go upstream (and
# are never answered: 2 s before they fail), p5-p8 wait in the
# connection's buffer.  SIGTERM then: the proxy ends, and starts none of
# the waiting ones on its way out.  Once it is gone, what it sent is in
# fakeup's socket: a query of our own for marker3.x.test, answered, comes
# after all of it in fakeup's log.
waiting=$(fakeup_count ' qname=p[5-8]\.x\.test\. ')
run_bg "$TEST_TMP/stop.out" dnsq_at "$PL_PORT" -t -T 3000 \
    h3.x.test/A/id=91 h4.x.test/A/id=92 p5.x.test/A/id=93 \
    p6.x.test/A/id=94 p7.x.test/A/id=95 p8.x.test/A/id=96
check_true "shutdown: the first two were sent upstream (tcp-pipeline 2)" \
    wait_for_count "$FAKEUP_LOG" ' qname=h[34]\.x\.test\. ' 2 10
rc=0
stop_pid "$PL_PID" || rc=$?
check_eq "shutdown: proxy PL exits 0 on SIGTERM with queries pending" 0 "$rc"
check_eq "shutdown: marker query straight to fakeup answered" 192.0.2.99 \
    "$(q_fakeup +short marker3.x.test A)"
check_eq "shutdown: none of the four waiting queries was sent" "$waiting" \
    "$(fu_before 'p[5-8]\.x\.test\.' 'marker3\.x\.test\.')"
finish
