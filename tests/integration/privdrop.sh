#!/bin/bash
#
# privdrop.sh - "user NAME" really drops privileges once the sockets are
# bound: the running proxy's real, effective, saved and filesystem uid and
# gid are NAME's, its only supplementary group is NAME's group, it has no
# capabilities left, and it still answers over UDP and TCP.  Without
# "user" (the control) it keeps running as root.  An unknown user stops
# the start with an error.  Needs root (to have privileges to drop).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_root
need_tool getent "$DIG"

USER_NAME=nobody
pw=$(getent passwd "$USER_NAME") || skip "no user $USER_NAME"
IFS=: read -r _ _ uid gid _ <<<"$pw"

# The proxy writes sanitizer reports (sanitizer builds) after dropping
# privileges: let it reach $SANITIZER_DIR.
if ! { chmod 0711 "$TEST_TMP" && chmod 1777 "$SANITIZER_DIR"; }; then
	bail "cannot open $SANITIZER_DIR to $USER_NAME"
fi

# ids PID: "Uid: ... | Gid: ... | Groups: ..." from /proc/PID/status, the
# four uids and gids (real, effective, saved, filesystem) each.
ids() {
	awk -F'\t' '
	    $1 == "Uid:" { u = $2 " " $3 " " $4 " " $5 }
	    $1 == "Gid:" { g = $2 " " $3 " " $4 " " $5 }
	    $1 == "Groups:" { gr = $2 }
	    END { sub(/ +$/, "", gr); print "uid " u " gid " g " groups " gr }
	' "/proc/$1/status"
}

# caps PID: the permitted and effective capability sets (hex).
caps() {
	awk '$1 == "CapPrm:" || $1 == "CapEff:" { printf "%s%s", s, $2; s = " " }
	    END { print "" }' "/proc/$1/status"
}

PFX=2001:db8:64::
A33="a-only.t.example. 300 AAAA ${PFX}c000:221"
start_unbound

# ------------------------------------------------ control: no "user"
PROXY_CONF_BASE="prefix $PFX/96"
proxy_conf "$UNBOUND_PORT"
check_eq "no user: the proxy runs as root" \
    "uid 0 0 0 0 gid 0 0 0 0" "$(ids "$PROXY_PID" | sed 's/ groups.*//')"
stop_proxy

# ------------------------------------------------------- user nobody
proxy_conf "$UNBOUND_PORT" "user $USER_NAME"
check_eq "user $USER_NAME: uids and gids all $USER_NAME's, only its group" \
    "uid $uid $uid $uid $uid gid $gid $gid $gid $gid groups $gid" \
    "$(ids "$PROXY_PID")"
check_eq "user $USER_NAME: no capabilities left" \
    "0000000000000000 0000000000000000" "$(caps "$PROXY_PID")"
out=$(q a-only.t.example AAAA)
check_eq "user $USER_NAME: still answers over UDP" "$A33" \
    "$(answer_rrs "$out")"
out=$(q +tcp a-only.t.example AAAA)
check_eq "user $USER_NAME: still answers over TCP" "$A33" \
    "$(answer_rrs "$out")"
check_true "user $USER_NAME: logged the query (-v)" \
    proxy_logged a-only.t.example. AAAA "synthesized NOERROR"
rc=0
stop_proxy || rc=$?
check_eq "user $USER_NAME: exits 0 on SIGTERM" 0 "$rc"

# ------------------------------------------------------ unknown user
bad=no-such-user-$RANDOM
printf 'forwarder 127.0.0.1 port %s\nuser %s\n%s\n' "$UNBOUND_PORT" "$bad" \
    "$PROXY_MODE_CONF" >"$TEST_TMP/bad.conf"
port=$(random_port) || bail "no free port found"
run_bin -d -f "$TEST_TMP/bad.conf" -l "127.0.0.1@$port"
check_eq "user $bad: the start fails (exit 1)" 1 "$RC"
check_match "user $bad: says so" "unknown user $bad" "$ERR"

finish
