# A refresh whose result is too large to hand to the parallel requests
# waiting for it (over OAC_HANDOFF_MAX_RESULT, 16 KiB: here the refresh
# brings access and refresh tokens of 7,990 bytes each, near the 8,000
# the module takes, and a scope of 60 names). The request that refreshed stores
# the new token; the waiters must not take the hand-off's silence for a
# failed refresh and log the user out, nor refresh again with the spent
# refresh token. They go on with the token they have (still valid here),
# leave the session alone, and the next request finds the new token.
# Only sessions on the server hold such tokens (OAC_SESSION_STORE=dbd);
# with a cookie session the login already fails (05_large_tokens.t).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use JSON::PP ();
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login json_of cookie_of);

my $n = 6;
plan tests => 9, need {
    'sessions on the server (OAC_SESSION_STORE=dbd) for tokens this large'
        => ($ENV{OAC_SESSION_STORE} || 'cookie') eq 'dbd' };

sub counters {
    my $status = json_of(browser()->get(site('/oauthclient-status?json')));
    my ($app) = grep { $_->{name} eq 'big3' } @{ $status->{apps} };
    return $app->{counters};
}

my $log_file = Apache::Test::vars('t_logs') . '/error_log';
sub log_since {
    my ($start, $re) = @_;
    open my $fh, '<', $log_file or die "$log_file: $!";
    seek $fh, $start, 0;
    my @hits = grep { $_ =~ $re } <$fh>;
    close $fh;
    return @hits;
}

my $failed_before = counters()->{refresh_failed};
# Tokens that live 30 s are refreshed at once (60 s margin) and are still
# good meanwhile; the slow token endpoint keeps the refresh in flight while
# the other requests arrive and wait for it.
# The login's tokens are small (a code that long would not fit the
# callback's URL); the refresh brings the large ones.
provider_config(access_token_lifetime => 30);
my $ua = browser();
login($ua, 'big3', '/after');
provider_post('/_control/config', {
    token_endpoint_mode => 'slow:1',
    token_length => 7990,
    refresh_override => { scope => join(' ', map { "scope.$_" } 1 .. 60) },
});
my $cookie = cookie_of($ua);
my $start = -s $log_file;

my $dir = tempdir(CLEANUP => 1);
my @kids;
for my $i (1 .. $n) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my $res = LWP::UserAgent->new(timeout => 30)
            ->get(site("/api/big3/parallel/$i"), Cookie => $cookie);
        my $echo = eval { JSON::PP::decode_json($res->content) } || {};
        open my $fh, '>', "$dir/$i" or die "$dir/$i: $!";
        print $fh join("\n", $res->code, $echo->{auth} // '',
                       scalar($res->header('Set-Cookie')) // ''), "\n";
        close $fh;
        exit 0;
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;

my (@ok, @set);
for my $i (1 .. $n) {
    open my $fh, '<', "$dir/$i" or die "$dir/$i: $!";
    chomp(my @l = <$fh>);
    close $fh;
    push @ok, $i if $l[0] eq '200' && $l[1] eq 'bearer-header';
    push @set, $l[2] if ($l[2] // '') =~ /^oac_session=/;
}
my $stats = provider_get('/_control/stats');
ok t_cmp(scalar @ok, $n, "all $n parallel requests succeeded (none logged out)");
ok t_cmp($stats->{refresh_requests}, 1, 'exactly one refresh call at the provider');
ok t_cmp($stats->{refresh_token_reuse}, 0, 'the spent refresh token was not sent again');
ok t_cmp(counters()->{refresh_failed} - $failed_before, 0, 'no refresh counted as failed');
ok t_cmp(scalar @set, 1, 'only the request that refreshed saved the session');
my @warn = log_since($start, qr/OAC00136/);
ok t_cmp(scalar(@warn) . ' ' . ($warn[0] // ''),
         qr/^1 .*app big3: the refreshed token is \d{5} bytes, too large to hand to parallel requests \(at most 16384\)/,
         'OAC00136 says it once, with the size and the limit');
ok t_cmp(scalar(log_since($start, qr/OAC00137.*app big3/)) >= 1 ? 'said' : 'not said', 'said',
         'the waiters say why they leave the session alone (OAC00137)');

# The session the refresher stored holds the new tokens: its refresh
# token (the token lives 30 s, so this refreshes again) is accepted.
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
my ($session) = $set[0] =~ /^(oac_session=[^;]*)/;
my $res = LWP::UserAgent->new(timeout => 30)
    ->get(site('/api/big3/after'), Cookie => $session // '');
ok t_cmp($res->code, 200, 'the next request, with the stored session, is served');
$stats = provider_get('/_control/stats');
ok t_cmp("$stats->{refresh_requests} $stats->{refresh_token_reuse}", '2 0',
         'by refreshing with the new refresh token, not the spent one');
