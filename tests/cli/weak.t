#!/bin/sh
# mlde-weak from the command line: figures computed by hand, every option,
# every bad input.
. "$(dirname "$0")/../lib.sh"

# rec TYPE CORRECT [PRED]
rec() {
	printf '{"id":"x","type":"%s","correct":%s,"pred":%s}\n' "$1" "$2" "${3:-0}"
}

# a: 2 of 3 right (one unanswered); b: 0 of 5; c: 5 of 5; d: 8 of 10
{
	rec a true; rec a false null; rec a true
	for i in 1 2 3 4 5; do rec b false 1; done
	for i in 1 2 3 4 5; do rec c true; done
	for i in 1 2 3 4 5 6 7 8; do rec d true; done
	rec d false; rec d false 2
} > eval.jsonl
zstd -q eval.jsonl -o eval.jsonl.zst

# field TYPE KEY: one field of one weakness record, rounded to 4 places
field() {
	jq -r --arg t "$1" --arg k "$2" \
		'select(.type == $t) | .[$k] | if type == "number" then (. * 10000 | round / 10000) else . end' \
		< records
}

# the records of the last run's stdout, zstd or plain
records() { zstd -dcf out > records 2>/dev/null || : > records; }

run mlde-weak eval.jsonl.zst
records
is "$status" 0 "zstd eval records in: status 0"
is "$(jq -r .type records | tr '\n' ' ')" "a b c d " "one record per type, sorted"
records
# Wilson 95% bounds, worked by hand with z = 1.959964:
#   2/3: center (p + z²/2n)/(1 + z²/n) = 0.5731, half-width 0.3654
#   0/5: [0, z²/(n + z²)] = [0, 0.4345]; 5/5: [n/(n + z²), 1] = [0.5655, 1]
#   8/10: [0.4902, 0.9433]
is "$(field a n) $(field a correct) $(field a acc)" "3 2 0.6667" "mixed: n, correct, acc"
is "$(field a lo) $(field a hi)" "0.2077 0.9385" "mixed: Wilson bounds"
is "$(field a unanswered)" "1" "pred null counts as unanswered"
is "$(field b lo) $(field b hi) $(field b acc)" "0 0.4345 0" "all wrong: [0, z²/(n+z²)]"
is "$(field c lo) $(field c hi) $(field c acc)" "0.5655 1 1" "all correct: [n/(n+z²), 1]"
is "$(field d lo) $(field d hi)" "0.4902 0.9433" "8 of 10: textbook bounds"
is "$(field a weight) $(field b weight) $(field c weight)" "0.3333 1 0" "default weight is 1 - acc"
is "$(jq -r 'has("sparse")' records | sort -u)" "false" "no type is sparse by default"
like err "^mlde-weak: 23 records, 4 groups, accuracy 0.6522, 1 unanswered$" "summary on stderr"

run mlde-weak --type e --type a eval.jsonl
records
is "$status" 0 "--type: status 0"
jq -c 'select(.type == "e")' records > e.json
is "$(cat e.json)" '{"type":"e","n":0,"correct":0,"acc":null,"lo":0,"hi":1,"weight":0.38333333333333336,"unanswered":0,"sparse":true}' \
	"n = 0: acc null, Wilson [0, 1], sparse, mean weight of the others ((1/3 + 1 + 0 + 0.2) / 4)"
is "$(jq -r .type records | tr '\n' ' ')" "a b c d e " "--type of a present type adds nothing"

run mlde-weak --weight wilson-upper eval.jsonl
records
is "$(field a weight) $(field c weight)" "0.7923 0.4345" "--weight wilson-upper is 1 - lo"
run mlde-weak --weight uniform eval.jsonl
records
is "$(jq -r .weight records | sort -u)" "1" "--weight uniform is 1 for all"
run mlde-weak --weight bogus eval.jsonl
records
is "$status" 2 "--weight bogus: usage status"
like err "--weight: 'bogus' is not one of" "--weight bogus: says what is allowed"

run mlde-weak --min-n 5 eval.jsonl
records
is "$(jq -c 'select(.sparse) | [.type, .n]' records)" '["a",3]' "--min-n 5: only a is sparse"
is "$(field a weight)" "0.4" "--min-n: the sparse type gets the mean of the others ((1 + 0 + 0.2) / 3)"
run mlde-weak --min-n 0 --type foo eval.jsonl
records
is "$status" 0 "--min-n 0 --type foo: status 0"
is "$(jq -c 'select(.type == "foo") | [.n, .weight, .sparse]' records)" '[0,0.38333333333333336,true]' \
	"--min-n 0: a type with no records is still sparse, with the mean weight (not null)"
is "$(jq -r 'select(.type != "foo") | has("sparse")' records | sort -u)" "false" \
	"--min-n 0: no type with records is sparse"
