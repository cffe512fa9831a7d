#!/bin/bash
#
# default-setup.sh - the embedded default, as README's first command runs it
# ("dns64proxy -d -v", here with -f /dev/null so an installed config file
# cannot interfere): listen on 127.0.0.1 and ::1 port 53, or 5353 with a
# log line when 53 is taken; leave out ::1 when the host has none; forward
# to the nameserver lines of /etc/resolv.conf except the proxy itself;
# Well-Known Prefix; ipv4only.arpa answered locally (RFC 7050, RFC 8880
# 7.1); the default query ACL (RFC 5358).
#
# Port 53 and /etc/resolv.conf belong to the whole host, so each scenario
# runs in its own namespaces ("unshare -m -n -p"): a network namespace that
# only has "lo" (nothing can leave the host, and its port 53 is private), a
# mount namespace where a resolv.conf written by this test is bind-mounted
# over /etc/resolv.conf (the host's file is never touched), and a PID
# namespace whose first process is the scenario script, so the kernel kills
# everything left in it when that script ends, and the namespaces go with
# it.  Nothing is named, and parent-death signals end a scenario with this
# script even when it is SIGKILLed (see PDEATH).  Upstreams are tests/fakeup
# inside the namespace.  Needs root, unshare(1), ip(8), mount(8), ss(8),
# sysctl(8), dig and a kernel with IPv6.

# shellcheck disable=SC2317  # the ns_ and sc_ functions run via declare -f
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_root
need_tool unshare ip mount ss sysctl timeout "$DIG"
[ -x "$PROXY_BIN" ] || bail "$PROXY_BIN not built"
[ -x "$FAKEUP_BIN" ] || bail "$FAKEUP_BIN not built"
# The bind mount needs a file to cover; creating one would touch the host.
[ -f /etc/resolv.conf ] || skip "no /etc/resolv.conf to bind-mount over"
[ -d /proc/sys/net/ipv6 ] || skip "no IPv6 in this kernel"
# Can we make the namespaces and do there what every scenario does?
: >"$TEST_TMP/probe.conf"
# shellcheck disable=SC2016  # $1 is expanded by sh -c
if ! timeout 10 unshare -m -n -p -f --kill-child --mount-proc sh -c \
    'ip link set lo up && mount --bind "$1" /etc/resolv.conf' probe \
    "$TEST_TMP/probe.conf" >"$TEST_TMP/probe.err" 2>&1; then
	skip "cannot set up namespaces: $(head -n 1 "$TEST_TMP/probe.err")"
fi

# When this script dies, even of SIGKILL, its namespaces die at once:
# setpriv gives timeout and unshare a parent-death signal, unshare
# --kill-child gives one to the first process of the namespace, and the
# kernel kills the rest of the PID namespace with it.  Without setpriv
# --pdeathsig, timeout ends them after NS_LIMIT s.
PDEATH=()
if setpriv --pdeathsig KILL true 2>/dev/null; then
	PDEATH=(setpriv --pdeathsig KILL)
fi
# Bounds for a scenario that hangs, not for speed: a scenario ends by itself
# when its steps are done, and a sanitizer build on a busy machine is slow.
NS_LIMIT=90	# seconds a whole scenario may take (then it is killed)
NS_T=75		# seconds any one process inside may run
HOST_RESOLV=$(cat /etc/resolv.conf)
WKP=64:ff9b::

# ====================================================================
# Inside the namespace
# ====================================================================
#
# The ns_* and sc_* functions run inside the namespaces (ns_start ships them
# there with declare -f) as process 1 of the PID namespace.  They only
# record: logs, dig outputs, socket lists and exit statuses go to files in
# $D, and the checks below read them once the namespace is gone.  Every
# process is bounded by timeout(1); ns_main stops the ones still running
# with SIGTERM (to see the proxy's exit status), and when it returns the
# kernel kills whatever is left.

# ns_fail MSG: the scenario cannot be set up (a harness problem).
ns_fail() {
	printf '%s\n' "$*" >>"$D/setup.err"
	exit 3
}

