#!/bin/bash
#
# explain.sh - a proxy that explains itself (issue 10): the -v line of a
# refused query names the rule that refused it; when an A record exists
# but none can be mapped (the Well-Known Prefix and a non-global address,
# exclude-a, a prefix's destinations, a signed A for a DO client) the -v
# line says why and a client that sent EDNS gets EDE 0 (RFC 8914) with the
# same text; startup logs the effective setup once (listen addresses,
# forwarders and where they came from, prefixes with their client and
# destination lists, the query ACL) and warns when the query ACL refuses a
# listen address; "freebind yes" binds an address no interface has; -a
# replaces the file's allow and deny lines.  Upstream: tests/fakeup.
# (Forwarders taken from /etc/resolv.conf are logged as such in
# default-setup.sh, which owns a resolv.conf of its own.)

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig ss

NSP=2001:db8:64::/96
SIG="20300101000000 20200101000000 12345 e.test. AAAA"
NODATA_SOA="e.test. 300 IN SOA ns.e.test. host.e.test. 1 3600 900 604800 300"

# ede_texts OUT: the EDE texts of dig's output OUT ("CODE TEXT" per line).
ede_texts() {
	printf '%s\n' "$1" | sed -n 's/^; EDE: \([0-9]*\) ([^)]*): (\(.*\))$/\1 \2/p'
}

rules=$TEST_TMP/rules
{
	# NAME ADDRESS: AAAA NODATA, one A record.
	for na in doc:192.0.2.80 priv:10.1.2.3 exa:198.51.100.7 \
	    dst:203.0.113.9 ok:192.0.2.82; do
		printf 'match %s.e.test. AAAA\n  authority %s\nend\n' \
		    "${na%%:*}" "$NODATA_SOA"
		printf 'match %s.e.test. A\n  answer %s.e.test. 300 IN A %s\nend\n' \
		    "${na%%:*}" "${na%%:*}" "${na#*:}"
	done
	cat <<EOF
match sig.e.test. AAAA
  authority $NODATA_SOA
end
match sig.e.test. A
  answer sig.e.test. 300 IN A 192.0.2.81
  answer sig.e.test. 300 IN RRSIG A 8 3 300 $SIG
end
EOF
} >"$rules"
start_fakeup "$rules"

# ====================================================================
# Not mapped, and why: the Well-Known Prefix (RFC 6052 3.1).
# ====================================================================

start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT"
for na in doc:192.0.2.80 priv:10.1.2.3; do
	n=${na%%:*}.e.test
	why="${na#*:} not mapped: not global, well-known prefix"
	out=$(q "$n" AAAA)
	check_eq "WKP, $n A ${na#*:}: NOERROR, no answer (RFC 6052 3.1)" \
	    "NOERROR 0" "$(status_of "$out") $(ancount_of "$out")"
	check_eq "WKP, $n: EDE 0 says why, to the EDNS client" "0 $why" \
	    "$(ede_texts "$out")"
	check_true "WKP, $n: the -v line says why" proxy_logged "$n." AAAA \
	    "passed NOERROR upstream 127\\.0\\.0\\.1@$FAKEUP_PORT \\($(re_escape "$why")\\)\$"
done
out=$(q +noedns doc.e.test AAAA)
check_eq "WKP, doc.e.test, client without EDNS: NOERROR, no OPT, no EDE" \
    "NOERROR 0 0" "$(status_of "$out") $(ancount_of "$out") \
$(printf '%s\n' "$out" | grep -c 'OPT PSEUDOSECTION')"
out=$(q ok.e.test A)
check_eq "WKP: an A query is not explained (nothing was left out)" "" \
    "$(ede_texts "$out")"
stop_proxy

# ====================================================================
# exclude-a, destinations, a signed A for a DO client.
# ====================================================================

cat >"$TEST_TMP/nsp.conf" <<EOF
forwarder 127.0.0.1 port $FAKEUP_PORT
prefix $NSP { clients { 127.0.0.0/8, ::1/128 } destinations { 192.0.2.0/24, 10.0.0.0/8 } }
exclude-a { 198.51.100.0/24 }
EOF
start_proxy -v -f "$TEST_TMP/nsp.conf"
NSP_PORT=$PROXY_PORT NSP_LOG=$PROXY_LOG
for c in "exa 198.51.100.7 in exclude-a" \
    "dst 203.0.113.9 outside the prefixes' destinations" \
    "sig 192.0.2.81 signed, and the client validates"; do
	read -r n addr reason <<<"$c"
	n=$n.e.test
	why="$addr not mapped: $reason"
	out=$(q +dnssec "$n" AAAA)
	check_eq "NSP, $n A $addr: NOERROR, no answer" "NOERROR 0" \
	    "$(status_of "$out") $(ancount_of "$out")"
	check_eq "NSP, $n: EDE 0 says why: $reason" "0 $why" \
	    "$(ede_texts "$out")"
	check_true "NSP, $n: the -v line says why" proxy_logged "$n." AAAA \
	    "passed NOERROR upstream 127\\.0\\.0\\.1@$FAKEUP_PORT \\($(re_escape "$why")\\)\$"
done
out=$(q ok.e.test AAAA)
check_eq "NSP: ok.e.test (192.0.2.82, a destination) synthesized, no EDE 0" \
    "2001:db8:64::c000:252 -" \
    "$(aaaa_of "$out") $(ede_of "$out" | grep -x 0 || echo -)"

# ====================================================================
# The effective setup, logged once at startup.
# ====================================================================

