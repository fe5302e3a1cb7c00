#!/usr/bin/perl
# tests/stub-openai.pl - a stub OpenAI-compatible chat completions server for
# the tests and benchmarks of mlde-gen, in core Perl only.  One process, one
# IO::Select event loop, HTTP/1.1 keep-alive, every answer delayed by --delay.
#
# Behaviour is scripted by markers in the request body (the rendered prompt):
#   @fault=NAME@ or @fault=NAMExN@   the first N attempts (default 1; "always"
#                                    for every one) of this request get fault
#                                    NAME, later ones a normal answer:
#       429       429 with Retry-After (--retry-after seconds) and an error body
#       500, 503  that status with an error body
#       400, 401  that status (not retried by a client: a failure, or fatal)
#       slow      the answer comes after --slow seconds (past the client's timeout)
#       badjson   200 with a body that is not JSON
#       truncated 200 whose body stops short of its Content-Length
#       reset     the connection is reset (RST), nothing answered
#       nocontent 200 with a completion whose content is null
#       key       200 whose reply text holds the Authorization header's key
#       keyescaped  the same, the key written with JSON \u escapes
#       long400   400 whose error message holds the key across byte 200
#       long401   the same with 401
#       longraw   500 whose body is not JSON and holds the key across byte 120
#       http09    no status line: an HTTP/0.9 answer, then the connection closes
#       bigheader 200 with a 300 KB header (curl: out of memory)
#       dropreuse on a connection that has answered before, the request is
#                 read and the connection closed, nothing answered (a fresh
#                 connection gets a normal answer)
#       v1only    404 ({"detail":"Not Found"}) unless the path starts with /v1/
#   @reply-b64=BASE64@   the reply text is this (decoded), else a valid question
# --hold-after N: after N answers, hold every request unanswered (for kill tests).
# --port N: listen on N (default: any free port), to stand in for a stopped stub.
#
# It records one line per request in --log:
#   T SHA ATTEMPT ACTION auth=yes|no key_in_body=0|1 path=PATH
# (SHA: sha256 of the body, ACTION: what it did), with --vision followed by
#   image_sha=SHA[,SHA...]
# (the first 16 hex digits of the sha256 of each image's decoded bytes, in
# request order: compare with `sha256sum FILE`), and the Authorization header
# values in --auth-log.  On SIGTERM it appends "cpu USER SYS" to --log.
#
# For vision requests (mlde-eval --backend http; the checks are in
# tests/OpenAIChat.pm):
# --reply TEXT: the reply text when no @reply-b64@ names one (else the most
#   likely letter of a @logprobs=...@ marker, else mlde-gen's question).
# @logprobs=A:0.7,B:0.2,C:0.1@ in the body: when the request asks for them
#   ("logprobs": true), the choice carries log-probabilities in OpenAI's
#   format: choices[0].logprobs.content, one {token, logprob, bytes,
#   top_logprobs} per token of the reply; the first token that is a lone
#   letter of the marker (" B", "(B" -> "B") gets the marker's letters as its
#   top_logprobs (in the marker's order, at most the request's "top_logprobs";
#   write the most likely first, as OpenAI orders them), log(p) each (-9999
#   for p = 0, OpenAI's "very unlikely"); every other token gets logprob 0.
#   Not asked for: "logprobs": null.
# --save-bodies DIR: write each request's body to DIR/SHA.json (SHA as in the
#   log), for a benchmark to send the very same bodies with another client.
# --vision: every request must be a vision chat completion as OpenAI's API
#   takes it: a JSON object with a model and a messages array; roles system,
#   developer, user, assistant; content a string or an array of parts of type
#   "text" ({text}) or, in user messages, "image_url" ({image_url: {url,
#   detail?}}) whose url is a data:image/(png|jpeg|webp|gif);base64, URI whose
#   base64 decodes (strictly) to bytes of that type; at least one image; and
#   temperature, max_tokens, logprobs, top_logprobs (0..20, only with logprobs)
#   of the right types when present.  A request that is not gets a 400 with an
#   OpenAI-style error body ({"error": {message, type: invalid_request_error,
#   param: where, code}}) and the log line action "invalid".
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64);
use Getopt::Long;
use POSIX ();
use FindBin ();
use lib $FindBin::Bin;
use OpenAIChat qw(decode_request jtype check_vision error_body_for token_logprob);
use StubBatch ();  # /v1/files and /v1/batches: the Batch API, its options in StubBatch.pm