# ns_bg NAME CMD...: run CMD in the background (output to $D/NAME.out),
# for at most $NS_T s; its pid goes to NS_PID[NAME].  --foreground: a
# signal to timeout goes to CMD alone, not again to the whole process
# group, which would hit CMD twice (the second TERM can kill a proxy that
# is busy exiting after the first).
ns_bg() {
	local name=$1
	shift
	timeout --foreground "$NS_T" "$@" >"$D/$name.out" 2>&1 </dev/null &
	NS_PID[$name]=$!
}

# ns_alive NAME: true while NAME runs.
ns_alive() {
	kill -0 "${NS_PID[$1]}" 2>/dev/null
}

# ns_wait NAME REGEX: wait (10 s at most) until $D/NAME.out has a line
# matching REGEX; false if it does not, or NAME ended first.
ns_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -Eq -- "$2" "$D/$1.out" && return 0
		ns_alive "$1" || break
		sleep 0.1
	done
	grep -Eq -- "$2" "$D/$1.out"
}

# ns_reap NAME: collect NAME's exit status into $D/NAME.rc.
ns_reap() {
	local rc=0
	wait "${NS_PID[$1]}" || rc=$?
	echo "$rc" >"$D/$1.rc"
	unset "NS_PID[$1]"
}

# ns_stop NAME: SIGTERM NAME (timeout passes it on), SIGKILL after 5 s.
ns_stop() {
	local i
	ns_alive "$1" && kill -TERM "${NS_PID[$1]}" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		ns_alive "$1" || break
		sleep 0.1
	done
	ns_alive "$1" && kill -KILL "${NS_PID[$1]}" 2>/dev/null
	ns_reap "$1"
}

# ns_fakeup NAME ADDR PORT RULEFILE: a fakeup on ADDR:PORT; query log in
# $D/NAME.log.
ns_fakeup() {
	: >"$D/$1.log"
	ns_bg "$1" "$FAKEUP_BIN" -a "$2" -p "$3" -r "$4" -l "$D/$1.log"
	ns_wait "$1" '^ready$' ||
	    ns_fail "fakeup $1 on $2 port $3: $(cat "$D/$1.out")"
}

# ns_proxy NAME ARGS...: "dns64proxy -d -v -f /dev/null ARGS" (log in
# $D/NAME.out; its control socket $D/NAME.sock, not the host's default);
# waits until it is ready or has exited (then its status is in
# $D/NAME.rc).
ns_proxy() {
	local name=$1
	shift
	ns_bg "$name" "$PROXY_BIN" -d -v -f /dev/null -s "$D/$name.sock" "$@"
	ns_wait "$name" ' ready$' && return 0
	ns_alive "$name" || ns_reap "$name"
}

# ns_dig NAME ARGS...: dig ARGS, output in $D/NAME.dig.
ns_dig() {
	local name=$1
	shift
	timeout 10 "$DIG" +tries=1 +time=2 "$@" >"$D/$name.dig" 2>&1
}

# ns_ss NAME: the listening sockets, UDP in $D/NAME.udp, TCP in NAME.tcp.
ns_ss() {
	ss -Hlnu >"$D/$1.udp"
	ss -Hlnt >"$D/$1.tcp"
}

# ns_main SCENARIO: set the namespace up, run sc_SCENARIO, stop everything.
ns_main() {
	local n
	declare -gA NS_PID=()
	ip link set lo up || ns_fail "ip link set lo up failed"
	ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' \
	    >"$D/links"
	mount --bind "$D/resolv.conf" /etc/resolv.conf ||
	    ns_fail "cannot bind-mount $D/resolv.conf on /etc/resolv.conf"
	cat /etc/resolv.conf >"$D/resolv.seen"
	"sc_$1"
	for n in "${!NS_PID[@]}"; do
		ns_stop "$n"
	done
}

