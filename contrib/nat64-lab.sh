#!/bin/bash
#
# nat64-lab.sh - an IPv6-only network with DNS64 (dns64proxy) and NAT64
# (Tayga) on one Linux machine, in three network namespaces, to try by hand.
#
#	contrib/nat64-lab.sh up       build the lab and start its daemons
#	contrib/nat64-lab.sh status   show what is up
#	contrib/nat64-lab.sh down     stop the daemons, remove everything
#
# Needs root, iproute2 (ip netns), /dev/net/tun, tayga, unbound and dig
# (Debian: apt-get install tayga unbound bind9-dnsutils iproute2); curl,
# ping and python3 (for a small web server) are used when present.
#
#   LAB-client, IPv6 only   LAB-router                     LAB-server, IPv4 only
#   eth0 2001:db8:1::2 ---- lan0 2001:db8:1::1
#        2001:db8:1::bad         dns64proxy [2001:db8:1::1]:53
#                                unbound 127.0.0.1@5300 (lab.test)
#                                tayga nat64: PREFIX <-> 192.168.255.0/24
#                                wan0 192.0.2.1 ------- eth0 192.0.2.80
#                                                       unbound :53 (srv.test)
#                                                       HTTP :80 (python3)
#
# The client's resolver is dns64proxy (/etc/netns/LAB-client/resolv.conf,
# which "ip netns exec" mounts over /etc/resolv.conf).  The router's unbound
# serves the zone lab.test: web (A 192.0.2.80, the server), dual (A and
# AAAA: the router itself), www (CNAME to web) and the PTR of 192.0.2.80.
# dns64proxy synthesizes AAAA records in PREFIX; Tayga translates packets to
# PREFIX into IPv4 from its dynamic pool 192.168.255.0/24, which the server
# routes back to the router.  2001:db8:1::bad is denied by the proxy's ACL.
# Nothing is linked to the host's own network: the namespaces talk only to
# each other, and the router's unbound never sends a query anywhere.
#
# Environment:
#   LAB_NAME    namespace names are $LAB_NAME-client, -router, -server
#               (default "lab")
#   LAB_PREFIX  the NAT64 prefix, an RFC 6052 length: /32 /40 /48 /56 /64
#               /96 (default 2001:db8:64::/96).  Not the Well-Known Prefix
#               64:ff9b::/96: it is never used for non-global IPv4
#               addresses like the server's (RFC 6052 3.1)
#   LAB_DIR     configuration, logs and pid files
#               (default /run/nat64-lab/$LAB_NAME)
#   DNS64PROXY  the dns64proxy binary (default: ../src/dns64proxy next to
#               this script if built, else dns64proxy in PATH)
#
# Exit status: 0 done, 1 failed, 77 this machine cannot run the lab (the
# reason is printed); "status" exits 3 when the lab is down.
# tests/e2e/nat64.sh runs this script under a per-run LAB_NAME and checks
# the whole path.

# "A && B || die": die when any step fails, which is what is meant.
# shellcheck disable=SC2015

set -u
PATH=$PATH:/usr/sbin:/sbin
LC_ALL=C
export LC_ALL

LAB_NAME=${LAB_NAME:-lab}
LAB_PREFIX=${LAB_PREFIX:-2001:db8:64::/96}
LAB_DIR_DEFAULT=/run/nat64-lab/$LAB_NAME
LAB_DIR=${LAB_DIR:-$LAB_DIR_DEFAULT}
NS_C=$LAB_NAME-client
NS_R=$LAB_NAME-router
NS_S=$LAB_NAME-server
NSS=("$NS_C" "$NS_R" "$NS_S")
ETC_NETNS=/etc/netns/$NS_C
PROG=$0

# Addresses (documentation ranges: RFC 3849, RFC 5737).
LAN_R=2001:db8:1::1
LAN_C=2001:db8:1::2
LAN_BAD=2001:db8:1::bad
WAN_R=192.0.2.1
SRV=192.0.2.80
POOL=192.168.255.0/24
TAYGA4=192.168.255.1
UNBOUND_PORT=5300