my %o = (delay => 0, 'retry-after' => 1, slow => 3, 'hold-after' => -1);
# ---- limits (tests/cli/pacing.t, tests/bench/bench-pacing.sh); the code is
# in its own section below ----
# --limit-rpm N, --limit-tpm N: at most N requests, N tokens (a body's
#   length / 4 plus its max_tokens, as mlde estimates them) per
#   --limit-window S seconds (default 60): token buckets that start full and
#   refill evenly, as OpenAI's do.  A request past one gets a 429 at once,
#   logged limited-rpm or limited-tpm, with retry-after-ms (and Retry-After)
#   saying when it would fit; it takes nothing from the buckets.
# --limit-headers on|off (default on): every answer under a rate limit (a
#   200 or its 429) carries OpenAI's x-ratelimit-limit-, -remaining- and
#   -reset-requests (and -tokens with --limit-tpm), the reset a Go duration
#   ("20ms", "1.5s", "1m0.5s"): the time until the bucket is full again.
# --limit-concurrency C: a request that comes while C others are in service
#   (their answers not yet sent) gets a 429 at once, logged
#   limited-concurrency, without Retry-After.
# --limit-stats FILE: written at exit, one "NAME COUNT" line each for
#   admitted, limited-rpm, limited-tpm, limited-concurrency: the 429s it
#   had to give.
Getopt::Long::Configure('pass_through');
GetOptions(\%o, 'limit-rpm=f', 'limit-tpm=f', 'limit-window=f', 'limit-headers=s',
	'limit-concurrency=i', 'limit-stats=s');
die "stub: --limit-headers on or off\n" if ($o{'limit-headers'} // 'on') !~ /^(on|off)$/;
# ---- end of limits ----
# the vision mode's options first, the others left for the call below
Getopt::Long::Configure('pass_through');
GetOptions(\%o, 'reply=s', 'vision', 'save-bodies=s');
# ---- usage and connections (tests/cli/cost.t) ----
# --conn-log F: one line per accepted connection, to assert that a dry run
#   connects not at all.
# @usage=P,C@ or @usage=P,C,K@ in the body: the reply's usage is P prompt
#   and C completion tokens (K of the prompt cached, in
#   prompt_tokens_details); @nousage@: no usage at all.  Else 100 and 20.
GetOptions(\%o, 'conn-log=s');
StubBatch::options();  # turns pass_through off: the last of the first pass
sub usage_json {
	my $body = $main::answering ? $main::answering->{body} : q();
	return '' if $body =~ /\@nousage\@/;
	my ($p, $c, $k) = $body =~ /\@usage=(\d+),(\d+)(?:,(\d+))?\@/ ? ($1, $2, $3) : (100, 20, undef);
	my $details = defined $k ? qq(,"prompt_tokens_details":{"cached_tokens":$k}) : '';
	return qq(,"usage":{"prompt_tokens":$p,"completion_tokens":$c,"total_tokens":@{[$p + $c]}$details});
}
sub count_connection {
	return unless defined $o{'conn-log'};
	open(my $fh, '>>', $o{'conn-log'}) or die "stub: $o{'conn-log'}: $!\n";
	print $fh time, "\n";
	close $fh;
}
# ---- end of usage and connections ----
Getopt::Long::Configure('no_pass_through');

GetOptions(\%o, 'port-file=s', 'log=s', 'auth-log=s', 'delay=f', 'retry-after=s',
	'slow=f', 'hold-after=i', 'port=i') or die "usage: $0 --port-file F --log F [options]\n";

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $o{port} // 0, Listen => 1024,
	ReuseAddr => 1, Blocking => 0) or die "stub: listen: $!\n";
