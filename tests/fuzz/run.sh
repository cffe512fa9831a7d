#!/bin/bash
#
# run.sh - run the libFuzzer harnesses that "make fuzz" built.
#
#	run.sh BUILDDIR SRCDIR HARNESS...
#
# BUILDDIR holds the harness programs (tests/fuzz/clang), SRCDIR is
# tests/fuzz in the source tree, each HARNESS a path whose last part is a
# program's name.  Each harness runs in turn, alone (the machine is
# shared), over BUILDDIR/corpus/NAME (where it writes the inputs that find
# new code), SRCDIR/corpus/NAME and SRCDIR/crashes/NAME, with the DNS
# dictionary SRCDIR/dns.dict, until the first crash or for
#	FUZZ_SECONDS	seconds (default 60), or
#	FUZZ_RUNS	executions, when set (then no time limit);
# FUZZ_FLAGS are more libFuzzer flags (e.g. -max_len=65535, -seed=1), given
# last so that they win.  Inputs are at most 16384 octets by default: a
# reply of 4,000 RRs takes 0.5 s under ASan, and synthesis (an A of 16
# octets becomes 7 AAAA of 28) reaches the 65535 limit from there anyway;
# the longer inputs of crashes/ are cut (make check replays them whole).  A crash input is written to BUILDDIR/crash/NAME/;
# the full output of each run is in BUILDDIR/NAME.log.
#
# Prints one line per harness:
#	NAME: N executions in S s (R exec/s), C crash(es), K new inputs
# and exits 1 if any harness crashed (or could not run).

set -u

if [ $# -lt 3 ]; then
	echo "usage: run.sh BUILDDIR SRCDIR HARNESS..." >&2
	exit 2
fi
builddir=$1
srcdir=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
# shellcheck disable=SC2206  # flags are words
extra=(${FUZZ_FLAGS:-})

# final_stat NAME LOG: the value of libFuzzer's final "stat::NAME:" line.
final_stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

failed=0
for h in "$@"; do
	n=$(basename "$h")
	bin=$builddir/$n
	work=$builddir/corpus/$n
	crash=$builddir/crash/$n
	log=$builddir/$n.log
	mkdir -p "$work" "$crash" || exit 1
	args=(-print_final_stats=1 -timeout=10 -max_len=16384
	    -artifact_prefix="$crash/" -dict="$srcdir/dns.dict")
	if [ -n "$runs" ]; then
		args+=(-runs="$runs")
	else
		args+=(-max_total_time="$seconds")
	fi
	dirs=("$work" "$srcdir/corpus/$n")
	[ -d "$srcdir/crashes/$n" ] && dirs+=("$srcdir/crashes/$n")
	before=$(find "$crash" -type f | wc -l)
	inputs=$(find "$work" -type f | wc -l)
	echo "$n: fuzzing (${runs:+$runs runs}${runs:-$seconds s}), log $log"
	start=$(date +%s)
	"$bin" "${args[@]}" "${extra[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	execs=$(final_stat number_of_executed_units "$log")
	rate=$(final_stat average_exec_per_sec "$log")
	if [ -z "$execs" ]; then
		# No final stats after a crash: the last status line.
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
		rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' "$log" |
		    tail -n 1)
	fi
	crashes=$(( $(find "$crash" -type f | wc -l) - before ))
	added=$(( $(find "$work" -type f | wc -l) - inputs ))
	echo "$n: ${execs:-?} executions in $secs s (${rate:-?} exec/s)," \
	    "$crashes crash(es), $added new inputs"
	if [ $rc -ne 0 ] || [ $crashes -gt 0 ]; then
		failed=1
		echo "$n: FAILED (status $rc); the end of $log:"
		tail -n 40 "$log" | sed 's/^/    /'
		find "$crash" -type f -newer "$bin" | sed 's/^/    crash input: /'
	fi
done
exit $failed
