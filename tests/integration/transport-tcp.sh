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
# how many ms pass until the proxy closes it (at most ~7000).  MODE idle:
# send nothing; dribble: send one byte every 0.5 s, a 256-byte message
# that never completes.
tcp_close_ms() {
	local port=$1 mode=$2 fd t0 t1 wpid= n rc
	if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
		echo -1
		return
	fi
	t0=$(now_ms)
	if [ "$mode" = dribble ]; then
		(
			trap '' PIPE
			printf '\001' >&"$fd" || exit 0
			for n in $(seq 1 14); do
				sleep 0.5
				printf '\000' >&"$fd" 2>/dev/null || exit 0
			done
		) &
		wpid=$!
	fi
	# The proxy never writes on this connection: EOF (or a reset) is
	# read status 1, a timeout is > 128.
	for n in 1 2 3 4 5 6 7; do
		rc=0
		read -r -t 1 -n 1 -u "$fd" _ 2>/dev/null || rc=$?
		[ "$rc" -gt 128 ] || break
	done
	t1=$(now_ms)
	exec {fd}>&-
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
	fi
	if [ "$rc" -gt 128 ]; then
		echo 99999
	else
		echo $((t1 - t0))
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
check_range "RFC 7766 8: the pieces really were 200 ms apart (>= 1.2 s)" \
    1200 8000 $((t1 - t0))

# ------------------------------------- RFC 7766 6.2.3: idle timeout
ms=$(tcp_close_ms "$PU_PORT" idle)
note "silent connection closed after $ms ms"
check_range "RFC 7766 6.2.3: silent connection closed after ~2 s" 1500 4000 "$ms"
ms=$(tcp_close_ms "$PU_PORT" dribble)
note "dribbling connection closed after $ms ms"
check_range "RFC 7766 6.2.3: 1 byte / 0.5 s never completing: closed at ~2 s" \
    1500 4000 "$ms"
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
# nothing, gets the FIN only after the unsent replies.  The idle timeout
# runs from the last query the proxy took (its -v line), not from the
# start: how long the proxy needs to fill the buffers depends on the load.
# PB: a fresh proxy of its own, so its peak RSS (VmHWM) measures this
# alone.
FLOOD_N=40000
FLOOD_HWM_MAX=8192	# kB
start_proxy -f "$TEST_TMP/pu.conf" -u "127.0.0.1@$UNBOUND_PORT" \
    -p "$PREFIX/96" -v
PB_PORT=$PROXY_PORT PB_PID=$PROXY_PID PB_LOG=$PROXY_LOG

# vm_hwm PID: peak resident set size of PID in kB.
vm_hwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"
}

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

hwm0=$(vm_hwm "$PB_PID")
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
sleep 0.3
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
# Wait (at most 20 s) for the proxy to close its side; note when it last
# answered a query of the flood (taken = their number).
taken=0 t_last=$t0
for n in $(seq 1 200); do
	st=$(tcp_state "$pport" "$cport")
	c=$(count_matches "$PB_LOG" ' big\.t\.example\. A ')
	if [ "$c" != "$taken" ]; then
		taken=$c t_last=$(now_ms)
	fi
	[ "$st" = 01 ] || break
	sleep 0.1
done
t1=$(now_ms)
hwm1=$(vm_hwm "$PB_PID")
note "flood of $FLOOD_N unread queries: $taken answered, the last after" \
    "$((t_last - t0)) ms; closed after $((t1 - t0)) ms (state '$st')," \
    "VmHWM $hwm0 -> $hwm1 kB"
# AddressSanitizer's quarantine keeps freed memory, so under it the RSS
# says nothing; the count of queries taken below still does.
if ldd "$PROXY_BIN" 2>/dev/null | grep -q libasan; then
	note "AddressSanitizer build: peak RSS not checked"
else
	check_range "unread replies: peak RSS grows by less than $FLOOD_HWM_MAX kB for ~40 MB of replies" \
	    0 "$FLOOD_HWM_MAX" $((hwm1 - hwm0))
fi
check_range "unread replies: the proxy stopped reading: took < half of the $FLOOD_N queries" \
    1 $((FLOOD_N / 2)) "$taken"
check_range "unread replies: closed by the idle timeout (2 s) after the last query taken (1-4 s)" \
    1000 4000 $((t1 - t_last))
exec {fl}>&-
stop_pid "$fpid"
check_true "unread replies: proxy PB still running" kill -0 "$PB_PID"
out=$(dq -t a-only.t.example/A/id=83)
check_eq "unread replies: afterwards a new connection is served" \
    "83 a-only.t.example. 300 A 192.0.2.33" \
    "$(dq_field id "$out") $(dq_answer "$out")"
stop_pid "$PB_PID"

# PF: fakeup upstream, default limits; upstream-timeout well above the
# 1500 ms of slow.x.test.
printf 'upstream-timeout 3000\n' >"$TEST_TMP/pf.conf"
start_proxy -f "$TEST_TMP/pf.conf" -u "127.0.0.1@$FAKEUP_PORT" \
    -p "$PREFIX/96" -v
PF_PID=$PROXY_PID PF_LOG=$PROXY_LOG

