#!/bin/bash
#
# reload.sh - live reload under load (issue 10): 20 reloads, by SIGHUP and
# by "dns64proxy-control reload" in turn, alternating two configurations
# that differ in prefix and in query ACL, while two steady query streams
# run (tests/dnsq stream mode, a stub's view):
#   config A: prefix 2001:db8:64::/96, all of 127.0.0.0/8 may query;
#   config B: prefix 2001:db8:65::/96, 127.0.0.1 may query, the rest of
#             127.0.0.0/8 is refused.
# Stream 1 comes from 127.0.0.1 (allowed by both), stream 2 from 127.0.0.2
# (allowed by A only); both cycle through synthesized AAAA (one and two
# records), a plain A, and the PTR names of a-only's address in either
# prefix.  Checked: no query lost (no retries are sent; every query has an
# answer), none answered twice (one line per query, no unmatched reply),
# every answer consistent with one of the two configurations (all
# synthesized records of an answer in one prefix; a PTR mapped only for
# the prefix of the configuration that answered; REFUSED only for stream 2,
# and then no answer of B's), both configurations seen by both streams,
# the generation at 21, and a bad file in the middle keeping the old
# configuration.  The figures are printed as TAP comments.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig
need_dnsq

CTL=$top_builddir/src/dns64proxy-control
[ -x "$CTL" ] || bail "$CTL not built"

RATE=${RELOAD_RATE:-100}	# per stream: 200 q/s in all
SECONDS_RUN=12			# the streams' length; the reloads take ~5 s
COUNT=$((RATE * SECONDS_RUN))
RELOADS=20
PA=2001:db8:64::
PB=2001:db8:65::

start_unbound

SOCK=$TEST_TMP/control.sock
CONF=$TEST_TMP/proxy.conf
# conf_a / conf_b / conf_bad: print a configuration.
conf_common() {
	printf 'forwarder 127.0.0.1 port %s\n' "$UNBOUND_PORT"
	printf 'control-socket "%s"\n' "$SOCK"
}
conf_a() {
	conf_common
	printf 'prefix %s/96\nallow 127.0.0.0/8\nallow ::1/128\n' "$PA"
}
conf_b() {
	conf_common
	printf 'prefix %s/96\nallow 127.0.0.1/32\ndeny 127.0.0.0/8\n' "$PB"
	printf 'allow ::1/128\n'
}
conf_bad() {
	conf_common
	printf 'prefix %s/96\nprefix 2001:db8:bad::/200\n' "$PA"
}

conf_a >"$CONF"
start_proxy -f "$CONF"

# Both configurations answer as described, before the load.
check_eq "config A: a-only AAAA in prefix A" "${PA}c000:221" \
    "$(aaaa_of "$(q a-only.t.example AAAA)")"
check_eq "config A: 127.0.0.2 may query" NOERROR \
    "$(status_of "$(q -b 127.0.0.2 both.t.example A)")"

PTR_A=$(rev6 "${PA}c000:221")
PTR_B=$(rev6 "${PB}c000:221")
MIX=(a-only.t.example/AAAA a-multi.t.example/AAAA both.t.example/A
    "$PTR_A/PTR" "$PTR_B/PTR")

# Two streams; no retries (-R 0), a timeout long enough for any reply.
run_bg "$TEST_TMP/s1.out" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
    -b 127.0.0.1 -r "$RATE" -n "$COUNT" -R 0 -T 5000 "${MIX[@]}"
S1=$BG_PID
run_bg "$TEST_TMP/s2.out" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
    -b 127.0.0.2 -r "$RATE" -n "$COUNT" -R 0 -T 5000 "${MIX[@]}"
S2=$BG_PID
wait_for_count "$TEST_TMP/s1.out" '^seq=' 10 10 ||
    fatal "stream 1 gets no answer"
wait_for_count "$TEST_TMP/s2.out" '^seq=' 10 10 ||
    fatal "stream 2 gets no answer"

