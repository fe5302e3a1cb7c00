#!/bin/sh
# Every program through the I/O fault shim (tests/faults/shim.c): the Nth
# write, read, fsync, rename or close fails, for N over the calls a clean
# run makes (the first ones, the middle, the last).  Each run either ends
# as a clean run does, with the same bytes, or fails with status 3 and one
# message naming a file and the injected error, leaving nothing that could
# pass for a finished output: no FILE (nor FILE.tmp) of a run that failed,
# no partial cache entry.  EINTR is retried: the run ends as a clean one.
. "$(dirname "$0")/../lib.sh"

SHIM=${MLDE_TESTBIN:-}/fault-shim.so
if [ -z "${MLDE_TESTBIN:-}" ] || [ ! -f "$SHIM" ]; then
	skip "the fault shim" "no MLDE_TESTBIN/fault-shim.so (make check builds it)"
	done_testing
	exit 0
fi
# a sanitized program wants its runtime first; the shim only forwards
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

mlde-world -q --seed 1 --out w --images 6 --base 20 --val 12 --test 4
mlde-train -q -o m --images w --epochs 1 --batch 8 --arch c1=4,c2=4,c3=8,c4=8,nq=64 \
	w/base.jsonl.zst
mlde-eval -q -m m --images w --embed -o ev.zst w/val.jsonl.zst
mlde-eval -q -m m --images w --embed -o pool.zst w/pool.jsonl.zst
mlde-weak -q -o weak.zst ev.zst
mlde-sample -q --weak weak.zst --pool pool.zst --budget 3 -o plan.zst ev.zst
zstd -dcq w/test.jsonl.zst > items.jsonl

# cmd PROG: its command line, writing into the current directory; files
# PROG: the names its message may give (an ERE)
cmd() {
	case $1 in
	mlde-world) echo "mlde-world -q --seed 2 --out wout --images 2 --base 2 --val 2 --test 2" ;;
	mlde-weak) echo "mlde-weak -q -o out ../ev.zst" ;;
	mlde-sample) echo "mlde-sample -q --weak ../weak.zst --pool ../pool.zst --budget 3 -o out ../ev.zst" ;;
	mlde-gen) echo "mlde-gen -q --backend world --cache cache -o out --rejects rej ../plan.zst" ;;
	mlde-train) echo "mlde-train -q -o out --images ../w --epochs 1 --batch 4 --arch c1=4,c2=4,c3=8,c4=8,nq=64 ../items.jsonl" ;;
	mlde-eval) echo "mlde-eval -q -m ../m --images ../w -o out ../items.jsonl" ;;
	esac
}
files() {
	case $1 in
	mlde-world) echo 'wout[^ ]*' ;;
	mlde-weak) echo 'out\.tmp|\.\./ev\.zst' ;;
	mlde-sample) echo 'out\.tmp|\.\./(ev|weak|pool)\.zst' ;;
	mlde-gen) echo '(out|rej)\.tmp|\.\./plan\.zst|cache[^ ]*' ;;
	mlde-train) echo 'out\.tmp|\.\./items\.jsonl|\.\./w/images/[^ ]*\.png' ;;
	mlde-eval) echo 'out\.tmp|\.\./m|\.\./items\.jsonl|\.\./w/images/[^ ]*\.png' ;;
	esac
}

# a clean run of each program, with the shim counting its calls
for prog in mlde-world mlde-weak mlde-sample mlde-gen mlde-train mlde-eval; do
	mkdir "ref-$prog"
	(cd "ref-$prog" && MLDE_FAULT_LOG=$SCRATCH/calls-$prog LD_PRELOAD=$SHIM $(cmd $prog) 2> err)
	holds "$prog: a clean run under the shim" test ! -s "ref-$prog/err"
done

# finished DIR: what is left in DIR, normalised: the names of every file
# (and .tmp) and the contents of the outputs, so two runs compare whole
finished() {
	(cd "$1" && find . -type f ! -name err ! -name log | LC_ALL=C sort && \
		find . -type f ! -name err ! -name log | LC_ALL=C sort | xargs cat | cksum)
}