open(my $log, '>>', $o{log} // '/dev/null') or die "stub: $o{log}: $!\n";
open(my $alog, '>>', $o{'auth-log'} // '/dev/null') or die "stub: auth log: $!\n";
$log->autoflush(1);
$alog->autoflush(1);
{
	# written whole, then renamed: whoever waits for it never reads half a port
	my $pf = $o{'port-file'} or die "stub: --port-file needed\n";
	open(my $fh, '>', "$pf.tmp") or die "stub: $pf: $!\n";
	print $fh $srv->sockport, "\n";
	close $fh;
	rename("$pf.tmp", $pf) or die "stub: $pf: $!\n";
}

my $sel_r = IO::Select->new($srv);
my $sel_w = IO::Select->new();
my (%in, %out, %busy);   # per connection: read buffer, write buffer, request pending
my %continued;           # per connection: "100 Continue" sent for the request coming in
our $answering;          # the request handle() is answering ({body, req}): completion()
                         # reads from it whether log-probabilities were asked for
my @timers;              # [due, fh, response, close_after]
my %attempts;            # body sha -> attempts seen
my $answered = 0;
my $running = 1;
$SIG{TERM} = $SIG{INT} = sub { $running = 0 };

sub error_body {
	my ($status, $msg, $type) = @_;
	return qq({"error": {"message": "$msg", "type": "$type", "param": null, "code": "$type"}});
}

sub completion {
	my ($text) = @_;
	# JSON-escape the reply text by hand: JSON::PP would do, but this is the hot path
	$text =~ s/(["\\])/\\$1/g;
	$text =~ s/\n/\\n/g;
	$text =~ s/\r/\\r/g;
	$text =~ s/\t/\\t/g;
	$text =~ s/([\x00-\x1f])/sprintf("\\u%04x", ord($1))/ge;
	return qq({"id":"chatcmpl-stub","object":"chat.completion","created":0,"model":"stub-model",)
		. qq("choices":[{"index":0,"message":{"role":"assistant","content":"$text"},)
		. qq("logprobs":) . logprobs_json($_[0]) . qq(,"finish_reason":"stop"}])
		. usage_json() . qq(});
}

sub response {
	my ($status, $body, @headers) = @_;
	my %reason = (200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized', 429 => 'Too Many Requests',
		500 => 'Internal Server Error', 503 => 'Service Unavailable');
	return "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\n"
		. "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n"
		. join('', map { "$_\r\n" } @headers) . "\r\n" . $body;
}

sub drop {
	my ($fh) = @_;
	$sel_r->remove($fh);
	$sel_w->remove($fh);
	delete $in{$fh};
	delete $out{$fh};
	delete $busy{$fh};
	@timers = grep { $_->[1] != $fh } @timers;
	close $fh;
}

sub reset_conn {
	my ($fh) = @_;
	setsockopt($fh, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
	drop($fh);
}

# A valid completion whose text ends with the key, every byte of it a \u escape.
sub completion_escaped {
	my ($key) = @_;
	my $esc = join('', map { sprintf('\\u%04x', ord $_) } split //, $key);
	my $body = completion("Question: Which shape is drawn?\nChoices: (A) a circle (B) a square\n"
		. "Answer: (B)\nExplanation: echo KEY");
	$body =~ s/echo KEY/echo $esc/;
	return $body;
}

# The answer of a fault of the HTTP layer's tests (a mangled reply, the key):
# (response, close after it), or undef when the connection is gone.
sub layer_fault {
	my ($fh, $action, $key) = @_;
	my $fill = 'x' x 175;  # the key lies across byte 200 of the message
	if ($action eq 'keyescaped') {
		return (response(200, completion_escaped($key)), 0);
	} elsif ($action eq 'long400' || $action eq 'long401') {
		my $status = substr($action, 4);
		return (response($status, error_body($status, "stub fault $status: $fill $key and more", 'invalid_request_error')), 0);
	} elsif ($action eq 'longraw') {
		return (response(500, 'Internal error: ' . ('y' x 96) . " $key and more"), 0);
	} elsif ($action eq 'http09') {
		return ("HELLO, this is no HTTP status line\r\n\r\n", 1);
	} elsif ($action eq 'bigheader') {
		my $r = response(200, completion('Question: cut short?'));
		$r =~ s/\r\n/\r\nX-Big: @{['z' x 300000]}\r\n/;
		return ($r, 0);
	} elsif ($action eq 'dropreuse') {
		drop($fh);
		return;
	}
	return (response(404, '{"detail":"Not Found"}'), 0);
}

# Decide what to do with one request; queue the answer.
sub handle {
	my ($fh, $path, $hdr, $body) = @_;
	my $sha = sha256_hex($body);
	my $n = ++$attempts{$sha};
	my $auth = $hdr->{authorization};
	my $key = defined $auth && $auth =~ /^Bearer (.+)$/ ? $1 : undef;
	my $key_in_body = defined $key && index($body, $key) >= 0 ? 1 : 0;
	my ($action, $fault, $times) = ('ok', undef, 1);
	my $delay = $o{delay};

	print $alog "$sha $auth\n" if defined $auth;
	local $answering = { body => $body };
	save_body($sha, $body) if defined $o{'save-bodies'};
	my $log_tail = '';
	return if vision_refused($fh, $sha, $n, $auth, $key_in_body, $path, \$log_tail);
	if ($body =~ /\@fault=([a-z0-9]+?)(?:x(\d+|always))?\@/) {
		($fault, $times) = ($1, $2 // 1);
		$times = 1e9 if $times eq 'always';
		$action = $fault if $n <= $times;
	}
	# faults that depend on the connection or the path
	my $reused = ${*$fh}{stub_served}++;
	$action = 'ok' if $action eq 'dropreuse' && !$reused;
	$action = 'ok' if $action eq 'v1only' && $path =~ m{^/v1/};
	$action = limit_admit($body) if $action eq 'ok' && limits_on();
	if ($o{'hold-after'} >= 0 && $answered >= $o{'hold-after'}) {
		printf $log "%.3f %s %d hold auth=%s key_in_body=%d path=%s%s\n", time, substr($sha, 0, 16),
			$n, defined $auth ? 'yes' : 'no', $key_in_body, $path, $log_tail;
		return;  # never answered; the connection stays busy until it closes
	}
	printf $log "%.3f %s %d %s auth=%s key_in_body=%d path=%s%s\n", time, substr($sha, 0, 16), $n,
		$action, defined $auth ? 'yes' : 'no', $key_in_body, $path, $log_tail;
	my ($resp, $close) = (undef, 0);
	if ($action eq 'ok' || $action eq 'slow' || $action eq 'key') {
		my $text;
		if ($body =~ /\@reply-b64=([A-Za-z0-9+\/=]*)\@/) {
			$text = decode_base64($1);
		} elsif (defined(my $default = default_reply($body))) {
			$text = $default;
		} else {
			my $tag = substr($sha, 0, 8);
			$text = "Question: Which shape is drawn in picture $tag?\n"
				. "Choices: (A) a circle (B) a square (C) a triangle (D) a cross\n"
				. "Answer: The answer is (B): a square.\n"
				. "Explanation: Looking at the picture, the only shape has four equal sides.";
		}
		$text .= "\nExplanation: echo $key" if $action eq 'key' && defined $key;
		$resp = response(200, completion($text), limit_headers());
		$delay = $o{slow} if $action eq 'slow';
		$answered++;
	} elsif ($action eq '429') {
		$resp = response(429, error_body(429, 'Rate limit reached for requests', 'requests'),
			"Retry-After: $o{'retry-after'}");
	} elsif ($action =~ /^limited-/) {
		($resp, $delay) = (limit_refusal($action), 0);
	} elsif ($action =~ /^(500|503|400|401)$/) {
		$resp = response($action, error_body($action, "stub fault $action", 'server_error'));
	} elsif ($action eq 'badjson') {
		$resp = response(200, '{"choices": [ this is not json');
	} elsif ($action eq 'nocontent') {
		$resp = response(200, '{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null}}]}');
	} elsif ($action eq 'truncated') {
		my $full = completion('Question: cut short?');
		$resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
			. length($full) . "\r\n\r\n" . substr($full, 0, 40);
		$close = 1;
	} elsif ($action eq 'reset') {
		reset_conn($fh);
		return;
	} elsif ($action =~ /^(keyescaped|long400|long401|longraw|http09|bigheader|dropreuse|v1only)$/) {
		($resp, $close) = layer_fault($fh, $action, $key // '');
		return unless defined $resp;
	} else {
		$resp = response(500, error_body(500, "unknown fault $action", 'server_error'));
	}
	push @timers, [time + $delay, $fh, $resp, $close];
}

# Parse what a connection has sent: one request at a time.
sub parse {
	my ($fh) = @_;
	return if $busy{$fh};
	my $buf = \$in{$fh};
	my $end = index($$buf, "\r\n\r\n");
	return if $end < 0;
	my @lines = split /\r\n/, substr($$buf, 0, $end);
	my ($method, $path) = split / /, shift @lines;
	my %hdr;
	for (@lines) {
		my ($k, $v) = split /:\s*/, $_, 2;
		$hdr{lc $k} = $v;
	}
	my $len = $hdr{'content-length'} // 0;
	if (length($$buf) < $end + 4 + $len) {
		# curl's command line waits a second for this before a body over 1 kB
		if (($hdr{expect} // '') =~ /100-continue/i && !$continued{$fh}++) {
			$out{$fh} .= "HTTP/1.1 100 Continue\r\n\r\n";
			send_out($fh);
		}
		return;
	}
	delete $continued{$fh};
	my $body = substr($$buf, $end + 4, $len);
	substr($$buf, 0, $end + 4 + $len) = '';
	$busy{$fh} = 1;
	if (defined(my $resp = StubBatch::route($method, $path, \%hdr, $body))) {
		push @timers, [time, $fh, $resp, 0];
		return;
	}
	handle($fh, $path, \%hdr, $body);
}

sub send_out {
	my ($fh) = @_;
	my $n = syswrite($fh, $out{$fh});
	if (!defined $n) {
		return if $!{EAGAIN};
		drop($fh);
		return;
	}
	substr($out{$fh}, 0, $n) = '';
	if (length $out{$fh}) {
		$sel_w->add($fh);
	} else {
		$sel_w->remove($fh);
	}
}

# ---- --reply, the @logprobs=...@ marker and --vision (the checks are in
# tests/OpenAIChat.pm): kept out of the fault dispatch in handle(), which
# other tests extend ----

# --vision: a request that is not a vision chat completion is answered 400
# here, before any scripted fault (a real server checks first); true when
# it was.  Sets the log line's image_sha tail.
sub vision_refused {
	my ($fh, $sha, $n, $auth, $key_in_body, $path, $tail) = @_;
	return 0 unless $o{vision};
	my $req = $answering->{req} = decode_request($answering->{body});
	my @images;
	my $why = check_vision($req, \@images);
	$$tail = ' image_sha=' . (@images ? join(',', map { $_->{sha} } @images) : '-');
	return 0 unless $why;
	printf $log "%.3f %s %d invalid auth=%s key_in_body=%d path=%s%s\n", time, substr($sha, 0, 16), $n,
		defined $auth ? 'yes' : 'no', $key_in_body, $path, $$tail;
	push @timers, [time + $o{delay}, $fh, response(400, error_body_for($why)), 0];
	return 1;
}

# --save-bodies DIR: each request body in DIR/SHA.json (SHA as logged), once
sub save_body {
	my ($sha, $body) = @_;
	my $file = "$o{'save-bodies'}/" . substr($sha, 0, 16) . '.json';
	return if -e $file;
	open(my $f, '>:raw', "$file.tmp") or die "stub: $file: $!\n";
	print $f $body;
	close $f or die "stub: $file: $!\n";
	rename("$file.tmp", $file) or die "stub: $file: $!\n";
}

# The @logprobs=A:0.7,B:0.2@ marker of a body: ([letter, p], ...), or ().
sub logprobs_marker {
	my ($body) = @_;
	return () unless $body =~ /\@logprobs=([A-Za-z]:[0-9.eE+-]+(?:,[A-Za-z]:[0-9.eE+-]+)*)\@/;
	return map { [split /:/, $_, 2] } split /,/, $1;
}

# The reply when the body names none: --reply, else the most likely letter
# of a logprobs marker, else undef (mlde-gen's question).
sub default_reply {
	my ($body) = @_;
	return $o{reply} if defined $o{reply};
	my @top = logprobs_marker($body);
	return undef unless @top;
	my $best = $top[0];
	$_->[1] > $best->[1] and $best = $_ for @top;
	return $best->[0];
}

# choices[0].logprobs for the reply text: null unless the body has a
# logprobs marker and the request asks for log-probabilities.
sub logprobs_json {
	my ($text) = @_;
	return 'null' unless $answering;
	my @top = logprobs_marker($answering->{body});
	return 'null' unless @top;
	my $req = $answering->{req} //= decode_request($answering->{body});
	return 'null' unless jtype($req) eq 'object' && jtype($req->{logprobs}) eq 'boolean' && $req->{logprobs};
	my $k = jtype($req->{top_logprobs}) eq 'number' ? $req->{top_logprobs} : 0;
	my %p = map { $_->[0] => $_->[1] } @top;
	my $chars = $text;
	utf8::decode($chars);  # tokens of characters when the reply is UTF-8
	my ($letter_seen, @content) = (0);
	for my $tok ($chars =~ /(\s*[[:alnum:]]+|\s*[^[:alnum:]\s]|\s+)/g) {
		if (!$letter_seen && $tok =~ /\A(\s*)([A-Za-z])\z/ && exists $p{$2}) {
			my $pre = $1;
			$letter_seen = 1;
			my @alts = map { token_logprob("$pre$_->[0]", $_->[1]) } @top[0 .. ($k < @top ? $k : @top) - 1];
			push @content, token_logprob($tok, $p{$2}, \@alts);
		} else {
			push @content, token_logprob($tok, 1, [$k > 0 ? token_logprob($tok, 1) : ()]);
		}
	}
	return '{"content":[' . join(',', @content) . '],"refusal":null}';
}

# ---- limits: --limit-rpm, --limit-tpm, --limit-concurrency (their options
# at the top) ----
my %limit_count = map { $_ => 0 } qw(admitted limited-rpm limited-tpm limited-concurrency);
my %bucket;  # requests, tokens -> {cap, rate, level, last}
my $limit_wait;  # seconds until the request refused last would have fitted

sub limits_on {
	return defined $o{'limit-rpm'} || defined $o{'limit-tpm'} || defined $o{'limit-concurrency'};
}

sub limit_bucket {
	my ($kind) = @_;
	my $n = $o{$kind eq 'requests' ? 'limit-rpm' : 'limit-tpm'};
	return undef unless defined $n;
	my $b = $bucket{$kind} //= { cap => $n, rate => $n / ($o{'limit-window'} // 60), level => $n, last => time };
	my $now = time;
	$b->{level} += ($now - $b->{last}) * $b->{rate};
	$b->{level} = $b->{cap} if $b->{level} > $b->{cap};
	$b->{last} = $now;
	return $b;
}

# A Go duration, as OpenAI writes its resets: whole ms under a second
# (rounded up), else h, m and s with up to three decimals.
sub go_duration {
	my ($s) = @_;
	return sprintf('%dms', POSIX::ceil($s * 1000 - 1e-9)) if $s < 1;
	my $h = int($s / 3600);
	$s -= 3600 * $h;
	my $m = int($s / 60);
	$s -= 60 * $m;
	my $sec = sprintf('%.3f', $s);
	$sec =~ s/0+$//;
	$sec =~ s/\.$//;
	return ($h ? "${h}h" : '') . ($h || $m ? "${m}m" : '') . "${sec}s";
}

# Admit the request (its action stays 'ok') or refuse it: limited-WHY.
sub limit_admit {
	my ($body) = @_;
	my $cost = int(length($body) / 4) + ($body =~ /"max_tokens"\s*:\s*(\d+)/ ? $1 : 0);
	if (defined $o{'limit-concurrency'}) {
		my $serving = grep { substr($_->[2], 9, 3) ne '429' } @timers;
		if ($serving >= $o{'limit-concurrency'}) {
			$limit_count{'limited-concurrency'}++;
			return 'limited-concurrency';
		}
	}
	my ($r, $t) = (limit_bucket('requests'), limit_bucket('tokens'));
	$cost = $t->{cap} if $t && $cost > $t->{cap};
	for ([$r, 1, 'limited-rpm'], [$t, $cost, 'limited-tpm']) {
		my ($b, $need, $why) = @$_;
		next unless $b && $b->{level} < $need;
		$limit_count{$why}++;
		$limit_wait = ($need - $b->{level}) / $b->{rate};
		return $why;
	}
	$r->{level}-- if $r;
	$t->{level} -= $cost if $t;
	$limit_count{admitted}++;
	return 'ok';
}

sub limit_headers {
	return () if ($o{'limit-headers'} // 'on') eq 'off';
	my @h;
	for my $kind (qw(requests tokens)) {
		my $b = limit_bucket($kind) or next;
		push @h, "x-ratelimit-limit-$kind: $b->{cap}",
			sprintf('x-ratelimit-remaining-%s: %d', $kind, $b->{level} < 0 ? 0 : $b->{level}),
			"x-ratelimit-reset-$kind: " . go_duration(($b->{cap} - $b->{level}) / $b->{rate});
	}
	return @h;
}

sub limit_refusal {
	my ($why) = @_;
	return response(429, error_body(429, 'Too many requests in flight', 'concurrency'))
		if $why eq 'limited-concurrency';
	my $ms = POSIX::ceil($limit_wait * 1000);
	return response(429, error_body(429, "Rate limit reached ($why)", 'rate_limit_exceeded'),
		"retry-after-ms: $ms", 'Retry-After: ' . POSIX::ceil($ms / 1000), limit_headers());
}

sub limit_write_stats {
	my $f = $o{'limit-stats'} // return;
	open(my $fh, '>', "$f.tmp") or die "stub: $f: $!\n";
	print $fh "$_ $limit_count{$_}\n" for sort keys %limit_count;
	close $fh or die "stub: $f: $!\n";
	rename("$f.tmp", $f) or die "stub: $f: $!\n";
}
# ---- end of limits ----

while ($running) {
	my $now = time;
	my $wait = 0.5;
	for my $t (@timers) {
		my $d = $t->[0] - $now;
		$wait = $d if $d < $wait;
	}
	$wait = 0 if $wait < 0;
	my ($r, $w) = IO::Select->select($sel_r, $sel_w, undef, $wait);
	for my $fh (@{ $r // [] }) {
		if ($fh == $srv) {
			while (my $c = $srv->accept) {
				count_connection();
				$c->blocking(0);
				setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
				$sel_r->add($c);
				$in{$c} = '';
				$out{$c} = '';
				delete $continued{$c};
			}
			next;
		}
		my $got = sysread($fh, my $chunk, 65536);
		if (!defined $got) {
			next if $!{EAGAIN};
			drop($fh);
			next;
		}
		if ($got == 0) {
			drop($fh);
			next;
		}
		$in{$fh} .= $chunk;
		parse($fh);
	}
	for my $fh (@{ $w // [] }) {
		send_out($fh) if exists $out{$fh};
	}
	$now = time;
	my @due = grep { $_->[0] <= $now } @timers;
	@timers = grep { $_->[0] > $now } @timers;
	for my $t (@due) {
		my ($fh, $resp, $close) = @$t[1, 2, 3];
		next unless exists $out{$fh};
		$out{$fh} .= $resp;
		send_out($fh);
		next unless exists $out{$fh};
		if ($close) {
			drop($fh);
			next;
		}
		delete $busy{$fh};
		parse($fh);  # a request that came while this one waited
	}
}
limit_write_stats();
my ($user, $sys) = times;
printf $log "cpu %.3f %.3f\n", $user, $sys;
