#!/bin/bash
#
# forgery.sh - a blind forger floods forged replies while the proxy has
# queries in flight, and none is accepted (issue 9; RFC 5452 9.1, 9.2;
# README "Forgery resistance").
#
# fakeup answers every A query after 500 ms (NXDOMAIN), and a client keeps
# 250 queries a second in flight through the proxy, each for a name of its
# own.  Meanwhile a sender floods 50,000 forged replies from the
# forwarder's address and port to random ports 1024-65535 of 127.0.0.1,
# each with a random ID and the question of one of the client's names,
# answering A 6.6.6.6.  No client answer may carry 6.6.6.6 (nor, with the
# cache on, a cached one afterwards).  The test reports how many forged
# packets were sent and how many the proxy counted as unmatched (unknown
# ID) or broken (known ID, wrong question): the "stats:" line of SIGUSR1.
#
# Spoofing the forwarder's source port on loopback takes a raw socket
# (python3, IPPROTO_RAW), so root; and so that the random ports are nobody
# else's, the whole test runs in a network namespace of its own (unshare
# -n).  Without either it is skipped.  Runs with "cache-size 16" and
# "cache-size 0".

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TEST_TIMEOUT:=600}"

# Into a network namespace of our own (before lib.sh: its temp dir and
# watchdog belong to the process that runs the test).
if [ -z "${DNS64PROXY_TEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
    command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
	DNS64PROXY_TEST_NETNS=1 exec unshare -n -- "$BASH" "$0" "$@"
fi

. "$top_srcdir/tests/integration/lib.sh"

need_root
[ -n "${DNS64PROXY_TEST_NETNS:-}" ] ||
    skip "cannot create a network namespace (unshare -n)"
need_tool ip python3
need_dnsq
PATH=$PATH:/usr/sbin:/sbin ip link set lo up ||
    bail "cannot bring lo up in the test's network namespace"

MARKER=6.6.6.6
FORGED=50000
NQ=1500
QPS=250

rules=$TEST_TMP/rules
cat >"$rules" <<EOF
match * A
  delay 500
  rcode NXDOMAIN
  authority t.example. 60 IN SOA ns.t.example. h.t.example. 1 3600 900 604800 60
end
EOF

# The forger: forge.py SPORT COUNT MARKER AVOID NAME...; prints the number
# of packets sent.  Raw IPv4 + UDP (checksum 0: none, RFC 768), source
# 127.0.0.1:SPORT, destination 127.0.0.1 at a random port in 1024-65535
# but the ports in AVOID (comma separated), DNS reply: random ID, QR RD RA,
# the question of a random NAME, type A, one A RR MARKER.
forger=$TEST_TMP/forge.py
cat >"$forger" <<'EOF'
import random
import socket
import struct
import sys

sport, count, marker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
avoid = {int(p) for p in sys.argv[4].split(",") if p}
rng = random.SystemRandom()


def wire(name):
    labels = name.rstrip(".").split(".")
    return b"".join(bytes([len(x)]) + x.encode() for x in labels) + b"\0"


questions = [wire(n) + struct.pack("!HH", 1, 1) for n in sys.argv[5:]]
rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + \
    socket.inet_aton(marker)
lo = socket.inet_aton("127.0.0.1")
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
sent = 0
for _ in range(count):
    dport = rng.randint(1024, 65535)
    while dport in avoid:
        dport = rng.randint(1024, 65535)
    dns = struct.pack("!HHHHHH", rng.getrandbits(16), 0x8180, 1, 1, 0, 0) + \
        rng.choice(questions) + rr
    udp = struct.pack("!HHHH", sport, dport, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, lo, lo) + udp
    try:
        s.sendto(ip, ("127.0.0.1", 0))
        sent += 1
    except OSError:
        pass
print(sent)
EOF

flood() {
	local cs=$1 m="[c$1]" names=() i out s0 s1 sent stream n
	local unmatched broken answered
	start_fakeup "$rules"
	PROXY_CONF_BASE="cache-size $cs"
	proxy_conf "$FAKEUP_PORT"
	# Teach the proxy that this forwarder takes 500 ms (RTO), so that
	# the queries below are not retried.
	dq -T 4000 warm.t.example/A >/dev/null

	for i in $(seq 1 $NQ); do
		names+=("f$cs-$i.t.example")
	done
	stream=$TEST_TMP/stream-$cs
	run_bg "$stream" "$DNSQ_BIN" -s 127.0.0.1 -p "$PROXY_PORT" \
	    -r $QPS -n $NQ -T 4000 "${names[@]/%//A}"
	# Queries in flight: the first have reached the forwarder.
	for n in $(seq 1 100); do
		[ "$(fakeup_count 'qname=f')" -ge 50 ] && break
		sleep 0.05
	done
	s0=$(proxy_stats)
	sent=$(python3 "$forger" "$FAKEUP_PORT" $FORGED $MARKER \
	    "$FAKEUP_PORT,$PROXY_PORT" "${names[@]}") ||
	    bail "the forger failed"
	wait "$BG_PID"
	s1=$(proxy_stats)
	out=$(cat "$stream")
	unmatched=$(( $(stat_of unmatched "$s1") - $(stat_of unmatched "$s0") ))
	broken=$(( $(stat_of broken "$s1") - $(stat_of broken "$s0") ))
	answered=$(printf '%s\n' "$out" | grep -c '^seq=.* id=[0-9]* rcode=')
	note "cache-size $cs: $sent forged replies sent, $unmatched counted unmatched (unknown ID), $broken broken (known ID, other question); $answered of $NQ queries answered"

	check_eq "$m the forger sent $FORGED replies" $FORGED "$sent"
	check_range "$m some reached the proxy's sockets (unmatched)" 1 \
	    $FORGED "$unmatched"
	check_eq "$m every query answered" $NQ "$answered"
	check_nomatch "$m no answer carries $MARKER" "$(re_escape $MARKER)" \
	    "$out"
	check_eq "$m every answer is the forwarder's NXDOMAIN" "$answered" \
	    "$(printf '%s\n' "$out" | grep -c '^seq=.* rcode=NXDOMAIN ')"
	if [ "$cs" != 0 ]; then
		# Nor is anything forged in the cache.
		out=$(dq -r 1000 -n $NQ -T 4000 "${names[@]/%//A}")
		check_eq "$m afterwards, from the cache: $NQ answers" $NQ \
		    "$(printf '%s\n' "$out" | grep -c '^seq=.* id=[0-9]* rcode=')"
		check_nomatch "$m ... none with $MARKER" \
		    "$(re_escape $MARKER)" "$out"
	fi
	stop_proxy
	stop_fakeup
}

for CS in 16 0; do
	note "=== cache-size $CS"
	flood "$CS"
done

finish