# answered_since N: wait (up to 5 s) until stream 1 has N more answers
# than it had at the last call, so that answers fall between reloads.
s1_seen=0
answered_since() {
	s1_seen=$((s1_seen + $1))
	wait_for_count "$TEST_TMP/s1.out" '^seq=' "$s1_seen" 5 || true
	s1_seen=$(count_matches "$TEST_TMP/s1.out" '^seq=')
}
answered_since 0

# reload_hup GEN / reload_ctl GEN: reload, and wait until GEN runs.
reload_hup() {
	kill -HUP "$PROXY_PID"
	wait_for_grep "$PROXY_LOG" "^configuration generation $1 is running\$" 10
}
reload_ctl() {
	[ "$("$CTL" -s "$SOCK" reload 2>&1)" = \
	    "ok: configuration generation $1 is running" ]
}

t0=$(now_ms)
failed_reloads=0
gen=1
for i in $(seq 1 "$RELOADS"); do
	if [ $((i % 2)) = 1 ]; then
		conf_b >"$CONF"
	else
		conf_a >"$CONF"
	fi
	gen=$((gen + 1))
	# Methods in turn: control, SIGHUP, SIGHUP, control, ... so that each
	# configuration arrives both ways.
	if [ $(((i / 2) % 2)) = 0 ]; then
		reload_ctl "$gen" || failed_reloads=$((failed_reloads + 1))
	else
		reload_hup "$gen" || failed_reloads=$((failed_reloads + 1))
	fi
	if [ "$i" = 10 ]; then
		# In the middle, a bad file: the running A stays.
		conf_bad >"$CONF"
		bad_out=$("$CTL" -s "$SOCK" reload 2>&1)
		bad_rc=$?
		bad_aaaa=$(aaaa_of "$(q a-only.t.example AAAA)")
		bad_status=$(status_of "$(q -b 127.0.0.2 both.t.example A)")
		bad_gen=$("$CTL" -s "$SOCK" status |
		    sed -n 's/^config_generation: //p')
	fi
	answered_since 5
done
t1=$(now_ms)
check_eq "all $RELOADS reloads went through" 0 "$failed_reloads"
check_eq "a bad file in the middle: the reload fails" 1 "$bad_rc"
check_match "a bad file: the error says the running one is kept" \
    '^error: .*the running configuration is kept$' "$bad_out"
check_match "a bad file: file:line in the log" \
    "^$(re_escape "$CONF"):4: " "$(cat "$PROXY_LOG")"
check_eq "a bad file: config A still answers (prefix)" "${PA}c000:221" \
    "$bad_aaaa"
check_eq "a bad file: config A still answers (127.0.0.2 allowed)" NOERROR \
    "$bad_status"
check_eq "a bad file: the generation stays 11" 11 "$bad_gen"

wait "$S1"
rc1=$?
wait "$S2"
rc2=$?
check_eq "the generation reached 21" 21 \
    "$("$CTL" -s "$SOCK" status | sed -n 's/^config_generation: //p')"

