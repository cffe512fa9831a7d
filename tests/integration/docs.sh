#!/bin/bash
#
# docs.sh - the documentation keeps up with the code: every config keyword
# of the parser is described in dns64proxy.conf(5) and shown in the example
# etc/dns64proxy.conf, every command line option is in dns64proxy(8) and the
# README, every control command in dns64proxy-control(8) and the README,
# the README's two commands install what CI installs, and the manual
# pages format without a groff warning.  Reads files only; no network.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib.sh"

need_tool groff

parser=$top_srcdir/src/parse.y
man8=$top_srcdir/docs/dns64proxy.8
man5=$top_srcdir/docs/dns64proxy.conf.5
example=$top_srcdir/etc/dns64proxy.conf
readme=$top_srcdir/README.md

# The parser's keyword table: lines like '	{ "tcp-clients",	TCP_CLIENTS },'.
keywords=$(sed -n 's/^[[:space:]]*{ "\([a-z0-9-]*\)",[[:space:]]*[A-Z_0-9]* },$/\1/p' \
    "$parser")
# Words that only follow a keyword (values, block options) rather than
# start a statement.
values=" all any auto clients destinations fastest no none on ordered port round-robin yes "

check_range "parse.y: keyword table found" 30 100 \
    "$(printf '%s\n' "$keywords" | grep -c .)"

for kw in $keywords; do
	# .It/.Ic lines are where mdoc names a keyword.
	check_true "dns64proxy.conf(5) describes \"$kw\"" \
	    grep -Eq "^\.(It|Ic|Op).*(^|[ |])$kw( |$)" "$man5"
	case $values in
	*" $kw "*)
		continue ;;
	esac
	if [ "$kw" = include ]; then
		check_true "etc/dns64proxy.conf mentions include" \
		    grep -Eq "^# .*include \"" "$example"
		continue
	fi
	check_true "etc/dns64proxy.conf shows \"$kw\" with its default" \
	    grep -Eq "^#$kw( |$)" "$example"
done

# getopt's option string in main.c, e.g. "df:l:np:u:v".
opts=$(sed -n 's/.*getopt(argc, argv, "\([a-z:]*\)").*/\1/p' \
    "$top_srcdir/src/main.c" | tr -d :)
check_range "main.c: getopt string found" 7 20 "${#opts}"
for ((i = 0; i < ${#opts}; i++)); do
	o=${opts:i:1}
	check_true "dns64proxy(8) describes -$o" grep -Eq "^\.It Fl $o( |$)" \
	    "$man8"
	check_true "README's option table has -$o" grep -Fq "| \`-$o" "$readme"
done

# The README's two commands and .ci/run install the same packages, so a
# green CI run means the README's commands work on a fresh machine.
readme_pkgs=$(sed -n '/^```sh$/{n;p}' "$readme" | head -n 2 |
    grep -o 'apt-get install [^&]*' | tr ' ' '\n' |
    grep -v -e '^apt-get$' -e '^install$' -e '^-' | grep . | sort -u)
ci_pkgs=$(sed -n '/^deps="/,/"$/p' "$top_srcdir/.ci/run" |
    sed 's/deps=//; s/"//g' | tr -s ' \t' '\n\n' | grep . | sort -u)
check_range "README: packages found in its two commands" 10 40 \
    "$(printf '%s\n' "$readme_pkgs" | grep -c .)"
check_eq "README's two commands install exactly what .ci/run installs" \
    "$ci_pkgs" "$readme_pkgs"

# The control commands (control.c's table) are in dns64proxy-control(8)
# and the README.
ctlman=$top_srcdir/docs/dns64proxy-control.8
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",[[:space:]]*[0-9], [0-9], .*/\1/p' \
    "$top_srcdir/src/control.c")
check_range "control.c: command table found" 6 30 \
    "$(printf '%s\n' "$cmds" | grep -c .)"
for c in $cmds; do
	check_true "dns64proxy-control(8) describes \"$c\"" \
	    grep -Eq "^\.It Cm $c( |\$)" "$ctlman"
	check_true "README describes dns64proxy-control $c" \
	    grep -Fq "| \`$c" "$readme"
done

for m in "$man8" "$man5" "$top_srcdir/docs/totd2dns64proxy.1" "$ctlman"; do
	err=$(groff -mdoc -ww -z -Tutf8 "$m" 2>&1)
	check_eq "$(basename "$m"): groff -ww reports nothing" "" "$err"
done

finish
