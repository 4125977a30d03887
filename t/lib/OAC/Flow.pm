package OAC::Flow;
# A browser for the flow tests: a cookie jar, no automatic redirects (each
# hop is checked), and the local provider's control API.
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestRequest ();
use HTTP::Cookies ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use URI ();
use URI::QueryParam ();
use URI::Escape qw(uri_escape);
use File::Temp ();
use POSIX ();

use Exporter 'import';
our @EXPORT_OK = qw(browser site provider_get provider_post provider_config
                    log_size log_since log_lines_since parallel_get
                    login_redirect approve login query_of json_of cookie_of
                    vhost_base codec_get);

sub site {
    my $path = shift;
    return 'http://' . Apache::TestRequest::hostport() . $path;
}

sub browser {
    my $ua = LWP::UserAgent->new(max_redirect => 0, timeout => 30,
                                 cookie_jar => HTTP::Cookies->new);
    # A browser's navigation asks for HTML.
    $ua->default_header(Accept => 'text/html,application/xhtml+xml');
    return $ua;
}

sub provider_url { "$ENV{OAC_PROVIDER}" . shift }

sub provider_get {
    my $res = LWP::UserAgent->new->get(provider_url(shift));
    return JSON::PP::decode_json($res->content);
}

sub provider_post {
    my ($path, $doc) = @_;
    my $req = HTTP::Request->new(POST => provider_url($path),
        [ 'Content-Type' => 'application/json' ],
        JSON::PP::encode_json($doc || {}));
    my $res = LWP::UserAgent->new->request($req);
    die "provider $path: " . $res->status_line unless $res->is_success;
    return JSON::PP::decode_json($res->content);
}

# Resets the provider and applies a configuration.
sub provider_config {
    my %cfg = @_;
    provider_post('/_control/reset');
    provider_post('/_control/config', \%cfg) if %cfg;
}

sub query_of {
    my $url = URI->new(shift);
    return { map { $_ => scalar $url->query_param($_) } $url->query_param };
}

# The session cookie as a browser would send it.
sub cookie_of {
    my $ua = shift;
    my $cookie = '';
    $ua->cookie_jar->scan(sub { $cookie = "$_[1]=$_[2]" if $_[1] eq 'oac_session' });
    return $cookie;
}

sub json_of {
    my $res = shift;
    my $doc = eval { JSON::PP::decode_json($res->content) };
    return $doc || {};
}

# GET login_path: the module's redirect to the provider.
sub login_redirect {
    my ($ua, $app, $next) = @_;
    my $path = "/oauth/$app/login" . (defined $next ? '?next=' . uri_escape($next) : '');
    return $ua->get(site($path));
}

# The provider approves as USER (its auto_approve shortcut) and answers with
# a redirect to the callback; returns that callback URL.
sub approve {
    my ($authorize_url, $user, $param) = @_;
    my $res = LWP::UserAgent->new(max_redirect => 0)
        ->get($authorize_url . '&' . ($param || 'auto_approve') . '=' . ($user || 'alice'));
    die "provider authorize: " . $res->status_line unless $res->code == 302;
    return $res->header('Location');
}

# The test httpd's error log: its size now, the lines matching re written
# since an earlier size, and the last of them ('' when none).
sub log_file { Apache::Test::vars('t_logs') . '/error_log' }
sub log_size { -s log_file() }
sub log_lines_since {
    my ($start, $re) = @_;
    open my $fh, '<', log_file() or die log_file() . ": $!";
    seek $fh, $start, 0;
    my @lines = grep { $_ =~ $re } <$fh>;
    close $fh;
    return @lines;
}
sub log_since { (log_lines_since(@_))[-1] // '' }

# GETs each of paths at once, from a process of its own, with the Cookie
# header cookie: a browser's parallel requests. Returns, in the order of
# paths, a hash per answer: code, body, json (the body as JSON, {} when it
# is none), set_cookie, retry_after.
sub parallel_get {
    my ($cookie, @paths) = @_;
    my $dir = File::Temp->newdir('oac-parallel-XXXXXX', TMPDIR => 1);
    my @kids;
    for my $i (0 .. $#paths) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            my $res = LWP::UserAgent->new(timeout => 30)
                ->get(site($paths[$i]), Cookie => $cookie);
            open my $fh, '>', "$dir/$i" or POSIX::_exit(1);
            print $fh JSON::PP::encode_json({
                code => $res->code, body => $res->decoded_content // '',
                set_cookie => scalar($res->header('Set-Cookie')) // '',
                retry_after => $res->header('Retry-After') // '' });
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid $_, 0 for @kids;
    return map {
        open my $fh, '<', "$dir/$_" or die "$dir/$_: $!";
        local $/;
        my $answer = JSON::PP::decode_json(<$fh>);
        close $fh;
        $answer->{json} = eval { JSON::PP::decode_json($answer->{body}) } || {};
        $answer;
    } 0 .. $#paths;
}

# The whole dance; returns the callback's response.
sub login {
    my ($ua, $app, $next, $user, $param) = @_;
    my $res = login_redirect($ua, $app, $next);
    die "login: " . $res->status_line unless $res->code == 302;
    return $ua->get(approve($res->header('Location'), $user, $param));
}

# http://HOST:PORT of one of the test httpd's virtual hosts.
sub vhost_base {
    my $vhost = shift;
    Apache::TestRequest::module($vhost);
    my $hp = Apache::TestRequest::hostport();
    Apache::TestRequest::module('default');
    return "http://$hp";
}

# A GET from a browser that keeps the codec_session cookie itself (cookie
# jars do not tell ports apart, and the virtual hosts differ only by
# port): the answer, and the cookie it set, if any.
sub codec_get {
    my ($url, $cookie, %h) = @_;
    my $res = LWP::UserAgent->new(max_redirect => 0)->get(
        $url, Accept => 'application/json', ($cookie ? (Cookie => "codec_session=$cookie") : ()), %h);
    my ($set) = map { /^codec_session=([^;]*)/ ? $1 : () } $res->header('Set-Cookie');
    return ($res, $set);
}

1;
