#!/bin/bash
#
# prefix-lengths.sh - RFC 6052 address format: every prefix length gives
# exactly the address of RFC 6052 2.4 Table 1 (compared as 128-bit values),
# the Well-Known Prefix, and prefixes that must be refused at startup and
# in a config file (RFC 6052 2.2: lengths, the u-octet).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

BIN=$top_builddir/src/dns64proxy

# ipv6_norm ADDR...: each IPv6 address (RFC 4291 2.2 text, "::" and a
# dotted-quad tail allowed) as 32 lower-case hex digits, one per line;
# "invalid" for what cannot be parsed.  Comparing these compares the
# 16-byte values, whatever the text form.
ipv6_norm() {
	printf '%s\n' "$@" | awk '
	function hex4(s) {
		if (s !~ /^[0-9a-fA-F]+$/ || length(s) > 4)
			return ""
		return substr("0000", 1, 4 - length(s)) tolower(s)
	}
	function groups(s, out,    n, i, g, p, q) {
		# out = the hex of the groups in s (no "::"); "" on error
		if (s == "")
			return ""
		n = split(s, g, ":")
		out = ""
		for (i = 1; i <= n; i++) {
			if (i == n && g[i] ~ /\./) {
				if (split(g[i], q, ".") != 4)
					return "x"
				for (p = 1; p <= 4; p++) {
					if (q[p] !~ /^[0-9]+$/ || q[p] > 255)
						return "x"
					out = out sprintf("%02x", q[p])
				}
				continue
			}
			if ((p = hex4(g[i])) == "")
				return "x"
			out = out p
		}
		return out
	}
	{
		addr = $0
		c = gsub(/::/, "::", addr)
		if (c > 1) { print "invalid"; next }
		if (c == 1) {
			i = index(addr, "::")
			head = groups(substr(addr, 1, i - 1))
			tail = groups(substr(addr, i + 2))
			if (head ~ /x/ || tail ~ /x/) { print "invalid"; next }
			fill = 32 - length(head) - length(tail)
			if (fill < 4) { print "invalid"; next }
			mid = ""
			for (j = 0; j < fill; j++)
				mid = mid "0"
			res = head mid tail
		} else
			res = groups(addr)
		if (res ~ /x/ || length(res) != 32) { print "invalid"; next }
		print res
	}'
}

# Self-check of the helper: text forms of one value agree, others differ.
check_eq "ipv6_norm: forms of one address agree" \
    "20010db80122034400000000c0000221
20010db80122034400000000c0000221
20010db80122034400000000c0000221" \
    "$(ipv6_norm 2001:db8:122:344::c000:221 2001:DB8:122:344:0:0:C000:0221 \
    2001:db8:122:344::192.0.2.33)"
check_eq "ipv6_norm: RFC 5952 and RFC 6052 text of the /64 example agree" \
    "$(ipv6_norm 2001:db8:122:344:c0:2:2100:0)" \
    "$(ipv6_norm 2001:db8:122:344:c0:2:2100::)"
check_eq "ipv6_norm: garbage is invalid" "invalid
invalid
invalid" "$(ipv6_norm 1::2::3 12345:: 1:2:3:4:5:6:7:8:9)"

start_unbound

# answer_addrs OUTPUT: the AAAA addresses of the answer section.
answer_addrs() {
	answer_rrs "$1" | awk '$3 == "AAAA" { print $4 }'
}

# check_synth PREFIX NAME EXPECTED...: a proxy with -p PREFIX answers
# AAAA NAME with exactly the EXPECTED addresses (compared as values).
check_synth() {
	local pfx=$1 name=$2 out got exp
	shift 2
	exp=$(ipv6_norm "$@" | sort)
	case $exp in
	*invalid*)	bail "check_synth: bad expected address in: $*" ;;
	esac
	start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$pfx"
	out=$(q "$name" AAAA)
	got=$(answer_addrs "$out")
	check_eq "$pfx: AAAA $name NOERROR" NOERROR "$(status_of "$out")"
	# shellcheck disable=SC2086
	check_eq "$pfx: AAAA $name = $* (RFC 6052 2.2, 2.4)" \
	    "$exp" "$(ipv6_norm $got | sort)"
	stop_proxy
}

