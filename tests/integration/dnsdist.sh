#!/bin/bash
#
# dnsdist.sh - scale out: two dns64proxy instances behind dnsdist, run with
# the shipped contrib/dnsdist/dnsdist.conf (only its addresses changed).
# Under a steady stream of queries one instance is SIGKILLed; the test
# checks that at least 99.9% of the queries are answered and that every
# answer is what one instance alone gives.
#
# dnsdist does not send a UDP query again to another backend: a query
# already sent to the instance when it dies is lost, and a stub resolver's
# retry recovers it.  So the stream is a stub resolver: tests/dnsq -r sends
# at a fixed rate (open loop, like real clients: a loss does not slow it
# down) and resends a query once after 1 s without an answer.  The test
# reports both figures, answered on the first try and after the retry; the
# assertion is on the second, as a client sees it.  It also reports how
# long dnsdist took to mark the instance down.
#
# Skipped (77) without dnsdist (Debian package dnsdist; CI installs it).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dnsdist
need_dnsq
DNSDIST=$(PATH=$PATH:/usr/sbin:/sbin command -v dnsdist)
CONTRIB=$top_srcdir/contrib/dnsdist/dnsdist.conf

PFX=2001:db8:64::/96
RATE=250		# queries per second
COUNT=3000		# 12 s of stream
KILL_AT=1000		# answers seen before the kill (4 s in)
TIMEOUT_MS=1000		# the stub's timeout per try; one retry

# The mix: synthesized AAAA (one RR, two RRs, behind a CNAME), real AAAA,
# A, and PTR (a plain in-addr.arpa one, and one inside the prefix, which
# the proxy answers with a CNAME to in-addr.arpa plus the PTR).
MIX=(
	a-only.t.example/AAAA
	a-multi.t.example/AAAA
	cname-a.t.example/AAAA
	both.t.example/AAAA
	aaaa-only.t.example/AAAA
	both.t.example/A
	a-multi.t.example/A
	33.2.0.192.in-addr.arpa/PTR
	"$(rev6 2001:db8:64::c000:221)/PTR"
)

# normalize: dnsq reply lines (plain or stream) as "qname/qtype rcode flags
# ede answer", the answer's RRs without their TTLs and sorted: instances
# have separate caches, so TTLs differ and are not compared; the rest must
# be the same.  Other lines are dropped.
normalize() {
	awk '
	function field(k,    i, n, f) {
		n = split($0, f, " ")
		for (i = 1; i <= n; i++)
			if (index(f[i], k "=") == 1)
				return substr(f[i], length(k) + 2)
		return ""
	}
	/(^| )id=[0-9]+ rcode=/ {
		ans = substr($0, index($0, " answer=") + 8)
		n = split(ans, rr, ";")
		for (i = 1; i <= n; i++) {
			m = split(rr[i], w, " ")
			s = w[1]
			for (j = 3; j <= m; j++)
				s = s " " w[j]
			rr[i] = s
		}
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && rr[j - 1] > rr[j]; j--) {
				t = rr[j]; rr[j] = rr[j - 1]; rr[j - 1] = t
			}
		s = rr[1]
		for (i = 2; i <= n; i++)
			s = s ";" rr[i]
		print field("qname") "/" field("qtype"), field("rcode"),
		    field("flags"), "ede=" field("ede"), s
	}'
}

# stream_queries LOG: the -v lines of a proxy for queries other than the
# health checks (ipv4only.arpa).
stream_queries() {
	grep -E '^127\.0\.0\.1@[0-9]+ ' "$1" 2>/dev/null |
	    grep -vc ' ipv4only\.arpa\. '
}

# gen_conf PORT P1 P2 OUT: the contrib config with dnsdist on
# 127.0.0.1@PORT only and the instances at P1 and P2.
gen_conf() {
	sed -e "s|^setLocal(\"\\[::\\]:53\")|setLocal(\"127.0.0.1:$1\")|" \
	    -e '/^addLocal("0\.0\.0\.0:53")/d' \
	    -e "s|\"127\\.0\\.0\\.1:5301\"|\"127.0.0.1:$2\"|" \
	    -e "s|\"127\\.0\\.0\\.1:5302\"|\"127.0.0.1:$3\"|" \
	    "$CONTRIB" >"$4" || bail "cannot write $4"
}

