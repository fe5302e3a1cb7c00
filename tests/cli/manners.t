#!/bin/sh
# Command-line manners every mlde program shares: --help (and -h),
# --version, an unknown option, a failed write of --help, a man page whose
# SYNOPSIS is the usage line, and MLDE_PLAIN.
. "$(dirname "$0")/../lib.sh"
MAN_DIR=$TESTS_DIR/../man

# normalise: the words of a synopsis, one space apart
words() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }

programs=$(cd "$MLDE_BIN" && ls mlde-* 2>/dev/null)
[ -n "$programs" ] || { ok 1 "no programs found in $MLDE_BIN"; done_testing; exit 1; }
for p in $programs; do
	run "$p" --help
	is "$status" 0 "$p --help: status 0"
	like out "^usage: $p " "$p --help: usage on stdout"
	is "$(cat err)" "" "$p --help: nothing on stderr"
	usage=$(head -1 out | sed 's/^usage: //' | words)

	cp out help.long
	run "$p" -h
	is "$status" 0 "$p -h: status 0"
	same out help.long "$p -h: the same text as --help"

	run "$p" --version
	is "$status:$(cat out)" "0:$p (mlde) 0.1.0" "$p --version"

	run "$p" --no-such-option
	is "$status" 2 "$p --no-such-option: status 2"
	like err "^$p: unknown option '--no-such-option'$" "$p: the unknown option is named"
	like err "^usage: $p " "$p: the synopsis follows"
	is "$(cat out)" "" "$p: nothing on stdout"

	if [ -w /dev/full ]; then
		run sh -c "$p --help > /dev/full"
		is "$status" 3 "$p --help > /dev/full: a write error, status 3"
	else
		skip "$p --help > /dev/full: a write error, status 3" "no writable /dev/full"
	fi

	page=$MAN_DIR/$p.1
	if [ ! -f "$page" ]; then
		ok 1 "$p: man page man/$p.1 exists"
		continue
	fi
	ok 0 "$p: man page man/$p.1 exists"
	groff -man -ww -z "$page" 2> lint || true
	is "$(cat lint)" "" "$p.1: groff finds nothing to warn about"
	MANWIDTH=1000 man -l "$page" 2>/dev/null | col -b > page.txt
	synopsis=$(sed -n '/^SYNOPSIS/,/^[A-Z]/p' page.txt | sed '1d;$d' | words)
	is "$synopsis" "$usage" "$p.1: SYNOPSIS is the usage line of --help"
	for section in NAME DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES; do
		like page.txt "^$section\$" "$p.1: has $section"
	done
done

# MLDE_PLAIN=1: plain text on standard output (a pipe here), as with -Z;
# -o FILE stays zstd, and without it a pipe gets zstd
printf '{"id":"a","type":"t","correct":true}\n' > one.jsonl
MLDE_PLAIN=1 mlde-weak -q one.jsonl > plain.out
like plain.out '^\{"type":"t","n":1,' "MLDE_PLAIN=1: plain JSON Lines on a pipe"
MLDE_PLAIN=1 mlde-weak -q -o file.zst one.jsonl
is "$(od -An -tx1 -N4 file.zst | tr -d ' ')" "28b52ffd" "MLDE_PLAIN=1: -o FILE is still zstd"
mlde-weak -q one.jsonl > zstd.out
is "$(od -An -tx1 -N4 zstd.out | tr -d ' ')" "28b52ffd" "without MLDE_PLAIN: zstd on a pipe"
MLDE_PLAIN=0 mlde-weak -q one.jsonl > zero.out
is "$(od -An -tx1 -N4 zero.out | tr -d ' ')" "28b52ffd" "MLDE_PLAIN=0: zstd on a pipe"

groff -man -ww -z "$MAN_DIR/mlde.7" 2> lint || true
is "$(cat lint)" "" "mlde.7: groff finds nothing to warn about"
# the exit status table of mlde(7) is the one in tools/lib/base/err.h
grep -E '^\s*MLDE_EXIT_[A-Z]+ = [0-9]+,' "$TESTS_DIR/../tools/lib/base/err.h" |
	sed -E 's/.*= ([0-9]+).*/\1/' > codes
MANWIDTH=1000 man -l "$MAN_DIR/mlde.7" 2>/dev/null | col -b |
	sed -n '/^EXIT STATUS/,/^[A-Z]/p' | grep -E '^ +[0-9]+ ' | awk '{print $1}' > documented
same codes documented "every exit status in err.h is documented in mlde(7), in order"

done_testing
