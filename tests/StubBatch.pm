# tests/StubBatch.pm - OpenAI's Batch API in tests/stub-openai.pl: files
# (POST /v1/files, multipart, purpose "batch"; GET /v1/files/ID/content) and
# batches (POST /v1/batches; GET /v1/batches/ID; GET /v1/batches?limit=N,
# the latest first).  Each line of an input
# file is answered as the stub answers the same body live (its @reply-b64@
# marker, --reply, else mlde-gen's question of the body's sha256), so a
# batch run and a live run make the same items.
#
# A batch moves one step each time it is looked at: validating, then
# in_progress for --batch-steps looks (request_counts growing), finalizing,
# then its end: the next of --batch-end LIST (comma-separated, one per batch
# created, in order; "completed" once the list runs out):
#   completed  every line answered, but those of a body holding
#              @batch-fail@ or @batch-failxN@ (its first N batches): a 500
#              in the error file
#   expired    the first half of the lines answered, the rest in the error
#              file as batch_expired
#   failed     nothing answered: errors.data says the input was refused
#   cancelled  as expired, with the rest cancelled
# --batch-log FILE: one line per call, "T WHAT ID auth=yes|no
# key_in_body=0|1 [requests=N]" (WHAT: upload, create, retrieve, list, content),
# so a test counts the batches created and sees the key never sent in a body.
package StubBatch;
use strict;
use warnings;
use Getopt::Long ();
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time);

my %o = (steps => 2, end => '');
my (%files, %batches, %fails);
my ($nfile, $nbatch, $blog) = (0, 0);
my @ends;
my $json = JSON::PP->new->canonical;

# Take this module's options out of @ARGV (the stub's own parse the rest).
sub options {
	Getopt::Long::Configure('pass_through');
	Getopt::Long::GetOptions('batch-steps=i' => \$o{steps}, 'batch-end=s' => \$o{end},
		'batch-log=s' => \$o{log});
	Getopt::Long::Configure('no_pass_through');
	@ends = grep { length } split /,/, $o{end};
	if (defined $o{log}) {
		open($blog, '>>', $o{log}) or die "stub: $o{log}: $!\n";
		$blog->autoflush(1);
	}
}

sub logline {
	my ($what, $id, $hdr, $body, $tail) = @_;
	return unless $blog;
	my $auth = $hdr->{authorization};
	my $key = defined $auth && $auth =~ /^Bearer (.+)$/ ? $1 : undef;
	my $in = defined $key && index($body, $key) >= 0 ? 1 : 0;
	printf $blog "%.3f %s %s auth=%s key_in_body=%d%s\n", time, $what, $id,
		defined $auth ? 'yes' : 'no', $in, $tail // '';
}

sub http {
	my ($status, $body, $type) = @_;
	my %reason = (200 => 'OK', 400 => 'Bad Request', 404 => 'Not Found');
	return "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\nContent-Type: "
		. ($type // 'application/json') . "\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
}

sub not_found {
	my ($what) = @_;
	return http(404, qq({"error": {"message": "No such $what", "type": "invalid_request_error", "param": null, "code": null}}));
}

# The parts of a multipart/form-data body: name -> [content, filename].
sub form_parts {
	my ($hdr, $body) = @_;
	my ($boundary) = ($hdr->{'content-type'} // '') =~ /boundary="?([^";]+)"?/ or return {};
	my %parts;
	for my $part (split /--\Q$boundary\E(?:--)?\r\n?/, $body) {
		my ($head, $content) = split /\r\n\r\n/, $part, 2;
		next unless defined $content && $head =~ /name="([^"]+)"/;
		my $name = $1;
		my ($fname) = $head =~ /filename="([^"]*)"/;
		$content =~ s/\r\n\z//;
		$parts{$name} = [$content, $fname];
	}
	return \%parts;
}

# The live answer to a body: the completion the stub would send.
sub answer_of {
	my ($body) = @_;
	my $text;
	if ($body =~ /\@reply-b64=([A-Za-z0-9+\/=]*)\@/) {
		$text = decode_base64($1);
	} elsif (defined(my $default = main::default_reply($body))) {
		$text = $default;
	} else {
		my $tag = substr(sha256_hex($body), 0, 8);
		$text = "Question: Which shape is drawn in picture $tag?\n"
			. "Choices: (A) a circle (B) a square (C) a triangle (D) a cross\n"
			. "Answer: The answer is (B): a square.\n"
			. "Explanation: Looking at the picture, the only shape has four equal sides.";
	}
	return main::completion($text);
}

# The lines of an input file: [custom_id, body bytes as sent].
sub input_lines {
	my ($content) = @_;
	my @lines;
	for my $line (split /\n/, $content) {
		next unless $line =~ /\S/;
		my $req = eval { $json->decode($line) } or next;
		# the body's very bytes, when the line is written as mlde writes it
		my $body = $line =~ /,"body":(.*)\}\z/s ? $1 : $json->encode($req->{body});
		push @lines, [$req->{custom_id}, $body];
	}
	return @lines;
}