# start_dnsdist P1 P2: dnsdist in the foreground (--supervised: no console)
# at a random port, retried when the port is taken; ready once it has
# logged its bound address and a query through it is answered.  Sets
# DD_PORT DD_PID DD_LOG DD_CONF.
start_dnsdist() {
	local port pid i n
	for _ in $(seq 1 $_START_TRIES); do
		port=$(random_port) || bail "no free port found"
		DD_CONF=$TEST_TMP/dnsdist-$port.conf
		DD_LOG=$TEST_TMP/dnsdist-$port.log
		gen_conf "$port" "$1" "$2" "$DD_CONF"
		env -u NOTIFY_SOCKET "$DNSDIST" --supervised --disable-syslog \
		    -C "$DD_CONF" >"$DD_LOG" 2>&1 </dev/null &
		pid=$!
		track_pid "$pid"
		i=$(_pid_index "$pid")
		for n in $(seq 1 100); do
			_pid_alive "$i" || break
			if grep -q "^Listening on 127\.0\.0\.1:$port\$" \
			    "$DD_LOG" && dnsq_at "$port" -T 200 \
			    ipv4only.arpa/A 2>/dev/null | grep -q 'rcode=NOERROR'
			then
				DD_PORT=$port
				DD_PID=$pid
				note "dnsdist ready on port $port (pid $pid)"
				return 0
			fi
			sleep 0.1
		done
		stop_pid "$pid"
		if grep -qi 'already in use' "$DD_LOG"; then
			note "dnsdist: port $port in use, retrying"
			continue
		fi
		_indent "$(tail -n 20 "$DD_LOG")"
		bail "dnsdist did not start (see above)"
	done
	bail "dnsdist: no usable port after $_START_TRIES tries"
}

# --- The shipped file parses, and is what the test may run here.
out=$("$DNSDIST" --check-config -C "$CONTRIB" 2>&1)
check_match "contrib/dnsdist/dnsdist.conf passes dnsdist --check-config" \
    "OK" "$out"
check_match "contrib config: no security polling (no query leaves the host)" \
    '^setSecurityPollSuffix\(""\)' "$(cat "$CONTRIB")"
check_nomatch "contrib config: no console, no web server" \
    '^[[:space:]]*(controlSocket|webserver)' "$(cat "$CONTRIB")"

start_unbound
start_proxy -v -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PFX"
P1_PORT=$PROXY_PORT P1_PID=$PROXY_PID P1_LOG=$PROXY_LOG
start_proxy -v -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PFX"
P2_PORT=$PROXY_PORT P2_PID=$PROXY_PID P2_LOG=$PROXY_LOG

start_dnsdist "$P1_PORT" "$P2_PORT"
check_eq "generated config: dnsdist listens on loopback only" \
    "setLocal(\"127.0.0.1:$DD_PORT\")" \
    "$(grep -E '^[[:space:]]*(set|add)Local\(' "$DD_CONF")"
check_eq "generated config: the two instances" \
    "address=\"127.0.0.1:$P1_PORT\" address=\"127.0.0.1:$P2_PORT\"" \
    "$(grep -oE '^[^-]*address="[^"]*"' "$DD_CONF" | grep -oE 'address=.*' |
    paste -sd ' ')"
for n in 1 2; do
	check_true "dnsdist marked dns64proxy-$n up" wait_for_grep "$DD_LOG" \
	    "Marking downstream dns64proxy-$n .* as 'up'" 10
done

# --- Reference: each name of the mix asked to one instance directly; the
# other instance and dnsdist must give the same.
ref=$(dnsq_at "$P1_PORT" -T 2000 "${MIX[@]}" | normalize | sort)
check_eq "reference: an answer for each name of the mix" "${#MIX[@]}" \
    "$(printf '%s\n' "$ref" | grep -c ' NOERROR ')"
