#!/bin/sh
# Cost accounting and the dry run against the stub server: every reply's
# usage in the records (mlde-gen's items and rejects, mlde-eval's records
# and rotations, mlde-type's first item of each batch), the summaries' sums
# with the reply cache's apart, and --dry-run: its counts, estimates and
# prices, and not one connection.  The stub scripts each reply's usage with
# @usage=P,C,K@ and logs every connection it accepts (--conn-log).
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
PROMPTS=$TESTS_DIR/../prompts
KEY=sk-mlde-cost-test-5e1b7c3a9d
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

start_stub() { stub_as=$1; shift; stub_start "$stub_as" --conn-log "$stub_as.conn" "$@"; }  # tests/lib.sh
conns() { if [ -f "$1.conn" ]; then wc -l < "$1.conn" | tr -d ' '; else echo 0; fi; }
# col FILE NAME: the column NAME of the dry run's table, row by row
col() { awk -F'\t' -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1" | tr '\n' ' ' | sed 's/ $//'; }

# A price table where a token costs a dollar (input) or two (output), so the
# figures read as token counts.
printf '# test prices\nstub-model\t1000000\t500000\t2000000\t0.5\t2026-01-01\n' > prices.tsv

# ---- mlde-gen: usage in items and rejects, and the sums ----
printf '%s\n' 'plan {{ .id }} {{ .mark // "" }}' > t.txt
plan() { jq -nc --arg id "$1" --arg m "$2" '{id: $id, type: "x", query: {image: "x.png"}, mark: $m}'; }
skip_reply="@reply-b64=$(printf 'Skip' | base64 -w0)@"
{ plan p1 "@usage=100,10,1@"; plan p2 "@usage=200,20,2@"; plan p3 "@usage=300,30@ $skip_reply"; } > plans.jsonl
start_stub s
G() { OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --cache cache --base-url "$URL" --model stub-model --max-tokens 100 --prices prices.tsv "$@"; }

# the dry run first: nothing in the cache yet
G --dry-run -o never.jsonl plans.jsonl
is "$status" 0 "gen --dry-run: status 0"
is "$(conns s)" 0 "gen --dry-run: not one connection to the server"
holds "gen --dry-run: no output file" not test -e never.jsonl
is "$(head -1 out)" "$(printf 'program\tmodel\trequests\tin_cache\tto_send\tinput_tokens\toutput_tokens_max\toutput_tokens\thistory\tusd_max\tusd\tusd_batch\tprice')" \
	"gen --dry-run: the table's header"
# the input estimate (estimate.h's rule, pinned exactly by tests/unit/cost.t):
# within bounds here
is "$(col out requests):$(col out in_cache):$(col out to_send)" "3:0:3" "gen --dry-run: 3 requests, none cached"
is "$(col out output_tokens_max):$(col out output_tokens):$(col out history)" "300:300:0" \
	"gen --dry-run: output at most --max-tokens each; no history yet"
in=$(col out input_tokens)
holds "gen --dry-run: input tokens estimated ($in)" test "$in" -ge 50 -a "$in" -le 90
is "$(col out usd_max)" "$(awk -v i="$in" 'BEGIN { printf "%.4f", i + 300 * 2 }')" \
	"gen --dry-run: the cost at the price table: input + output at their prices"
is "$(col out usd_batch)" "$(awk -v i="$in" 'BEGIN { printf "%.4f", (i + 300 * 2) / 2 }')" \
	"gen --dry-run: the Batch API's half"
is "$(col out price)" "stub-model 2026-01-01" "gen --dry-run: the price row and its date"
like err "^mlde-gen: dry run: stub-model: 3 requests, 0 in the reply cache \(cost nothing\), 3 to send" \
	"gen --dry-run: the gist on stderr"

G --rejects rej.jsonl plans.jsonl
cp out items1.jsonl
is "$status" 0 "gen: status 0"
holds "the stub counts connections (the dry run's zero can fail)" test "$(conns s)" -ge 1
is "$(jq -c '[.provenance.plan, .provenance.usage]' out | tr '\n' ' ')" \
	'["p1",{"prompt_tokens":100,"completion_tokens":10,"cached_tokens":1}] ["p2",{"prompt_tokens":200,"completion_tokens":20,"cached_tokens":2}] ' \
	"gen: each item's provenance keeps its reply's usage, cached tokens included"
is "$(jq -c '[.plan, .reason, .usage]' rej.jsonl)" '["p3","skip",{"prompt_tokens":300,"completion_tokens":30}]' \
	"gen: a reject keeps its reply's usage (no cached tokens reported: none written)"
like err "; sent 3 \(0 retries, 0 throttled\), from cache 0; tokens 660 \(600 prompt, 60 completion, 3 cached prompt\)$" \
	"gen: the summary sums what was sent"

G --rejects rej2.jsonl plans.jsonl
same out items1.jsonl "gen from the cache: the same items, usage and all"
like err "; sent 0 \(0 retries, 0 throttled\), from cache 3; tokens 0 \(0 prompt, 0 completion, 0 cached prompt\); the reply cache saved 600 prompt, 60 completion$" \
	"gen from the cache: nothing paid now; what the cache saved, apart"

n=$(conns s)
G --dry-run plans.jsonl
is "$(conns s)" "$n" "gen --dry-run again: no connection"
is "$(col out requests):$(col out in_cache):$(col out to_send):$(col out input_tokens):$(col out usd)" "3:3:0:0:0.0000" \
	"gen --dry-run: requests in the cache cost nothing"

# new requests: their output from the cache's history (10, 20, 30: a mean of 20)
{ plan p4 "new"; plan p5 "new"; } > new.jsonl
G --dry-run new.jsonl
is "$(col out requests):$(col out in_cache):$(col out output_tokens_max):$(col out output_tokens):$(col out history)" "2:0:200:40:3" \
	"gen --dry-run: output tokens from the mean of the cache's replies of the model"
G --dry-run --model gpt-unknown new.jsonl
is "$(col out history):$(col out output_tokens):$(col out usd):$(col out price)" "0:200:0.0000:none" \
	"gen --dry-run: no history and no price for another model: the ceiling, at 0"
like err "no price for it: counted as 0" "... and the gist says so"

printf 'stub-model\t1\t-\tlots\t0.5\t2026-01-01\n' > bad-prices.tsv
G --dry-run --prices bad-prices.tsv plans.jsonl
is "$status:$(cat err)" "1:mlde-gen: bad-prices.tsv:1: output: 'lots' is not a price" "a bad price table: status 1, naming the line"
G --dry-run --prices nonexistent.tsv plans.jsonl
is "$status" 3 "a missing price table: status 3"

# the default table, from the tree
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --cache cache --base-url "$URL" --model gpt-4o-2024-08-06 --dry-run plans.jsonl
like out "	gpt-4o 20[0-9-]+$" "the default table: a dated model name takes its family's row"

# the world backend writes no usage: its items as before
mlde-world -q --seed 5 --out w --images 40 --base 10 --val 30 --test 5
zstdcat w/val.jsonl.zst | jq -c '. + {pred: ((.answer + 1) % (.options | length)), model: "fake", correct: false}' > weval.jsonl
mlde-weak -q weval.jsonl > weak.zst
mlde-sample -q --retrieval random --weak weak.zst --pool w/pool.jsonl.zst --budget 6 weval.jsonl > wplans.zst
run mlde-gen -Z --backend world --prompt "$PROMPTS/default.txt" wplans.zst
is "$status:$(jq -c '.provenance | has("usage")' out | sort -u)" "0:false" "world backend: no usage in the provenance"
unlike err "tokens" "world backend: no tokens in the summary"

# ---- mlde-eval: every rotation's usage, the record's sum ----
png 4 4 a.png
start_stub v --vision --reply "(B) blue"
ev() {
	jq -nc --arg id "$1" --arg h "$2" '{id: $id, image: "a.png", hint: $h, question: "What colour?", options: ["red", "blue", "green"], answer: 1, type: "colour"}'
}
{ ev e1 "@usage=50,1,5@"; ev e2 "@usage=70,2@"; } > items.jsonl
E() { OPENAI_API_KEY=$KEY run mlde-eval --backend http -m stub-model --base-url "$URL" --cache ecache -Z --prices prices.tsv "$@"; }
E --circular --dry-run items.jsonl
is "$status:$(conns v)" "0:0" "eval --dry-run: status 0, no connection"
is "$(col out requests):$(col out in_cache):$(col out output_tokens_max)" "6:0:96" \
	"eval --dry-run --circular: a request per rotation, 16 tokens at most each"
in=$(col out input_tokens)
# a 4x4 image at detail auto (high): 85 + 170 for its one tile, each request
holds "eval --dry-run: input tokens count each image's tile ($in)" test "$in" -ge $((6 * 255)) -a "$in" -le $((6 * 330))
E --circular items.jsonl
is "$status" 0 "eval: status 0"
cp out eval1.jsonl
is "$(jq -c '[.id, .usage, [.circular[].usage.prompt_tokens]]' out | tr '\n' ' ')" \
	'["e1",{"prompt_tokens":150,"completion_tokens":3,"cached_tokens":15},[50,50,50]] ["e2",{"prompt_tokens":210,"completion_tokens":6},[70,70,70]] ' \
	"eval: the record's usage sums its rotations', each rotation keeps its own"
like err "tokens 369 \(360 prompt, 9 completion, 15 cached prompt\)" "eval: the summary sums them"
E --circular items.jsonl
like err "from cache 6; tokens 0 \(0 prompt, 0 completion, 0 cached prompt\); the reply cache saved 360 prompt, 9 completion" \
	"eval from the cache: nothing paid now"
E --circular --dry-run items.jsonl
is "$(col out in_cache):$(col out to_send):$(col out history)" "6:0:6" "eval --dry-run: all in the cache"

# embeddings: their usage too (a server of their own: the stub speaks chat)
cat > emb.pl <<'PL'
use strict; use warnings; use IO::Socket::INET;
my ($pf) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64, ReuseAddr => 1) or die "$!";
open(my $p, '>', "$pf.tmp") or die; print $p $s->sockport, "\n"; close $p; rename("$pf.tmp", $pf) or die;
while (my $c = $s->accept) {
	local $/ = "\r\n\r\n";
	my $h = <$c>;
	next unless defined $h;
	my ($n) = $h =~ /content-length:\s*(\d+)/i;
	my $body = '';
	while (length($body) < ($n // 0)) { read($c, my $buf, $n - length $body) or last; $body .= $buf }
	my $r = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-2]}],"model":"e",'
		. '"usage":{"prompt_tokens":85,"total_tokens":85}}';
	print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . length($r)
		. "\r\nConnection: close\r\n\r\n$r";
	close $c;
}
PL
perl emb.pl emb.port &
STUB_PIDS="$STUB_PIDS $!"
i=0
while [ ! -s emb.port ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo '{"image":"a.png","captions":["c"]}' > pool.jsonl
E --embed --embed-url "http://127.0.0.1:$(cat emb.port)/v1" --embed-model vlm2vec pool.jsonl
is "$status:$(jq -c '[.usage, .embedding_usage]' out)" \
	'0:[{"prompt_tokens":85,"completion_tokens":0},{"prompt_tokens":85,"completion_tokens":0,"model":"vlm2vec"}]' \
	"eval --embed: an embedding's usage, with its model"

# ---- mlde-type: a batch's usage once, on its first item ----
tq() { jq -nc --arg id "$1" --arg q "$2" '{id: $id, image: "x.png", question: $q, options: ["yes", "no"], answer: 0}'; }
treply() { printf '@reply-b64=%s@' "$(printf "$1" | base64 -w0)"; }
{
	tq t1 "Where? @usage=40,4@ $(treply '1\tspatial_relation\n2\tinstances_counting\n')"
	tq t2 "How many?"
	tq t3 "What? @usage=30,3@ $(treply '1\tspatial_relation\n')"
} > titems.jsonl
T() { OPENAI_API_KEY=$KEY run mlde-type --base-url "$URL" --cache tcache -Z --model stub-model --prices prices.tsv "$@"; }
start_stub t
T --batch 2 --dry-run titems.jsonl
is "$status:$(conns t):$(col out requests):$(col out output_tokens_max)" "0:0:2:2048" \
	"type --dry-run: a request per batch of 2, no connection"
T --batch 2 titems.jsonl
is "$(jq -c '[.id, .type_usage.prompt_tokens]' out | tr '\n' ' ')" '["t1",40] ["t2",null] ["t3",30] ' \
	"type: each batch's usage on its first item only, so sums count it once"
like err "; tokens 77 \(70 prompt, 7 completion, 0 cached prompt\)$" "type: the summary sums the batches"

# ---- mlde-prompt judge and refine: the dry run ----
P() { OPENAI_API_KEY=$KEY run mlde-prompt "$@" --base-url "$URL" --cache pcache --model stub-model --prices prices.tsv; }
jq -c '. + {provenance: {backend: "http", model: "m", prompt: "default", prompt_sha256: "x", request_sha256: "y", plan: .id}}' items.jsonl > gen-items.jsonl
start_stub j
P judge --dry-run -o judged.jsonl gen-items.jsonl
is "$status:$(conns j):$(col out requests):$(col out to_send)" "0:0:2:2" "prompt judge --dry-run: a request per item, no connection"
holds "prompt judge --dry-run: no review log made" not test -e judged.jsonl
P score --dry-run gen-items.jsonl
is "$status" 2 "--dry-run with score: a usage error"

# ---- the loop's report: RUN/cost.tsv from the records' usage ----
ROOT=$TESTS_DIR/..
mkdir -p R/iter0 R/iter1
zstd -q < eval1.jsonl > R/iter0/val.eval.jsonl.zst
cp R/iter0/val.eval.jsonl.zst R/iter0/test.eval.jsonl.zst
cp R/iter0/val.eval.jsonl.zst R/iter1/val.eval.jsonl.zst
cp R/iter0/val.eval.jsonl.zst R/iter1/test.eval.jsonl.zst
zstd -q < items1.jsonl > R/iter1/gen.jsonl.zst
zstd -q < rej.jsonl > R/iter1/rejects.jsonl.zst
RUN=R MLDE_BIN=$MLDE_BIN PRICES=prices.tsv run sh "$ROOT/mk/report.sh" 1
is "$status" 0 "report: status 0"
row() { awk -F '\t' -v i="$1" -v s="$2" '$1 == i && $2 == s { print $3 ":" $4 ":" $5 ":" $6 ":" $7 ":" $8 }' R/cost.tsv; }
# eval, each of val and test: prompt 150 + 210, cached 15, completion 3 + 6:
# (720 - 30) x 1 + 30 x 0.5 + 18 x 2 dollars for the two
is "$(row 0 eval)" "stub-model:4:720:30:18:741.0000" "report: iteration 0's evaluations, tokens and cost"
# gen: items 100 + 200 prompt (3 cached), 10 + 20 completion; the reject 300, 30
is "$(row 1 gen)" "stub-model:3:600:3:60:718.5000" "report: iteration 1's generation, its reject priced as its items"
is "$(row all all)" "-:-:2040:-:96:2200.5000" "report: the total"
like out "^  total +all +2040 in +96 out +\\$ *2200\.5000$" "report: the cost table on stdout"
RUN=R MLDE_BIN=$MLDE_BIN PRICES=/dev/null run sh "$ROOT/mk/report.sh" 1
is "$(row all all)" "-:-:2040:-:96:0.0000" "report: no price row, no cost"

# ---- make iterN DRY_RUN=1: the requests that can be known now ----
unset MAKEFLAGS MAKELEVEL MFLAGS
rm -rf D && mkdir -p D/iter1
zstd -q < plans.jsonl > D/iter1/plan.jsonl.zst
n=$(conns s) nt=$(conns t)
OPENAI_API_KEY=$KEY run make -s -C "$ROOT" iter1 DRY_RUN=1 RUN="$SCRATCH/D" BACKEND=http PRICES="$SCRATCH/prices.tsv" \
	GEN_FLAGS="--prompt $SCRATCH/t.txt --base-url $URL --model stub-model --max-tokens 100 --cache $SCRATCH/cache" \
	EVAL_BACKEND=http EVAL_FLAGS="--base-url $URL --cache $SCRATCH/ecache --circular" EMBED=none SERVED_PREFIX=stub-model \
	VAL_ITEMS="$SCRATCH/items.jsonl" TEST_ITEMS="$SCRATCH/items.jsonl" IMAGES="$SCRATCH"
is "$status" 0 "make iter1 DRY_RUN=1: status 0"
is "$(conns s):$(conns t)" "$n:$nt" "DRY_RUN: not one connection"
is "$(cd D && find . | sort | tr '\n' ' ')" ". ./iter1 ./iter1/plan.jsonl.zst " "DRY_RUN: no target made, no knobs"
is "$(awk -F '\t' '{ print $1 ":" $4 ":" $5 }' out | tr '\n' ' ')" \
	"step:requests:in_cache iter0 eval val:6:0 iter0 eval test:6:0 iter1 gen:3:0 iter1 eval val:6:0 iter1 eval test:6:0 all:27:0 " \
	"DRY_RUN: each step still to make (gen with the iteration's seed: not cached), and the sum"
touch D/iter1/gen.jsonl.zst
OPENAI_API_KEY=$KEY run make -s -C "$ROOT" iter1 DRY_RUN=1 RUN="$SCRATCH/D" BACKEND=http EMBED=none
like err "^dry run: iter1 gen: made already$" "DRY_RUN: a step made already is not counted"
rm -rf D2 && mkdir D2
OPENAI_API_KEY=$KEY run make -s -C "$ROOT" iter2 DRY_RUN=1 RUN="$SCRATCH/D2" BACKEND=http EMBED=none \
	GEN_FLAGS="--base-url $URL --cache $SCRATCH/cache"
like err "^dry run: iter2 gen: its input .*/iter2/plan.jsonl.zst is not made yet: not counted$" \
	"DRY_RUN: a step whose input is to come is named, not counted"

# ---- the key ----
holds "the key is in no output, cache or reject" not grep -rqF "$KEY" out err rej.jsonl rej2.jsonl items1.jsonl cache ecache tcache
holds "... not even a part of it" not grep -rqF "5e1b7c3a9d" out err rej.jsonl cache ecache tcache

done_testing
