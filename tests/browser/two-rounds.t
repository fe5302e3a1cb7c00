#!/bin/sh
# The walkthrough of examples/ipo-two-rounds.sh, done as a person would do
# it: the prompt generates faulty items (the world backend's fault mode),
# each round's items are reviewed on the served page in headless Chromium
# (tests/browser/two-rounds.js presses y, or n and types what is wrong, as
# the world reviewer, which knows the true answers, says), refined by the
# stand-in LLM and accepted, twice; then score and log.  Checked: the
# records are the verdicts given on the page, the page showed each item
# whole, versions default.v1 and default.v2 exist with their changelogs,
# nothing was overwritten, and score gives one row per version.  Needs
# chromium and puppeteer-core (make browser-deps), as review.t; skipped
# without them.  SHOTS=DIR keeps the screenshot of each round's page there,
# and the walkthrough's output (walkthrough.out).
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export NODE_PATH=${MLDE_NODE_PATH:-$ROOT/build/browser/node_modules}
trap 'rm -rf "$SCRATCH"' EXIT

if [ ! -x "$CHROMIUM" ] || ! command -v node > /dev/null 2>&1 ||
	! node -e 'require("puppeteer-core")' 2> /dev/null; then
	skip "two rounds of review and refinement in headless Chromium" "no chromium, node or puppeteer-core (make browser-deps)"
	done_testing
	exit 0
fi
export CHROMIUM
SHOTS=${SHOTS:-$SCRATCH/shots}
mkdir -p "$SHOTS"