# classify SOURCE FILE: per-query verdicts of a stream's output, then the
# tallies: "queries N answered N lost N unmatched N dup N retried N A N
# B N either N bad N" and the first bad lines.
classify() {
	awk -v src="$1" -v pa="$PA" -v pb="$PB" -v ptra="$PTR_A" \
	    -v ptrb="$PTR_B" '
	function field(k,    i) {
		for (i = 1; i <= NF; i++)
			if (index($i, k "=") == 1)
				return substr($i, length(k) + 2)
		return ""
	}
	/^unmatched / { unmatched++; next }
	/^done / { next }
	/^seq=/ {
		seq = field("seq")
		if (seq in seen)
			dup++
		seen[seq] = 1
		queries++
		if (field("try") != 1)
			retried++
		if ($3 == "timeout") { lost++; next }
		answered++
		rcode = field("rcode")
		qtype = field("qtype")
		qname = field("qname")
		ans = $0
		sub(/.* answer=/, "", ans)
		v = "bad"
		if (rcode == "REFUSED")
			v = (src == 2) ? "B" : "bad"
		else if (qtype == "AAAA" && rcode == "NOERROR") {
			n = split(ans, rr, ";")
			ina = inb = 0
			for (i = 1; i <= n; i++) {
				split(rr[i], f, " ")
				if (f[3] != "AAAA")
					continue
				if (index(f[4], pa) == 1) ina++
				else if (index(f[4], pb) == 1) inb++
				else ina = inb = -1000
			}
			if (ina > 0 && inb == 0) v = "A"
			else if (inb > 0 && ina == 0) v = "B"
		} else if (qtype == "PTR") {
			mapped = (rcode == "NOERROR" &&
			    ans ~ / PTR a-only\.t\.example\.$/)
			unmapped = (rcode == "NXDOMAIN")
			if (qname == ptra && mapped) v = "A"
			else if (qname == ptra && unmapped) v = "B"
			else if (qname == ptrb && mapped) v = "B"
			else if (qname == ptrb && unmapped) v = "A"
		} else if (qtype == "A" && rcode == "NOERROR" &&
		    ans ~ / A 192\.0\.2\.3$/)
			v = "either"
		# Config B refuses stream 2: an answer of B is impossible.
		if (src == 2 && v == "B" && rcode != "REFUSED")
			v = "bad"
		count[v]++
		if (v == "bad" && nbad++ < 5)
			badlines = badlines "\n# bad: " $0
	}
	END {
		printf "queries %d answered %d lost %d unmatched %d dup %d " \
		    "retried %d A %d B %d either %d bad %d%s\n", queries,
		    answered, lost, unmatched, dup, retried, count["A"],
		    count["B"], count["either"], count["bad"], badlines
	}' "$2"
}

tally() {
	printf '%s\n' "$1" | head -n 1 | awk -v k="$2" \
	    '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

for s in 1 2; do
	out=$TEST_TMP/s$s.out
	res=$(classify "$s" "$out")
	note "stream $s (127.0.0.$s): $(printf '%s\n' "$res" | head -n 1)"
	check_eq "stream $s: $COUNT queries" "$COUNT" "$(tally "$res" queries)"
	check_eq "stream $s: none lost" 0 "$(tally "$res" lost)"
	check_eq "stream $s: every query answered" "$COUNT" \
	    "$(tally "$res" answered)"
	check_eq "stream $s: none answered twice (no unmatched reply)" 0 \
	    "$(tally "$res" unmatched)"
	check_eq "stream $s: one line per query" 0 "$(tally "$res" dup)"
	check_eq "stream $s: no retry was sent" 0 "$(tally "$res" retried)"
	if [ "$(tally "$res" bad)" = 0 ]; then
		ok "stream $s: every answer is consistent with A or B"
	else
		not_ok "stream $s: every answer is consistent with A or B" \
		    "$(printf '%s\n' "$res" | tail -n +2)"
	fi
	check_range "stream $s: answers of config A seen" 1 "$COUNT" \
	    "$(tally "$res" A)"
	check_range "stream $s: answers of config B seen" 1 "$COUNT" \
	    "$(tally "$res" B)"
	grep '^done ' "$out" | sed 's/^/# stream '"$s"': /'
done
check_eq "stream 1 exit status (every query answered)" 0 "$rc1"
check_eq "stream 2 exit status (every query answered)" 0 "$rc2"
check_eq "stream 1 never REFUSED (allowed by both)" 0 \
    "$(grep -c 'rcode=REFUSED' "$TEST_TMP/s1.out")"

# The reloads happened while the streams ran.
start_ms=$(sed -n 's/^done .*start_ms=\([0-9]*\).*/\1/p' "$TEST_TMP/s1.out")
elapsed=$(sed -n 's/^done .*elapsed_ms=\([0-9]*\).*/\1/p' "$TEST_TMP/s1.out")
note "reloads: $RELOADS (+1 bad) in $((t1 - t0)) ms; stream 1 ran" \
    "${elapsed} ms from $((start_ms - t0)) ms relative to the first reload"
check_true "the reloads ran inside the streams" \
    test "$start_ms" -le "$t0" -a "$t1" -le $((start_ms + elapsed))
check_eq "no worker missed an update" "" \
    "$(grep 'did not confirm' "$PROXY_LOG")"

finish
