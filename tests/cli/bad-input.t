#!/bin/sh
# The BAD INPUT table of mlde(7), row by row: each test is named after its
# row ("ROW: PROGRAM: what is asserted") and drives every program the row
# names with that input, asserting the message's form, the exit status and
# that nothing that could pass for a finished output is left on disk.
. "$(dirname "$0")/../lib.sh"

# A tiny world, a tiny model (nq=64: a small file) and what the loop makes
# from them: eval records, weakness records, pool records, plans.
mlde-world -q --seed 1 --out w --images 8 --base 40 --val 18 --test 9
mlde-train -q -o m --images w --epochs 1 --batch 16 --arch c1=4,c2=4,c3=8,c4=8,nq=64 \
	w/base.jsonl.zst
mlde-eval -q -m m --images w --embed -o ev.zst w/val.jsonl.zst
mlde-eval -q -m m --images w --embed -o pool.zst w/pool.jsonl.zst
mlde-weak -q -o weak.zst ev.zst
mlde-sample -q --weak weak.zst --pool pool.zst --budget 4 -o plan.zst ev.zst

PROGS="mlde-weak mlde-sample mlde-gen mlde-train mlde-eval"

# feed PROG FILE: PROG reading FILE as its records, writing out (and gen's
# rejects to rej)
feed() {
	case $1 in
	mlde-weak) run mlde-weak -q -o res "$2" ;;
	mlde-sample) run mlde-sample -q --weak weak.zst --pool pool.zst --budget 2 -o res "$2" ;;
	mlde-gen) run mlde-gen -q --backend world -o res --rejects rej "$2" ;;
	mlde-train) run mlde-train -q -o res --images w --epochs 1 "$2" ;;
	mlde-eval) run mlde-eval -q -m m --images w -o res "$2" ;;
	esac
}

# nothing_left NAME: no output and no temporary file of one
nothing_left() {
	holds "$1: no output, no .tmp left" test ! -e res -a ! -e res.tmp -a ! -e rej -a ! -e rej.tmp
}

# one_line NAME: stderr is the one message: no second line, no report of
# the sanitizers (a leak on an error exit keeps the exit status)
one_line() {
	is "$(wc -l < err | tr -d ' ')" 1 "$1: one line on stderr"
}

# refused ROW FILE STATUS ERE [PROGS]: each program fed FILE fails with
# STATUS and "PROG: ERE" on stderr, leaving nothing
refused() {
	for prog in ${5:-$PROGS}; do
		rm -f res res.tmp rej rej.tmp
		feed "$prog" "$2"
		is "$status" "$3" "$1: $prog: status $3"
		like err "^$prog: $4" "$1: $prog: the message"
		one_line "$1: $prog"
		nothing_left "$1: $prog"
	done
}

# bad LINE: a file bad.jsonl with a blank line, then LINE (so it is line 2)
bad() {
	printf '\n%s\n' "$1" > bad.jsonl
}

bad '{"a": nope}'
refused "invalid JSON" bad.jsonl 1 'bad\.jsonl:2: invalid JSON: .*column'
unlike err 'while parsing' "invalid JSON: jq's copy of the line is not printed"
# libjq 1.6 leaks the "b" of this line (tests/lsan.supp): the suppression
# needs full stacks; any other leak still fails the sanitizer run
bad '{"a":1 "b":2}'
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
	refused "invalid JSON" bad.jsonl 1 'bad\.jsonl:2: invalid JSON: Expected separator between values'

bad '[1,2]'
refused "not an object" bad.jsonl 1 'bad\.jsonl:2: expected a JSON object, got array'

head -c 200 plan.zst > cut.zst
refused "truncated zstd stream" cut.zst 1 'cut\.zst: truncated zstd stream \(premature end\)'

# a whole frame with its middle overwritten: the content checksum, or the
# block decoder, finds it
cp plan.zst corrupt.zst
head -c 64 /dev/zero | tr '\0' 'x' | dd of=corrupt.zst bs=1 seek=40 conv=notrunc 2> /dev/null
refused "corrupt zstd data" corrupt.zst 1 'corrupt\.zst: zstd: '

# 64 MiB and one byte: one over the limit
{ printf '{"a":"'; head -c 67108859 /dev/zero | tr '\0' x; printf '"}\n'; } > long.jsonl
refused "line over 64 MiB" long.jsonl 1 'long\.jsonl:1: line longer than 67108864 bytes'
rm -f long.jsonl

printf '\n{"type":"t","image":"x\377y"}\n' > bad.jsonl
refused "invalid UTF-8" bad.jsonl 1 'bad\.jsonl:2: invalid UTF-8 at byte 23$'
printf '\n{"image":"\355\240\200"}\n' > bad.jsonl
refused "invalid UTF-8" bad.jsonl 1 'bad\.jsonl:2: invalid UTF-8 at byte 11$' "mlde-weak"