# RFC 6052 2.4 Table 1, 192.0.2.33, as printed in the RFC; the u-octet
# (bits 64-71) is zero in each.
check_synth 2001:db8::/32 a-only.t.example 2001:db8:c000:221::
check_synth 2001:db8:100::/40 a-only.t.example 2001:db8:1c0:2:21::
check_synth 2001:db8:122::/48 a-only.t.example 2001:db8:122:c000:2:2100::
check_synth 2001:db8:122:300::/56 a-only.t.example 2001:db8:122:3c0:0:221::
check_synth 2001:db8:122:344::/64 a-only.t.example 2001:db8:122:344:c0:2:2100::
check_synth 2001:db8:122:344::/96 a-only.t.example 2001:db8:122:344::192.0.2.33

# The Well-Known Prefix (RFC 6052 2.1, Table 2) maps a global address.
check_synth 64:ff9b::/96 global.t.example 64:ff9b::1.2.3.4
check_eq "ipv6_norm: 64:ff9b::1.2.3.4 is 64:ff9b::102:304" \
    "0064ff9b000000000000000001020304 0064ff9b000000000000000001020304" \
    "$(ipv6_norm 64:ff9b::102:304) $(ipv6_norm 64:ff9b::1.2.3.4)"

# RFC 6052 2.2: other lengths and a non-zero u-octet are refused, at
# startup (not only with -n).  timeout: a proxy that wrongly started would
# otherwise run on.
bad_prefixes="2001:db8::/100 2001:db8::/60 2001:db8::/33 0:0:0:0:100::/96"
for p in $bad_prefixes; do
	port=$(random_port) || bail "no free port"
	rc=0
	err=$(timeout 10 "$BIN" -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" \
	    -l "127.0.0.1@$port" -p "$p" 2>&1 </dev/null) || rc=$?
	check_eq "-p $p: startup fails with status 1 (RFC 6052 2.2)" 1 "$rc"
	case $p in
	*/96)	re="^-p $p: .*bits 64-71.*zero" ;;
	*)	re="^-p $p: .*prefix length must be 32, 40, 48, 56, 64 or 96" ;;
	esac
	check_match "-p $p: says why" "$re" "$err"
	check_nomatch "-p $p: never ready" ' ready$' "$err"
done

# The same prefixes in a config file: file:LINE: and status 1 with -n.
for p in $bad_prefixes; do
	conf=$TEST_TMP/bad-prefix.conf
	printf '# bad prefix on line 3\nforwarder 127.0.0.1 port %s\nprefix %s\n' \
	    "$UNBOUND_PORT" "$p" >"$conf"
	rc=0
	err=$(timeout 10 "$BIN" -n -f "$conf" 2>&1 </dev/null) || rc=$?
	check_eq "conf prefix $p: -n exits 1" 1 "$rc"
	check_match "conf prefix $p: file:LINE: message" \
	    "^${conf//./\\.}:3: .*prefix" "$err"
	check_nomatch "conf prefix $p: not 'configuration OK'" \
	    'configuration OK' "$err"
done

# A valid prefix in a file passes -n (the negative checks mean something).
printf 'forwarder 127.0.0.1 port %s\nprefix 2001:db8:122::/48\n' \
    "$UNBOUND_PORT" >"$TEST_TMP/good.conf"
rc=0
err=$("$BIN" -n -f "$TEST_TMP/good.conf" 2>&1 </dev/null) || rc=$?
check_eq "conf prefix 2001:db8:122::/48: -n exits 0" "0 configuration OK" \
    "$rc $err"

finish
