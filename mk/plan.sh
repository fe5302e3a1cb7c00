#!/bin/sh
# mk/plan.sh GOAL RUN RECORD - what `make GOAL` is about to make, printed
# on stderr before it starts: reads `make -n` of the goal's files on stdin
# (the steps are the mk/timed.sh lines in it) and gives each step the time
# it took the last time a run with the same knobs made it (RECORD, kept by
# mk/timed.sh beside the run directories), when that is known.
set -eu
goal=$1 run=$2 record=$3
export LC_ALL=C
sed -n "s/.*mk\/timed\.sh [^ ]* [^ ]* '\([^']*\)'.*/\1/p" | awk -F '\t' -v goal="$goal" -v run="$run" -v record="$record" '
	{ steps[++k] = $0 }
	END {
		while ((getline line < record) > 0) { split(line, f, "\t"); last[f[1]] = f[2] }
		if (k == 0) { printf "make %s: %s is made; the report only\n", goal, run; exit }
		for (j = 1; j <= k; j++) if (steps[j] in last) { known++; sum += last[steps[j]] }
		printf "make %s: %d step%s to make in %s", goal, k, (k > 1 ? "s" : ""), run
		if (known) printf "; the last time with these knobs:"
		printf "\n"
		for (j = 1; j <= k; j++) {
			if (steps[j] in last) printf "  %-24s %8.1f s\n", steps[j], last[steps[j]]
			else if (known) printf "  %-24s %8s\n", steps[j], "?"
			else printf "  %s\n", steps[j]
		}
		if (known) printf "  %-24s %8.1f s%s\n", "total", sum, (known < k ? " (of the steps timed)" : "")
	}' >&2 || true
