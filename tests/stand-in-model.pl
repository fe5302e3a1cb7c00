#!/usr/bin/perl
# tests/stand-in-model.pl - a stand-in for a served vision model, in core
# Perl: an OpenAI-compatible chat completions server on 127.0.0.1 that
# answers each vision request with the builtin model's answer, found by
# running mlde-eval itself on the request's image, question and options.
# mlde-eval --backend http against it must then agree with mlde-eval -m on
# every item (tests/cli/eval-equiv.t).
#
#   perl tests/stand-in-model.pl --model MODEL --port-file F [--log F]
#        [--name NAME] [--bin DIR] [--wait SECONDS] [--max-batch N]
#
# Each request is checked as tests/stub-openai.pl --vision checks it (a 400
# with OpenAI's error body otherwise).  The last user message must hold one
# image and the text mlde-eval --backend http writes:
#   [HINT "\n"] QUESTION "\nA. " OPTION "\nB. " OPTION ... ["\n" INSTRUCTION]
# (the instruction: a last line starting "Answer with"); the options must be
# lettered A, B, C... in order.  The image is written to a file named by its
# hash, the item (with answer 0: the stand-in cannot know it) to a batch,
# and the batch run by one `$BIN/mlde-eval -q -Z -m MODEL`: requests that
# arrive within --wait seconds (default 0.05) of each other share one run
# (at most --max-batch, 256), so a client with 64 in flight costs a few runs,
# not 64.  The reply is the letter of pred; with "logprobs": true the choice
# carries OpenAI's logprobs: one token, the letter, whose top_logprobs are
# the options' letters by falling probability (the eval record's scores;
# log(p), -9999 for 0), at most the request's top_logprobs of them.  With
# --name the request's model must be NAME (404 otherwise, as vLLM answers).
#
# POST .../embeddings (vLLM's chat-style multimodal embeddings: messages with
# one image) is answered with mlde-eval --embed's embedding of the image,
# {"object": "list", "data": [{"object": "embedding", "index": 0,
# "embedding": [...]}]}, from the same batched runs.
#
# POST /v1/load_lora_adapter {"lora_name": NAME, "lora_path": FILE} is
# vLLM's run-time LoRA loading (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True):
# after it, requests naming NAME are answered with the model file FILE (an
# mlde-train file), as vLLM answers them with the adapter.  vLLM's answers:
# 200 and a line of text; 400 for a name already loaded or a missing path.
#
# --log gets one line per request:
#   T SHA ACTION image_sha=SHA reply=LETTER batch=N
# (SHA: the first 16 hex digits of the body's sha256; ACTION ok, embedded,
# invalid, unknown-model or failed; image_sha as stub-openai.pl logs it;
# LETTER - for an embedding; N the size of the mlde-eval run that answered
# it).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP ();
use Getopt::Long;
use FindBin ();
use lib $FindBin::Bin;
use OpenAIChat qw(decode_request jtype check_vision error_body_for token_logprob);

my %o = (wait => 0.05, 'max-batch' => 256, bin => $ENV{MLDE_BIN});
GetOptions(\%o, 'port-file=s', 'log=s', 'model=s', 'name=s', 'bin=s', 'wait=f', 'max-batch=i')
	or die "usage: $0 --model MODEL --port-file F [options]\n";
die "stand-in: --model MODEL needed\n" unless defined $o{model};
die "stand-in: --bin DIR or MLDE_BIN needed\n" unless defined $o{bin};
my $eval = "$o{bin}/mlde-eval";
die "stand-in: $eval: not executable\n" unless -x $eval;

my $work = tempdir('mlde-stand-in.XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$work/images" or die "stand-in: $work/images: $!\n";
my $json = JSON::PP->new->canonical;
my %ext = ('image/png' => 'png', 'image/jpeg' => 'jpg', 'image/gif' => 'gif', 'image/webp' => 'webp');

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1024,
	ReuseAddr => 1, Blocking => 0) or die "stand-in: listen: $!\n";
