#!/bin/bash
#
# edns.sh - EDNS(0) in the proxy (RFC 6891, RFC 3225, RFC 8914): an OPT in
# the reply iff the query had one, whatever the answer's origin; BADVERS;
# the client's OPT is not forwarded (the proxy's own goes upstream); DO and
# CD reach the upstream and come back; EDE from upstream is kept.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_dnsq
PREFIX=2001:db8:64::

# opt_line DIGOUTPUT: dig's "; EDNS: ..." line, empty without OPT.
opt_line() {
	printf '%s\n' "$1" | grep '^; EDNS:'
}

# fu_line QNAME QTYPE: the last fakeup log line for that question.
fu_line() {
	grep -F " qname=$1 qtype=$2 " "$FAKEUP_LOG" | tail -n 1
}

start_unbound

rules=$TEST_TMP/edns.rules
cat >"$rules" <<'EOF'
match plain.e.test. A
  answer plain.e.test. 60 IN A 192.0.2.1
end
match opt.e.test. A
  answer opt.e.test. 60 IN A 192.0.2.3
end
match small.e.test. A
  answer small.e.test. 60 IN A 192.0.2.4
end
match none.e.test. A
  answer none.e.test. 60 IN A 192.0.2.5
end
match do.e.test. A
  answer do.e.test. 60 IN A 192.0.2.6
end
match nodo.e.test. A
  answer nodo.e.test. 60 IN A 192.0.2.7
end
match cd.e.test. A
  answer cd.e.test. 60 IN A 192.0.2.8
end
match syn.e.test. AAAA
  authority e.test. 60 IN SOA ns.e.test. host.e.test. 1 3600 900 604800 300
end
match syn.e.test. A
  answer syn.e.test. 60 IN A 192.0.2.9
end
match ede.e.test. A
  answer ede.e.test. 60 IN A 192.0.2.2
  ede 18 "prohibited test"
end
match sf.e.test. A
  rcode SERVFAIL
end
match drop.e.test. A
  drop
end
match noopt.e.test. A
  noopt
  answer noopt.e.test. 60 IN A 192.0.2.10
end
match badvers.e.test. A
  answer badvers.e.test. 60 IN A 192.0.2.11
end
EOF
# An EDE text of 1300 bytes (unquoted heredoc: the text is expanded).
big=$(printf 'x%.0s' $(seq 1 1300))
cat >>"$rules" <<EOF
match bigede.e.test. A
  answer bigede.e.test. 60 IN A 192.0.2.12
  ede 24 "$big"
end
EOF
start_fakeup "$rules"

# PU: unbound, default edns-buffer-size 1232.
start_proxy -f /dev/null -u "127.0.0.1@$UNBOUND_PORT" -p "$PREFIX/96" -v

# ----------------------------- RFC 6891 6.1.1: OPT in, OPT out (unbound)
out=$(q +edns=0 +nocookie a-only.t.example A)
check_eq "RFC 6891 6.1.1: passthrough: OPT v0, our size 1232" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
out=$(q +edns=0 +nocookie a-only.t.example AAAA)
check_eq "RFC 6891 6.1.1: synthesized: OPT v0, udp 1232" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
check_eq "synthesized answer (sanity)" \
    "a-only.t.example. 300 AAAA ${PREFIX}c000:221" "$(answer_rrs "$out")"
out=$(q +edns=0 +nocookie nonexistent.t.example A)
check_eq "RFC 6891 6.1.1: NXDOMAIN: status" NXDOMAIN "$(status_of "$out")"
check_eq "RFC 6891 6.1.1: NXDOMAIN: OPT" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
out=$(q +edns=0 +nocookie ipv4only.arpa A)
check_eq "RFC 6891 6.1.1: local answer (ipv4only.arpa): OPT" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
out=$(q +edns=0 +nocookie +opcode=status a-only.t.example A)
check_eq "RFC 6891 6.1.1: error NOTIMP: status" NOTIMP "$(status_of "$out")"
check_eq "RFC 6891 6.1.1: error NOTIMP: OPT" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
out=$(dq t.example/AXFR/bufsize=4096)
check_eq "RFC 6891 6.1.1: error NOTIMP (AXFR, dnsq): OPT, our size" \
    "NOTIMP 1 1232" "$(dq_field rcode "$out") $(dq_field edns "$out") $(dq_field bufsize "$out")"
out=$(dq a-only.t.example/A/bufsize=4096)
check_eq "OPT in the reply advertises our size (1232), not the client's" \
    1232 "$(dq_field bufsize "$out")"
out=$(dq a-only.t.example/A/bufsize=512)
check_eq "... also for a client bufsize of 512" 1232 \
    "$(dq_field bufsize "$out")"

# ----------------------------- RFC 6891 7: no OPT in, no OPT out
out=$(q +noedns a-only.t.example A)
check_eq "RFC 6891 7: passthrough without EDNS: no OPT" "" "$(opt_line "$out")"
check_eq "RFC 6891 7: passthrough without EDNS: answer" \
    "a-only.t.example. 300 A 192.0.2.33" "$(answer_rrs "$out")"