run mlde-weak --min-n 0 --type foo --weight wilson-upper eval.jsonl
records
is "$(jq -c 'select(.type == "foo") | [.weight, .sparse]' records)" '[0.6841650981111213,true]' \
	"--min-n 0 --weight wilson-upper: no records, the mean weight too ((0.7923 + 1 + 0.4345 + 0.5098) / 4), not 1 - lo = 1"
run mlde-weak --min-n -1 eval.jsonl
records
is "$status" 2 "--min-n -1: usage status"
run mlde-weak --min-n 3x eval.jsonl
records
like err "--min-n: '3x' is not an integer" "--min-n 3x: names the bad value"

sed 's/"type"/"source"/' eval.jsonl > by.jsonl
run mlde-weak --by source by.jsonl
records
is "$(jq -r '"\(.source) \(.n)"' records | tr '\n' ' ')" "a 3 b 5 c 5 d 10 " "--by FIELD groups and names the key FIELD"
run mlde-weak by.jsonl
records
is "$status" 1 "grouping field missing: bad-input status"
like err "^mlde-weak: by.jsonl:1: field 'type': missing$" "grouping field missing: FILE:LINE and field"

run mlde-weak --tsv eval.jsonl.zst
records
is "$status" 0 "--tsv: status 0"
is "$(head -1 out)" "$(printf 'type\tn\tcorrect\tacc\tlo\thi\tweight\tunanswered\tsparse')" "--tsv: header line"
is "$(sed -n 2p out)" "$(printf 'a\t3\t2\t0.6667\t0.2077\t0.9385\t0.3333\t1\t0')" "--tsv: a row"
is "$(wc -l < out | tr -d ' ')" "5" "--tsv: header and one row per type"
run mlde-weak --tsv --type zz eval.jsonl
records
is "$(tail -1 out | cut -f1,4,5,6,9)" "$(printf 'zz\tNA\t0.0000\t1.0000\t1')" "--tsv: n = 0 shows acc NA"

# output forms: zstd by default off a terminal, -Z plain, -o atomic, levels
run mlde-weak eval.jsonl
records
is "$(od -An -tx1 -N4 out | tr -d ' ')" "28b52ffd" "stdout is zstd when not a terminal"
run mlde-weak -Z eval.jsonl
records
is "$(head -c1 out)" "{" "-Z writes plain JSON Lines"
run mlde-weak --plain eval.jsonl
records
is "$(head -c1 out)" "{" "--plain writes plain JSON Lines"
run mlde-weak -o w.zst eval.jsonl
records
is "$status$(cat out)" "0" "-o FILE: nothing on stdout"
is "$(zstdcat w.zst | jq -r .type | tr -d '\n')" "abcd" "-o FILE: written, zstd"
is "$(ls w.zst.tmp 2>/dev/null || echo none)" "none" "-o FILE: no FILE.tmp left"
mlde-weak -q -19 eval.jsonl > l19 && mlde-weak -q -1 eval.jsonl > l1
is "$(zstdcat l19 | md5sum)" "$(zstdcat l1 | md5sum)" "-19 and -1 hold the same records"
run mlde-weak -20 eval.jsonl
records
is "$status" 2 "-20: usage status"
like err "bad compression level '-20'" "-20: named"
run mlde-weak --level 20 eval.jsonl
records
is "$status" 2 "--level 20: usage status"

run mlde-weak -v eval.jsonl eval.jsonl.zst
like err "^mlde-weak: eval.jsonl: 23 records, 23 lines, [0-9]+ bytes of plain JSON$" "-v: a note per plain input"
like err "^mlde-weak: eval.jsonl.zst: 23 records, 23 lines, [0-9]+ bytes of zstd JSON$" "-v: a note per zstd input"
run mlde-weak -q eval.jsonl
records
is "$(cat err)" "" "-q: nothing on stderr"
run mlde-weak -q --skip-bad by.jsonl
records
is "$(cat err)" "" "-q: no skip messages either"