# Every bounded wait polls every 0.1 s at most this many times.
WAIT_TRIES=100

die() {
	echo "nat64-lab: $*" >&2
	exit 1
}

cannot() {
	echo "nat64-lab: cannot run here: $*" >&2
	exit 77
}

usage() {
	echo "usage: $PROG up|down|status" >&2
	exit 2
}

# nsx NS CMD...: run CMD in namespace NS.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

find_proxy() {
	local here
	here=$(cd "$(dirname "$PROG")" && pwd)
	if [ -n "${DNS64PROXY:-}" ]; then
		echo "$DNS64PROXY"
	elif [ -x "$here/../src/dns64proxy" ]; then
		echo "$here/../src/dns64proxy"
	else
		command -v dns64proxy
	fi
}

find_python() {
	if [ -x /usr/bin/python3 ]; then
		echo /usr/bin/python3
	else
		command -v python3
	fi
}

# prerequisites: exit 77 with the reason unless the lab can run here.
prerequisites() {
	local t
	[ "$(id -u)" = 0 ] || cannot "must run as root"
	for t in ip tayga unbound dig; do
		command -v "$t" >/dev/null 2>&1 || cannot "$t not installed"
	done
	ip netns list >/dev/null 2>&1 || cannot "ip netns does not work"
	[ -c /dev/net/tun ] || cannot "no /dev/net/tun (modprobe tun)"
	[ -e /proc/sys/net/ipv6 ] || cannot "the kernel has no IPv6"
	[ -e /etc/resolv.conf ] ||
	    cannot "no /etc/resolv.conf for ip netns exec to mount over"
	PROXY_BIN=$(find_proxy) && [ -x "$PROXY_BIN" ] ||
	    cannot "dns64proxy not found (build it, or set DNS64PROXY)"
	case $LAB_PREFIX in
	64:ff9b::/96|64:FF9B::/96)
		die "LAB_PREFIX: the Well-Known Prefix never maps the lab's" \
		    "non-global IPv4 addresses (RFC 6052 3.1); use a" \
		    "Network-Specific Prefix" ;;
	*/32|*/40|*/48|*/56|*/64|*/96) ;;
	*)	die "LAB_PREFIX $LAB_PREFIX: not an RFC 6052 prefix length" ;;
	esac
}

# wait_ready NAME CMD...: poll CMD until it succeeds, while the daemon NAME
# runs (10 s at most); else print the end of NAME's log and fail.
wait_ready() {
	local name=$1 n
	shift
	for ((n = 0; n < WAIT_TRIES; n++)); do
		"$@" >/dev/null 2>&1 && return 0
		alive "$name" || fail_start "$name" "exited"
		sleep 0.1
	done
	fail_start "$name" "not ready after $((WAIT_TRIES / 10)) s"
}

# start NAME NS CMD...: start daemon CMD in namespace NS in the background,
# output to $LAB_DIR/NAME.log, pid to $LAB_DIR/NAME.pid.  "ip netns exec"
# execs CMD, so the pid is the daemon's.
start() {
	local name=$1 ns=$2
	shift 2
	nohup ip netns exec "$ns" "$@" >"$LAB_DIR/$name.log" 2>&1 </dev/null &
	echo $! >"$LAB_DIR/$name.pid"
}

# running PID: PID exists and is not a zombie (our daemons are not our
# children once "up" has exited, and whoever reaps them may take its time).
running() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# alive NAME: the daemon NAME is running, in its lab namespace.
alive() {
	local pid ns
	read -r pid 2>/dev/null <"$LAB_DIR/$1.pid" || return 1
	[ -n "$pid" ] && running "$pid" || return 1
	for ns in "${NSS[@]}"; do
		[ "/proc/$pid/ns/net" -ef "/run/netns/$ns" ] && return 0
	done
	return 1
}