out=$(q +noedns a-only.t.example AAAA)
check_eq "RFC 6891 7: synthesized without EDNS: no OPT" "" "$(opt_line "$out")"
check_eq "RFC 6891 7: synthesized without EDNS: no EDE either" "" \
    "$(ede_of "$out")"
out=$(q +noedns +opcode=status a-only.t.example A)
check_eq "RFC 6891 7: NOTIMP without EDNS: no OPT" "NOTIMP " \
    "$(status_of "$out") $(opt_line "$out")"
out=$(dq a-only.t.example/A/noedns)
check_eq "RFC 6891 7: dnsq: no OPT, ARCOUNT 0" "0 0" \
    "$(dq_field edns "$out") $(dq_field ar "$out")"

# ----------------------------- RFC 6891 6.1.3: BADVERS
out=$(q +edns=1 +noednsnegotiation +nocookie a-only.t.example A)
check_eq "RFC 6891 6.1.3: EDNS version 1: BADVERS" BADVERS "$(status_of "$out")"
check_eq "RFC 6891 6.1.3: BADVERS carries OPT version 0" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
check_eq "RFC 6891 6.1.3: BADVERS: no answer" 0 "$(ancount_of "$out")"
out=$(dq a-only.t.example/A/ednsver=255,do,id=61)
check_eq "RFC 6891 6.1.3: version 255: BADVERS, v0, DO echoed, ID" \
    "BADVERS 1 0 1 61" "$(dq_field rcode "$out") $(dq_field edns "$out") $(dq_field ednsver "$out") $(dq_field "do" "$out") $(dq_field id "$out")"

# ----------------------------- RFC 6891 6.2.5 / 7: truncated keeps OPT
out=$(q +edns=0 +nocookie +bufsize=512 +ignore big.t.example A)
check_true "RFC 6891 7: big A at bufsize 512: TC=1" has_flag tc "$out"
check_eq "RFC 6891 7: truncated reply keeps OPT" \
    "; EDNS: version: 0, flags:; udp: 1232" "$(opt_line "$out")"
out=$(dq big.t.example/AAAA/bufsize=512,do)
check_eq "RFC 6891 7: truncated synthesized reply: TC, OPT, DO kept" \
    "tc 1 1" "$(dq_field flags "$out" | grep -o 'tc') $(dq_field edns "$out") $(dq_field "do" "$out")"

# RFC 3225: DO comes back (unbound).
out=$(q +dnssec +nocookie a-only.t.example A)
check_eq "RFC 3225: DO echoed in the reply's OPT" \
    "; EDNS: version: 0, flags: do; udp: 1232" "$(opt_line "$out")"

# ------------------------------------------------- against fakeup
cat >"$TEST_TMP/pf.conf" <<'EOF'
edns-buffer-size 1400
upstream-timeout 200
EOF
start_proxy -f "$TEST_TMP/pf.conf" -u "127.0.0.1@$FAKEUP_PORT" \
    -p "$PREFIX/96" -v

# RFC 6891 6.1.1: OPT RRs are not forwarded: the upstream sees our OPT
# (edns-buffer-size 1400, no options), never the client's.
out=$(dq opt.e.test/A/bufsize=1232,opt=65001,opt=3)
check_eq "RFC 6891 6.1.2: unknown option 65001 ignored: NOERROR" \
    "NOERROR opt.e.test. 60 A 192.0.2.3" \
    "$(dq_field rcode "$out") $(printf '%s\n' "$out" |
    sed -n 's/.* answer=//p')"
check_match "RFC 6891 6.1.1: upstream query has our OPT (1400, no options)" \
    ' edns=1 do=0 bufsize=1400 opts=- ' "$(fu_line opt.e.test. A)"
check_eq "RFC 6891 6.1.1: reply OPT advertises 1400, no options back" \
    "1400 -" "$(dq_field bufsize "$out") $(dq_field ede "$out")"
out=$(dq small.e.test/A/bufsize=512)
check_match "client bufsize 512: upstream still gets 1400" \
    ' edns=1 do=0 bufsize=1400 opts=- ' "$(fu_line small.e.test. A)"
out=$(dq none.e.test/A/noedns)
check_match "client without EDNS: upstream query still has our OPT (6891 6.2.6)" \
    ' edns=1 do=0 bufsize=1400 opts=- ' "$(fu_line none.e.test. A)"
check_eq "client without EDNS: no OPT back although upstream sent one" 0 \
    "$(dq_field edns "$out")"

# RFC 3225 / RFC 6891 6.1.4: DO to the upstream and back.
out=$(dq do.e.test/A/do)
check_match "RFC 3225: DO=1 propagated upstream" ' edns=1 do=1 ' \
    "$(fu_line do.e.test. A)"