# ---------------------------------------------------------- scenarios
#
# Rule files: $RULES_V4ONLY (v4only.test: AAAA NODATA, A 1.2.3.4) and
# $RULES_REFUSE (REFUSED to everything).

# 1 and 3: port 53 free; resolv.conf names a resolver at 127.0.0.2.
sc_free() {
	ns_fakeup up 127.0.0.2 53 "$RULES_V4ONLY"
	ns_proxy proxy
	ns_ss ss
	ns_dig wkp4 @127.0.0.1 AAAA ipv4only.arpa
	ns_dig wkp6 @::1 AAAA ipv4only.arpa
	ns_dig wkp4tcp @127.0.0.1 +tcp AAAA ipv4only.arpa
	ns_dig pfx @127.0.0.1 +dns64prefix
	ns_dig synth4 @127.0.0.1 AAAA v4only.test
	ns_dig pass4 @127.0.0.1 A v4only.test
	ns_dig synth6 @::1 +tcp AAAA v4only.test
}

# 2: something else holds 127.0.0.1:53.
sc_taken() {
	ns_fakeup busy 127.0.0.1 53 "$RULES_REFUSE"
	ns_fakeup up 127.0.0.2 53 "$RULES_V4ONLY"
	ns_proxy proxy
	ns_ss ss
	ns_dig wkp4 -p 5353 @127.0.0.1 AAAA ipv4only.arpa
	ns_dig wkp6 -p 5353 @::1 AAAA ipv4only.arpa
	ns_dig synth4 -p 5353 @127.0.0.1 AAAA v4only.test
	ns_dig synth6 -p 5353 @::1 +tcp AAAA v4only.test
}

# 4: resolv.conf says 127.0.0.1 and a resolver runs there.
sc_local_resolver() {
	ns_fakeup up 127.0.0.1 53 "$RULES_V4ONLY"
	ns_proxy proxy
	ns_dig synth4 -p 5353 @127.0.0.1 AAAA v4only.test
	ns_dig pass4 -p 5353 @127.0.0.1 A v4only.test
}

# 5: resolv.conf says 127.0.0.1, port 53 free (that is us), nothing else.
sc_self_only() {
	ns_proxy proxy
}

# 5: the same with a second nameserver, 127.0.0.2.
sc_self_second() {
	ns_fakeup up 127.0.0.2 53 "$RULES_V4ONLY"
	ns_proxy proxy
	ns_dig synth4 @127.0.0.1 AAAA v4only.test
}

# 6: no ::1 on the host.
sc_no_ipv6() {
	sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 ||
	    ns_fail "cannot disable IPv6 on lo"
	ip -6 addr show dev lo >"$D/v6addr" 2>&1
	ns_fakeup up 127.0.0.2 53 "$RULES_V4ONLY"
	ns_proxy proxy
	ns_ss ss
	ns_dig wkp4 @127.0.0.1 AAAA ipv4only.arpa
	ns_dig synth4 @127.0.0.1 AAAA v4only.test
	ns_dig synth4tcp @127.0.0.1 +tcp AAAA v4only.test
}

# 7: the default query ACL, wildcard listeners, clients from documentation
# (refused) and private (allowed) addresses.
sc_acl() {
	local a
	for a in 192.0.2.1/32 10.9.9.9/32 2001:db8::1/128 fd00::1/128; do
		# nodad: usable at once (IPv6 only, ignored for IPv4)
		ip addr add "$a" dev lo nodad ||
		    ns_fail "cannot add $a to lo"
	done
	# The upstream is not on port 53: 0.0.0.0:53 covers 127.0.0.2:53
	# (the bind would clash, and resolv.conf's 127.0.0.2 would be us).
	ns_fakeup up 127.0.0.2 5300 "$RULES_V4ONLY"
	ns_proxy proxy -l 0.0.0.0@53 -l ::@53 -u 127.0.0.2@5300
	for a in 127.0.0.1 ::1 192.0.2.1 10.9.9.9 2001:db8::1 fd00::1; do
		ns_dig "$a-udp" -b "$a" "@$a" +notcp A v4only.test
		ns_dig "$a-tcp" -b "$a" "@$a" +tcp A v4only.test
	done
}