# fail_start NAME WHY: print the end of NAME's log and fail.
fail_start() {
	echo "nat64-lab: $1 did not start ($2); its log ($LAB_DIR/$1.log):" >&2
	tail -n 15 "$LAB_DIR/$1.log" 2>/dev/null | sed 's/^/  /' >&2
	exit 1
}

write_configs() {
	mkdir -p "$LAB_DIR/www" || die "cannot create $LAB_DIR"

	cat >"$LAB_DIR/dns64proxy.conf" <<-EOF
	# dns64proxy in $NS_R: the resolver of $NS_C.
	listen on $LAN_R port 53
	forwarder 127.0.0.1 port $UNBOUND_PORT
	prefix $LAB_PREFIX
	allow 2001:db8:1::/64
	deny $LAN_BAD/128
	# dns64proxy-control -s $LAB_DIR/control.sock status
	control-socket "$LAB_DIR/control.sock"
	EOF

	cat >"$LAB_DIR/tayga.conf" <<-EOF
	# Tayga in $NS_R: $LAB_PREFIX <-> $POOL.
	tun-device nat64
	ipv4-addr $TAYGA4
	prefix $LAB_PREFIX
	dynamic-pool $POOL
	EOF

	# Both unbounds answer their own zone and nothing else: with every
	# address on the do-not-query list, any other name fails at once
	# without a packet sent.  So they need no range of outgoing ports, and
	# a small one saves a second of start-up: unbound shuffles its port
	# list with one random number per port, and Debian 12's glibc makes a
	# system call for each.
	local common
	common=$(cat <<-EOF
		verbosity: 1
		username: ""
		chroot: ""
		directory: "$LAB_DIR"
		pidfile: ""
		use-syslog: no
		logfile: ""
		log-time-ascii: yes
		log-queries: yes
		do-ip6: yes
		so-reuseport: no
		module-config: "iterator"
		num-threads: 1
		do-not-query-localhost: no
		do-not-query-address: 0.0.0.0/0
		do-not-query-address: ::/0
		outgoing-range: 32
		outgoing-port-avoid: 0-65535
		outgoing-port-permit: 61000-61031
		outgoing-num-tcp: 2
		incoming-num-tcp: 32
		num-queries-per-thread: 64
		msg-cache-size: 256k
		rrset-cache-size: 256k
		so-rcvbuf: 0
		so-sndbuf: 0
	EOF
	)

	cat >"$LAB_DIR/unbound-router.conf" <<-EOF
	# The upstream of dns64proxy in $NS_R: the zone lab.test.
	server:
	$common
		interface: 127.0.0.1@$UNBOUND_PORT
		port: $UNBOUND_PORT
		access-control: 127.0.0.0/8 allow
		local-zone: "lab.test." static
		local-data: "lab.test. 3600 IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 900 604800 300"
		local-data: "web.lab.test. 300 IN A $SRV"
		local-data: "www.lab.test. 300 IN CNAME web.lab.test."
		local-data: "dual.lab.test. 300 IN A $WAN_R"
		local-data: "dual.lab.test. 300 IN AAAA $LAN_R"
		local-zone: "2.0.192.in-addr.arpa." static
		local-data: "2.0.192.in-addr.arpa. 3600 IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 900 604800 300"
		local-data-ptr: "$SRV 300 web.lab.test."
		local-data-ptr: "$WAN_R 300 dual.lab.test."
	remote-control:
		control-enable: no
	EOF

	cat >"$LAB_DIR/unbound-server.conf" <<-EOF
	# The IPv4-only server in $NS_S: the zone srv.test.
	server:
	$common
		interface: $SRV
		port: 53
		do-ip6: no
		access-control: 0.0.0.0/0 allow
		local-zone: "srv.test." static
		local-data: "srv.test. 3600 IN SOA ns.srv.test. hostmaster.srv.test. 1 3600 900 604800 300"
		local-data: 'hello.srv.test. 300 IN TXT "hello from the IPv4-only server"'
	remote-control:
		control-enable: no
	EOF

	printf 'hello from the IPv4-only server %s\n' "$SRV" \
	    >"$LAB_DIR/www/index.html"
}

