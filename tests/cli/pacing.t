#!/bin/sh
# Pacing from the command line, against the stub server's limits: a limit
# the server states in x-ratelimit-* headers is kept without a single 429
# (the stub counts the 429s it had to give), for requests and for tokens;
# the same limit unstated is run into, and the 429s seen match the stub's;
# a server that refuses above a fixed concurrency sees its 429s fall as the
# concurrency adapts, and the run completes; --rpm still caps; the
# summary's "limited by:" line names what held the run back.  No timed
# assertions: counts and orders only.
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
KEY=sk-mlde-pacing-test-fake
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

# start_stub NAME [ARGS]: a stub logging to NAME.log, its 429 counts in
# NAME.stats when it stops; sets PORT, PID, BASE
start_stub() { stub_as=$1; shift; stub_start "$stub_as" --limit-stats "$stub_as.stats" "$@"; }  # tests/lib.sh
stop_stub() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
# stat NAME KEY: a count of the stub's --limit-stats
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1.stats"; }
# plans N: N plan records
plans() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":\"p%03d\",\"type\":\"x\",\"query\":{\"image\":\"x.png\"},\"examples\":[]}\n", i }'; }
# throttled: the client's count of 429s, from its summary
throttled() { sed -n 's/.*sent [0-9]* ([0-9]* retries, \([0-9]*\) throttled).*/\1/p' err; }
printf '%s\n' 'plan {{ .id }}' > t.txt
G() { OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --timeout 20 --retries 30 --backoff 0.02 "$@"; }

# ---- the stub's limits themselves ----
run perl "$STUB" --port-file x.port --log x.log --limit-headers maybe
is "$status" 255 "stub: --limit-headers takes on or off"

# ---- a request limit the server states: kept, not one 429 ----
plans 60 > p60.jsonl
start_stub rh --limit-rpm 20 --limit-window 1
G --cache c-rh --base-url "$BASE" -j 8 p60.jsonl
R=$PID
stop_stub "$R"
is "$status" 0 "20 requests a second stated in the headers, 60 requests, -j 8: status 0"
is "$(zstdcat out | wc -l | tr -d ' ')" 60 "... all 60 items"
is "$(stat rh admitted):$(stat rh limited-rpm)" "60:0" "... the stub admitted all 60 and gave not one 429"
is "$(throttled)" 0 "... and the client saw none"
like err "^mlde-gen: limited by: server x-ratelimit-requests \([0-9]+ waits, [0-9.]+ s\)" \
	"the summary: limited by the server's x-ratelimit-requests, first"
unlike err "$KEY" "the key in no message"

# ---- a token limit the server states ----
plans 40 > p40.jsonl
start_stub th --limit-rpm 100000 --limit-tpm 500 --limit-window 1
G --cache c-th --base-url "$BASE" -j 8 --max-tokens 20 p40.jsonl
stop_stub "$PID"
is "$status" 0 "500 tokens a second stated, 40 requests of about 40 tokens: status 0"
is "$(stat th admitted):$(stat th limited-tpm):$(stat th limited-rpm)" "40:0:0" "... not one 429"
like err "^mlde-gen: limited by: server x-ratelimit-tokens \(" "... limited by the server's tokens"

# ---- the same request limit unstated: run into, 429 by 429 ----
start_stub rn --limit-rpm 20 --limit-window 1 --limit-headers off
G --cache c-rn --base-url "$BASE" -j 8 p60.jsonl
stop_stub "$PID"
is "$status" 0 "the same limit without headers: status 0"
is "$(zstdcat out | wc -l | tr -d ' ')" 60 "... all 60 items, through retries"
n429=$(stat rn limited-rpm)
holds "... the stub had to give 429s ($n429)" test "$n429" -gt 0
is "$(throttled)" "$n429" "... each one seen by the client"
like err "^mlde-gen: limited by: .*429 Retry-After \(" "... limited by the 429s' Retry-After"

# ---- a server that refuses above 3 in service: the concurrency adapts ----
plans 160 > p160.jsonl
start_stub cc --limit-concurrency 3 --delay 0.05
G --cache c-cc --base-url "$BASE" -j 12 p160.jsonl
stop_stub "$PID"
is "$status" 0 "a server refusing above 3 in service, -j 12: status 0"
is "$(zstdcat out | wc -l | tr -d ' ')" 160 "... all 160 items"
is "$(stat cc admitted)" 160 "... each admitted once"
refused=$(stat cc limited-concurrency)
is "$(throttled)" "$refused" "... the client saw every 429 the stub gave ($refused)"
# the 429s among the first and the last quarter of what the stub was sent
total=$(wc -l < cc.log | tr -d ' ')
first=$(awk -v q=$((total / 4)) 'NR <= q && $4 == "limited-concurrency"' cc.log | wc -l | tr -d ' ')
last=$(awk -v q=$((total - total / 4)) 'NR > q && $4 == "limited-concurrency"' cc.log | wc -l | tr -d ' ')
holds "... the 429s fall: $first in the first quarter of the requests, $last in the last" \
	test "$first" -gt "$last"
holds "... fewer than one request in five refused ($refused of $total)" test $((refused * 5)) -lt "$total"
like err "^mlde-gen: limited by: .*adaptive concurrency \(" "... limited by the adaptive concurrency"
like err "concurrency cut [0-9]+ times? \([0-9]+ on 429s, [0-9]+ on latency\), to [0-9]+ at least, [0-9]+ at the end, of -j 12$" \
	"... its cuts told"

# ---- --rpm still caps, under a server limit far above it ----
plans 14 > p14.jsonl
plans 30 > p30.jsonl
start_stub rc --limit-rpm 100000 --limit-window 1
G --cache c-rc --base-url "$BASE" -j 8 --rpm 600 p30.jsonl
stop_stub "$PID"
is "$status" 0 "--rpm 600 under a server allowing far more: status 0"
like err "^mlde-gen: limited by: --rpm \([0-9]+ waits?, " "... limited by --rpm, first"
is "$(stat rc limited-rpm)" 0 "... not one 429"

# ---- no limit: the concurrency; nothing sent: no line; -q: no line ----
start_stub nl
G --cache c-nl --base-url "$BASE" -j 2 p14.jsonl
like err "^mlde-gen: limited by: (.*, )?-j 2 \(" "no limit, 14 requests, -j 2: limited by -j 2"
G --cache c-nl --base-url "$BASE" -j 2 p14.jsonl
is "$status" 0 "a rerun from the cache: status 0"
unlike err "limited by" "... sends nothing: no 'limited by' line"
G -q --cache c-nl2 --base-url "$BASE" -j 2 p14.jsonl
is "$(cat err)" "" "-q: no summary, no 'limited by' line"
# mlde-type's summary says it too
jq -nc '{id: "a1", image: "img/a1.png", question: "Where is the cat?", options: ["yes", "no"], answer: 0}' > items.jsonl
OPENAI_API_KEY=$KEY run mlde-type --base-url "$BASE" --cache c-ty -Z -j 3 items.jsonl
is "$status" 0 "mlde-type: status 0"
like err "^mlde-type: limited by: " "mlde-type's summary: a 'limited by' line"
stop_stub "$PID"

done_testing
