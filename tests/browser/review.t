#!/bin/sh
# The review page in a real browser: headless Chromium, driven through
# tests/browser/review.js by puppeteer-core, clicks and presses through a
# review of generated items; the review records mlde-prompt wrote are then
# checked, and a second session resumes at the first unreviewed item.
# Needs chromium (apt) and puppeteer-core (npm, into build/browser by
# `make browser-deps`, mk/deps.sh browser); skipped, and said so, when
# either is missing.
. "$(dirname "$0")/../lib.sh"
ROOT=$TESTS_DIR/..
PROMPTS=$ROOT/prompts
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export NODE_PATH=${MLDE_NODE_PATH:-$ROOT/build/browser/node_modules}
SERVE_PID=
trap '[ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

if [ ! -x "$CHROMIUM" ] || ! command -v node > /dev/null 2>&1 ||
	! node -e 'require("puppeteer-core")' 2> /dev/null; then
	skip "the review page in headless Chromium" "no chromium, node or puppeteer-core (make browser-deps)"
	done_testing
	exit 0
fi
export CHROMIUM

mlde-world -q --seed 5 --out w --images 40 --base 10 --val 30 --test 9
zstdcat w/val.jsonl.zst | jq -c '. + {pred: 0, model: "f", correct: false}' > eval.jsonl
mlde-weak -q eval.jsonl > weak.zst
mlde-sample -q --retrieval random --weak weak.zst --pool w/pool.jsonl.zst --budget 10 eval.jsonl > plans.zst
mlde-gen -q --backend world --prompt "$PROMPTS/default.txt" -Z plans.zst > items.jsonl
N=$(wc -l < items.jsonl | tr -d ' ')
jq -r .id items.jsonl > ids

# serve LOG: start the review server; sets URL and SERVE_PID
serve() {
	rm -f serve.err
	mlde-prompt review --images w --reviewer pat -o "$1" items.jsonl 2> serve.err &
	SERVE_PID=$!
	i=0
	while ! grep -q 'review page at' serve.err 2>/dev/null && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	URL=$(grep -o 'http://127.0.0.1:[0-9]*/' serve.err)
}

serve log.jsonl
run node "$TESTS_DIR/browser/review.js" "$URL" seen.json
is "$status" 0 "the browser went through the review"
[ "$status" -eq 0 ] || diag "$(cat err)"
st=0
wait "$SERVE_PID" || st=$?
SERVE_PID=
is "$st" 0 "q on the page ends the server, status 0"

is "$(jq -r .first.question seen.json)" "$(jq -r .question items.jsonl | head -1)" "the page shows the first item's question"
is "$(jq -r .first.marked seen.json)" "$(jq -r '.options[.answer]' items.jsonl | head -1)" "... the marked answer"
is "$(jq -c .first.options seen.json)" "$(jq -c .options items.jsonl | head -1)" "... every option"
is "$(jq -r .first.type seen.json):$(jq -r .first.version seen.json)" "$(jq -r .type items.jsonl | head -1):default" "... the type asked for and the prompt version"
is "$(jq -r '"\(.image.width)x\(.image.height) \(.image.src)"' seen.json)" "64x64 /image/0" "... and the image itself, loaded"
is "$(jq -c .reasonsAfterWrong seen.json)" '["two options are the same"]' "a typed reason is offered next time"
is "$(jq -r .back.current seen.json)" "skip" "going back shows the verdict given"
is "$(jq -r .changed.current seen.json)" "wrong: two options are the same" "a reason picked by its number"
is "$(jq -r '.requests | map(select(startswith("http://127.0.0.1:") | not)) | length' seen.json)" 0 \
	"the page asks nothing of any other server"
is "$(jq -r '.pageerror // "none"' seen.json)" none "no script error on the page"

is "$(wc -l < log.jsonl | tr -d ' ')" 5 "one record per verdict, five in all"
is "$(jq -r '[.item, .verdict, (.reason // "-")] | join(" ")' log.jsonl | tr '\n' ';')" \
	"$(sed -n 1p ids) correct -;$(sed -n 2p ids) wrong two options are the same;$(sed -n 3p ids) skip -;$(sed -n 3p ids) wrong two options are the same;$(sed -n 3p ids) correct -;" \
	"the records: y, n with its reason, s, then item 3 changed twice"
is "$(jq -r '.reviewer + " " + .prompt_version' log.jsonl | sort -u)" "pat default" "each names the reviewer and the prompt version"
run mlde-prompt score -Z log.jsonl
is "$(jq -r 'select(.type == "all") | "\(.n) \(.correct) \(.skipped)"' out)" "3 2 0" "the last verdict of each item counts"

# a second session resumes at the first unreviewed item
serve log.jsonl
like serve.err "\($N items, 3 reviewed\)" "a rerun counts the verdicts given"
curl -s "${URL}state" > state.json
is "$(jq -r .first_unreviewed state.json)" 3 "... and resumes at the first unreviewed item"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || :
SERVE_PID=
is "$(wc -l < log.jsonl | tr -d ' ')" 5 "killed while serving: nothing lost, nothing added"

done_testing