check_eq "RFC 3225: DO=1 echoed to the client" 1 "$(dq_field "do" "$out")"
out=$(dq nodo.e.test/A)
check_match "RFC 3225: DO=0 stays 0 upstream" ' edns=1 do=0 ' \
    "$(fu_line nodo.e.test. A)"
check_eq "RFC 3225: DO=0 in the reply" 0 "$(dq_field "do" "$out")"
out=$(dq syn.e.test/AAAA/do)
check_match "DO=1 on the AAAA leg" ' edns=1 do=1 ' "$(fu_line syn.e.test. AAAA)"
check_match "DO=1 on the A leg of a synthesis" ' edns=1 do=1 ' \
    "$(fu_line syn.e.test. A)"
check_eq "synthesized with DO=1 (unsigned data): DO echoed" \
    "syn.e.test. 60 AAAA ${PREFIX}c000:209 1" \
    "$(printf '%s\n' "$out" | sed -n 's/.* answer=//p') $(dq_field "do" "$out")"

# CD to the upstream and back.
out=$(dq cd.e.test/A/cd)
check_match "CD=1 propagated upstream" ' cd=1 edns=1 ' "$(fu_line cd.e.test. A)"
check_true "CD=1 echoed to the client" dq_has_flag cd "$out"
out=$(dq plain.e.test/A)
check_match "CD=0 stays 0 upstream" ' cd=0 edns=1 ' "$(fu_line plain.e.test. A)"

# RFC 8914: an EDE from upstream reaches an EDNS client.
out=$(dq ede.e.test/A)
check_eq "RFC 8914: upstream EDE 18 passed to the client" 18 \
    "$(dq_field ede "$out")"
out=$(q +nocookie ede.e.test A)
check_match "RFC 8914: EDE text kept" \
    '^; EDE: 18 \(Prohibited\): \(prohibited test\)' "$out"
out=$(dq ede.e.test/A/noedns)
check_eq "RFC 8914 / 6891 7: client without EDNS: no OPT, no EDE" "0 -" \
    "$(dq_field edns "$out") $(dq_field ede "$out")"

# An upstream EDE is a short text for a human: a 1300-byte one is not
# relayed (at most 300 bytes of upstream EDE are), so it can never push a
# reply over the client's limit or, over TCP, the 16-bit frame length.
out=$(dq bigede.e.test/A/bufsize=1232)
check_eq "1300-byte upstream EDE: answer intact, the EDE not relayed" \
    "NOERROR bigede.e.test. 60 A 192.0.2.12 -" \
    "$(dq_field rcode "$out") $(dq_answer "$out") $(dq_field ede "$out")"
check_range "1300-byte upstream EDE: reply within the client's 1232 bytes" \
    1 1232 "$(dq_field size "$out")"
check_false "1300-byte upstream EDE: no TC" dq_has_flag tc "$out"
out=$(dq -t bigede.e.test/A)
check_eq "1300-byte upstream EDE over TCP: one well-framed reply, no EDE" \
    "NOERROR bigede.e.test. 60 A 192.0.2.12 -" \
    "$(dq_field rcode "$out") $(dq_answer "$out") $(dq_field ede "$out")"

# OPT on replies built from an upstream answer without OPT, an upstream
# SERVFAIL and our own SERVFAIL after the upstream timed out.
out=$(q +edns=0 +nocookie noopt.e.test A)
check_eq "RFC 6891 6.1.1: upstream reply without OPT: the client still gets OPT" \
    "; EDNS: version: 0, flags:; udp: 1400" "$(opt_line "$out")"
out=$(q +edns=0 +nocookie sf.e.test A)
check_eq "RFC 6891 6.1.1: upstream SERVFAIL: status" SERVFAIL "$(status_of "$out")"
check_eq "RFC 6891 6.1.1: upstream SERVFAIL: OPT" \
    "; EDNS: version: 0, flags:; udp: 1400" "$(opt_line "$out")"
out=$(q +edns=0 +nocookie drop.e.test A)
check_eq "RFC 6891 6.1.1: SERVFAIL after upstream timeout: status" SERVFAIL \
    "$(status_of "$out")"
check_eq "RFC 6891 6.1.1: SERVFAIL after upstream timeout: OPT" \
    "; EDNS: version: 0, flags:; udp: 1400" "$(opt_line "$out")"
out=$(q +noedns drop.e.test A)
check_eq "RFC 6891 7: SERVFAIL after timeout, no EDNS: no OPT" "SERVFAIL " \
    "$(status_of "$out") $(opt_line "$out")"

# BADVERS is answered by the proxy, never forwarded.
out=$(dq badvers.e.test/A/ednsver=1)
check_eq "RFC 6891 6.1.3: BADVERS (fakeup proxy)" BADVERS \
    "$(dq_field rcode "$out")"
check_eq "RFC 6891 6.1.3: the version-1 query was not forwarded" 0 \
    "$(fakeup_count ' qname=badvers\.e\.test\. ')"
finish
