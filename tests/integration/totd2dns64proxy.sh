#!/bin/bash
#
# totd2dns64proxy.sh - contrib/totd2dns64proxy converts every totd.conf
# directive (forwarder with and without port, several prefixes, port,
# interfaces, retry, pidfile, allow, stf, scoped; comments, case, CRLF) to
# exactly the expected dns64proxy.conf and notes, the result passes
# "dns64proxy -n", and a file with errors (unknown keyword, bad port, bad
# address, bad prefix) gives file:line messages, exit 1 and no output.
# A stub ip(8) stands in for the real one, so the interfaces' addresses are
# known; no socket is opened.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool awk sed mktemp
[ -x "$PROXY_BIN" ] || bail "$PROXY_BIN not built"

conv=$top_srcdir/contrib/totd2dns64proxy
cd "$TEST_TMP" || bail "cannot cd to $TEST_TMP"

# ip -o addr show dev NAME, for three interfaces.
mkdir fakebin
cat >fakebin/ip <<'EOF'
#!/bin/sh
case $5 in
eth0)	printf '%s\n' \
	    '2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever' \
	    '2: eth0    inet6 2001:db8:1::53/64 scope global \       valid_lft forever preferred_lft forever' \
	    '2: eth0    inet6 fe80::1/64 scope link \       valid_lft forever preferred_lft forever' ;;
eth1)	printf '%s\n' \
	    '3: eth1    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth1\       valid_lft forever preferred_lft forever' \
	    '3: eth1    inet 198.51.100.7/24 brd 198.51.100.255 scope global eth1\       valid_lft forever preferred_lft forever' ;;
*)	echo "Device \"$5\" does not exist." >&2
	exit 1 ;;
esac
EOF
# A checker that accepts everything, and one that rejects line 2 of the
# file it is given (dns64proxy -n -f FILE).
printf '#!/bin/sh\nexit 0\n' >fakebin/check-ok
# $3 is the stub's, not ours:
# shellcheck disable=SC2016
printf '#!/bin/sh\necho "$3:2: invalid thing"\nexit 1\n' >fakebin/check-bad
chmod +x fakebin/ip fakebin/check-ok fakebin/check-bad

# run_conv [ARGS...]: the converter with the stub ip first in PATH and
# standard input from $STDIN (default /dev/null) -> RC OUT ERR.
run_conv() {
	RC=0
	PATH=$TEST_TMP/fakebin:$PATH "$conv" "$@" <"${STDIN:-/dev/null}" \
	    >conv.out 2>conv.err || RC=$?
	OUT=$(cat conv.out)
	ERR=$(cat conv.err)
}

# ---------------------------------------------------------- every directive

printf '%s\r\n' 'FORWARDER 192.0.2.53 PORT 5353' >totd.conf
cat >>totd.conf <<'EOF'
  forwarder	2001:DB8::53 ; the backup
forwarder 192.0.2.53 port 5353
# a comment line

prefix 2001:db8:64::
Prefix 2001:DB8:65::C000:201
prefix 2001:db8:64::
port 5300
interfaces eth0 nosuch0
Interfaces eth1
retry 300
pidfile /var/run/totd.pid
allow 192.0.2.10
stf
scoped fec0:: 2001:db8:: 48
EOF