NS_FUNCS="ns_fail ns_bg ns_alive ns_wait ns_reap ns_stop ns_fakeup ns_proxy
ns_dig ns_ss ns_main sc_free sc_taken sc_local_resolver sc_self_only
sc_self_second sc_no_ipv6 sc_acl"

# ====================================================================
# Outside: start every scenario, then check what each recorded
# ====================================================================

RULES_V4ONLY=$TEST_TMP/v4only.rules
RULES_REFUSE=$TEST_TMP/refuse.rules
cat >"$RULES_V4ONLY" <<'EOF'
match v4only.test. AAAA
  authority test. 600 IN SOA ns.test. host.test. 1 3600 900 604800 600
end
match v4only.test. A
  answer v4only.test. 300 IN A 1.2.3.4
end
EOF
printf 'match * *\n  rcode REFUSED\nend\n' >"$RULES_REFUSE"

# _stray DIR: processes that still hold a file under DIR open.
_stray() {
	find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -lname "$1/*" \
	    2>/dev/null | cut -d/ -f3 | sort -u | tr '\n' ' '
}

# ns_start NAME SCENARIO RESOLV_CONF: start sc_SCENARIO in fresh
# namespaces with RESOLV_CONF (text) as /etc/resolv.conf, in the
# background: the scenarios do not share anything, so they all run at once.
declare -A NS_RUN=()
ns_start() {
	local d=$TEST_TMP/$1
	mkdir "$d" || bail "mkdir $d"
	printf '%s\n' "$3" >"$d/resolv.conf"
	# shellcheck disable=SC2086  # NS_FUNCS is a list of names
	run_bg "$d/ns.out" env PATH="$PATH:/usr/sbin:/sbin" D="$d" \
	    PROXY_BIN="$PROXY_BIN" FAKEUP_BIN="$FAKEUP_BIN" DIG="$DIG" \
	    NS_T="$NS_T" RULES_V4ONLY="$RULES_V4ONLY" \
	    RULES_REFUSE="$RULES_REFUSE" \
	    "${PDEATH[@]}" timeout -k 2 "$NS_LIMIT" \
	    "${PDEATH[@]}" unshare -m -n -p -f --kill-child --mount-proc \
	    bash -c "$(declare -f $NS_FUNCS)"$'\n'"ns_main $2"
	NS_RUN[$1]=$BG_PID
}

# ns_collect NAME: wait for scenario NAME to end; sets D (its files).
# Checks that it ended in time, had only lo and saw our resolv.conf, and
# that none of its processes outlived it.
ns_collect() {
	local name=$1 rc=0 pid=${NS_RUN[$1]}
	D=$TEST_TMP/$name
	wait "$pid" || rc=$?
	stop_pid "$pid" >/dev/null 2>&1 || true	# only untracks it
	if [ -s "$D/setup.err" ]; then
		_indent "$(cat "$D/ns.out")"
		bail "$name: namespace setup failed: $(cat "$D/setup.err")"
	fi
	[ "$rc" = 0 ] || _indent "$(cat "$D/ns.out")"
	check_eq "$name: the namespace script ended by itself, in time" 0 "$rc"
	check_eq "$name: only the loopback interface in the namespace" lo \
	    "$(cat "$D/links")"
	check_eq "$name: the namespace sees our resolv.conf" \
	    "$(cat "$D/resolv.conf")" "$(cat "$D/resolv.seen")"
	check_eq "$name: no process of the namespace is left" "" \
	    "$(_stray "$D")"
}

# plog: the proxy's log.  rc_of NAME: exit status of NAME.
plog() {
	cat "$D/proxy.out"
}
rc_of() {
	cat "$D/$1.rc" 2>/dev/null || echo none
}

# dig_out NAME: a dig output of the scenario.
dig_out() {
	cat "$D/$1.dig"
}

