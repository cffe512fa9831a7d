#!/bin/bash
#
# nat64.sh - the whole path: an IPv6-only client whose resolver is
# dns64proxy reaches an IPv4-only server by name, through a real Tayga
# NAT64.  The topology is contrib/nat64-lab.sh's (the lab people try by
# hand), built in three network namespaces with names of this run
# (d64e2e-PID-RANDOM-client, -router, -server), linked only to each other:
#
#   client, IPv6 only     router                        server, IPv4 only
#   2001:db8:1::2 ------- dns64proxy, unbound lab.test,
#   resolv.conf: the      Tayga PREFIX <-> 192.168.255.0/24,
#   proxy                 forwarding ------------------ 192.0.2.80: unbound
#                                                       srv.test, HTTP
#
# Everything is checked from the client: getent (the C library's
# resolver, reading /etc/netns/NAME/resolv.conf), dig, a DNS exchange over
# TCP with the server by name, curl and ping when present; the server's own
# logs show the connections arriving from Tayga's IPv4 pool.  It runs once
# with a /96 Network-Specific Prefix and once with a /64 one (RFC 6052 2.2:
# the IPv4 address after the u octet, in bits 72-103), and checks after
# each run that the lab left nothing behind.
#
# Needs root, ip netns, /dev/net/tun, tayga, unbound, dig and getent, or
# exits 77 saying which is missing.  getent runs with "-s dns" so that
# neither /etc/hosts nor an nscd of the host can answer instead.

TEST_TIMEOUT=${TEST_TIMEOUT:-60}
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_root
need_tool ip tayga unbound dig getent
[ -c /dev/net/tun ] || skip "no /dev/net/tun (modprobe tun)"
[ -x "$PROXY_BIN" ] || bail "$PROXY_BIN not built"

LAB=$top_srcdir/contrib/nat64-lab.sh
LAB_NAME=d64e2e-$$-$RANDOM
LAB_DIR=$TEST_TMP/lab
DNS64PROXY=$PROXY_BIN
export LAB_NAME LAB_DIR DNS64PROXY
NS_C=$LAB_NAME-client
SRV=192.0.2.80
HELLO='"hello from the IPv4-only server"'

# Whatever happens, take the lab down before lib.sh's own cleanup: "lab
# down" stops only the daemons it started (pid files, checked to be in the
# lab's namespaces) and whatever else runs in those namespaces, which this
# run created.
# shellcheck disable=SC2317  # called by the trap
_nat64_exit() {
	local rc=$?
	"$LAB" down >"$TEST_TMP/down-on-exit.log" 2>&1
	(exit "$rc")
	_cleanup
}
trap _nat64_exit EXIT

# client CMD...: run CMD in the client namespace.
client() {
	ip netns exec "$NS_C" "$@"
}

# running PID: PID exists and is not a zombie.
running() {
	local st
	st=$(_proc_start "$1") || return 1
	[ "${st#* }" != Z ]
}