full_out=$(cat <<'EOF'
# dns64proxy.conf(5) converted from totd.conf by totd2dns64proxy(1).
# "# totd:" lines say what was not converted, and why.

# totd: line 10: interface eth0: fe80::1 is link-local, which dns64proxy
#   cannot listen on (no zone index): left out
# totd: line 10: interface eth0: its addresses as ip(8) shows them now; totd
#   followed address changes, dns64proxy listens on the addresses of its
#   configuration
# totd: line 10: interface nosuch0: no address found (ip -o addr show dev
#   nosuch0): add "listen on ADDRESS port PORT" for each of its addresses
# totd: line 11: interface eth1: its addresses as ip(8) shows them now; totd
#   followed address changes, dns64proxy listens on the addresses of its
#   configuration
listen on 192.0.2.2 port 5300
listen on 2001:db8:1::53 port 5300
listen on 198.51.100.7 port 5300
# totd answered every client; dns64proxy answers loopback, RFC 1918,
#   link-local and ULA clients only, until you add "allow NETWORK" lines.

# totd preferred the first forwarder and failed over to the others.
# totd: line 3: forwarder 192.0.2.53 port 5353 is listed twice: kept once
# totd: line 12: retry 300: not converted: totd went back to a failed
#   forwarder after this many seconds; dns64proxy probes a forwarder that
#   stopped answering on its own and uses it again as soon as it answers
forwarder 192.0.2.53 port 5353
forwarder 2001:db8::53 port 53

# totd: line 7: prefix 2001:DB8:65::C000:201: only its first 96 bits count,
#   as in totd: 2001:db8:65::/96
# totd: line 8: prefix 2001:db8:64::/96 is listed twice: kept once
prefix 2001:db8:64::/96
prefix 2001:db8:65::/96
# totd used its prefixes in turn, one per answer.
prefix-selection round-robin

# totd: line 13: pidfile /var/run/totd.pid: not needed: under systemd
#   (Type=notify) dns64proxy -d does not fork and systemd tracks it
# totd: line 14: allow 192.0.2.10: not converted: it let 192.0.2.10 use
#   totd's HTTP status server, which dns64proxy does not have; it was never
#   a DNS access list (dns64proxy's is "allow NETWORK")
# totd: line 15: stf: not supported: the 6to4 reverse-lookup trick (6to4 is
#   deprecated, RFC 7526); PTR queries under 2.0.0.2.ip6.arpa are forwarded
#   unchanged
# totd: line 16: scoped fec0:: 2001:db8:: 48: not supported: rewriting AAAA
#   records into scoped (site-local) addresses (site-local is deprecated,
#   RFC 3879)

# validation: OK
EOF
)
p="totd2dns64proxy: totd.conf"
full_err=$(cat <<EOF
$p:3: forwarder 192.0.2.53 port 5353 is listed twice: kept once
$p:7: prefix 2001:DB8:65::C000:201: only its first 96 bits count, as in totd: 2001:db8:65::/96
$p:8: prefix 2001:db8:64::/96 is listed twice: kept once
$p:10: interface eth0: fe80::1 is link-local, which dns64proxy cannot listen on (no zone index): left out
$p:10: interface eth0: its addresses as ip(8) shows them now; totd followed address changes, dns64proxy listens on the addresses of its configuration
$p:10: interface nosuch0: no address found (ip -o addr show dev nosuch0): add "listen on ADDRESS port PORT" for each of its addresses
$p:11: interface eth1: its addresses as ip(8) shows them now; totd followed address changes, dns64proxy listens on the addresses of its configuration
$p:12: retry 300: not converted: totd went back to a failed forwarder after this many seconds; dns64proxy probes a forwarder that stopped answering on its own and uses it again as soon as it answers
$p:13: pidfile /var/run/totd.pid: not needed: under systemd (Type=notify) dns64proxy -d does not fork and systemd tracks it
$p:14: allow 192.0.2.10: not converted: it let 192.0.2.10 use totd's HTTP status server, which dns64proxy does not have; it was never a DNS access list (dns64proxy's is "allow NETWORK")
$p:15: stf: not supported: the 6to4 reverse-lookup trick (6to4 is deprecated, RFC 7526); PTR queries under 2.0.0.2.ip6.arpa are forwarded unchanged
$p:16: scoped fec0:: 2001:db8:: 48: not supported: rewriting AAAA records into scoped (site-local) addresses (site-local is deprecated, RFC 3879)
$p: totd answered every client; dns64proxy answers loopback, RFC 1918, link-local and ULA clients only, until you add "allow NETWORK" lines.
EOF
)

run_conv -b "$PROXY_BIN" totd.conf
check_eq "every directive: exit 0" 0 "$RC"
check_eq "every directive: the exact configuration" "$full_out" "$OUT"
check_eq "every directive: the notes on stderr" "$full_err" "$ERR"
cp conv.out full.out
run_bin -n -f "$TEST_TMP/full.out"
check_eq "every directive: dns64proxy -n accepts the result" 0 "$RC"
run_bin -nv -f "$TEST_TMP/full.out"
check_match "dns64proxy -nv: the listen address of interface eth0" \
    "^listen on 2001:db8:1::53 port 5300$" "$OUT"
check_match "dns64proxy -nv: the second prefix" "^prefix 2001:db8:65::/96" \
    "$OUT"
check_match "dns64proxy -nv: round-robin" "^prefix-selection round-robin$" \
    "$OUT"

# -o writes the same to a file, nothing to standard output.
run_conv -b "$PROXY_BIN" -o out.conf totd.conf
check_eq "-o: exit 0" 0 "$RC"
check_eq "-o: nothing on stdout" "" "$OUT"
check_eq "-o: the file holds the configuration" "$full_out" "$(cat out.conf)"

# ----------------------------------------------------------------- defaults