bad '{"type":"t","image":"\ud800x"}'
refused "lone surrogate escape" bad.jsonl 1 'bad\.jsonl:2: lone UTF-16 surrogate escape at byte 22$'

bad '{"type":"t","query":{"image":"a\u0000b.png"}}'
refused "NUL in a string" bad.jsonl 1 "bad\\.jsonl:2: field 'query\\.image': NUL \\(\\\\u0000\\) in a string$"
# the issue's case: two plans whose ids differ only after a NUL
zstd -dcq plan.zst | head -1 | jq -c '.id = "a\u0000b"' > nul-plans.jsonl
zstd -dcq plan.zst | head -1 | jq -c '.id = "a\u0000c"' >> nul-plans.jsonl
refused "NUL in a string" nul-plans.jsonl 1 "nul-plans\\.jsonl:1: field 'id': NUL" "mlde-gen"
# an image path cut by a NUL is not reported as a missing file
zstd -dcq w/val.jsonl.zst | head -1 | jq -c '.image = .image + "\u0000.txt"' > nul-image.jsonl
refused "NUL in a string" nul-image.jsonl 1 "nul-image\\.jsonl:1: field 'image': NUL" \
	"mlde-train mlde-eval"
unlike err 'No such file' "NUL in a string: an image path is not reported as missing"

printf '\n{"type":"t","image":"a\000b"}\n' > bad.jsonl
refused "raw NUL byte" bad.jsonl 1 'bad\.jsonl:2: NUL byte at byte 23$'

# a record of the right JSON but the wrong fields: each program names the
# field its records need
bad '{"image":"a.png"}'
for p in weak:type sample:type gen:id train:question eval:question; do
	refused "missing or mistyped field" bad.jsonl 1 "bad\\.jsonl:2: field '${p#*:}': missing" \
		"mlde-${p%%:*}"
done
bad '{"type":"t","image":3,"correct":true,"id":"i"}'
refused "missing or mistyped field" bad.jsonl 1 "bad\\.jsonl:2: field 'image': expected string, got number" \
	"mlde-train mlde-eval"

refused "missing input file" no-such.jsonl 3 'no-such\.jsonl: No such file or directory'

# images: not a PNG, cut off, missing
zstd -dcq w/val.jsonl.zst | head -1 > one.jsonl
img=$(jq -r .image one.jsonl)
(cd w && bad_images "$img")
for case in text:'not a PNG file' short:'' huge:''; do
	jq -c ".image = \"bad/${case%%:*}.png\"" one.jsonl > img.jsonl
	refused "bad image" img.jsonl 1 "img\\.jsonl:1: w/bad/${case%%:*}\\.png: ${case#*:}" \
		"mlde-train mlde-eval"
done
jq -c '.image = "gone.png"' one.jsonl > img.jsonl
refused "missing image" img.jsonl 3 'img\.jsonl:1: w/gone\.png: No such file or directory' \
	"mlde-train mlde-eval"

# models: missing, not a model, not finite, a negative variance; a model is
# read by mlde-eval -m and mlde-train --init
# poke MODEL OUT PATTERN VALUE: a copy of MODEL with element 0 of the
# first tensor (in name order) whose name matches PATTERN set to VALUE
poke() {
	perl -MJSON::PP -e '
my ($in, $out, $pat, $val) = @ARGV;
open my $f, "<:raw", $in or die "$in: $!"; local $/; my $b = <$f>; close $f;
my $n = unpack("Q<", substr($b, 0, 8));
my $h = decode_json(substr($b, 8, $n));
my ($name) = grep { $_ ne "__metadata__" && /$pat/ } sort keys %$h or die "no tensor $pat";
substr($b, 8 + $n + $h->{$name}{data_offsets}[0], 4) = pack("f<", $val);
open my $o, ">:raw", $out or die "$out: $!"; print $o $b; close $o or die "$out: $!";
print "$name\n"' "$@"
}

# model ROW MODEL STATUS ERE: mlde-eval -m and mlde-train --init refuse it
model() {
	rm -f res res.tmp
	run mlde-eval -q -m "$2" --images w -o res one.jsonl
	is "$status" "$3" "$1: mlde-eval -m: status $3"
	like err "^mlde-eval: $4" "$1: mlde-eval -m: the message"
	one_line "$1: mlde-eval -m"
	nothing_left "$1: mlde-eval -m"
	run mlde-train -q --init "$2" --images w --epochs 1 -o res one.jsonl
	is "$status" "$3" "$1: mlde-train --init: status $3"
	like err "^mlde-train: $4" "$1: mlde-train --init: the message"
	one_line "$1: mlde-train --init"
	nothing_left "$1: mlde-train --init"
}

