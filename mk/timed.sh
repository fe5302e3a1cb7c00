#!/bin/sh
# mk/timed.sh TIMES RECORD STEP COMMAND...: say that STEP starts, run
# COMMAND, then append "STEP<TAB>seconds" to TIMES (the one file of a run
# allowed to differ between runs) and to RECORD (the times of every run
# with these knobs, which mk/plan.sh reads); exit with COMMAND's status.
# A closed stderr (make ... 2>&1 | head) does not fail the step.
times=$1 record=$2 step=$3
shift 3
say() { (printf "$@" >&2) || true; }
say '%-20s ...\n' "$step"
t0=$(date +%s.%N)
"$@"
rc=$?
t1=$(date +%s.%N)
secs=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
printf '%s\t%s\n' "$step" "$secs" >> "$times"
if [ "$rc" -eq 0 ]; then
	mkdir -p "$(dirname "$record")" && printf '%s\t%s\n' "$step" "$secs" >> "$record"
	say '%-20s %7s s\n' "$step" "$secs"
fi
exit $rc
