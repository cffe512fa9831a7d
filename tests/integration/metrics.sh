#!/bin/bash
#
# metrics.sh - the Prometheus page (metrics-listen): /metrics parses with
# python3-prometheus-client's own parser, has the documented families and
# types, every label combination at 0 from the start, values that follow
# known queries (one synthesized AAAA: translated 1, ...), cumulative
# histograms whose +Inf bucket equals _count; 404 elsewhere, GET only;
# 127.0.0.1 and ::1 on the same port (IPV6_V6ONLY); a reload moves the
# listener (new one first, a failure keeps the old).  Loopback only.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool dig

# The python with prometheus_client (Debian's python3-prometheus-client;
# a python3 earlier in PATH may not see it).
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "python3-prometheus-client not installed"

start_unbound

NSP=2001:db8:64::
MPORT=$(random_port) || bail "no free port"
CONF=$TEST_TMP/proxy.conf
FWD=127.0.0.1@$UNBOUND_PORT

# write_conf METRICS_LINE...: the proxy's config file.
write_conf() {
	{
		printf 'forwarder 127.0.0.1 port %s\n' "$UNBOUND_PORT"
		printf 'prefix %s/96\n' "$NSP"
		# 127.0.0.2 is refused: the ACL counter has something to count.
		printf 'allow 127.0.0.1/32\nallow ::1/128\ndeny 127.0.0.0/8\n'
		printf '%s\n' "$@"
	} >"$CONF"
}

listen_lines() {
	printf 'metrics-listen 127.0.0.1 port %s\n' "$1"
	if have_ipv6; then
		printf 'metrics-listen ::1 port %s\n' "$1"
	fi
}

# scrape URL: fetch and parse with prometheus_client; prints "status
# CODE", "content-type VALUE", "allow VALUE", then for a 200 one line per
# family "TYPE name type" and per sample "S name{labels} value" (labels
# sorted, "name" for no labels); "PARSE-ERROR msg" if it does not parse.
# METHOD (default GET) in $2.
scrape() {
	"$PY" - "$1" "${2:-GET}" <<'EOF'
import sys, urllib.request, urllib.error
from prometheus_client.parser import text_string_to_metric_families
url, method = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method)
try:
    r = urllib.request.urlopen(req, timeout=10)
    code, body, hdr = r.status, r.read(), r.headers
except urllib.error.HTTPError as e:
    code, body, hdr = e.code, e.read(), e.headers
print("status", code)
print("content-type", hdr.get("Content-Type"))
print("allow", hdr.get("Allow"))
if code != 200 or method != "GET":
    sys.exit(0)
text = body.decode("utf-8")
if not text.endswith("\n"):
    print("PARSE-ERROR no final newline")
try:
    for fam in text_string_to_metric_families(text):
        print("TYPE", fam.name, fam.type)
        for s in fam.samples:
            labels = ",".join('%s="%s"' % (k, v)
                              for k, v in sorted(s.labels.items()))
            v = s.value
            v = int(v) if v == int(v) else v
            print("S %s{%s} %s" % (s.name, labels, v))
except Exception as e:
    print("PARSE-ERROR", e)
EOF
}

# sample NAME{LABELS}: its value in $M (labels sorted by name, as scrape
# prints them; {} for none).
sample() {
	printf '%s\n' "$M" | awk -v k="$1" '$1 == "S" && $2 == k { print $3 }'
}

url() {
	echo "http://127.0.0.1:$1$2"
}

write_conf "$(listen_lines "$MPORT")"
start_proxy -f "$CONF"
check_match "the log gives the URL" \
    "^metrics on http://127\\.0\\.0\\.1:$MPORT/metrics\$" "$(cat "$PROXY_LOG")"

# -------------------------------------------------- the page, untouched

M=$(scrape "$(url "$MPORT" /metrics)")
check_match "GET /metrics: 200" '^status 200$' "$M"
check_match "Content-Type of the text format 0.0.4" \
    '^content-type text/plain; version=0.0.4; charset=utf-8$' "$M"
check_nomatch "prometheus_client parses it" '^PARSE-ERROR' "$M"
check_range "many families" 30 200 "$(printf '%s\n' "$M" | grep -c '^TYPE ')"

# Families and types (the parser drops _total from a counter's family).
for ft in "build_info gauge" "start_time_seconds gauge" \
    "config_reloads counter" \
    "config_last_reload_success_timestamp_seconds gauge" \
    "requests counter" "responses counter" "responses_by_outcome counter" \
    "request_duration_seconds histogram" \
    "dns64_requests_translated counter" \
    "dns64_synthesized_records counter" "dns64_ptr_translated counter" \
    "dns64_aaaa_excluded counter" "dns64_a_unmapped counter" \
    "acl_refused counter" "cache_hits counter" "cache_misses counter" \
    "cache_stale counter" "cache_entries gauge" "cache_bytes gauge" \
    "upstream_queries counter" "upstream_timeouts counter" \
    "upstream_errors counter" "upstream_up gauge" \
    "upstream_srtt_seconds gauge" \
    "upstream_request_duration_seconds histogram" \
    "inflight_queries gauge" "tcp_connections gauge" "dropped counter"; do
	check_match "family dns64proxy_${ft% *} is a ${ft#* }" \
	    "^TYPE dns64proxy_$ft\$" "$M"