# once DESC REGEX [LOG]: exactly one line of LOG (the proxy's log)
# matches REGEX.
once() {
	check_eq "$1" 1 "$(count_matches "${3:-$PROXY_LOG}" "$2")"
}
once "startup: listening on 127.0.0.1, once" \
    "^listening on 127\\.0\\.0\\.1@$NSP_PORT\$" "$NSP_LOG"
if have_ipv6; then
	once "startup: listening on ::1, once" "^listening on ::1@$NSP_PORT\$"
fi
once "startup: the forwarders, from the configuration, once" \
    "^forwarders 127\\.0\\.0\\.1@$FAKEUP_PORT \\(configured\\)"
once "startup: the prefix with its clients and destinations, once" \
    '^prefix 2001:db8:64::/96, clients 127\.0\.0\.0/8, ::1/128, destinations 192\.0\.2\.0/24, 10\.0\.0\.0/8$'
once "startup: the query ACL, once" '^query acl: .*127\.0\.0\.0/8'
check_eq "startup: no warning when the query ACL allows the listen addresses" \
    0 "$(count_matches "$NSP_LOG" 'but the query acl refuses')"
stop_proxy

# ====================================================================
# Refused queries: which rule.  -a replaces the file's allow and deny.
# ====================================================================

start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -a 10.0.0.0/8
out=$(q ok.e.test A)
check_eq "-a 10.0.0.0/8 only: 127.0.0.1 refused" REFUSED "$(status_of "$out")"
check_true "-a 10.0.0.0/8 only: the -v line says no rule allows it" \
    proxy_logged ok.e.test. A 'refused REFUSED \(by no allow\)$'
out=$(q +tcp ok.e.test TXT)
check_true "-a 10.0.0.0/8 only: over TCP too" \
    proxy_logged ok.e.test. TXT 'refused REFUSED \(by no allow\)$'
check_match "-a 10.0.0.0/8: startup warns that 127.0.0.1 is refused" \
    "^listening on 127\\.0\\.0\\.1@$PROXY_PORT, but the query acl refuses that address" \
    "$(cat "$PROXY_LOG")"
once "-a 10.0.0.0/8: the query ACL logged is the command line's" \
    '^query acl: 10\.0\.0\.0/8; everybody else is refused$'
stop_proxy

start_proxy -v -f /dev/null -u "127.0.0.1@$FAKEUP_PORT" -a '!0.0.0.0/0' \
    -a 10.0.0.0/8
out=$(q ok.e.test A)
check_true "-a !0.0.0.0/0: the -v line names the deny rule" \
    proxy_logged ok.e.test. A 'refused REFUSED \(by deny 0\.0\.0\.0/0\)$'
stop_proxy

printf 'deny 127.0.0.0/8\n' >"$TEST_TMP/deny.conf"
start_proxy -v -f "$TEST_TMP/deny.conf" -u "127.0.0.1@$FAKEUP_PORT"
out=$(q ok.e.test A)
check_true "file: deny 127.0.0.0/8: the -v line names the deny rule" \
    proxy_logged ok.e.test. A 'refused REFUSED \(by deny 127\.0\.0\.0/8\)$'
stop_proxy

printf 'allow 127.0.0.0/8\n' >"$TEST_TMP/allow.conf"
start_proxy -v -f "$TEST_TMP/allow.conf" -u "127.0.0.1@$FAKEUP_PORT"
out=$(q ok.e.test A)
check_eq "file: allow 127.0.0.0/8: 127.0.0.1 answered" NOERROR \
    "$(status_of "$out")"
stop_proxy
start_proxy -v -f "$TEST_TMP/allow.conf" -u "127.0.0.1@$FAKEUP_PORT" \
    -a 10.0.0.0/8
out=$(q ok.e.test A)
check_eq "file allows 127.0.0.0/8, -a 10.0.0.0/8: -a replaces it, 127.0.0.1 refused" \
    REFUSED "$(status_of "$out")"
check_true "file allows 127.0.0.0/8, -a 10.0.0.0/8: by no allow" \
    proxy_logged ok.e.test. A 'refused REFUSED \(by no allow\)$'
stop_proxy

# ====================================================================
# freebind: an address no interface has (192.0.2.53, documentation
# range; nothing is ever sent to it).
# ====================================================================

FB=192.0.2.53
if ip -4 addr show 2>/dev/null | grep -q "inet $FB/"; then
	skip_check "freebind" "this host has $FB"
else
	p=$(random_port) || bail "no free port"
	printf 'forwarder 127.0.0.1 port %s\ncontrol-socket none\n' \
	    "$FAKEUP_PORT" >"$TEST_TMP/nofb.conf"
	run_bin -d -f "$TEST_TMP/nofb.conf" -l "$FB@$p"
	check_match "no freebind: listening on $FB fails (exit status not 0)" \
	    '^[1-9][0-9]*$' "$RC"
	check_match "no freebind: the error names freebind" 'freebind' \
	    "$OUT$ERR"
	printf 'freebind yes\n' >"$TEST_TMP/fb.conf"
	start_proxy -v -f "$TEST_TMP/fb.conf" -u "127.0.0.1@$FAKEUP_PORT" \
	    -l "$FB@$p"
	# One socket per worker.
	check_range "freebind yes: UDP sockets on $FB@$p" 1 64 \
	    "$(ss -Hlnu "src $FB:$p" | grep -c .)"
	check_range "freebind yes: TCP sockets on $FB@$p" 1 64 \
	    "$(ss -Hlnt "src $FB:$p" | grep -c .)"
	out=$(q ok.e.test A)
	check_eq "freebind yes: still serving on 127.0.0.1" \
	    "ok.e.test. 300 A 192.0.2.82" "$(answer_rrs "$out")"
	stop_proxy
fi

finish