# bad input: named FILE:LINE and field, status 1, no output that looks done
printf '%s\n' '{"type":"a","correct":true}' '{"type":3,"correct":true}' > t-num.jsonl
printf '%s\n' '{"type":"a","correct":true}' '{"type":"a"}' > c-missing.jsonl
printf '%s\n' '{"type":"a","correct":"yes"}' > c-string.jsonl
printf '%s\n' '{"type":"a","correct":true}' '{"type":"a",' > broken.jsonl
printf '%s\n' '["type","a"]' > array.jsonl
run mlde-weak t-num.jsonl
records
is "$status:$(cat err)" "1:mlde-weak: t-num.jsonl:2: field 'type': expected string, got number" "type a number"
run mlde-weak c-missing.jsonl
records
is "$status:$(cat err)" "1:mlde-weak: c-missing.jsonl:2: field 'correct': missing" "correct missing"
run mlde-weak c-string.jsonl
records
is "$status:$(cat err)" "1:mlde-weak: c-string.jsonl:1: field 'correct': expected boolean, got string" "correct a string"
run mlde-weak broken.jsonl
records
is "$status" 1 "invalid JSON: bad-input status"
like err "^mlde-weak: broken.jsonl:2: invalid JSON: " "invalid JSON: FILE:LINE"
run mlde-weak array.jsonl
records
like err "^mlde-weak: array.jsonl:1: expected a JSON object, got array$" "a non-object line"
run mlde-weak < broken.jsonl
records
like err "^mlde-weak: <stdin>:2: invalid JSON" "stdin is named <stdin>"
run mlde-weak -o never.zst eval.jsonl broken.jsonl
records
is "$status:$(ls never.zst never.zst.tmp 2>/dev/null | wc -l | tr -d ' ')" "1:0" "-o with bad input: neither FILE nor FILE.tmp"
# deep in the input (900 good records, then a bad one): the same message
# and status, and no output left that looks done
for i in $(seq 1 900); do printf '{"type":"t%d","correct":true}\n' $((i % 7)); done > late.jsonl
echo '{"type":"t1","correct":1}' >> late.jsonl
run mlde-weak -o late.zst late.jsonl
is "$status:$(cat err)" "1:mlde-weak: late.jsonl:901: field 'correct': expected boolean, got number" \
	"a bad record after 900 good ones: status 1, FILE:LINE"
holds "a bad record after 900 good ones: neither FILE nor FILE.tmp" test ! -e late.zst -a ! -e late.zst.tmp
run mlde-weak no-such.jsonl
records
is "$status:$(cat err)" "3:mlde-weak: no-such.jsonl: No such file or directory" "a missing file: I/O status"
head -c $(($(wc -c < eval.jsonl.zst) - 5)) eval.jsonl.zst > cut.zst
run mlde-weak cut.zst
records
is "$status:$(cat err)" "1:mlde-weak: cut.zst: truncated zstd stream (premature end)" "truncated zstd: bad-input status"
{ printf '{"type":"a","correct":true,"s":"'; head -c 67108864 /dev/zero | tr '\0' x; printf '"}\n'; } > long.jsonl
run mlde-weak long.jsonl
records
is "$status:$(cat err)" "1:mlde-weak: long.jsonl:1: line longer than 67108864 bytes" "a line over 64 MiB"
rm -f long.jsonl

cat t-num.jsonl c-missing.jsonl c-string.jsonl eval.jsonl > mixed.jsonl
run mlde-weak --skip-bad mixed.jsonl
records
is "$status" 0 "--skip-bad: status 0"
is "$(jq -s 'map(.n) | add' records)" "25" "--skip-bad: the 25 good records are all counted"
like err "skipped: mixed.jsonl:2: field 'type'" "--skip-bad: each bad record named"
like err "^mlde-weak: skipped 3 bad records$" "--skip-bad: the count"

# input forms: several files, stdin as -, CRLF, concatenated frames
cat eval.jsonl.zst eval.jsonl.zst > twice.zst
run mlde-weak twice.zst
records
is "$(jq -s 'map(.n) | add' records)" "46" "concatenated zstd frames are one stream"
run sh -c 'mlde-weak eval.jsonl - < eval.jsonl.zst'
records
is "$(jq -s 'map(.n) | add' records)" "46" "a file and - (stdin) together"
sed 's/$/\r/' eval.jsonl > crlf.jsonl
run mlde-weak -Z crlf.jsonl
records
mlde-weak -q -Z eval.jsonl > lf.out
same out lf.out "CRLF input gives the same result"
run sh -c ': | mlde-weak -Z'
records
is "$status:$(cat out)" "0:" "empty input: no records, status 0"
like err "no records" "empty input: said on stderr"

# a closed pipe ends quietly with status 0; a full disk fails loudly
for i in $(seq 1 2000); do printf '{"type":"t%d","correct":true}\n' "$i"; done > many.jsonl
run sh -c '{ mlde-weak -Z many.jsonl; echo "status $?" >&2; } | head -c 10 > /dev/null'
records
like err "^status 0$" "EPIPE (| head): status 0"
unlike err "Broken pipe" "EPIPE: no message"
if [ -w /dev/full ]; then
	run sh -c 'mlde-weak -Z many.jsonl > /dev/full'
	is "$status" 3 "/dev/full: I/O status"
	like err "write error: No space left on device" "/dev/full: says why"
else
	skip "/dev/full: I/O status" "no writable /dev/full"
	skip "/dev/full: says why" "no writable /dev/full"
fi

done_testing
