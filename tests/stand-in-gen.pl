#!/usr/bin/perl
# tests/stand-in-gen.pl - a stand-in for the generator (GPT-4o), in core
# Perl: an OpenAI-compatible chat completions server on 127.0.0.1 that
# answers each request of `mlde-gen --backend http` with the reply the world
# backend gives for the same plan and seed.  mlde-gen --backend http against
# it must then write the items mlde-gen --backend world writes
# (tests/cli/real-loop.t).
#
#   perl tests/stand-in-gen.pl --port-file F [--log F] [--bin DIR]
#        --plan FILE=SEED [--plan FILE=SEED ...]
#
# Each --plan is a plan file (it may not exist yet: it is read when a
# request comes) and the --seed mlde-gen is run with on it.  A request is
# known by the sha256 of its body: `mlde-gen --backend http --emit prompt`
# over each plan file, with the request's model, temperature and max_tokens
# and the plan's seed, gives the request_sha256 of every plan's request; the
# reply to the one that matches is the raw text `mlde-gen --backend world
# --emit raw` gives that plan with that seed.  A body that matches none gets
# a 400 (so a prompt or seed the loop changed fails the test, loudly).
#
# --log gets one line per request:
#   T SHA ACTION plan=ID
# (SHA: the first 16 hex digits of the body's sha256; ACTION ok or unknown).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use Getopt::Long;
use FindBin ();
use lib $FindBin::Bin;
use OpenAIChat qw(decode_request jtype error_body_for);

my %o = (bin => $ENV{MLDE_BIN}, plan => []);
GetOptions(\%o, 'port-file=s', 'log=s', 'bin=s', 'plan=s@')
	or die "usage: $0 --port-file F --plan FILE=SEED... [options]\n";
die "stand-in-gen: --bin DIR or MLDE_BIN needed\n" unless defined $o{bin};
my $gen = "$o{bin}/mlde-gen";
die "stand-in-gen: $gen: not executable\n" unless -x $gen;
my @plans = map { /\A(.+)=(\d+)\z/ or die "stand-in-gen: --plan $_: not FILE=SEED\n"; [$1, $2] } @{ $o{plan} };
die "stand-in-gen: --plan FILE=SEED needed\n" unless @plans;

my $json = JSON::PP->new->canonical;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1024,
	ReuseAddr => 1, Blocking => 0) or die "stand-in-gen: listen: $!\n";