open(my $log, '>>', $o{log} // '/dev/null') or die "stand-in: $o{log}: $!\n";
$log->autoflush(1);
{
	# written whole, then renamed: whoever waits for it never reads half a port
	my $pf = $o{'port-file'} or die "stand-in: --port-file needed\n";
	open(my $fh, '>', "$pf.tmp") or die "stand-in: $pf: $!\n";
	print $fh $srv->sockport, "\n";
	close $fh;
	rename("$pf.tmp", $pf) or die "stand-in: $pf: $!\n";
}

my $sel_r = IO::Select->new($srv);
my $sel_w = IO::Select->new();
my (%in, %out, %busy);   # per connection: read buffer, write buffer, request pending
my %continued;           # per connection: "100 Continue" sent for the request coming in
my @pending;             # requests waiting for the next mlde-eval run
my $last_arrival = 0;
my $seq = 0;
my %lora;                # loaded adapter name -> model file
my $running = 1;
$SIG{TERM} = $SIG{INT} = sub { $running = 0 };
# a test killed before its cleanup leaves no server behind: the stand-in
# ends when whoever started it has gone
my $parent = getppid();

sub response {
	my ($status, $body) = @_;
	my %reason = (200 => 'OK', 400 => 'Bad Request', 404 => 'Not Found', 500 => 'Internal Server Error');
	return "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\n"
		. "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
}

sub drop {
	my ($fh) = @_;
	$sel_r->remove($fh);
	$sel_w->remove($fh);
	delete $in{$fh};
	delete $out{$fh};
	delete $busy{$fh};
	@pending = grep { $_->{fh} != $fh } @pending;
	close $fh;
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

# Answer the request of a connection; it may send its next one.
sub answer {
	my ($fh, $resp) = @_;
	return unless exists $out{$fh};
	$out{$fh} .= $resp;
	delete $busy{$fh};
	send_out($fh);
	parse($fh) if exists $out{$fh};  # a request that came while this one waited
}

sub log_line {
	my ($sha, $action, $image, $reply, $batch) = @_;
	printf $log "%.3f %s %s image_sha=%s reply=%s batch=%d\n", time, $sha, $action, $image // '-',
		$reply // '-', $batch // 0;
}

sub refuse {
	my ($fh, $sha, $status, $message, $param, $code, $images) = @_;
	log_line($sha, $status == 404 ? 'unknown-model' : 'invalid', $images && @$images ? $images->[0]{sha} : undef);
	answer($fh, response($status, error_body_for({ message => $message, param => $param, code => $code })));
}

# The item text of a prompt: (hint or undef, question, [options]) or () when
# it is not the form mlde-eval --backend http writes.
sub parse_prompt {
	my ($text) = @_;
	my @lines = split /\n/, $text, -1;
	pop @lines if @lines && $lines[-1] =~ /\AAnswer with /;
	my @options;
	while (@lines > 1 && $lines[-1] =~ /\A([A-Z])\. (.*)\z/s) {
		unshift @options, [$1, $2];
		pop @lines;
	}
	return () unless @options >= 2 && @lines >= 1;
	for my $i (0 .. $#options) {
		return () unless $options[$i][0] eq chr(ord('A') + $i);
	}
	my $hint = @lines > 1 ? shift @lines : undef;
	return ($hint, join("\n", @lines), [map { $_->[1] } @options]);
}

# One request in: refused at once, or an item waiting for the next run.
sub handle {
	my ($fh, $body, $kind) = @_;
	my $sha = substr(sha256_hex($body), 0, 16);
	my $req = decode_request($body);
	my @images;
	if (my $why = check_vision($req, \@images)) {
		return refuse($fh, $sha, 400, $why->{message}, $why->{param}, $why->{code}, \@images);
	}
	if (defined $o{name} && $req->{model} ne $o{name} && !exists $lora{ $req->{model} }) {
		return refuse($fh, $sha, 404, "The model `$req->{model}` does not exist.", 'model',
			'model_not_found', \@images);
	}
	my ($user) = grep { $_->{role} eq 'user' } reverse @{ $req->{messages} };
	my @parts = ref $user->{content} ? @{ $user->{content} } : ();
	return refuse($fh, $sha, 400, 'The stand-in takes one image in the last user message; this request has '
		. scalar(@images) . '.', 'messages', 'invalid_value', \@images) unless @images == 1
		&& grep { $_->{type} eq 'image_url' } @parts;
	my ($hint, $question, $options);
	if ($kind eq 'chat') {
		my $text = join("\n", map { $_->{text} } grep { $_->{type} eq 'text' } @parts);
		($hint, $question, $options) = parse_prompt($text);
		return refuse($fh, $sha, 400, 'The stand-in cannot read a question and options lettered A, B, ... from the text.',
			'messages', 'invalid_value', \@images) unless defined $question;
	}
	my $img = $images[0];
	my $file = "$img->{sha}.$ext{$img->{type}}";
	if (!-e "$work/images/$file") {
		open(my $f, '>:raw', "$work/images/$file.tmp") or die "stand-in: $file: $!\n";
		print $f $img->{bytes};
		close $f or die "stand-in: $file: $!\n";
		rename("$work/images/$file.tmp", "$work/images/$file") or die "stand-in: $file: $!\n";
	}
	# an embedding request is an image-only (pool) record
	my $item = { id => 'r' . ++$seq, image => $file };
	if ($kind eq 'chat') {
		@$item{qw(question options answer)} = ($question, $options, 0);
		$item->{hint} = $hint if defined $hint;
	}
	my $k = jtype($req->{top_logprobs}) eq 'number' ? $req->{top_logprobs} : 0;
	push @pending, { kind => $kind, fh => $fh, sha => $sha, image => $img->{sha}, item => $item, model => $req->{model},
		file => $lora{ $req->{model} } // $o{model},
		logprobs => (jtype($req->{logprobs}) eq 'boolean' && $req->{logprobs}) ? 1 : 0, k => $k };
	$last_arrival = time;
}

# choices[0].logprobs of an answer: the letter as the one token, the options'
# letters by falling probability as its top_logprobs.
sub logprobs_of {
	my ($p, $rec) = @_;
	return 'null' unless $p->{logprobs};
	my @scores = @{ $rec->{scores} };
	my @order = sort { $scores[$b] <=> $scores[$a] || $a <=> $b } 0 .. $#scores;
	splice(@order, $p->{k}) if $p->{k} < @order;
	my @top = map { token_logprob(chr(ord('A') + $_), $scores[$_]) } @order;
	return '{"content":[' . token_logprob(chr(ord('A') + $rec->{pred}), $scores[$rec->{pred}], \@top)
		. '],"refusal":null}';
}

sub completion {
	my ($p, $rec) = @_;
	my $letter = chr(ord('A') + $rec->{pred});
	return qq({"id":"chatcmpl-stand-in-$rec->{id}","object":"chat.completion","created":) . int(time)
		. ',"model":' . $json->encode($p->{model}) . ',"choices":[{"index":0,"message":'
		. $json->encode({ role => 'assistant', content => $letter }) . ',"logprobs":' . logprobs_of($p, $rec)
		. ',"finish_reason":"stop"}],"usage":{"prompt_tokens":0,"completion_tokens":1,"total_tokens":1}}';
}

sub embedding_reply {
	my ($p, $rec) = @_;
	return '{"object":"list","data":[{"object":"embedding","index":0,"embedding":'
		. $json->encode($rec->{embedding}) . '}],"model":' . $json->encode($p->{model})
		. ',"usage":{"prompt_tokens":0,"total_tokens":0}}';
}

# The eval records of one mlde-eval run over the items (with --embed when
# embed), by id; or an error.
sub run_eval {
	my ($items, $model, $embed) = @_;
	my $in = "$work/batch.jsonl";
	open(my $f, '>', $in) or die "stand-in: $in: $!\n";
	print $f $json->encode($_), "\n" for @$items;
	close $f or die "stand-in: $in: $!\n";
	my $pid = open(my $out, '-|') // die "stand-in: fork: $!\n";
	if (!$pid) {
		open(STDERR, '>', "$work/eval.err") or die "stand-in: eval.err: $!\n";
		exec($eval, '-q', '-Z', '-m', $model, '--images', "$work/images", ($embed ? '--embed' : ()), $in)
			or die "stand-in: $eval: $!\n";
	}
	my %recs;
	while (my $line = <$out>) {
		my $rec = eval { $json->decode($line) } or next;
		$recs{ $rec->{id} } = $rec;
	}
	close $out;
	return (\%recs, undef) if $? == 0;
	open(my $e, '<', "$work/eval.err");
	my $why = defined $e ? (<$e> // '') : '';
	chomp $why;
	return (undef, sprintf('mlde-eval exited %d: %s', $? >> 8, $why));
}

# Run the waiting requests through mlde-eval and answer them.
sub run_batch {
	# one model file a run: the first request's, and those of the same
	my $file = $pending[0]{file};
	my (@batch, @rest);
	for my $p (@pending) {
		if ($p->{file} eq $file && @batch < $o{'max-batch'}) { push @batch, $p } else { push @rest, $p }
	}
	@pending = @rest;
	my ($recs, $why) = run_eval([map { $_->{item} } @batch], $file, scalar grep { $_->{kind} eq 'embed' } @batch);
	for my $p (@batch) {
		my $rec = $recs ? $recs->{ $p->{item}{id} } : undef;
		if ($p->{kind} eq 'embed' && $rec && jtype($rec->{embedding}) eq 'array') {
			log_line($p->{sha}, 'embedded', $p->{image}, undef, scalar @batch);
			answer($p->{fh}, response(200, embedding_reply($p, $rec)));
		} elsif ($p->{kind} eq 'chat' && $rec && jtype($rec->{pred}) eq 'number') {
			log_line($p->{sha}, 'ok', $p->{image}, chr(ord('A') + $rec->{pred}), scalar @batch);
			answer($p->{fh}, response(200, completion($p, $rec)));
		} else {
			log_line($p->{sha}, 'failed', $p->{image}, undef, scalar @batch);
			answer($p->{fh}, response(500, error_body_for({ message => 'stand-in: '
				. ($why // 'no eval record for the item'), param => undef, code => 'server_error' })));
		}
	}
}

# vLLM's POST /v1/load_lora_adapter: NAME answers with the model file
# lora_path from now on.
sub load_lora {
	my ($fh, $body) = @_;
	my $sha = substr(sha256_hex($body), 0, 16);
	my $req = eval { $json->decode($body) };
	my ($name, $path) = ref $req eq 'HASH' ? @$req{qw(lora_name lora_path)} : ();
	my $why = !defined $name || !defined $path || ref $name || ref $path
		? 'lora_name and lora_path are both required.'
		: exists $lora{$name} ? "The lora adapter '$name' has already been loaded."
		: !-e $path ? "No adapter found at '$path'." : undef;
	if (defined $why) {
		printf $log "%.3f %s lora-refused name=%s\n", time, $sha, $name // '-';
		return answer($fh, response(400, $json->encode({ object => 'error', message => $why,
			type => 'InvalidUserInput', param => undef, code => 400 })));
	}
	$lora{$name} = $path;
	printf $log "%.3f %s lora-loaded name=%s\n", time, $sha, $name;
	answer($fh, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
		. length("Success: LoRA adapter '$name' added successfully.")
		. "\r\n\r\nSuccess: LoRA adapter '$name' added successfully.");
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
	return load_lora($fh, $body) if $method eq 'POST' && $path =~ m{/v1/load_lora_adapter\z};
	my $kind = $method ne 'POST' ? '' : $path =~ m{/chat/completions\z} ? 'chat' : $path =~ m{/embeddings\z} ? 'embed' : '';
	if (!$kind) {
		return answer($fh, response(404, error_body_for({ message => "stand-in: no route $method $path",
			param => undef, code => 'not_found' })));
	}
	handle($fh, $body, $kind);
}

while ($running && getppid() == $parent) {
	my $wait = @pending ? $last_arrival + $o{wait} - time : 0.5;
	$wait = 0 if $wait < 0;
	my ($r, $w) = IO::Select->select($sel_r, $sel_w, undef, $wait);
	for my $fh (@{ $r // [] }) {
		if ($fh == $srv) {
			while (my $c = $srv->accept) {
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
	run_batch() if @pending && (time >= $last_arrival + $o{wait} || @pending >= $o{'max-batch'});
}