# The three namespaces, their links and routes; nothing in the host's own
# namespace: each veth is created inside the router namespace with its peer
# in the other one.  "ip -batch" runs a namespace's commands in one process.
build_network() {
	# A machine that cannot do this (a container without the privilege,
	# a kernel without veth) cannot run the lab at all: status 77.
	printf 'netns add %s\n' "${NSS[@]}" | ip -b - ||
	    cannot "cannot create network namespaces"
	ip -n "$NS_R" link add lan0 type veth peer name eth0 netns "$NS_C" ||
	    cannot "cannot create a veth pair"

	# The router: both families, forwarding on.
	ip -n "$NS_R" -b - <<-EOF || die "cannot configure $NS_R"
	link set lo up
	link add wan0 type veth peer name eth0 netns $NS_S
	addr add $LAN_R/64 dev lan0 nodad
	link set lan0 up
	addr add $WAN_R/24 dev wan0
	link set wan0 up
	EOF
	nsx "$NS_R" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward &&
	    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding' ||
	    die "cannot turn forwarding on in $NS_R"

	# The client: IPv6 only, default route to the router.  nodad: the
	# addresses are usable at once, no duplicate address detection wait.
	# The denied address is deprecated (preferred_lft 0), so it is never
	# picked as a source address unless asked for (dig -b).
	nsx "$NS_C" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/eth0/accept_ra' ||
	    die "cannot configure $NS_C"
	ip -n "$NS_C" -b - <<-EOF || die "cannot configure $NS_C"
	link set lo up
	addr add $LAN_C/64 dev eth0 nodad
	addr add $LAN_BAD/64 dev eth0 nodad preferred_lft 0
	link set eth0 up
	route add ::/0 via $LAN_R dev eth0
	EOF

	# The server: IPv4 only.
	nsx "$NS_S" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
	    echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 &&
	    echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6' ||
	    die "cannot turn IPv6 off in $NS_S"
	ip -n "$NS_S" -b - <<-EOF || die "cannot configure $NS_S"
	link set lo up
	addr add $SRV/24 dev eth0
	link set eth0 up
	route add default via $WAN_R dev eth0
	EOF

	# The client's resolver, and a hosts line in nsswitch.conf that goes
	# to DNS (not to a resolver daemon of the host, like nss-resolve).
	mkdir -p "$ETC_NETNS" || die "cannot create $ETC_NETNS"
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$LAN_R" \
	    >"$ETC_NETNS/resolv.conf"
	sed -e 's/^hosts:.*/hosts: files dns/' /etc/nsswitch.conf \
	    >"$ETC_NETNS/nsswitch.conf" 2>/dev/null ||
	    printf 'hosts: files dns\n' >"$ETC_NETNS/nsswitch.conf"
}

# tun_carrier: Tayga has opened its tun device (no NO-CARRIER any more).
tun_carrier() {
	local l
	l=$(ip -n "$NS_R" link show nat64 2>/dev/null) || return 1
	case $l in
	*NO-CARRIER*) return 1 ;;
	esac
	return 0
}

# answers NS DIGARGS...: dig, in NS, gets a non-empty answer.
answers() {
	local ns=$1 out
	shift
	out=$(nsx "$ns" dig +time=1 +tries=1 +short "$@" 2>/dev/null) &&
	    [ -n "$out" ]
}

