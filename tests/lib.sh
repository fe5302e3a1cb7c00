# tests/lib.sh - a small TAP library for the command-line tests; each
# tests/cli/*.t sources it.  Every test runs in its own scratch directory
# under `set -eu` and LC_ALL=C, with the build under test first on PATH.
#
#   run CMD ARGS...     run a command: $status, and its stdout and stderr
#                       in the files out and err
#   is GOT WANT NAME    string equality
#   like FILE ERE NAME  some line of FILE matches the extended regex
#   unlike FILE ERE NAME
#   same FILE1 FILE2 NAME
#   ok STATUS NAME      0 passes
#   holds NAME CMD...   CMD succeeds (`holds NAME not CMD...`: it fails)
#   done_testing        print the plan; fail if any test failed
set -eu
export LC_ALL=C
: "${MLDE_BIN:?set MLDE_BIN to the directory of the programs (make check does)}"
PATH=$MLDE_BIN:$PATH
TESTS_DIR=$(cd "$(dirname "$0")/.." && pwd)
FIXTURES=$TESTS_DIR/fixtures
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mlde-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
# MLDE_VALGRIND=1 (make valgrind-check): every program runs under valgrind;
# a memory error or a definite leak exits 99, which no test expects.
if [ "${MLDE_VALGRIND:-}" = 1 ]; then
	mkdir "$SCRATCH/.valgrind"
	for prog in "$MLDE_BIN"/mlde-*; do
		cat > "$SCRATCH/.valgrind/${prog##*/}" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$prog" "\$@"
VG
		chmod +x "$SCRATCH/.valgrind/${prog##*/}"
	done
	PATH=$SCRATCH/.valgrind:$PATH
fi
export PATH
cd "$SCRATCH"
tap_n=0
tap_failed=0
status=0

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() {
	printf "%s\n" "$@" | sed "s/^/#   /" >&2
}

run() {
	set +e
	"$@" >out 2>err
	status=$?
	set -e
}

is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  $1" "want: $2"
	fi
}

like() {
	if grep -Eq -- "$2" "$1"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "no line of $1 matches: $2" "$1 holds:"
		head -5 "$1" | sed 's/^/#     /' >&2
	fi
}

unlike() {
	if grep -Eq -- "$2" "$1"; then
		ok 1 "$3"
		diag "a line of $1 matches: $2"
	else
		ok 0 "$3"
	fi
}

same() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff "$1" "$2" | head -10 | sed 's/^/#   /' >&2 || true
	fi
}

not() { ! "$@"; }

holds() {
	_name=$1
	shift
	if "$@"; then ok 0 "$_name"; else ok 1 "$_name"; fi
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