# the person: verdicts as the world reviewer gives them, its reasons in words
cat > person.sh <<SH
#!/bin/sh
# person.sh URL ROUND (in the walkthrough's directory)
jq -r .id "items-\$2.jsonl" > "ids-\$2"
jq -s --rawfile ids "ids-\$2" '(\$ids | split("\n")) as \$mine |
	{"wrong-answer": "the marked answer is wrong", "absent-object": "asks about something not in the picture",
	 "other-type": "not the type asked for", "coordinates": "coordinates in the text",
	 "duplicate-options": "two options are the same"} as \$words |
	map(select(.item | IN(\$mine[])) | {key: .item, value: {verdict: (if .verdict == "cannot-judge" then "skip" else .verdict end),
		reason: (if .reason then (\$words[.reason] // .reason) else null end)}}) | from_entries' \
	world-reviews.jsonl > "answers-\$2.json"
exec node "$TESTS_DIR/browser/two-rounds.js" "\$1" "answers-\$2.json" "$SHOTS/round\$2.png" "seen-\$2.json"
SH
chmod +x person.sh
MLDE_BIN=$(dirname "$(command -v mlde-prompt)")
export MLDE_BIN

run env ACCEPT=yes REVIEWER=pat REVIEW_DRIVER="$SCRATCH/person.sh" sh "$ROOT/examples/ipo-two-rounds.sh" ipo
is "$status" 0 "the walkthrough: two rounds, status 0"
[ "$status" -eq 0 ] || diag "$(tail -5 err)"
cp out walk.out
cp out "$SHOTS/walkthrough.out"

# the page, round by round
for r in 1 2 3; do
	is "$(jq '.items | length' "ipo/seen-$r.json")" "$(wc -l < "ipo/items-$r.jsonl" | tr -d ' ')" "round $r: the page showed every item"
	is "$(jq -c '[.items[] | [.id, .question, .options, .marked, .type]]' "ipo/seen-$r.json")" \
		"$(jq -sc 'map([.id, .question, .options, .options[.answer], .type])' "ipo/items-$r.jsonl")" \
		"  with its question, options, the marked answer, the type asked for"
	is "$(jq -c '[.items[] | .rationale]' "ipo/seen-$r.json")" "$(jq -sc 'map(.rationale // "(none)")' "ipo/items-$r.jsonl")" \
		"  its rationale"
	is "$(jq -r '[.items[] | select(.image.width == 0)] | length' "ipo/seen-$r.json")" 0 "  and its image, loaded"
	is "$(jq -r '.pageerror // "none"' "ipo/seen-$r.json")" none "  no script error"
	is "$(jq -r '.requests | map(select(startswith("http://127.0.0.1:") | not)) | length' "ipo/seen-$r.json")" 0 \
		"  nothing asked of another server"
	is "$(od -An -tx1 -N4 "$SHOTS/round$r.png" | tr -d ' ')" 89504e47 "  its screenshot is a PNG"
done
is "$(jq -r '[.items[].version] | unique | join(" ")' ipo/seen-1.json) $(jq -r '[.items[].version] | unique | join(" ")' ipo/seen-2.json) $(jq -r '[.items[].version] | unique | join(" ")' ipo/seen-3.json)" \
	"default default.v1 default.v2" "the page names the version of each round"

# the records: one per item, the verdict given on the page
is "$(wc -l < ipo/reviews.jsonl | tr -d ' ')" "$(cat ipo/items-1.jsonl ipo/items-2.jsonl ipo/items-3.jsonl | wc -l | tr -d ' ')" \
	"one review record per item of the three rounds"
jq -s 'add' ipo/answers-1.json ipo/answers-2.json ipo/answers-3.json > answers.json
is "$(jq -r '[.item, .verdict, .reason // "-"] | @tsv' ipo/reviews.jsonl | sort)" \
	"$(jq -r 'to_entries[] | [.key, .value.verdict, .value.reason // "-"] | @tsv' answers.json | sort)" \
	"  each the verdict and the typed reason given for the item"
is "$(jq -r '.reviewer' ipo/reviews.jsonl | sort -u)" pat "  by the reviewer"
is "$(jq -r '.prompt_version' ipo/reviews.jsonl | uniq | tr '\n' ' ')" "default default.v1 default.v2 " \
	"  naming the version that made the item"
holds "some items were judged wrong each round" test "$(jq -r 'select(.verdict == "wrong") | .prompt_version' ipo/reviews.jsonl | sort -u | wc -l)" -eq 3

# the versions: two new ones, with their changelogs; nothing overwritten
is "$(cd ipo/prompts && ls default* | tr '\n' ' ')" \
	"default.lineage.jsonl default.txt default.v1.diff default.v1.txt default.v2.diff default.v2.txt " \
	"refine wrote default.v1 and default.v2, each with its diff, and the lineage"
same ipo/prompts/default.txt "$ROOT/prompts/default.txt" "  the first version is untouched"
is "$(jq -r '[.version, .parent] | join("<")' ipo/prompts/default.lineage.jsonl | tr '\n' ' ')" \
	"default.v1<default default.v2<default.v1 " "  the lineage: v1 from default, v2 from v1"
is "$(jq -r 'select(.changes | type == "string" and startswith("- rule ")) | .version' ipo/prompts/default.lineage.jsonl | tr '\n' ' ')" \
	"default.v1 default.v2 " "  each with its changelog entry"
for v in v1 v2; do
	is "$(jq -r "select(.version == \"default.$v\") | .sha256" ipo/prompts/default.lineage.jsonl)" \
		"$(sha256sum "ipo/prompts/default.$v.txt" | cut -d' ' -f1)" "  default.$v is the file it recorded"
done
is "$(diff ipo/prompts/default.txt ipo/prompts/default.v1.txt | grep -c '^>')" 1 "  v1 adds one rule to default"
is "$(diff ipo/prompts/default.v1.txt ipo/prompts/default.v2.txt | grep -c '^>')" 1 "  v2 one more to v1"
is "$(jq -r .provenance.prompt ipo/items-2.jsonl | sort -u)" default.v1 "round 2 generated with default.v1"
is "$(jq -r .provenance.prompt_sha256 ipo/items-3.jsonl | sort -u)" "$(cat ipo/prompts/default.v2.txt ipo/prompts/types.json | sha256sum | cut -d' ' -f1)" \
	"round 3 with default.v2, by its sha256 (of the template, then the types)"

# score and log: a row per version, with its interval
like walk.out "^default	all	[0-9]+	[0-9]+	[0-9]+	0\.[0-9]{4}	0\.[0-9]{4}	[01]\.[0-9]{4}	" "score: a row for default"
like walk.out "^default\.v1	all	[0-9]+	[0-9]+	[0-9]+	0\.[0-9]{4}	0\.[0-9]{4}	[01]\.[0-9]{4}	default	" "  one for default.v1, set against default"
like walk.out "^default\.v2	all	[0-9]+	[0-9]+	[0-9]+	0\.[0-9]{4}	0\.[0-9]{4}	[01]\.[0-9]{4}	default\.v1	" "  one for default.v2, against default.v1"
run mlde-prompt score -q --tsv --reviewer pat ipo/reviews.jsonl
is "$(awk -F '\t' '$2 == "all"' out | wc -l | tr -d ' ')" 3 "score: one overall row per version"
for v in default default.v1 default.v2; do
	k=$(jq -r --arg v "$v" 'select(.prompt_version == $v and .verdict == "correct") | .item' ipo/reviews.jsonl | wc -l | tr -d ' ')
	n=$(jq -r --arg v "$v" 'select(.prompt_version == $v and (.verdict == "correct" or .verdict == "wrong")) | .item' ipo/reviews.jsonl | wc -l | tr -d ' ')
	is "$(awk -F '\t' -v v="$v" '$1 == v && $2 == "all" { print $3, $4 }' out)" "$n $k" "  $v: the reviewed and the correct counted"
done
like walk.out "^default\.v1	default	20[0-9-]+T[0-9:]+Z	.*	0\.[0-9]{4} \[0\.[0-9]{4}, [01]\.[0-9]{4}\] of [0-9]+$" \
	"log: default.v1, its parent, date, reasons, correctness with its interval"
like walk.out "^default\.v2	default\.v1	" "log: default.v2 from default.v1"

# run again: everything is made, nothing is asked, nothing added
run env ACCEPT=yes REVIEWER=pat REVIEW_DRIVER="$SCRATCH/person.sh" sh "$ROOT/examples/ipo-two-rounds.sh" ipo
is "$status" 0 "the walkthrough again: status 0"
is "$(wc -l < ipo/reviews.jsonl | tr -d ' '):$(wc -l < ipo/prompts/default.lineage.jsonl | tr -d ' ')" \
	"$(cat ipo/items-1.jsonl ipo/items-2.jsonl ipo/items-3.jsonl | wc -l | tr -d ' '):2" \
	"  goes on where it stopped: no new verdict, no new version"

done_testing