# ------------------------------------- RFC 7766 7: out of order
t0=$(now_ms)
out=$(dq -t -T 4000 slow.x.test/A/id=1 fast.x.test/A/id=2)
t1=$(now_ms)
check_eq "RFC 7766 7: slow then fast pipelined: fast's reply first" "2 1" \
    "$(ids "$out")"
check_match "RFC 7766 7: slow's answer" \
    '^id=1 .* answer=slow\.x\.test\. 60 A 192\.0\.2\.1$' "$out"
check_match "RFC 7766 7: fast's answer" \
    '^id=2 .* answer=fast\.x\.test\. 60 A 192\.0\.2\.2$' "$out"
check_range "RFC 7766 7: slow (1500 ms upstream delay) answered in time" \
    1400 3900 $((t1 - t0))

# RFC 7766 6.2.1.1: pipelined queries are processed concurrently.
t0=$(now_ms)
out=$(dq -t -T 4000 p1.x.test/A/id=41 p2.x.test/A/id=42 p3.x.test/A/id=43 \
    p4.x.test/A/id=44)
t1=$(now_ms)
check_eq "RFC 7766 6.2.1.1: 4 pipelined slow queries: 4 replies" 4 \
    "$(dq_count "$out")"
# One after the other would take 2000 ms.
check_range "RFC 7766 6.2.1.1: processed concurrently (4 x 500 ms in < 1.4 s)" \
    400 1400 $((t1 - t0))

# ------------------------- RFC 7766 5: replies on their own connection
run_bg "$TEST_TMP/c1.out" dq -t -T 4000 slow-a.x.test/A/id=7
c1=$BG_PID
run_bg "$TEST_TMP/c2.out" dq -t -T 4000 slow-b.x.test/A/id=7
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
dq -t -c p5.x.test/A p6.x.test/A p7.x.test/A p8.x.test/A \
    >"$TEST_TMP/early.out" 2>&1
sleep 1	# the upstream answers (500 ms) arrive for a closed connection
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

# PL: at most 2 TCP clients, 2 queries in flight per connection.
cat >"$TEST_TMP/pl.conf" <<'EOF'
tcp-clients 2
tcp-pipeline 2
EOF
start_proxy -f "$TEST_TMP/pl.conf" -u "127.0.0.1@$FAKEUP_PORT" -v
PL_PORT=$PROXY_PORT PL_PID=$PROXY_PID

# ------------------------------------- tcp-pipeline (RFC 7766 6.2.1.1)
t0=$(now_ms)
out=$(dq -t -T 5000 p1.x.test/A/id=61 p2.x.test/A/id=62 p3.x.test/A/id=63 \
    p4.x.test/A/id=64)
t1=$(now_ms)
check_eq "tcp-pipeline 2: 4 pipelined slow queries all answered" \
    "61 62 63 64" "$(ids "$out" | tr ' ' '\n' | sort -n | tr '\n' ' ' |
    sed 's/ $//')"
check_nomatch "tcp-pipeline 2: connection not closed" '^closed' "$out"
check_range "tcp-pipeline 2: only 2 in flight, so two 500 ms rounds" \
    900 3000 $((t1 - t0))

# -------------------------------------- tcp-clients (RFC 7766 6.2.2)
# At the cap (tcp-clients 2) a new client is served and the connection
# idle longest is closed to make room, instead of refusing the newcomer.
exec {h1}<>"/dev/tcp/127.0.0.1/$PL_PORT" || bail "cannot connect to proxy"
exec {h2}<>"/dev/tcp/127.0.0.1/$PL_PORT" || bail "cannot connect to proxy"
# Both accepted: a query on h2 is answered (h2 is then the more recent).
printf '\000\035\000\105\001\000\000\001\000\000\000\000\000\000\004fast\001x\004test\000\000\001\000\001' >&"$h2"
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
# Six pipelined queries on PL (tcp-pipeline 2): p3 and p4 go upstream (500
# ms each), p5-p8 wait in the connection's buffer.  SIGTERM then: the
# proxy ends, and starts none of the waiting ones on its way out.
legs() {
	local n
	for n in "$@"; do
		fakeup_legs "$n.x.test." A
	done | awk '{ s += $1 } END { print s + 0 }'
}
in_flight=$(legs p3 p4) waiting=$(legs p5 p6 p7 p8)
run_bg "$TEST_TMP/stop.out" dnsq_at "$PL_PORT" -t -T 3000 \
    p3.x.test/A/id=91 p4.x.test/A/id=92 p5.x.test/A/id=93 \
    p6.x.test/A/id=94 p7.x.test/A/id=95 p8.x.test/A/id=96
for _ in $(seq 1 40); do
	[ "$(legs p3 p4)" -ge $((in_flight + 2)) ] && break
	sleep 0.05
done
check_eq "shutdown: the first two were sent upstream (tcp-pipeline 2)" \
    $((in_flight + 2)) "$(legs p3 p4)"
rc=0
stop_pid "$PL_PID" || rc=$?
check_eq "shutdown: proxy PL exits 0 on SIGTERM with queries pending" 0 "$rc"
sleep 0.2
check_eq "shutdown: none of the four waiting queries was sent" "$waiting" \
    "$(legs p5 p6 p7 p8)"
finish