# check_wkp DESC NAME: dig output NAME is AAAA ipv4only.arpa with the WKP.
check_wkp() {
	local out
	out=$(dig_out "$2")
	check_eq "$1: AAAA ipv4only.arpa NOERROR" NOERROR "$(status_of "$out")"
	check_eq "$1: 64:ff9b::c000:aa and 64:ff9b::c000:ab (RFC 7050 / 8880 7.1)" \
	    "${WKP}c000:aa
${WKP}c000:ab" "$(aaaa_of "$out" | sort)"
}

# check_synth DESC NAME: dig output NAME is AAAA v4only.test synthesized
# from 1.2.3.4 with the WKP (RFC 6147 5.1.7: TTL min(A 300, SOA 600)).
# The proxy caches by default: an answer from its cache is the same with
# its TTL lowered by the seconds it spent there (at most the scenario's
# NS_LIMIT); aged_ttl prints "300" for such a TTL, as it came from
# upstream.
aged_ttl() {
	awk -v lim="$NS_LIMIT" '
	    $2 <= 300 && $2 >= 300 - lim { $2 = 300 } { print }'
}
check_synth() {
	local out
	out=$(dig_out "$2")
	check_eq "$1: NOERROR" NOERROR "$(status_of "$out")"
	check_eq "$1: v4only.test AAAA ${WKP}102:304 (RFC 6052 2.1, 6147 5.1.7)" \
	    "v4only.test. 300 AAAA ${WKP}102:304" "$(answer_rrs "$out" |
	    aged_ttl)"
}

# check_pass DESC NAME: dig output NAME is A v4only.test passed through.
check_pass() {
	local out
	out=$(dig_out "$2")
	check_eq "$1: NOERROR" NOERROR "$(status_of "$out")"
	check_eq "$1: v4only.test A 1.2.3.4 passed through" \
	    "v4only.test. 300 A 1.2.3.4" "$(answer_rrs "$out" | aged_ttl)"
}

# legs FAKEUP TYPE: queries for v4only.test TYPE the fakeup got.
legs() {
	count_matches "$D/$1.log" " qname=v4only\\.test\\. qtype=$2 "
}

# bound FILE ADDR:PORT: sockets of the ss list FILE bound there.
bound() {
	local re
	re=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	count_matches "$D/$1" "^[A-Z-]+ +[0-9]+ +[0-9]+ +$re "
}

# workers: the worker threads the proxy started (one socket pair per
# address each, SO_REUSEPORT), from its log; the default is one per CPU.
workers() {
	sed -n 's/^\([0-9][0-9]*\) worker threads*$/\1/p' <<<"$log"
}

# ------------------------------------------------------------ run them

ns_start free free "nameserver 127.0.0.2"
ns_start taken taken "nameserver 127.0.0.2"
ns_start local-resolver local_resolver "nameserver 127.0.0.1"
ns_start self-only self_only "nameserver 127.0.0.1"
ns_start self-second self_second "nameserver 127.0.0.1
nameserver 127.0.0.2"
ns_start no-ipv6 no_ipv6 "nameserver 127.0.0.2"
ns_start acl acl "nameserver 127.0.0.2"

# ---------------------------------------------------- 1 and 3: 53 free

ns_collect free
log=$(plog)
check_match "53 free: ready" ' ready$' "$log"
check_nomatch "53 free: no fallback to 5353" '5353' "$log"
check_match "53 free: listening on 127.0.0.1@53" \
    '^listening on 127\.0\.0\.1@53$' "$log"
check_match "53 free: listening on ::1@53" '^listening on ::1@53$' "$log"
check_eq "53 free: one worker per CPU" "$(nproc)" "$(workers)"
check_eq "53 free: 127.0.0.1:53 bound for UDP (ss)" "$(workers)" \
    "$(bound ss.udp 127.0.0.1:53)"
check_eq "53 free: 127.0.0.1:53 bound for TCP (ss)" "$(workers)" \
    "$(bound ss.tcp 127.0.0.1:53)"
