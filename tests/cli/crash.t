#!/bin/sh
# Crash safety of the whole loop: `make iter1` on a tiny world, killed
# with SIGKILL - make and every step at once, as a lost machine or the OOM
# killer would - at points drawn from a fixed seed over the time an
# uninterrupted run takes, then made again to the end: the same bytes as
# the uninterrupted run, in every file but times.tsv (the .times records
# live beside the run, not in it).  Nothing may be left that a rerun takes
# for finished, nor a .tmp file.
#   MLDE_CRASH_SEED=N     the seed of the kill points (replays a failure)
#   MLDE_CRASH_POINTS=K   how many (default 2; each costs about one run)
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
unset MAKEFLAGS MAKELEVEL MFLAGS
seed=${MLDE_CRASH_SEED:-15}
points=${MLDE_CRASH_POINTS:-2}
# smaller than check-bytes' TINY: every step still runs, in about 10 s
WORLD="WORLD_IMAGES=40 WORLD_BASE=80 WORLD_VAL=27 WORLD_TEST=18 BASE_EPOCHS=1 ITER_EPOCHS=1 THREADS=1 BUDGET=18"
loop() { make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $WORLD "$@"; }
digest() { (cd "$1" && find . -type f ! -name times.tsv | sort | xargs sha256sum); }
now() { date +%s.%N; }

t0=$(now)
run loop iter1 RUN="$SCRATCH/ref/r"
t1=$(now)
is "$status" 0 "the uninterrupted run: make iter1, status 0"
digest ref/r > ref.sums
ref_secs=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
echo "# crash: the run takes $ref_secs s; $points kill points from seed $seed (MLDE_CRASH_SEED, MLDE_CRASH_POINTS)"

# what a killed run was doing, from its log (mk/plan.sh's plan first,
# then mk/timed.sh's "STEP  ..." when a step starts and "STEP  N s" when
# it ends, then the report)
running() {
	awk '/^make iter1: / { plan = 1 }
	     / \.\.\.$/ { sub(/ +\.\.\.$/, ""); step = $0; done = ""; next }
	     / [0-9.]+ s$/ && step != "" { done = step; step = "" }
	     /^Accuracy by iteration/ { report = 1 }
	     END {
		if (step != "") print step
		else if (report) print "the report"
		else if (done != "") print "make, after " done
		else if (plan) print "make, after the plan"
		else print "make, before the plan"
	     }' "$1"
}

awk -v seed="$seed" -v k="$points" -v t="$ref_secs" \
	'BEGIN { srand(seed); for (i = 1; i <= k; i++) printf "%.2f\n", 0.2 + rand() * (t - 0.2) }' > points
i=0
while read -r at; do
	i=$((i + 1))
	dir=$SCRATCH/k$i
	mkdir -p "$dir"
	# make in a process group of its own, the whole group killed
	(set +e; setsid -w sh -c 'echo $$ > "$0/pid"; exec "$@"' "$dir" make -s -C "$ROOT" ${MLDE_MAKEVARS:-} \
		$WORLD iter1 RUN="$dir/r" > "$dir/log" 2>&1; echo $? > "$dir/rc") &
	sleep "$at"
	while [ ! -s "$dir/pid" ]; do sleep 0.05; done
	if kill -KILL "-$(cat "$dir/pid")" 2> /dev/null; then
		what="killed at $at s in: $(running "$dir/log")"
	else
		what="at $at s the run was over"
	fi
	wait
	echo "# crash: point $i: $what"
	run loop iter1 RUN="$dir/r"
	if [ "$status" != 0 ]; then
		is "$status" 0 "point $i, $what: make iter1 again, status 0"
		sed 's/^/#   /' err | tail -10 >&2
		continue
	fi
	digest "$dir/r" > "$dir/sums"
	if cmp -s ref.sums "$dir/sums"; then
		ok 0 "point $i, $what: made again, the same bytes as the uninterrupted run"
	else
		ok 1 "point $i, $what: made again, the same bytes as the uninterrupted run"
		diag "seed $seed, point $i at $at s; files that differ (< the uninterrupted run, > this one):"
		diff ref.sums "$dir/sums" | grep '^[<>]' | head -10 | sed 's/^/#   /' >&2 || true
	fi
	rm -rf "$dir"
done < points
is "$i" "$points" "every kill point tried"

done_testing
