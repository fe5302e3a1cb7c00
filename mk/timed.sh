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
printf '%s\t%s\n' "$step" "$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')" >> "$times"
exit $rc