check_eq "53 free: [::1]:53 bound for UDP (ss)" "$(workers)" \
    "$(bound ss.udp '[::1]:53')"
check_eq "53 free: [::1]:53 bound for TCP (ss)" "$(workers)" "$(bound ss.tcp '[::1]:53')"
check_wkp "53 free, 127.0.0.1@53" wkp4
check_wkp "53 free, ::1@53" wkp6
check_wkp "53 free, 127.0.0.1@53 over TCP" wkp4tcp
check_eq "53 free: dig +dns64prefix finds 64:ff9b::/96 (RFC 7050 3)" \
    "${WKP}/96" "$(dig_out pfx)"
check_match "53 free: ipv4only.arpa answered locally (outcome local)" \
    '^127\.0\.0\.1@[0-9]+ ipv4only\.arpa\. AAAA local NOERROR$' "$log"
check_eq "53 free: ipv4only.arpa never forwarded (RFC 8880 7.1)" 0 \
    "$(count_matches "$D/up.log" 'qname=ipv4only\.arpa\.')"
# 3: forwarding to resolv.conf's nameserver, end to end.
check_synth "resolv.conf 127.0.0.2: AAAA v4only.test" synth4
check_pass "resolv.conf 127.0.0.2: A v4only.test" pass4
check_synth "resolv.conf 127.0.0.2: AAAA v4only.test via ::1 over TCP" synth6
check_match "resolv.conf 127.0.0.2: log names the upstream 127.0.0.2@53" \
    '^127\.0\.0\.1@[0-9]+ v4only\.test\. AAAA synthesized NOERROR upstream 127\.0\.0\.2@53$' \
    "$log"
# The default caches: the second AAAA and the A query were answered from
# the cache (the A leg left with the first AAAA query).
check_eq "resolv.conf 127.0.0.2: the resolver there got the AAAA query once" \
    1 "$(legs up AAAA)"
check_eq "resolv.conf 127.0.0.2: ... and the A query once (the A leg)" \
    1 "$(legs up A)"
check_match "resolv.conf 127.0.0.2: the repeated AAAA came from the cache" \
    '^::1@[0-9]+ v4only\.test\. AAAA synthesized NOERROR upstream cache$' \
    "$log"
check_eq "53 free: the proxy exits 0 on TERM" 0 "$(rc_of proxy)"
# Issue 10: the effective setup, logged once, with where it came from.
check_eq "resolv.conf 127.0.0.2: startup logs the forwarders as taken from /etc/resolv.conf, once" \
    1 "$(grep -Ec '^forwarders 127\.0\.0\.2@53 \(from /etc/resolv\.conf\)' <<<"$log")"
check_eq "53 free: startup logs the Well-Known Prefix, for every client and destination, once" \
    1 "$(grep -Ec '^prefix 64:ff9b::/96( \(.*\))?, clients any, destinations any$' <<<"$log")"
check_eq "53 free: startup logs the default query ACL, once" 1 \
    "$(grep -Ec '^query acl: 127\.0\.0\.0/8, ::1/128, .*; everybody else is refused$' <<<"$log")"

# ---------------------------------------------------- 2: 53 taken

ns_collect taken
log=$(plog)
check_match "53 taken: ready" ' ready$' "$log"
check_match "53 taken: says port 53 is taken and 5353 is used" \
    '^cannot listen on port 53 \(Address already in use\), using port 5353 instead$' \
    "$log"
check_match "53 taken: listening on 127.0.0.1@5353" \
    '^listening on 127\.0\.0\.1@5353$' "$log"
check_match "53 taken: listening on ::1@5353" '^listening on ::1@5353$' "$log"
check_nomatch "53 taken: not listening on port 53" '^listening on .*@53$' \
    "$log"
check_eq "53 taken: 127.0.0.1:5353 bound for UDP and TCP (ss)" \
    "$(workers) $(workers)" \
    "$(bound ss.udp 127.0.0.1:5353) $(bound ss.tcp 127.0.0.1:5353)"