check_match "reference: a-only AAAA is synthesized" \
    '^a-only\.t\.example\./AAAA NOERROR .* a-only\.t\.example\. AAAA 2001:db8:64::c000:221$' \
    "$ref"
check_eq "the second instance answers as the first" "$ref" \
    "$(dnsq_at "$P2_PORT" -T 2000 "${MIX[@]}" | normalize | sort)"
check_eq "dnsdist answers as an instance" "$ref" \
    "$(dnsq_at "$DD_PORT" -T 2000 "${MIX[@]}" | normalize | sort)"
printf '%s\n' "$ref" >"$TEST_TMP/ref"

# --- The stream, and the kill.
s1=$(stream_queries "$P1_LOG")
s2=$(stream_queries "$P2_LOG")
SOUT=$TEST_TMP/stream.out
t_start=$(now_ms)
run_bg "$SOUT" "$DNSQ_BIN" -s 127.0.0.1 -p "$DD_PORT" -r "$RATE" \
    -n "$COUNT" -R 1 -T "$TIMEOUT_MS" "${MIX[@]}"
STREAM_PID=$BG_PID
# the stream lasts COUNT / RATE s; allow it twice that, and 2 tries each
limit=$(( t_start + 2 * COUNT * 1000 / RATE + 2 * TIMEOUT_MS + 10000 ))

# wait_lines N: poll until the stream has printed N lines (bounded).
wait_lines() {
	while [ "$(count_matches "$SOUT" '^seq=')" -lt "$1" ]; do
		[ "$(now_ms)" -lt "$limit" ] || fatal "the stream stalled at" \
		    "$(count_matches "$SOUT" '^seq=') answers"
		sleep 0.05
	done
}

# Kill the instance that is serving the stream now: leastOutstanding sends
# most queries to the faster instance, and killing an idle one would prove
# nothing.  Counted over the last RATE / 2 answers (about 0.5 s).
wait_lines $(( KILL_AT - RATE / 2 ))
a1=$(stream_queries "$P1_LOG")
a2=$(stream_queries "$P2_LOG")
wait_lines "$KILL_AT"
b1=$(stream_queries "$P1_LOG")
b2=$(stream_queries "$P2_LOG")
if [ $((b1 - a1)) -ge $((b2 - a2)) ]; then
	VICTIM=1 V_PID=$P1_PID V_LOG=$P1_LOG S_LOG=$P2_LOG
else
	VICTIM=2 V_PID=$P2_PID V_LOG=$P2_LOG S_LOG=$P1_LOG
fi
note "last 0.5 s before the kill: instance 1 served $((b1 - a1))," \
    "instance 2 $((b2 - a2)) stream queries; killing instance $VICTIM"
check_true "instance $VICTIM was serving the stream when killed" \
    test $(( VICTIM == 1 ? b1 - a1 : b2 - a2 )) -gt 0
# A child of this shell that was never waited for: its pid is still ours.
# (The redirection hides bash's "Killed" notice.)
rc=0
{
	kill -KILL "$V_PID"
	t_kill=$(now_ms)
	wait "$V_PID" || rc=$?
} 2>/dev/null
v_at_kill=$(stream_queries "$V_LOG")
s_at_kill=$(stream_queries "$S_LOG")
check_eq "instance $VICTIM died of SIGKILL" 137 "$rc"

t_down=
if wait_for_grep "$DD_LOG" \
    "Marking downstream dns64proxy-$VICTIM .* as 'down'" 10; then
	t_down=$(now_ms)
	ok "dnsdist marked the killed instance down"
	note "marked down within $((t_down - t_kill)) ms of the kill" \
	    "(polled every 50 ms)"
else
	not_ok "dnsdist marked the killed instance down" \
	    "$(tail -n 20 "$DD_LOG")"
fi

# The stream ends by itself; bounded all the same.
while ! grep -q '^done ' "$SOUT"; do
	if [ "$(now_ms)" -ge "$limit" ]; then
		stop_pid "$STREAM_PID"
		fatal "the stream did not end in time"
	fi
	sleep 0.1