printf 'forwarder 192.0.2.1\n' >min.conf
run_conv -b "$PROXY_BIN" min.conf
check_eq "minimal: exit 0" 0 "$RC"
check_eq "minimal: the exact configuration" "$(cat <<'EOF'
# dns64proxy.conf(5) converted from min.conf by totd2dns64proxy(1).
# "# totd:" lines say what was not converted, and why.

# totd listened on every address.
listen on :: port 53
listen on 0.0.0.0 port 53
# totd answered every client; dns64proxy answers loopback, RFC 1918,
#   link-local and ULA clients only, until you add "allow NETWORK" lines.

# totd preferred the first forwarder and failed over to the others.
forwarder 192.0.2.1 port 53

# No prefix: totd only forwarded; dns64proxy synthesizes with 64:ff9b::/96.

# validation: OK
EOF
)" "$OUT"

# Standard input, no forwarder; the stub checker, since the machine's
# resolv.conf decides whether dns64proxy -n accepts no forwarder.
printf 'prefix 64:ff9b::\nport 53\n' >nofwd.conf
STDIN=nofwd.conf run_conv -b "$TEST_TMP/fakebin/check-ok"
check_eq "stdin: exit 0" 0 "$RC"
check_eq "stdin: the exact configuration" "$(cat <<'EOF'
# dns64proxy.conf(5) converted from <stdin> by totd2dns64proxy(1).
# "# totd:" lines say what was not converted, and why.

# totd listened on every address.
listen on :: port 53
listen on 0.0.0.0 port 53
# totd answered every client; dns64proxy answers loopback, RFC 1918,
#   link-local and ULA clients only, until you add "allow NETWORK" lines.

# No forwarder: dns64proxy uses the nameserver lines of /etc/resolv.conf.

prefix 64:ff9b::/96

# validation: OK
EOF
)" "$OUT"
STDIN=nofwd.conf run_conv -b "$TEST_TMP/fakebin/check-ok" -
check_eq "\"-\" is standard input too" "<stdin>" \
    "$(sed -n 's/^# dns64proxy.conf(5) converted from \(.*\) by .*/\1/p' \
    conv.out)"

# "*", all and any mean every address, whatever else is listed.
for w in '*' all ANY; do
	printf 'interfaces eth0 %s\nforwarder 192.0.2.1\n' "$w" >wild.conf
	run_conv -b "$PROXY_BIN" wild.conf
	check_eq "interfaces $w: exit 0" 0 "$RC"
	check_eq "interfaces $w: every address" \
	    "listen on :: port 53,listen on 0.0.0.0 port 53" \
	    "$(grep '^listen' conv.out | paste -sd,)"
	check_match "interfaces $w: says so" \
	    "^# totd: line 1: interfaces \\$w: every address" "$OUT"
done

# ------------------------------------------------------ ip(8) real or absent

# Without ip(8) the interfaces cannot be resolved: a note asks for them.
mkdir nobin
for t in awk mktemp rm sed cat; do
	ln -s "$(command -v "$t")" "nobin/$t"
done
printf 'interfaces eth0\nforwarder 192.0.2.1\n' >if.conf
RC=0
PATH=$TEST_TMP/nobin "$conv" -b "$PROXY_BIN" if.conf >conv.out 2>conv.err ||
    RC=$?
check_eq "without ip(8): exit 0" 0 "$RC"
check_eq "without ip(8): no listen line" "" "$(grep '^listen' conv.out)"
check_eq "without ip(8): the note" "$(cat <<'EOF'
# totd: line 1: interface eth0: dns64proxy listens on addresses, not
#   interfaces, and ip(8) is not installed to find them: add "listen on
#   ADDRESS port PORT" for each address of eth0
# No listen address found: dns64proxy listens on 127.0.0.1 and ::1 until you
#   add them.
EOF
)" "$(sed -n '/^# totd: line 1/,/^#   add them/p' conv.out)"

# Without -b, $DNS64PROXY or one installed, the result is not checked.
if [ -e /usr/sbin/dns64proxy ] || [ -e /usr/local/sbin/dns64proxy ]; then
	skip_check "no dns64proxy found: not checked" "one is installed"
else
	RC=0
	PATH=$TEST_TMP/nobin "$conv" min.conf >conv.out 2>conv.err || RC=$?
	check_eq "no dns64proxy found: exit 0" 0 "$RC"
	check_eq "no dns64proxy found: the last line says so" \
	    "# validation: not done (dns64proxy not found)" \
	    "$(tail -n 1 conv.out)"
fi