sub new_file {
	my ($content, $purpose, $name) = @_;
	my $id = sprintf('file-stub%03d', ++$nfile);
	$files{$id} = { content => $content, purpose => $purpose, filename => $name // 'f.jsonl' };
	return $id;
}

sub file_object {
	my ($id) = @_;
	my $f = $files{$id};
	return { id => $id, object => 'file', bytes => length($f->{content}), created_at => 0,
		filename => $f->{filename}, purpose => $f->{purpose} };
}

sub out_line {
	my ($id, $status, $body, $error) = @_;
	return $json->encode({ id => "batch_req_$id", custom_id => $id,
		response => defined $status ? { status_code => $status, request_id => "req_$id",
			body => $json->decode($body) } : undef,
		error => $error }) . "\n";
}

# The batch reaches its end: output and error files made.
sub finish {
	my ($b) = @_;
	my ($out, $err) = ('', '');
	my @lines = @{ $b->{lines} };
	my $end = $b->{end};
	if ($end eq 'failed') {
		$b->{errors} = { object => 'list', data => [{ code => 'invalid_request', line => 1,
			message => 'stub: the input file was refused', param => undef }] };
		$b->{request_counts} = { total => 0, completed => 0, failed => 0 };
		return;
	}
	my $keep = $end eq 'completed' ? @lines : int(@lines / 2);
	my ($done, $failed) = (0, 0);
	for my $i (0 .. $#lines) {
		my ($id, $body) = @{ $lines[$i] };
		if ($i >= $keep) {
			my $code = $end eq 'expired' ? 'batch_expired' : 'batch_cancelled';
			$err .= out_line($id, undef, undef, { code => $code,
				message => "This request could not be executed before the batch was $end." });
			$failed++;
		} elsif ($body =~ /\@batch-fail(?:x(\d+))?\@/ && ++$fails{$id} <= ($1 // 1e9)) {
			$err .= out_line($id, 500, qq({"error": {"message": "stub: this line failed", "type": "server_error", "param": null, "code": null}}), undef);
			$failed++;
		} else {
			$out .= out_line($id, 200, answer_of($body), undef);
			$done++;
		}
	}
	$b->{output_file_id} = new_file($out, 'batch_output', 'output.jsonl') if length $out;
	$b->{error_file_id} = new_file($err, 'batch_output', 'errors.jsonl') if length $err;
	$b->{request_counts} = { total => scalar @lines, completed => $done, failed => $failed };
}

# One look at a batch: it moves one step.
sub step {
	my ($b) = @_;
	my $s = $b->{status};
	my $n = @{ $b->{lines} };
	if ($s eq 'validating') {
		$b->{status} = 'in_progress';
		$b->{request_counts} = { total => $n, completed => 0, failed => 0 };
	} elsif ($s eq 'in_progress' && $b->{looks}++ < $o{steps}) {
		my $c = int($n * $b->{looks} / ($o{steps} + 1));
		$b->{request_counts} = { total => $n, completed => $c, failed => 0 };
	} elsif ($s eq 'in_progress') {
		$b->{status} = 'finalizing';
	} elsif ($s eq 'finalizing') {
		$b->{status} = $b->{end};
		finish($b);
	}
}

sub batch_object {
	my ($b) = @_;
	my %o = map { $_ => $b->{$_} } qw(id input_file_id endpoint completion_window status
		request_counts metadata);
	$o{object} = 'batch';
	$o{created_at} = 0;
	$o{$_} = $b->{$_} for grep { defined $b->{$_} } qw(output_file_id error_file_id errors);
	$o{output_file_id} //= undef;
	$o{error_file_id} //= undef;
	return $json->encode(\%o);
}

# The answer to a Batch API request, or undef when the path is not one.
sub route {
	my ($method, $path, $hdr, $body) = @_;
	if ($method eq 'POST' && $path eq '/v1/files') {
		my $p = form_parts($hdr, $body);
		return http(400, '{"error": {"message": "stub: purpose and file wanted"}}')
			unless $p->{file} && $p->{purpose} && $p->{purpose}[0] eq 'batch';
		my $id = new_file($p->{file}[0], 'batch', $p->{file}[1]);
		my @lines = input_lines($p->{file}[0]);
		logline('upload', $id, $hdr, $body, ' requests=' . scalar @lines);
		return http(200, $json->encode(file_object($id)));
	}
	if ($method eq 'GET' && $path =~ m{^/v1/files/([\w-]+)/content$}) {
		my $f = $files{$1} or return not_found('file');
		logline('content', $1, $hdr, '');
		return http(200, $f->{content}, 'application/octet-stream');
	}
	if ($method eq 'POST' && $path eq '/v1/batches') {
		my $req = eval { $json->decode($body) } // {};
		my $f = $files{ $req->{input_file_id} // '' } or return not_found('file');
		my $id = sprintf('batch_stub%03d', ++$nbatch);
		my @lines = input_lines($f->{content});
		$batches{$id} = { id => $id, input_file_id => $req->{input_file_id},
			endpoint => $req->{endpoint}, completion_window => $req->{completion_window},
			metadata => $req->{metadata}, status => 'validating', looks => 0,
			lines => \@lines, end => shift(@ends) // 'completed',
			request_counts => { total => 0, completed => 0, failed => 0 } };
		logline('create', $id, $hdr, $body, ' requests=' . scalar @lines);
		return http(200, batch_object($batches{$id}));
	}
	if ($method eq 'GET' && $path =~ m{^/v1/batches(?:\?limit=(\d+))?$}) {
		my @all = sort { $b cmp $a } keys %batches;  # the latest first, as OpenAI lists them
		splice(@all, $1) if defined $1 && @all > $1;
		logline('list', '-', $hdr, '', ' batches=' . scalar @all);
		return http(200, '{"object": "list", "data": [' . join(',', map { batch_object($batches{$_}) } @all)
			. '], "has_more": false}');
	}
	if ($method eq 'GET' && $path =~ m{^/v1/batches/([\w-]+)$}) {
		my $b = $batches{$1} or return not_found('batch');
		my $resp = http(200, batch_object($b));
		logline('retrieve', $1, $hdr, '', " status=$b->{status}");
		step($b);  # after the answer: the first look sees validating
		return $resp;
	}
	return undef;
}

1;