done
wait "$STREAM_PID" 2>/dev/null
t_end=$(now_ms)

# --- The figures.
sent=$(sed -n 's/^done queries=\([0-9]*\) .*/\1/p' "$SOUT")
sends=$(sed -n 's/^done .* sends=\([0-9]*\) .*/\1/p' "$SOUT")
elapsed=$(sed -n 's/^done .* elapsed_ms=\([0-9]*\)$/\1/p' "$SOUT")
first=$(count_matches "$SOUT" '^seq=[0-9]+ try=1 id=')
answered=$(count_matches "$SOUT" '^seq=[0-9]+ try=[0-9]+ id=')
lost=$(count_matches "$SOUT" '^seq=[0-9]+ try=[0-9]+ timeout ')
unmatched=$(count_matches "$SOUT" '^unmatched ')
check_eq "the stream sent $COUNT queries" "$COUNT" "$sent"
check_eq "one outcome per query, each query once" "$COUNT $COUNT" \
    "$((answered + lost)) $(grep -oE '^seq=[0-9]+ ' "$SOUT" | sort -u |
    wc -l)"
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }'
}
note "stream: $sent queries at $RATE/s through dnsdist in $elapsed ms" \
    "($sends datagrams sent, retries included)"
note "answered on the first try: $first/$sent ($(pct "$first" "$sent")%)"
note "answered after one retry:  $answered/$sent" \
    "($(pct "$answered" "$sent")%), lost: $lost, late replies: $unmatched"
# When the first-try misses left, in ms from the kill: query N is due
# N / RATE s after the stream's start, and leaves then or, on a busy host,
# a little later.
start_ms=$(sed -n 's/^done .* start_ms=\([0-9]*\) .*/\1/p' "$SOUT")
miss=$(awk -v r="$RATE" -v d=$((t_kill - start_ms)) '
	/^seq=[0-9]+ try=[0-9]+ / {
		split($1, s, "="); split($2, t, "=")
		if (t[2] != 1 || $3 == "timeout")
			print int(s[2] * 1000 / r) - d
	}' "$SOUT")
note "first-try misses, due at (ms from the kill):" \
    "$(printf '%s\n' "${miss:-none}" | paste -sd ' ')"
# A query lost on its first try went to the dead instance, so it reached
# dnsdist before the instance was marked down, and it was due before that.
if [ -n "$t_down" ]; then
	late=$(printf '%s\n' "$miss" |
	    awk -v t=$((t_down - t_kill)) '$1 != "" && $1 >= t')
	check_eq "no first-try miss once dnsdist marked the instance down" \
	    "" "$late"
fi
check_true "at least 99.9% answered, with the stub's retry" \
    test $((answered * 1000)) -ge $((sent * 999))

# Every answer is one instance's answer.
bad=$(grep '^seq=' "$SOUT" | normalize | awk -v ref="$TEST_TMP/ref" '
	BEGIN { while ((getline l < ref) > 0) { split(l, f, " "); r[f[1]] = l } }
	$0 != r[$1] { n++; if (n <= 5) print }
	END { if (n > 5) print "... " n " in all" }')
check_eq "every answer through dnsdist equals an instance's own" "" "$bad"
check_eq "answers checked" "$answered" \
    "$(grep '^seq=' "$SOUT" | normalize | wc -l)"

# Both instances did their share: the victim before its death, the
# survivor after it.
check_true "instance $VICTIM served stream queries before the kill" \
    test "$v_at_kill" -gt $(( VICTIM == 1 ? s1 : s2 ))
check_true "the other instance served the stream after the kill" \
    test "$(stream_queries "$S_LOG")" -gt "$s_at_kill"
check_true "dnsdist still running" kill -0 "$DD_PID"
note "stream and wait: $(( (t_end - t_start) / 1000 )) s;" \
    "$("$DNSDIST" --version 2>/dev/null | head -n 1)"

finish