injected=0
# try PROG KIND N ERRNO: one run with that fault, and what it must leave
try() {
	prog=$1 kind=$2 n=$3 e=$4
	name="$prog: $kind $n $e"
	rm -rf run && mkdir run
	cd run
	set +e
	MLDE_FAULT=$kind:$n:$e MLDE_FAULT_LOG=$SCRATCH/run/log LD_PRELOAD=$SHIM $(cmd $prog) 2> err
	status=$?
	set -e
	if ! grep -q "^$kind $n " log 2> /dev/null; then
		cd ..
		ok 1 "$name: the fault was injected"
		return
	fi
	injected=$((injected + 1))
	if [ "$status" -eq 0 ]; then
		cd ..
		is "$(finished run)" "$(finished "ref-$prog")" "$name: survived, and the same bytes as a clean run"
		return
	fi
	if [ "$e" = EINTR ]; then
		cd ..
		ok 1 "$name: EINTR is retried, not an error (status $status: $(head -1 run/err))"
		return
	fi
	bad=""
	[ "$status" -eq 3 ] || bad="status $status, not 3"
	[ "$(wc -l < err)" -eq 1 ] || bad="$bad; $(wc -l < err) lines on stderr"
	grep -Eq "^$prog: (.*[ :])?($(files $prog)):" err || bad="$bad; the message names no file"
	grep -Eq "$(errtext "$e")" err || bad="$bad; not the injected error"
	[ -z "$(find . -name '*.tmp')" ] || bad="$bad; a .tmp left: $(find . -name '*.tmp')"
	[ ! -e out ] && [ ! -e rej ] || bad="$bad; an output left"
	if [ "$prog" = mlde-world ] && [ -d wout ] && [ -n "$(find wout -name '*.jsonl.zst')" ]; then
		bad="$bad; a set of the world left"
	fi
	if [ "$prog" = mlde-gen ] && [ -d cache ]; then
		# what the cache holds is whole: a clean run over it makes the same bytes
		rm -f out rej
		mlde-gen -q --backend world --cache cache -o out --rejects rej ../plan.zst 2> err2 ||
			bad="$bad; a clean run over the cache failed: $(head -1 err2)"
		cmp -s out "../ref-$prog/out" || bad="$bad; the cache changed the output"
		rm -f out rej err2
	fi
	cd ..
	bad=${bad#; }
	if [ -z "$bad" ]; then
		ok 0 "$name: status 3, one message naming the file, nothing left"
		return
	fi
	ok 1 "$name: $bad"
	head -3 run/err | sed 's/^/#   /' >&2
}

errtext() {
	case $1 in
	ENOSPC) echo 'No space left on device' ;;
	EIO) echo 'Input/output error' ;;
	EDQUOT) echo 'quota exceeded' ;;
	*) echo "$1" ;;
	esac
}

# calls PROG KIND: how many calls of KIND the clean run made
calls() {
	sed -n "s/^calls $2 //p" "calls-$1"
}

# the Ns to try out of COUNT: the first six, the middle and the last two
ns() {
	c=$1
	[ "$c" -gt 0 ] || return 0
	{ seq 1 $((c < 6 ? c : 6)); echo $((c / 2)); echo $((c - 1)); echo "$c"; } |
		awk '$1 > 0' | sort -nu
}

for prog in mlde-world mlde-weak mlde-sample mlde-gen mlde-train mlde-eval; do
	for kind in write read fsync rename close; do
		c=$(calls $prog $kind)
		case $kind in write) e=ENOSPC ;; *) e=EIO ;; esac
		if [ -z "$c" ] || [ "$c" -eq 0 ]; then
			case $prog:$kind in
			*:write|*:close)
				ok 1 "$prog: $kind: the clean run made no such call" ;;
			*)
				# reading: world reads nothing; a writer writes through atomic.h
				skip "$prog: $kind" "the clean run made no $kind call" ;;
			esac
			continue
		fi
		for n in $(ns "$c"); do
			try "$prog" "$kind" "$n" "$e"
		done
	done
	try "$prog" write 1 EINTR
	[ "$(calls $prog read)" -gt 0 ] && try "$prog" read 1 EINTR
done

diag "faults injected: $injected"
done_testing