# tcp_open NS ADDR PORT: a TCP connection to ADDR PORT from NS succeeds.
tcp_open() {
	nsx "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

start_daemons() {
	local py

	start unbound-router "$NS_R" unbound -d -c "$LAB_DIR/unbound-router.conf"
	start unbound-server "$NS_S" unbound -d -c "$LAB_DIR/unbound-server.conf"
	py=$(find_python) && [ -x "$py" ] &&
	    start http "$NS_S" "$py" -m http.server --bind "$SRV" \
	    --directory "$LAB_DIR/www" 80

	# Tayga's tun device exists before Tayga runs (--mktun), so its
	# routes are in place when translation starts.
	if ! nsx "$NS_R" tayga --mktun -c "$LAB_DIR/tayga.conf" \
	    >"$LAB_DIR/tayga-mktun.log" 2>&1; then
		grep -q /dev/net/tun "$LAB_DIR/tayga-mktun.log" &&
		    cannot "tayga: $(cat "$LAB_DIR/tayga-mktun.log")"
		fail_start tayga-mktun failed
	fi
	ip -n "$NS_R" -b - <<-EOF || die "cannot route through the tun nat64"
	link set nat64 up
	route add $POOL dev nat64
	route add $LAB_PREFIX dev nat64
	EOF
	start tayga "$NS_R" tayga -d -c "$LAB_DIR/tayga.conf"

	start dns64proxy "$NS_R" "$PROXY_BIN" -d -v -f "$LAB_DIR/dns64proxy.conf"

	wait_ready unbound-router answers "$NS_R" -p "$UNBOUND_PORT" \
	    @127.0.0.1 web.lab.test A
	wait_ready unbound-server answers "$NS_S" @"$SRV" hello.srv.test TXT
	if [ -f "$LAB_DIR/http.pid" ]; then
		wait_ready http tcp_open "$NS_S" "$SRV" 80
	fi
	wait_ready tayga tun_carrier
	wait_ready dns64proxy grep -qw ready "$LAB_DIR/dns64proxy.log"
}

cmd_up() {
	local ns syn ping_to
	prerequisites
	for ns in "${NSS[@]}"; do
		ns_exists "$ns" && die "namespace $ns exists: the lab is up" \
		    "(\"$PROG down\" first)"
	done
	[ -e "$ETC_NETNS" ] && die "$ETC_NETNS exists (\"$PROG down\" first)"
	[ -d /etc/netns ] || { mkdir -p "$LAB_DIR" &&
	    : >"$LAB_DIR/created-etc-netns"; }
	# From here on a failure leaves nothing half built.
	trap 'echo "nat64-lab: up failed, cleaning up" >&2; cmd_down >/dev/null' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	write_configs
	build_network
	start_daemons
	trap - EXIT HUP INT TERM

	syn=$(nsx "$NS_C" dig +time=2 +tries=2 +short AAAA web.lab.test)
	case $LAB_PREFIX in
	*/96)	ping_to=${LAB_PREFIX%/96}$SRV ;;
	*)	ping_to=$syn ;;
	esac
	cat <<-EOF
	NAT64 lab "$LAB_NAME" is up, NAT64 prefix $LAB_PREFIX.
	  $NS_C  IPv6 only: $LAN_C; its resolver is dns64proxy at $LAN_R
	  $NS_R  dns64proxy [$LAN_R]:53, unbound 127.0.0.1@$UNBOUND_PORT (lab.test),
	  ${NS_R//?/ }  tayga $LAB_PREFIX <-> $POOL, forwarding on
	  $NS_S  IPv4 only: $SRV; unbound (srv.test)$([ -f "$LAB_DIR/http.pid" ] && echo ", HTTP on port 80")
	web.lab.test (A $SRV) resolves in $NS_C to ${syn:-NOTHING (see "$PROG status")}.

	Try:
	  ip netns exec $NS_C dig AAAA web.lab.test      # synthesized from the A record
	  ip netns exec $NS_C dig AAAA www.lab.test      # through a CNAME
	  ip netns exec $NS_C dig AAAA dual.lab.test     # has its own AAAA: kept
	  ip netns exec $NS_C dig AAAA ipv4only.arpa     # prefix discovery (RFC 7050)
	  ip netns exec $NS_C dig -x ${syn:-ADDRESS}    # reverse: web.lab.test
	  ip netns exec $NS_C dig +tcp @web.lab.test hello.srv.test TXT
	  ip netns exec $NS_C ping -c 3 $ping_to
	  ip netns exec $NS_C curl http://web.lab.test/
	  ip netns exec $NS_C dig -b $LAN_BAD AAAA web.lab.test   # REFUSED by the ACL
	  ip netns exec $NS_C bash                       # a shell on the IPv6-only network
	Logs: $LAB_DIR/*.log (dns64proxy -v logs every query; the server's
	unbound logs the Tayga pool address each query came from).
	Stop: $PROG down
	EOF
}

# stop_pids PID...: SIGTERM them all, SIGKILL those left after 5 s.
stop_pids() {
	local n pid left
	[ $# = 0 ] && return 0
	kill -TERM "$@" 2>/dev/null
	for ((n = 0; n < 70; n++)); do
		left=()
		for pid in "$@"; do
			running "$pid" && left+=("$pid")
		done
		[ ${#left[@]} = 0 ] && return 0
		[ $n = 50 ] && kill -KILL "${left[@]}" 2>/dev/null
		sleep 0.1
	done
	echo "nat64-lab: pids ${left[*]} do not go away" >&2
	return 1
}

cmd_down() {
	local f name pid ns pids rc=0
	[ "$(id -u)" = 0 ] || cannot "must run as root"
	# The daemons this script started (still in a lab namespace: a pid
	# file never makes us signal somebody else's process).
	pids=()
	for f in "$LAB_DIR"/*.pid; do
		[ -f "$f" ] || continue
		name=${f##*/}
		name=${name%.pid}
		if alive "$name"; then
			pid=$(<"$f")
			pids+=("$pid")
			echo "stopping $name (pid $pid)"
		fi
	done
	stop_pids "${pids[@]}" || rc=1
	rm -f "$LAB_DIR"/*.pid
	# Anything else still running in the lab's namespaces (a shell
	# someone opened there) would keep the namespace alive.
	pids=()
	for ns in "${NSS[@]}"; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			echo "stopping pid $pid ($(tr '\0' ' ' \
			    </proc/"$pid"/cmdline 2>/dev/null)) in $ns"
			pids+=("$pid")
		done
	done
	stop_pids "${pids[@]}" || rc=1
	for ns in "${NSS[@]}"; do
		ns_exists "$ns" || continue
		# Deleting the namespace removes its veths and tun device too.
		if ip netns del "$ns"; then
			echo "deleted namespace $ns"
		else
			rc=1
		fi
	done
	rm -rf "$ETC_NETNS"
	if [ -f "$LAB_DIR/created-etc-netns" ]; then
		rmdir /etc/netns 2>/dev/null
	fi
	rm -rf "$LAB_DIR"
	if [ "$LAB_DIR" = "$LAB_DIR_DEFAULT" ]; then
		rmdir "$(dirname "$LAB_DIR")" 2>/dev/null
	fi
	return $rc
}

cmd_status() {
	local ns name up=0
	for ns in "${NSS[@]}"; do
		if ns_exists "$ns"; then
			up=1
			echo "namespace $ns:"
			ip -n "$ns" -br addr show 2>/dev/null | grep -v '^lo ' |
			    sed 's/^/  /'
		else
			echo "namespace $ns: absent"
		fi
	done
	if [ $up = 0 ]; then
		echo "the lab \"$LAB_NAME\" is down"
		return 3
	fi
	for name in unbound-router unbound-server http tayga dns64proxy; do
		[ -f "$LAB_DIR/$name.pid" ] || continue
		if alive "$name"; then
			echo "$name: running (pid $(cat "$LAB_DIR/$name.pid"))"
		else
			echo "$name: NOT RUNNING (log: $LAB_DIR/$name.log)"
		fi
	done
	if ns_exists "$NS_C"; then
		echo "web.lab.test AAAA from $NS_C:" \
		    "$(nsx "$NS_C" dig +time=1 +tries=1 +short AAAA web.lab.test 2>&1)"
	fi
	[ -f "$ETC_NETNS/resolv.conf" ] &&
	    echo "$NS_C resolver: $(grep nameserver "$ETC_NETNS/resolv.conf")"
	return 0
}

[ $# = 1 ] || usage
case $1 in
up)	cmd_up ;;
down)	cmd_down ;;
status)	cmd_status ;;
*)	usage ;;
esac