done
check_eq "build_info{version}" 1 \
    "$(sample "dns64proxy_build_info{version=\"$(sed -n \
    's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")\"}")"
check_range "start_time_seconds is now-ish" $(( $(date +%s) - 600 )) \
    $(( $(date +%s) + 5 )) "$(sample 'dns64proxy_start_time_seconds{}')"
# Every label combination is there at 0 before any query.
check_eq "requests_total: 16 combinations from the start" 16 \
    "$(printf '%s\n' "$M" | grep -c '^S dns64proxy_requests_total{')"
check_eq "requests_total: all 0 before any query" "" \
    "$(printf '%s\n' "$M" | awk '$2 ~ /^dns64proxy_requests_total\{/ &&
    $3 != 0')"
check_eq "responses_total: 17 rcodes from the start" 17 \
    "$(printf '%s\n' "$M" | grep -c '^S dns64proxy_responses_total{')"
check_eq "config_reloads_total{result=failure} at 0" 0 \
    "$(sample 'dns64proxy_config_reloads_total{result="failure"}')"
check_eq "upstream_up for the forwarder, group AAAA" 1 \
    "$(sample "dns64proxy_upstream_up{group=\"AAAA\",upstream=\"$FWD\"}")"
check_eq "upstream_queries_total at 0" 0 \
    "$(sample "dns64proxy_upstream_queries_total{upstream=\"$FWD\"}")"
check_nomatch "no client address in any label" '127\.0\.0\.2|::1@' \
    "$(printf '%s\n' "$M" | grep '^S ')"

# ------------------------------------------------------ known queries

# a-only AAAA: synthesized, 1 record; a-multi AAAA: synthesized, 2; the
# PTR of a-only's synthesized address: mapped; both A over TCP: passed;
# from 127.0.0.2: refused by the ACL.
check_eq "a-only AAAA synthesized" "${NSP}c000:221" \
    "$(aaaa_of "$(q a-only.t.example AAAA)")"
check_eq "a-multi AAAA synthesized (2)" 2 \
    "$(aaaa_of "$(q a-multi.t.example AAAA)" | wc -l)"
check_match "the PTR is mapped" 'PTR a-only\.t\.example\.' \
    "$(answer_rrs "$(q -x "${NSP}c000:221")")"
check_eq "both A over TCP" NOERROR "$(status_of "$(q +tcp both.t.example A)")"
check_eq "127.0.0.2 is refused" REFUSED \
    "$(status_of "$(q -b 127.0.0.2 both.t.example A)")"

M=$(scrape "$(url "$MPORT" /metrics)")
check_nomatch "still parses" '^PARSE-ERROR' "$M"
check_eq "dns64_requests_translated_total 2" 2 \
    "$(sample 'dns64proxy_dns64_requests_translated_total{}')"
check_eq "dns64_synthesized_records_total 3" 3 \
    "$(sample 'dns64proxy_dns64_synthesized_records_total{}')"
check_eq "dns64_ptr_translated_total 1" 1 \
    "$(sample 'dns64proxy_dns64_ptr_translated_total{}')"
check_eq "acl_refused_total 1" 1 "$(sample 'dns64proxy_acl_refused_total{}')"
check_eq "requests_total udp IPv4 AAAA 2" 2 \
    "$(sample 'dns64proxy_requests_total{family="1",proto="udp",type="AAAA"}')"
check_eq "requests_total udp IPv4 PTR 1" 1 \
    "$(sample 'dns64proxy_requests_total{family="1",proto="udp",type="PTR"}')"
check_eq "requests_total tcp IPv4 A 1" 1 \
    "$(sample 'dns64proxy_requests_total{family="1",proto="tcp",type="A"}')"
check_eq "requests_total udp IPv4 A 1 (the refused one)" 1 \
    "$(sample 'dns64proxy_requests_total{family="1",proto="udp",type="A"}')"
check_eq "responses_total REFUSED 1" 1 \
    "$(sample 'dns64proxy_responses_total{rcode="REFUSED"}')"
check_eq "responses_total NOERROR 4" 4 \
    "$(sample 'dns64proxy_responses_total{rcode="NOERROR"}')"
check_eq "responses_by_outcome synthesized 2" 2 \
    "$(sample 'dns64proxy_responses_by_outcome_total{outcome="synthesized"}')"
check_range "upstream_queries_total grew" 3 20 \
    "$(sample "dns64proxy_upstream_queries_total{upstream=\"$FWD\"}")"
check_ne "upstream_srtt_seconds once it replied" "" \
    "$(sample "dns64proxy_upstream_srtt_seconds{upstream=\"$FWD\"}")"
