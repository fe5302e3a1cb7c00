# tests/OpenAIChat.pm - OpenAI's chat completions format as the test servers
# check and answer it (tests/stub-openai.pl --vision, tests/stand-in-model.pl):
# the request decoded and checked part by part, with errors worded and
# placed (param) as OpenAI words them, and log-probability tokens.  Core
# Perl only.
package OpenAIChat;
use strict;
use warnings;
use B ();
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use Exporter qw(import);
our @EXPORT_OK = qw(decode_request jtype check_vision error_body_for token_logprob image_type_of);

my %image_magic = ('image/png' => qr/\A\x89PNG\r\n\x1a\n/, 'image/jpeg' => qr/\A\xff\xd8\xff/,
	'image/gif' => qr/\AGIF8[79]a/, 'image/webp' => qr/\ARIFF....WEBP/s);

sub image_type_of {
	my ($bytes) = @_;
	for my $type (sort keys %image_magic) {
		return $type if $bytes =~ $image_magic{$type};
	}
	return undef;
}

# The request body decoded as JSON, or undef.  Data URIs are lifted out
# before JSON::PP sees them and put back after: it reads strings a character
# at a time (about 5 ms for an 8 kB image).  One with a backslash in it (a
# client escaping "/") stays in and is decoded the slow way.
sub decode_request {
	my ($body) = @_;
	my @uris;
	(my $lean = $body) =~ s/"(data:[^"\\]{64,})"/push @uris, $1; qq("\@stub-uri:$#uris")/ge;
	my $req = eval { JSON::PP->new->decode($lean) };
	put_back_uris($req, \@uris) if defined $req && @uris;
	return $req;
}

sub put_back_uris {
	my ($v, $uris) = @_;
	for my $x (ref $v eq 'HASH' ? values %$v : ref $v eq 'ARRAY' ? @$v : ()) {
		if (ref $x) {
			put_back_uris($x, $uris);
		} elsif (jtype($x) eq 'string' && $x =~ /\A\@stub-uri:(\d+)\z/) {  # a match would make a number a string
			$x = $uris->[$1];
		}
	}
}

# The JSON type of a decoded value, in the words of OpenAI's messages.
sub jtype {
	my ($v) = @_;
	return 'null' unless defined $v;
	return 'object' if ref $v eq 'HASH';
	return 'array' if ref $v eq 'ARRAY';
	return 'boolean' if JSON::PP::is_bool($v);
	my $flags = B::svref_2object(\$v)->FLAGS;
	return 'string' if $flags & B::SVp_POK;
	return 'number';
}

sub bad {
	my ($message, $param, $code) = @_;
	return { message => $message, param => $param, code => $code };
}

sub type_error {
	my ($param, $want, $v) = @_;
	my $got = jtype($v);
	my $a = $got =~ /^[aeiou]/ ? 'an' : 'a';
	return bad("Invalid type for '$param': expected $want, but got $a $got instead.", $param, 'invalid_type');
}

sub value_error {
	my ($param, $v, @supported) = @_;
	my $list = join(', ', map { "'$_'" } @supported);
	return bad("Invalid value: '$v'. Supported values are: $list.", $param, 'invalid_value');
}

