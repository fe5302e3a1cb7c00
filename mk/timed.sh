#!/bin/sh
# mk/timed.sh TIMES STEP COMMAND...: run COMMAND, then append
# "STEP<TAB>seconds" to TIMES (the one file of a run allowed to differ
# between runs); exit with COMMAND's status.
times=$1 step=$2
shift 2
t0=$(date +%s.%N)
"$@"
rc=$?
t1=$(date +%s.%N)
secs=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
printf '%s\t%s\n' "$step" "$secs" >> "$times"
[ "$rc" -eq 0 ] && printf '%-20s %7s s\n' "$step" "$secs" >&2
exit $rc
