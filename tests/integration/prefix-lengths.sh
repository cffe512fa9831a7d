#!/bin/bash
#
# prefix-lengths.sh - RFC 6052 address format: every prefix length gives
# exactly the address of RFC 6052 2.4 Table 1 (compared as 128-bit values),
# the Well-Known Prefix, and prefixes that must be refused at startup and
# in a config file (RFC 6052 2.2: lengths, the u-octet).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

# Self-check of lib.sh's ipv6_norm: text forms of one value agree, others
# differ.
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
	got=$(aaaa_of "$out")
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

# run_bin, then err: all the proxy wrote, stderr and stdout.
run_err() {
	run_bin "$@"
	err=$(printf '%s\n%s' "$ERR" "$OUT")
}

# RFC 6052 2.2: other lengths and a non-zero u-octet are refused, at
# startup (not only with -n).
bad_prefixes="2001:db8::/100 2001:db8::/60 2001:db8::/33 0:0:0:0:100::/96"
for p in $bad_prefixes; do
	port=$(random_port) || bail "no free port"
	run_err -d -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" \
	    -l "127.0.0.1@$port" -p "$p"
	check_eq "-p $p: startup fails with status 1 (RFC 6052 2.2)" 1 "$RC"
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
	run_err -n -f "$conf"
	check_eq "conf prefix $p: -n exits 1" 1 "$RC"
	check_match "conf prefix $p: file:LINE: message" \
	    "^${conf//./\\.}:3: .*prefix" "$err"
	check_nomatch "conf prefix $p: not 'configuration OK'" \
	    'configuration OK' "$err"
done

# A valid prefix in a file passes -n (the negative checks mean something).
printf 'forwarder 127.0.0.1 port %s\nprefix 2001:db8:122::/48\n' \
    "$UNBOUND_PORT" >"$TEST_TMP/good.conf"
run_err -n -f "$TEST_TMP/good.conf"
check_eq "conf prefix 2001:db8:122::/48: -n exits 0" "0 configuration OK" \
    "$RC $err"

finish
