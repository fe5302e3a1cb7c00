#!/usr/bin/perl
# tests/stand-in-run-batch.pl - vLLM's offline batch runner as the man page
# examples call it (python -m vllm.entrypoints.openai.run_batch -i IN -o OUT
# --model M), stood in for in tests/cli/man.t: each line of IN is sent to
# the server at $OPENAI_BASE_URL (the stub) and its answer written to OUT in
# run_batch's format, {"id", "custom_id", "response": {"status_code",
# "request_id", "body"}, "error"}.  Core Perl only.
use strict;
use warnings;
use Getopt::Long;
use HTTP::Tiny;
use JSON::PP;

my %o;
GetOptions(\%o, 'i=s', 'o=s', 'model=s') && $o{i} && $o{o}
	or die "usage: $0 -i IN.jsonl -o OUT.jsonl --model M\n";
my $base = $ENV{OPENAI_BASE_URL} or die "$0: OPENAI_BASE_URL is not set\n";
my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(timeout => 30);
open(my $in, '<:raw', $o{i}) or die "$0: $o{i}: $!\n";
open(my $out, '>:raw', "$o{o}.tmp") or die "$0: $o{o}: $!\n";
my $n = 0;
while (my $line = <$in>) {
	next unless $line =~ /\S/;
	chomp $line;
	my $req = $json->decode($line);
	# the body as the line holds it, byte for byte
	my $body = $line =~ /,"body":(.*)\}\z/s ? $1 : $json->encode($req->{body});
	(my $url = $base) =~ s{/v1/?$}{};
	my $r = $http->post($url . $req->{url}, { content => $body,
		headers => { 'Content-Type' => 'application/json' } });
	my $answer = eval { $json->decode($r->{content}) };
	printf $out "%s\n", $json->encode({ id => 'vllm-' . ++$n, custom_id => $req->{custom_id},
		response => { status_code => $r->{status} + 0, request_id => "vllm-batch-$n",
			body => $answer }, error => undef });
}
close $out or die "$0: $o{o}: $!\n";
rename("$o{o}.tmp", $o{o}) or die "$0: $o{o}: $!\n";