open(my $log, '>>', $o{log} // '/dev/null') or die "stand-in-gen: $o{log}: $!\n";
$log->autoflush(1);
{
	my $pf = $o{'port-file'} or die "stand-in-gen: --port-file needed\n";
	open(my $fh, '>', "$pf.tmp") or die "stand-in-gen: $pf: $!\n";
	print $fh $srv->sockport, "\n";
	close $fh;
	rename("$pf.tmp", $pf) or die "stand-in-gen: $pf: $!\n";
}

my %known;    # request sha256 -> { plan, raw }
my %indexed;  # "FILE\0SEED\0MODEL\0TEMPERATURE\0MAX_TOKENS" -> 1

# The JSON Lines mlde-gen writes with ARGS, decoded.
sub gen_records {
	my (@args) = @_;
	my $pid = open(my $out, '-|') // die "stand-in-gen: fork: $!\n";
	if (!$pid) {
		open(STDERR, '>', '/dev/null');
		exec($gen, '-q', '-Z', @args) or die "stand-in-gen: $gen: $!\n";
	}
	my @recs = map { $json->decode($_) } <$out>;
	close $out;
	return $? == 0 ? @recs : ();
}

# Index the requests of every plan file there is, as a client with this
# model, temperature and max_tokens sends them.
sub index_plans {
	my ($req) = @_;
	for my $p (@plans) {
		my ($file, $seed) = @$p;
		next unless -e $file;
		my @how = ('--model', $req->{model}, '--temperature', $req->{temperature}, '--max-tokens',
			$req->{max_tokens});
		my $key = join("\0", $file, $seed, @how);
		next if $indexed{$key};
		my %raw = map { $_->{plan} => $_->{raw} }
			gen_records('--backend', 'world', '--emit', 'raw', '--seed', $seed, $file);
		for my $r (gen_records('--backend', 'http', '--emit', 'prompt', '--seed', $seed, @how, $file)) {
			$known{ $r->{request_sha256} } = { plan => $r->{plan}, raw => $raw{ $r->{plan} } }
				if defined $raw{ $r->{plan} };
		}
		$indexed{$key} = 1;
	}
}

sub response {
	my ($status, $body) = @_;
	my %reason = (200 => 'OK', 400 => 'Bad Request', 404 => 'Not Found');
	return "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\n"
		. "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
}

# The answer to one request body.
sub answer_body {
	my ($body) = @_;
	my $full = sha256_hex($body);
	my $sha = substr($full, 0, 16);
	my $req = decode_request($body);
	if (ref $req ne 'HASH' || jtype($req->{model}) ne 'string') {
		printf $log "%.3f %s unknown plan=-\n", time, $sha;
		return response(400, error_body_for({ message => 'stand-in-gen: not a chat completions request',
			param => undef, code => 'invalid_value' }));
	}
	index_plans($req) unless $known{$full};
	my $hit = $known{$full};
	if (!$hit) {
		printf $log "%.3f %s unknown plan=-\n", time, $sha;
		return response(400, error_body_for({ message => 'stand-in-gen: no plan of '
			. join(' ', map { $_->[0] } @plans) . ' has a request with this body', param => 'messages',
			code => 'invalid_value' }));
	}
	printf $log "%.3f %s ok plan=%s\n", time, $sha, $hit->{plan};
	return response(200, $json->encode({ id => "chatcmpl-stand-in-gen-$sha", object => 'chat.completion',
		created => int(time), model => $req->{model}, choices => [{ index => 0, finish_reason => 'stop',
		message => { role => 'assistant', content => $hit->{raw} } }],
		usage => { prompt_tokens => 0, completion_tokens => 0, total_tokens => 0 } }));
}

# The server: connections read without blocking, each request answered
# when it is whole (mlde-gen keeps -j connections open).
my $sel_r = IO::Select->new($srv);
my $sel_w = IO::Select->new();
my (%in, %out, %continued);
my $running = 1;
$SIG{TERM} = $SIG{INT} = sub { $running = 0 };

sub drop {
	my ($fh) = @_;
	$sel_r->remove($fh);
	$sel_w->remove($fh);
	delete $in{$fh};
	delete $out{$fh};
	delete $continued{$fh};
	close $fh;
}

sub send_out {
	my ($fh) = @_;
	my $n = syswrite($fh, $out{$fh});
	if (!defined $n) {
		drop($fh) unless $!{EAGAIN};
		return;
	}
	substr($out{$fh}, 0, $n) = '';
	length $out{$fh} ? $sel_w->add($fh) : $sel_w->remove($fh);
}

# Answer every whole request a connection has sent.
sub parse {
	my ($fh) = @_;
	while (1) {
		my $end = index($in{$fh}, "\r\n\r\n");
		return if $end < 0;
		my @lines = split /\r\n/, substr($in{$fh}, 0, $end);
		my ($method, $path) = split / /, shift @lines;
		my %hdr = map { my ($k, $v) = split /:\s*/, $_, 2; (lc $k, $v) } @lines;
		my $len = $hdr{'content-length'} // 0;
		if (length($in{$fh}) < $end + 4 + $len) {
			if (($hdr{expect} // '') =~ /100-continue/i && !$continued{$fh}++) {
				$out{$fh} .= "HTTP/1.1 100 Continue\r\n\r\n";
				send_out($fh);
			}
			return;
		}
		delete $continued{$fh};
		my $body = substr($in{$fh}, $end + 4, $len);
		substr($in{$fh}, 0, $end + 4 + $len) = '';
		$out{$fh} .= $method eq 'POST' && $path =~ m{/chat/completions\z} ? answer_body($body)
			: response(404, error_body_for({ message => "stand-in-gen: no route $method $path",
				param => undef, code => 'not_found' }));
		send_out($fh);
		return unless exists $out{$fh};
	}
}

while ($running) {
	my ($r, $w) = IO::Select->select($sel_r, $sel_w, undef, 0.5);
	for my $fh (@{ $r // [] }) {
		if ($fh == $srv) {
			while (my $c = $srv->accept) {
				$c->blocking(0);
				setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
				$sel_r->add($c);
				$in{$c} = '';
				$out{$c} = '';
			}
			next;
		}
		my $got = sysread($fh, my $chunk, 65536);
		if (!defined $got) {
			drop($fh) unless $!{EAGAIN};
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
}