model "missing model" gone.model 3 'gone\.model: No such file or directory'
echo 'not a model' > text.model
model "not a model" text.model 1 'text\.model: not a safetensors file'
head -c 5000 m > cut.model
model "not a model" cut.model 1 'cut\.model: '
t=$(poke m nan.model 'answers\.bias' nan)
model "model value not finite" nan.model 1 "nan\\.model: tensor '$t': element 0 is -?nan: not finite"
t=$(poke m inf.model 'conv\.weight' inf)
model "model value not finite" inf.model 1 "inf\\.model: tensor '$t': element 0 is inf: not finite"
t=$(poke m var.model 'running_var' -0.5)
model "negative running variance" var.model 1 \
	"var\\.model: tensor '$t': element 0 is -0\\.5: a running variance below 0"
t=$(poke m zero.model 'running_var' 0)
run mlde-eval -q -m zero.model --images w -o res one.jsonl
is "$status" 0 "negative running variance: a variance of 0 is still a variance"
rm -f out

# output that cannot be written: a full device written through, then a
# regular file whose write fails (the fault shim, tests/cli/faults.t for
# every call and every program)
for prog in $PROGS; do
	case $prog in
	mlde-weak) run mlde-weak -q -o /dev/full ev.zst ;;
	mlde-sample) run mlde-sample -q --weak weak.zst --pool pool.zst --budget 2 -o /dev/full ev.zst ;;
	mlde-gen) run mlde-gen -q --backend world -o /dev/full plan.zst ;;
	mlde-train) run mlde-train -q -o /dev/full --images w --epochs 1 one.jsonl ;;
	mlde-eval) run mlde-eval -q -m m --images w -o /dev/full one.jsonl ;;
	esac
	is "$status" 3 "output cannot be written: $prog: status 3"
	like err "^$prog: /dev/full: .*No space left on device" "output cannot be written: $prog: the message"
done
run mlde-world -q --seed 1 --out /dev/full/w --images 2 --base 2 --val 2 --test 2
is "$status" 3 "output cannot be written: mlde-world: status 3"
like err '^mlde-world: /dev/full/w' "output cannot be written: mlde-world: the message"

SHIM=${MLDE_TESTBIN:-}/fault-shim.so
if [ -n "${MLDE_TESTBIN:-}" ] && [ -f "$SHIM" ]; then
	for prog in $PROGS; do
		rm -f res res.tmp
		case $prog in
		mlde-weak) set -- mlde-weak -q -o res ev.zst ;;
		mlde-sample) set -- mlde-sample -q --weak weak.zst --pool pool.zst --budget 2 -o res ev.zst ;;
		mlde-gen) set -- mlde-gen -q --backend world -o res plan.zst ;;
		mlde-train) set -- mlde-train -q -o res --images w --epochs 1 one.jsonl ;;
		mlde-eval) set -- mlde-eval -q -m m --images w -o res one.jsonl ;;
		esac
		# a sanitized program wants its runtime first; the shim only forwards
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
			MLDE_FAULT=write:1:ENOSPC MLDE_FAULT_PATH=res.tmp LD_PRELOAD=$SHIM run "$@"
		is "$status" 3 "output cannot be written: $prog -o FILE: status 3"
		like err "^$prog: res\\.tmp: .*No space left on device" \
			"output cannot be written: $prog -o FILE: the message names the file"
		nothing_left "output cannot be written: $prog -o FILE"
	done
else
	skip "output cannot be written: -o FILE through the fault shim" "no MLDE_TESTBIN/fault-shim.so"
fi

# the rows of the table in mlde(7), each a test of this file, and the
# other way round
awk '/^\.TS/ { t = 1 } /^\.TE/ { t = 0 }
	t && /^(_|T}@[0-9]+)$/ { row = 1; next }
	t && row && /^T\{$/ { getline; print; row = 0 }' "$TESTS_DIR/../man/mlde.7" > rows
is "$(wc -l < rows | tr -d ' ')" 18 "the table of mlde(7) has its 18 rows"
while IFS= read -r row; do
	holds "$row: a row of mlde(7) with its tests here" grep -Fq "\"$row" "$TESTS_DIR/cli/bad-input.t"
done < rows
sed -n 's/^[[:space:]]*[a-z_]* *"\([^":$\\]*\): .*/\1/p' "$TESTS_DIR/cli/bad-input.t" |
	sort -u > named
holds "every test here is named after a row of the table" sh -c 'sort -u rows | comm -13 - named | grep -q . && exit 1 || exit 0'

done_testing
