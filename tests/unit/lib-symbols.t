#!/bin/sh
# The library never prints and never exits: no object of libmlde.a refers
# to exit, abort, a printing function, the standard streams, signal
# handling or the program layer (tools/cli), except base/err.o, the x-alloc
# helpers, which print "out of memory" and exit 5 (see base/err.h).
# io/jsonl.c writes the output stream to fd 1 with write(2), never through
# stdout, so it needs no exception; a new reference anywhere fails here.
set -eu
: "${MLDE_TESTBIN:?set MLDE_TESTBIN (make check does)}"
lib=$MLDE_TESTBIN/../libmlde.a
cli=$MLDE_TESTBIN/../libmlde-cli.a
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

FORBIDDEN='exit _exit _Exit quick_exit abort atexit
printf vprintf fprintf vfprintf dprintf vdprintf puts fputs fputc putc putchar perror
__printf_chk __fprintf_chk __vprintf_chk __vfprintf_chk __dprintf_chk
err errx warn warnx verr verrx vwarn vwarnx error stdout stderr
signal sigaction raise kill
mlde_die mlde_die_error mlde_warn mlde_note mlde_verbosity'
# the x-alloc helpers' exact needs
ALLOWED_ERR='exit fprintf stderr'

# violations ARCHIVE: "object symbol" for every forbidden undefined symbol
# (the program layer's mlde_cli_* too), allowed ones left out
violations() {
	nm -A -u "$1" 2>/dev/null | awk -v forbidden="$FORBIDDEN" -v allowed="$ALLOWED_ERR" '
	BEGIN {
		n = split(forbidden, f, /[ \n]+/); for (i = 1; i <= n; i++) bad[f[i]] = 1
		n = split(allowed, a, / /); for (i = 1; i <= n; i++) ok_err[a[i]] = 1
	}
	{
		sym = $NF
		obj = $1; sub(/:$/, "", obj); sub(/.*:/, "", obj)
		if (!(sym in bad) && sym !~ /^mlde_cli_/) next
		if (obj == "err.o" && (sym in ok_err)) next
		print obj, sym
	}'
}

objects=$(ar t "$lib")
count=$(printf '%s\n' "$objects" | grep -c '\.o$' || :)
[ "$count" -ge 10 ] && ok 0 "libmlde.a holds $count objects" || ok 1 "libmlde.a holds objects ($count)"
v=$(violations "$lib")
for o in $objects; do
	bad=$(printf '%s\n' "$v" | awk -v o="$o" '$1 == o { printf " %s", $2 }')
	if [ -z "$bad" ] && [ "$o" = err.o ]; then
		ok 0 "$o prints and exits only for the x-alloc helpers ($ALLOWED_ERR)"
	elif [ -z "$bad" ]; then
		ok 0 "$o neither prints nor exits"
	else
		ok 1 "$o neither prints nor exits: refers to$bad"
	fi
done
# the checker itself finds what is there: the program layer prints and exits
v=$(violations "$cli")
printf '%s\n' "$v" | grep -q '^diag.o exit$' && ok 0 "the check sees diag.o's exit in libmlde-cli.a" \
	|| ok 1 "the check sees diag.o's exit in libmlde-cli.a"
echo "1..$n"
[ "$failed" -eq 0 ]