check_eq "inflight_queries 0 when idle" 0 \
    "$(sample 'dns64proxy_inflight_queries{}')"

# Histograms: cumulative, +Inf = _count = the responses sent.
hist_check() {
	local h=$1 want=$2 buckets
	buckets=$(printf '%s\n' "$M" | awk -v p="${h}_bucket{le=" \
	    '$1 == "S" && index($2, p) == 1 { print $3 }')
	check_eq "$h: 17 buckets" 17 "$(printf '%s\n' "$buckets" | grep -c .)"
	check_eq "$h: cumulative" "" "$(printf '%s\n' "$buckets" |
	    awk 'NR > 1 && $1 < prev { print "drop at " NR } { prev = $1 }')"
	check_eq "$h: +Inf = _count" "$(sample "${h}_count{}")" \
	    "$(sample "${h}_bucket{le=\"+Inf\"}")"
	check_match "$h: 0.25 ms is the first bound" "^S ${h}_bucket\\{le=\"0\\.00025\"\\}" \
	    "$M"
	[ -n "$want" ] && check_eq "$h: _count = $want" "$want" \
	    "$(sample "${h}_count{}")"
}
hist_check dns64proxy_request_duration_seconds 5
hist_check dns64proxy_upstream_request_duration_seconds ""
check_range "upstream RTT samples" 3 20 \
    "$(sample 'dns64proxy_upstream_request_duration_seconds_count{}')"

# ------------------------------------------------------- HTTP details

M=$(scrape "$(url "$MPORT" /)")
check_match "GET /: 404" '^status 404$' "$M"
M=$(scrape "$(url "$MPORT" /metricsx)")
check_match "GET /metricsx: 404" '^status 404$' "$M"
M=$(scrape "$(url "$MPORT" "/metrics?x=1")")
check_match "GET /metrics?x=1: 200" '^status 200$' "$M"
for m in POST HEAD PUT DELETE; do
	M=$(scrape "$(url "$MPORT" /metrics)" "$m")
	check_match "$m /metrics: 405" '^status 405$' "$M"
	check_match "$m /metrics: Allow: GET" '^allow GET$' "$M"
done

if have_ipv6; then
	M=$(scrape "http://[::1]:$MPORT/metrics")
	check_match "::1 on the same port as 127.0.0.1 (V6ONLY): 200" \
	    '^status 200$' "$M"
else
	skip_check "::1 on the same port" "no IPv6 loopback"
fi

# -------------------------------------------------------------- reload

# Another port: the new listener opens, the old one closes.
MPORT2=$(random_port) || bail "no free port"
write_conf "$(listen_lines "$MPORT2")"
kill -HUP "$PROXY_PID"
wait_for_grep "$PROXY_LOG" '^configuration generation 2 is running$' 5 ||
    not_ok "reload: generation 2"
M=$(scrape "$(url "$MPORT2" /metrics)")
check_match "reload: the new port serves" '^status 200$' "$M"
check_eq "reload: counted" 1 \
    "$(sample 'dns64proxy_config_reloads_total{result="success"}')"
check_eq "reload: generation 2" 2 "$(sample 'dns64proxy_config_generation{}')"
check_range "reload: last success timestamp is now-ish" \
    $(( $(date +%s) - 60 )) $(( $(date +%s) + 5 )) \
    "$(sample 'dns64proxy_config_last_reload_success_timestamp_seconds{}')"
check_eq "reload: the counters survive it" 2 \
    "$(sample 'dns64proxy_dns64_requests_translated_total{}')"
M=$(scrape "$(url "$MPORT" /metrics)" 2>&1)
check_nomatch "reload: the old port is closed" '^status 200$' "$M"

# A port that is taken (unbound's TCP port): the reload fails and the
# running listener stays.
write_conf "metrics-listen 127.0.0.1 port $UNBOUND_PORT"
kill -HUP "$PROXY_PID"
if wait_for_grep "$PROXY_LOG" \
    "^reload failed: metrics-listen 127\\.0\\.0\\.1@$UNBOUND_PORT: " 5; then
	ok "reload on a taken port fails, and says which"
else
	not_ok "reload on a taken port fails, and says which"
fi
M=$(scrape "$(url "$MPORT2" /metrics)")
check_match "failed reload: the running listener still serves" \
    '^status 200$' "$M"
check_eq "failed reload: counted" 1 \
    "$(sample 'dns64proxy_config_reloads_total{result="failure"}')"
check_eq "failed reload: still generation 2" 2 \
    "$(sample 'dns64proxy_config_generation{}')"

# Off: no metrics-listen, no listener.
write_conf
kill -HUP "$PROXY_PID"
wait_for_grep "$PROXY_LOG" '^configuration generation 3 is running$' 5 ||
    not_ok "reload: generation 3"
M=$(scrape "$(url "$MPORT2" /metrics)" 2>&1)
check_nomatch "metrics-listen removed: nothing serves" '^status 200$' "$M"

finish
