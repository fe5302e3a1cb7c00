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
#   skip NAME REASON    a test that cannot run here (TAP SKIP)
#   done_testing        print the plan; fail if any test failed
#   item, png, bad_images   fixtures of the train and eval tests (below)
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

# skip NAME REASON: a test that cannot run here, reported as a TAP skip
# (never silently left out)
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

holds() {
	_name=$1
	shift
	if "$@"; then ok 0 "$_name"; else ok 1 "$_name"; fi
}

# Fixtures shared by the mlde-train and mlde-eval tests.
# item IMAGE [OPTIONS [ANSWER]]: one multiple-choice item as a JSON line
item() {
	printf '{"id":"x","image":"%s","question":"What is the background?",' "$1"
	printf '"options":%s,"answer":%s,"type":"t"}\n' "${2:-[\"a\",\"b\",\"c\"]}" "${3:-1}"
}

# png W H FILE: a valid black PNG of that size (core perl: pack and
# Compress::Zlib)
png() {
	perl -MCompress::Zlib -e '
my ($w, $h, $path) = @ARGV;
sub chunk { my ($t, $d) = @_; pack("N", length $d) . $t . $d . pack("N", crc32($t . $d)) }
my $raw = ("\0" . ("\0" x (3 * $w))) x $h;
open my $f, ">:raw", $path or die "$path: $!";
print $f "\x89PNG\r\n\x1a\n" . chunk("IHDR", pack("NNCCCCC", $w, $h, 8, 2, 0, 0, 0))
    . chunk("IDAT", compress($raw)) . chunk("IEND", "");
close $f or die "$path: $!"' "$@"
}

# bad_images GOOD: bad/ with good.png (a copy of GOOD), text.png (not a
# PNG), short.png (cut off) and huge.png (5000 pixels wide)
bad_images() {
	mkdir -p bad
	cp "$1" bad/good.png
	echo 'not a png at all' > bad/text.png
	head -c 100 bad/good.png > bad/short.png
	png 5000 2 bad/huge.png
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# stub_start NAME [ARGS]: tests/stub-openai.pl on 127.0.0.1 with ARGS,
# logging its requests to NAME.log; sets PID (added to STUB_PIDS, which
# the test's trap kills), PORT, and URL and BASE (both http://...:PORT/v1)
stub_start() {
	stub_name=$1
	shift
	perl "$TESTS_DIR/stub-openai.pl" --port-file "$stub_name.port" --log "$stub_name.log" "$@" &
	PID=$!
	STUB_PIDS="$STUB_PIDS $PID"
	i=0
	while [ ! -s "$stub_name.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$stub_name.port")
	URL=http://127.0.0.1:$PORT/v1
	BASE=$URL
}
