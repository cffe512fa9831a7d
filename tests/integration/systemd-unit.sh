#!/bin/bash
#
# systemd-unit.sh - contrib/dns64proxy.service passes "systemd-analyze
# verify" once its /usr/sbin paths point at the built programs (the
# daemon and dns64proxy-control), its Documentation= pages are the ones in
# docs/, and it says what the packaging relies on
# (Type=notify, the config check, the control tool's reload, the runtime
# directory).  Reads files and runs systemd-analyze only; no daemon is
# started.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool systemd-analyze

unit=$top_srcdir/contrib/dns64proxy.service
dir=$TEST_TMP/unit
mkdir -p "$dir" "$TEST_TMP/man/man5" "$TEST_TMP/man/man8"

# Settings whose values the package, the README and the lead's main()
# depend on.
setting() {
	sed -n "s/^$1=//p" "$unit"
}
check_eq "Type" "notify" "$(setting Type)"
check_eq "ExecStartPre checks the config" "/usr/sbin/dns64proxy -n" \
    "$(setting ExecStartPre)"
check_eq "ExecStart in the foreground" "/usr/sbin/dns64proxy -d" \
    "$(setting ExecStart)"
check_eq "ExecReload" "/usr/sbin/dns64proxy-control reload" \
    "$(setting ExecReload)"
check_eq "RuntimeDirectory" "dns64proxy" "$(setting RuntimeDirectory)"
check_eq "RuntimeDirectoryMode" "0750" "$(setting RuntimeDirectoryMode)"
check_eq "User" "dns64proxy" "$(setting User)"
check_eq "Before" "nss-lookup.target" "$(setting Before)"
check_eq "Documentation" \
    "man:dns64proxy(8) man:dns64proxy.conf(5) man:dns64proxy-control(8)" \
    "$(setting Documentation)"

ctl=$top_builddir/src/dns64proxy-control
[ -x "$ctl" ] || bail "$ctl not built"
sed -e "s|/usr/sbin/dns64proxy-control|$ctl|g" \
    -e "s|/usr/sbin/dns64proxy\\([[:space:]]\\)|$PROXY_BIN\\1|g" \
    "$unit" >"$dir/dns64proxy.service"
check_eq "every /usr/sbin path was substituted" "" \
    "$(grep -n /usr/sbin "$dir/dns64proxy.service")"

# verify runs man(1) on each Documentation= page: give it ours.
man=--man=no
if command -v man >/dev/null 2>&1; then
	cp "$top_srcdir/docs/dns64proxy.8" \
	    "$top_srcdir/docs/dns64proxy-control.8" "$TEST_TMP/man/man8/"
	cp "$top_srcdir/docs/dns64proxy.conf.5" "$TEST_TMP/man/man5/"
	export MANPATH=$TEST_TMP/man
	man=--man=yes
else
	note "man not installed: Documentation= pages not checked"
fi

verify() {
	systemd-analyze verify "$man" "$1" >"$TEST_TMP/verify.out" 2>&1
}
if verify "$dir/dns64proxy.service"; then
	ok "systemd-analyze verify $man"
else
	not_ok "systemd-analyze verify $man"
fi
check_eq "systemd-analyze verify prints nothing" "" \
    "$(cat "$TEST_TMP/verify.out")"

# The same check must be able to fail here: a unit naming a missing
# program is rejected.
mkdir -p "$dir/broken"
sed "s|^ExecStart=.*|ExecStart=$TEST_TMP/missing -d|" \
    "$dir/dns64proxy.service" >"$dir/broken/dns64proxy.service"
check_false "systemd-analyze verify rejects a missing ExecStart program" \
    verify "$dir/broken/dns64proxy.service"
check_match "and says which" "missing" "$(cat "$TEST_TMP/verify.out")"

finish