# show_logs: the lab's logs, as TAP comments (after a failed check).
show_logs() {
	local f
	for f in "$LAB_DIR"/*.log; do
		[ -f "$f" ] || continue
		note "--- $(basename "$f") (last lines)"
		_indent "$(tail -n 15 "$f")"
	done
}

# run_lab PREFIX SYN PING V4ONLY: build the lab with NAT64 prefix PREFIX,
# where web.lab.test (A 192.0.2.80) must become SYN and ipv4only.arpa's
# addresses V4ONLY (sorted, one a line); ping PING; take it down.
run_lab() {
	local prefix=$1 syn=$2 ping_to=$3 v4only=$4 t="[$1]" rc out pids
	local failed_before=$_failed pid left

	rc=0
	LAB_PREFIX=$prefix "$LAB" up >"$TEST_TMP/up.log" 2>&1 || rc=$?
	if [ $rc = 77 ]; then
		# The machine cannot build the lab (no namespaces, no tun).
		[ "$_checks" = 0 ] && skip "$(cat "$TEST_TMP/up.log")"
		skip_check "$t the whole path" "$(cat "$TEST_TMP/up.log")"
		return
	fi
	if [ $rc != 0 ]; then
		if grep -q 'prefix length must be' "$TEST_TMP/up.log"; then
			skip_check "$t the whole path" "this tayga refuses" \
			    "the prefix: $(grep 'prefix length' \
			    "$TEST_TMP/up.log" | head -n 1)"
			return
		fi
		not_ok "$t nat64-lab.sh up (status $rc)"
		_indent "$(cat "$TEST_TMP/up.log")"
		return
	fi
	ok "$t nat64-lab.sh up: 3 namespaces, 2 unbound, tayga, dns64proxy"
	_indent "$(sed -n '1,6p' "$TEST_TMP/up.log")"

	# The client is IPv6-only: IPv4 can only be reached through NAT64.
	check_false "$t client: no IPv4 route to the server $SRV" \
	    client ip -4 route get "$SRV" 2>/dev/null

	out=$(client getent -s dns ahostsv6 web.lab.test | awk '{print $1}' |
	    sort -u)
	check_eq "$t getent ahostsv6 web.lab.test: the synthesized address" \
	    "$syn" "$out"
	out=$(client getent -s dns ahostsv6 www.lab.test | head -n 1 |
	    tr -s ' ')
	check_eq "$t getent ahostsv6 www.lab.test (CNAME): web.lab.test's" \
	    "$syn STREAM web.lab.test" "$out"
	out=$(client getent -s dns hosts "$syn" | tr -s ' \t' '  ')
	check_eq "$t getent hosts $syn (PTR): web.lab.test" \
	    "$syn web.lab.test" "$out"
	out=$(client dig +time=2 +tries=1 +short AAAA dual.lab.test)
	check_eq "$t dual.lab.test keeps its real AAAA, nothing synthesized" \
	    "2001:db8:1::1" "$out"
	out=$(client dig +time=2 +tries=1 +short AAAA ipv4only.arpa | sort)
	check_eq "$t ipv4only.arpa AAAA: 192.0.0.170 and .171 in the prefix" \
	    "$v4only" "$out"
	out=$(client dig +time=2 +tries=1 -b 2001:db8:1::bad AAAA web.lab.test)
	check_eq "$t client address outside the proxy's ACL: REFUSED" \
	    REFUSED "$(status_of "$out")"

	# A TCP exchange by name, through Tayga: dig looks the server's name
	# up through the proxy, then talks to the synthesized address.
	out=$(client dig -6 +tcp +time=3 +tries=1 +short @web.lab.test \
	    hello.srv.test TXT 2>&1)
	check_eq "$t dig +tcp @web.lab.test: the IPv4-only server answers" \
	    "$HELLO" "$out"
	if wait_for_grep "$LAB_DIR/unbound-server.log" \
	    ' info: 192\.168\.255\.[0-9]+ hello\.srv\.test\. TXT IN' 2; then
		ok "$t the server saw that query come from Tayga's IPv4 pool"
	else
		not_ok "$t the server saw that query come from Tayga's IPv4 pool"
		_indent "$(tail -n 5 "$LAB_DIR/unbound-server.log")"
	fi

	if ! command -v curl >/dev/null 2>&1; then
		skip_check "$t curl http://web.lab.test/" "curl not installed"
	elif [ ! -f "$LAB_DIR/http.pid" ]; then
		skip_check "$t curl http://web.lab.test/" \
		    "python3 not installed (the lab's web server)"
	else
		out=$(client curl -sS --max-time 5 -o "$TEST_TMP/body" \
		    -w '%{remote_ip}' http://web.lab.test/ 2>&1)
		check_eq "$t curl http://web.lab.test/: the page, from $syn" \
		    "hello from the IPv4-only server $SRV $syn" \
		    "$(cat "$TEST_TMP/body" 2>/dev/null) $out"
	fi

	if PATH=$PATH:/usr/sbin:/sbin command -v ping >/dev/null 2>&1; then
		if out=$(client ping -6 -c 1 -W 3 "$ping_to" 2>&1); then
			ok "$t ping -6 $ping_to"
		else
			not_ok "$t ping -6 $ping_to" "$out"
		fi
	else
		skip_check "$t ping -6 $ping_to" "ping not installed"
	fi

	[ "$_failed" = "$failed_before" ] || show_logs

	# Down, and nothing left: no namespace, no resolver file, no daemon
	# (the veths and the tun device lived in the namespaces).
	pids=$(cat "$LAB_DIR"/*.pid 2>/dev/null)
	rc=0
	"$LAB" down >"$TEST_TMP/down.log" 2>&1 || rc=$?
	check_eq "$t nat64-lab.sh down: status 0" 0 "$rc"
	check_eq "$t no namespace $LAB_NAME-* left" "" \
	    "$(ip netns list | grep -F "$LAB_NAME-")"
	check_false "$t /etc/netns/$NS_C removed" test -e "/etc/netns/$NS_C"
	left=
	for pid in $pids; do
		running "$pid" && left="$left $pid"
	done
	check_eq "$t no lab daemon left running" "" "$left"
}

# RFC 6052 2.2: /96 puts the IPv4 address in the last 32 bits; /64 puts it
# in bits 72-103, after the zero u octet (bits 64-71).
run_lab 2001:db8:64::/96 2001:db8:64::c000:250 2001:db8:64::$SRV \
    $'2001:db8:64::c000:aa\n2001:db8:64::c000:ab'
run_lab 2001:db8:64::/64 2001:db8:64:0:c0:2:5000:0 2001:db8:64:0:c0:2:5000:0 \
    $'2001:db8:64:0:c0:0:aa00:0\n2001:db8:64:0:c0:0:ab00:0'

finish