# An image_url.url: a data: URI of a known type whose base64 decodes strictly
# to bytes of that type.  Pushes the first 16 hex digits of their sha256.
sub check_image_url {
	my ($url, $param, $images) = @_;
	return type_error($param, 'a string', $url) unless jtype($url) eq 'string';
	if ($url !~ /\Adata:([^;,]*);base64,(.*)\z/s) {
		my $what = $url =~ m{\Ahttps?://} ? 'a web address (the stub fetches nothing)'
			: 'not a data:IMAGE-TYPE;base64, URI';
		return bad("Invalid image URL in '$param': $what.", $param, 'invalid_image_url');
	}
	my ($type, $b64) = ($1, $2);
	return bad("Invalid MIME type '$type' in '$param': supported are "
		. join(', ', sort keys %image_magic) . '.', $param, 'invalid_image_format')
		unless $image_magic{$type};
	if ($b64 =~ /[^A-Za-z0-9+\/=]/) {
		return bad("Invalid base64 image data in '$param': a character outside the base64 alphabet at offset "
			. $-[0] . '.', $param, 'invalid_image_format');
	}
	if ($b64 eq '' || length($b64) % 4 || $b64 !~ /\A[A-Za-z0-9+\/]*={0,2}\z/) {
		return bad("Invalid base64 image data in '$param': " . length($b64)
			. ' characters, not a whole padded base64 text.', $param, 'invalid_image_format');
	}
	my $bytes = decode_base64($b64);
	my $actual = image_type_of($bytes);
	return bad("You uploaded an unsupported image in '$param': the bytes are no PNG, JPEG, WebP or GIF image.",
		$param, 'invalid_image_format') unless defined $actual;
	return bad("The image in '$param' is declared $type, but its bytes are $actual.", $param,
		'invalid_image_format') unless $actual eq $type;
	push @$images, { sha => substr(sha256_hex($bytes), 0, 16), type => $type, bytes => $bytes };
	return undef;
}

# One content part of a message whose role is role.
sub check_part {
	my ($part, $role, $param, $images) = @_;
	return type_error($param, 'an object', $part) unless jtype($part) eq 'object';
	my $type = $part->{type};
	return bad("Missing required parameter: '$param.type'.", "$param.type", 'missing_required_parameter')
		unless defined $type;
	return type_error("$param.type", 'a string', $type) unless jtype($type) eq 'string';
	my @types = $role eq 'user' ? ('text', 'image_url') : ('text');
	return value_error("$param.type", $type, @types) unless grep { $_ eq $type } @types;
	if ($type eq 'text') {
		return type_error("$param.text", 'a string', $part->{text}) unless jtype($part->{text}) eq 'string';
		return undef;
	}
	my $img = $part->{image_url};
	return bad("Missing required parameter: '$param.image_url'.", "$param.image_url",
		'missing_required_parameter') unless defined $img;
	return type_error("$param.image_url", 'an object', $img) unless jtype($img) eq 'object';
	if (defined $img->{detail}) {
		my $d = $img->{detail};
		return value_error("$param.image_url.detail", $d, qw(auto low high))
			unless jtype($d) eq 'string' && $d =~ /\A(auto|low|high)\z/;
	}
	return check_image_url($img->{url}, "$param.image_url.url", $images);
}

sub check_message {
	my ($m, $param, $images) = @_;
	return type_error($param, 'an object', $m) unless jtype($m) eq 'object';
	my $role = $m->{role};
	return bad("Missing required parameter: '$param.role'.", "$param.role", 'missing_required_parameter')
		unless defined $role;
	my @roles = qw(system developer user assistant);
	return value_error("$param.role", jtype($role) eq 'string' ? $role : jtype($role), @roles)
		unless jtype($role) eq 'string' && grep { $_ eq $role } @roles;
	my $c = $m->{content};
	return undef if $role eq 'assistant' && !defined $c;
	return bad("Missing required parameter: '$param.content'.", "$param.content", 'missing_required_parameter')
		unless defined $c;
	return undef if jtype($c) eq 'string';
	return type_error("$param.content", 'one of a string or array of objects', $c) unless jtype($c) eq 'array';
	return bad("Invalid '$param.content': empty array. Expected an array with minimum length 1, but got an empty array instead.",
		"$param.content", 'empty_array') unless @$c;
	for my $j (0 .. $#$c) {
		my $why = check_part($c->[$j], $role, "$param.content[$j]", $images);
		return $why if $why;
	}
	return undef;
}

# The sampling and log-probability fields, when present.
sub check_fields {
	my ($req) = @_;
	for my $f (qw(temperature top_p)) {
		next unless exists $req->{$f};
		return type_error($f, 'a number', $req->{$f}) unless jtype($req->{$f}) eq 'number';
	}
	return bad("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got $req->{temperature} instead.",
		'temperature', 'decimal_above_max_value') if exists $req->{temperature} && $req->{temperature} > 2;
	for my $f (qw(max_tokens max_completion_tokens top_logprobs)) {
		next unless exists $req->{$f};
		my $v = $req->{$f};
		return type_error($f, 'an integer', $v) unless jtype($v) eq 'number' && $v == int($v);
	}
	for my $f (qw(max_tokens max_completion_tokens)) {
		return bad("Invalid '$f': integer below minimum value. Expected a value >= 1, but got $req->{$f} instead.",
			$f, 'integer_below_min_value') if exists $req->{$f} && $req->{$f} < 1;
	}
	return type_error('logprobs', 'a boolean', $req->{logprobs})
		if exists $req->{logprobs} && jtype($req->{logprobs}) ne 'boolean';
	if (exists $req->{top_logprobs}) {
		my $k = $req->{top_logprobs};
		return bad("Invalid 'top_logprobs': expected a value from 0 to 20, but got $k instead.",
			'top_logprobs', 'invalid_value') if $k < 0 || $k > 20;
		return bad("Invalid value for 'top_logprobs': 'logprobs' must be true when 'top_logprobs' is set.",
			'top_logprobs', 'invalid_value') unless $req->{logprobs};
	}
	return bad("Invalid value for 'stream': this server does not stream.", 'stream', 'invalid_value')
		if $req->{stream};
	return undef;
}

# What is wrong with a vision request (decoded), as {message, param, code},
# or undef; its images pushed on images in request order, each {sha (the
# first 16 hex digits of sha256 of the bytes), type, bytes}.
sub check_vision {
	my ($req, $images) = @_;
	return bad("We could not parse the JSON body of your request: expected a JSON object.", undef, 'invalid_json')
		unless jtype($req) eq 'object';
	return bad("You must provide a model parameter.", 'model', 'missing_required_parameter')
		unless jtype($req->{model}) eq 'string' && length $req->{model};
	my $msgs = $req->{messages};
	return bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
		unless defined $msgs;
	return type_error('messages', 'an array', $msgs) unless jtype($msgs) eq 'array';
	return bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
		'messages', 'empty_array') unless @$msgs;
	for my $i (0 .. $#$msgs) {
		my $why = check_message($msgs->[$i], "messages[$i]", $images);
		return $why if $why;
	}
	return bad("Invalid 'messages': no image_url content part, and this server takes vision requests only.",
		'messages', 'invalid_value') unless @$images;
	return check_fields($req);
}

sub error_body_for {
	my ($why) = @_;
	return JSON::PP->new->canonical->encode({ error => { message => $why->{message},
		type => 'invalid_request_error', param => $why->{param}, code => $why->{code} } });
}

sub token_logprob {
	my ($token, $p, $top) = @_;
	my $json = JSON::PP->new->ascii->allow_nonref;
	my $raw = $token;
	utf8::encode($raw);
	my $lp = $p > 0 ? sprintf('%.17g', log $p) : '-9999.0';
	my $s = '{"token":' . $json->encode($token) . ',"logprob":' . $lp
		. ',"bytes":[' . join(',', map { ord } split //, $raw) . ']';
	$s .= ',"top_logprobs":[' . join(',', @$top) . ']' if $top;
	return $s . '}';
}
1;