if command -v ip >/dev/null 2>&1 &&
    ip -o addr show dev lo 2>/dev/null | grep -q ' inet 127\.0\.0\.1/'; then
	printf 'interfaces lo\nforwarder 192.0.2.1\n' >lo.conf
	RC=0
	"$conv" -b "$PROXY_BIN" lo.conf >conv.out 2>conv.err || RC=$?
	check_eq "real ip(8), interfaces lo: exit 0" 0 "$RC"
	check_match "real ip(8), interfaces lo: listens on 127.0.0.1" \
	    "^listen on 127\\.0\\.0\\.1 port 53$" "$(cat conv.out)"
else
	skip_check "real ip(8), interfaces lo" "no ip(8) or no 127.0.0.1 on lo"
fi

# ------------------------------------------------------------ the check

# $DNS64PROXY is used without -b; its messages name the output.
RC=0
DNS64PROXY=$TEST_TMP/fakebin/check-bad run_conv min.conf
check_eq "failed check: exit 1" 1 "$RC"
check_eq "failed check: the message names stdout" \
    "totd2dns64proxy: <stdout>:2: invalid thing" "$(tail -n 1 conv.err)"
check_eq "failed check: the last lines say so" "$(cat <<EOF
# validation: FAILED ($TEST_TMP/fakebin/check-bad -n)
# <stdout>:2: invalid thing
EOF
)" "$(tail -n 2 conv.out)"
DNS64PROXY=$TEST_TMP/fakebin/check-bad run_conv -o bad.out min.conf
check_eq "failed check, -o: exit 1" 1 "$RC"
check_eq "failed check, -o: the message names the file" \
    "totd2dns64proxy: bad.out:2: invalid thing" "$(tail -n 1 conv.err)"
run_conv -b "$TEST_TMP/nobin/none" min.conf
check_eq "-b not a program: exit 1" 1 "$RC"

# ------------------------------------------------------------------ errors

cat >bad.conf <<'EOF'
forwarder 192.0.2.1
frobnicate yes
port 99999
forwarder 192.0.2.300
forwarder 192.0.2.1 port x
forwarder 192.0.2.1 via 53
prefix 2001:db8::/64
prefix 2001:db8:1:2:ff00::
prefix 192.0.2.1
retry soon
forwarder fe80::1%eth0
interfaces eth0$(reboot)
stf now
EOF
run_conv -b "$PROXY_BIN" -o never.conf bad.conf
check_eq "errors: exit 1" 1 "$RC"
check_eq "errors: nothing on stdout" "" "$OUT"
check_false "errors: -o file not written" test -e never.conf
p="totd2dns64proxy: bad.conf"
check_eq "errors: every one with file:line" "$(cat <<EOF
$p:2: unknown keyword "frobnicate"
$p:3: port: invalid port "99999"
$p:4: forwarder: invalid IPv4 or IPv6 address "192.0.2.300"
$p:5: forwarder: invalid port "x"
$p:6: expected "forwarder ADDRESS [port PORT]"
$p:7: prefix: 2001:db8::/64: totd prefixes are /96 (an address whose last 32 bits are replaced)
$p:8: prefix: 2001:db8:1:2:ff00::: bits 64-71 are not zero, which RFC 6052 2.2 requires and dns64proxy enforces; use another prefix
$p:9: prefix: invalid IPv6 address "192.0.2.1"
$p:10: retry: invalid number of seconds "soon"
$p:11: forwarder: fe80::1%eth0: an address with a zone index cannot be converted; use a global or ULA address
$p:12: interfaces: invalid interface name "eth0\$(reboot)"
$p:13: expected "stf" alone
EOF
)" "$ERR"

# One bad line is enough, whatever else the file holds.
for bad in 'Forwarder 192.0.2.1 port 0' 'forwarder ::g' 'port' 'bogus' \
    'pidfile' 'allow' 'scoped a b' 'interfaces'; do
	printf 'forwarder 192.0.2.1\n%s\n' "$bad" >one.conf
	run_conv -b "$PROXY_BIN" one.conf
	check_eq "\"$bad\": exit 1" 1 "$RC"
	check_match "\"$bad\": file:line" "^totd2dns64proxy: one\\.conf:2: " \
	    "$ERR"
done

# ------------------------------------------------------------------- usage

run_conv a.conf b.conf
check_eq "two files: usage, exit 2" 2 "$RC"
run_conv -x
check_eq "unknown option: usage, exit 2" 2 "$RC"
check_match "usage names the options" "^usage: totd2dns64proxy \\[-b" "$ERR"
run_conv -b "$PROXY_BIN" missing.conf
check_eq "missing file: exit 1" 1 "$RC"
check_eq "missing file: says so" "totd2dns64proxy: cannot read missing.conf" \
    "$ERR"

finish