check_eq "53 taken: [::1]:5353 bound for UDP and TCP (ss)" \
    "$(workers) $(workers)" \
    "$(bound ss.udp '[::1]:5353') $(bound ss.tcp '[::1]:5353')"
check_wkp "53 taken, 127.0.0.1@5353" wkp4
check_wkp "53 taken, ::1@5353" wkp6
check_match "53 taken: ipv4only.arpa answered locally (outcome local)" \
    '^127\.0\.0\.1@[0-9]+ ipv4only\.arpa\. AAAA local NOERROR$' "$log"
check_synth "53 taken, 127.0.0.1@5353: AAAA v4only.test" synth4
check_synth "53 taken, ::1@5353 over TCP: AAAA v4only.test" synth6
check_eq "53 taken: the resolver at 127.0.0.2 got the AAAA query once" 1 \
    "$(legs up AAAA)"
check_eq "53 taken: nothing was sent to whoever holds 127.0.0.1:53" "" \
    "$(cat "$D/busy.log")"
check_eq "53 taken: the proxy exits 0 on TERM" 0 "$(rc_of proxy)"

# ------------------------- 4: resolv.conf 127.0.0.1, a resolver runs there

ns_collect local-resolver
log=$(plog)
check_match "local resolver on 127.0.0.1:53: the proxy starts (ready)" \
    ' ready$' "$log"
check_eq "local resolver: still running until stopped (exit 0 on TERM)" 0 \
    "$(rc_of proxy)"
check_match "local resolver: falls back to 5353" \
    '^cannot listen on port 53 \(Address already in use\), using port 5353 instead$' \
    "$log"
check_match "local resolver: listening on 127.0.0.1@5353" \
    '^listening on 127\.0\.0\.1@5353$' "$log"
check_nomatch "local resolver: 127.0.0.1@53 not skipped (it is not us)" \
    'skipped as forwarder' "$log"
check_nomatch "local resolver: no 'no forwarder'" 'no forwarder' "$log"
check_synth "local resolver: dig -p 5353 AAAA v4only.test" synth4
check_pass "local resolver: dig -p 5353 A v4only.test" pass4
check_match "local resolver: log names the upstream 127.0.0.1@53" \
    '^127\.0\.0\.1@[0-9]+ v4only\.test\. AAAA synthesized NOERROR upstream 127\.0\.0\.1@53$' \
    "$log"
check_eq "local resolver: it got 1 AAAA and 1 A query (the A leg; the A query hit the cache)" "1 1" \
    "$(legs up AAAA) $(legs up A)"

# ------------------------- 5: resolv.conf 127.0.0.1, port 53 free (us)

SKIPPED='^nameserver 127\.0\.0\.1@53 from /etc/resolv\.conf skipped as forwarder: it is our listen address 127\.0\.0\.1@53$'
ns_collect self-only
log=$(plog)
check_match "resolv.conf names us: 127.0.0.1@53 skipped, with the reason" \
    "$SKIPPED" "$log"
check_match "resolv.conf names only us: says 'no forwarder'" \
    '^no forwarder' "$log"
check_eq "resolv.conf names only us: exits 1 at once (no hang)" 1 \
    "$(rc_of proxy)"
check_nomatch "resolv.conf names only us: never ready" ' ready$' "$log"

ns_collect self-second
log=$(plog)
check_match "resolv.conf names us, then 127.0.0.2: 127.0.0.1@53 skipped" \
    "$SKIPPED" "$log"
check_match "resolv.conf names us, then 127.0.0.2: ready" ' ready$' "$log"
check_match "... listening on 127.0.0.1@53 (no fallback)" \
    '^listening on 127\.0\.0\.1@53$' "$log"
check_synth "... AAAA v4only.test" synth4
check_match "... forwarded to 127.0.0.2@53" \
    '^127\.0\.0\.1@[0-9]+ v4only\.test\. AAAA synthesized NOERROR upstream 127\.0\.0\.2@53$' \
    "$log"
check_eq "... 127.0.0.2 got 1 AAAA and 1 A query" "1 1" \
    "$(legs up AAAA) $(legs up A)"
check_eq "... the query reached the proxy once (no loop through itself)" 1 \
    "$(count_matches "$D/proxy.out" ' v4only\.test\. AAAA ')"
check_eq "... the proxy exits 0 on TERM" 0 "$(rc_of proxy)"

# ------------------------------------------------------ 6: no ::1

ns_collect no-ipv6
log=$(plog)
check_eq "no ::1: IPv6 really gone from lo" "" "$(cat "$D/v6addr")"
check_match "no ::1: ready" ' ready$' "$log"
check_match "no ::1: logs that ::1 was skipped, and why" \
    '(::1.*skipped|skipped.*::1)' \
    "$(printf '%s\n' "$log" | grep -F 'Cannot assign requested address')"
check_nomatch "no ::1: no fallback to 5353" '5353' "$log"
check_match "no ::1: listening on 127.0.0.1@53" \
    '^listening on 127\.0\.0\.1@53$' "$log"
check_nomatch "no ::1: not listening on ::1" '^listening on ::1' "$log"
check_eq "no ::1: 127.0.0.1:53 bound for UDP and TCP (ss)" \
    "$(workers) $(workers)" \
    "$(bound ss.udp 127.0.0.1:53) $(bound ss.tcp 127.0.0.1:53)"
check_wkp "no ::1, 127.0.0.1@53" wkp4
check_synth "no ::1, 127.0.0.1@53: AAAA v4only.test" synth4
check_synth "no ::1, 127.0.0.1@53 over TCP: AAAA v4only.test" synth4tcp
check_eq "no ::1: the proxy exits 0 on TERM" 0 "$(rc_of proxy)"

# -------------------------------------------- 7: the default query ACL

ns_collect acl
log=$(plog)
check_match "acl: ready on 0.0.0.0@53 and ::@53" ' ready$' "$log"
# acl_case ADDR VERDICT: queries from ADDR to ADDR, UDP and TCP.
acl_case() {
	local t out what
	for t in udp tcp; do
		out=$(dig_out "$1-$t")
		if [ "$2" = allow ]; then
			what="allowed by default"
			check_eq "acl: $1 ($t) is $what: NOERROR" NOERROR \
			    "$(status_of "$out")"
			# (from the cache after the first: the TTL counts down)
			check_match "acl: $1 ($t): answered" \
			    '^v4only\.test\. (300|2[0-9][0-9]) A 1\.2\.3\.4$' \
			    "$(answer_rrs "$out")"
		else
			what="refused by default (RFC 5358)"
			check_eq "acl: $1 ($t) is $what: REFUSED" REFUSED \
			    "$(status_of "$out")"
			check_eq "acl: $1 ($t): no answer" "" \
			    "$(answer_rrs "$out")"
			check_match "acl: $1 ($t): logged as REFUSED by the default rule, no upstream" \
			    "^$(re_escape "$1")@[0-9]+ v4only\\.test\\. A refused REFUSED \\(by deny (0\\.0\\.0\\.0|::)/0\\)\$" \
			    "$log"
		fi
	done
}
acl_case 127.0.0.1 allow
acl_case ::1 allow
acl_case 10.9.9.9 allow		# RFC 1918
acl_case fd00::1 allow		# ULA, RFC 4193
acl_case 192.0.2.1 deny		# global (documentation) IPv4
acl_case 2001:db8::1 deny	# global (documentation) IPv6
# The first allowed query went upstream, the other seven came from the
# cache; none of the refused ones got that far.
check_eq "acl: one query forwarded, none for a refused client" 1 \
    "$(legs up A)"
check_eq "acl: the proxy exits 0 on TERM" 0 "$(rc_of proxy)"

check_eq "the host's /etc/resolv.conf is untouched" "$HOST_RESOLV" \
    "$(cat /etc/resolv.conf)"

finish
