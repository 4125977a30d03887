# A refresh whose result is too large to hand to the parallel requests
# waiting for it (over OAC_HANDOFF_MAX_RESULT, 16 KiB: here the refresh
# brings access and refresh tokens of 7,990 bytes each, near the 8,000
# the module takes, and a scope of 60 names).
#
# Sessions on the server (OAC_SESSION_STORE=dbd): the request that
# refreshed stores the new token. The waiters must not take the
# hand-off's silence for a failed refresh and log the user out, nor
# refresh again with the spent refresh token: they go on with the token
# they have while it is valid (round 1), answer 503 with Retry-After once
# it has expired (round 2), leave the session alone, and the next request
# finds the new token.
#
# Cookie sessions: no cookie holds such a token, so the refresher's
# session is not sent (OAC00014, 05_large_tokens.t) and the browser would
# keep the spent refresh token: there the waiters log the user out, as
# for a failed refresh, and nobody sends it again.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login json_of cookie_of log_size log_lines_since parallel_get);

my $n = 6;
my $dbd = ($ENV{OAC_SESSION_STORE} || 'cookie') eq 'dbd';
plan tests => $dbd ? 15 : 6;

sub counters {
    my $status = json_of(browser()->get(site('/oauthclient-status?json')));
    my ($app) = grep { $_->{name} eq 'big3' } @{ $status->{apps} };
    return $app->{counters};
}

# Logs in with small tokens living $lifetime seconds (a code as long as
# the large tokens would not fit the callback's URL), waits $wait
# seconds, then sends $n requests at once while the provider's token
# endpoint takes a second and its refresh brings the large tokens.
# Returns [code, auth, Set-Cookie, Retry-After] per request.
sub parallel_round {
    my ($lifetime, $wait) = @_;
    provider_config(access_token_lifetime => $lifetime);
    my $ua = browser();
    login($ua, 'big3', '/after');
    sleep $wait if $wait;
    provider_post('/_control/config', {
        token_endpoint_mode => 'slow:1',
        token_length => 7990,
        refresh_override => { scope => join(' ', map { "scope.$_" } 1 .. 60) },
    });
    my @out = map {
        [ $_->{code}, $_->{json}{auth} // '', $_->{set_cookie}, $_->{retry_after} ];
    } parallel_get(cookie_of($ua), map { "/api/big3/parallel/$_" } 1 .. $n);
    provider_post('/_control/config', { token_endpoint_mode => 'normal' });
    return @out;
}

sub session_of {
    my ($set_cookie) = @_;
    return ($set_cookie // '') =~ /^(oac_session=[^;]*)/ ? $1 : '';
}

my $failed_before = counters()->{refresh_failed};

if ($dbd) {
    # Round 1: tokens that live 30 s are refreshed at once (60 s margin)
    # and are still good meanwhile.
    my $start = log_size();
    my @r = parallel_round(30, 0);
    my $stats = provider_get('/_control/stats');
    my @set = grep { session_of($_->[2]) } @r;
    ok t_cmp(scalar(grep { $_->[0] eq '200' && $_->[1] eq 'bearer-header' } @r), $n,
             "all $n parallel requests succeeded (none logged out)");
    ok t_cmp($stats->{refresh_requests}, 1, 'exactly one refresh call at the provider');
    ok t_cmp($stats->{refresh_token_reuse}, 0, 'the spent refresh token was not sent again');
    ok t_cmp(counters()->{refresh_failed} - $failed_before, 0, 'no refresh counted as failed');
    ok t_cmp(scalar @set, 1, 'only the request that refreshed saved the session');
    my @said = log_lines_since($start, qr/OAC00136/);
    ok t_cmp(scalar(@said) . ' ' . ($said[0] // ''),
             qr/^1 .*app big3: the refreshed token is \d{5} bytes, too large to hand to parallel requests \(at most 16384\): they go on with the token they have/,
             'OAC00136 says it once, with the size and the limit');
    ok t_cmp(scalar(log_lines_since($start, qr/OAC00137.*app big3/)) >= 1 ? 'said' : 'not said', 'said',
             'the waiters say why they leave the session alone (OAC00137)');
    # The stored session holds the new tokens: its refresh token (the
    # token lives 30 s, so this refreshes again) is accepted.
    my $res = LWP::UserAgent->new(timeout => 30)
        ->get(site('/api/big3/after'), Cookie => session_of($set[0][2]));
    ok t_cmp($res->code, 200, 'the next request, with the stored session, is served');
    $stats = provider_get('/_control/stats');
    ok t_cmp("$stats->{refresh_requests} $stats->{refresh_token_reuse}", '2 0',
             'by refreshing with the new refresh token, not the spent one');

    # Round 2: the token in hand has expired (it lived 2 s): the waiters
    # cannot go on with it, and ask the browser to come back.
    $start = log_size();
    @r = parallel_round(2, 3);
    $stats = provider_get('/_control/stats');
    my @served = grep { $_->[0] eq '200' } @r;
    my @later = grep { $_->[0] eq '503' } @r;
    ok t_cmp(scalar(@served) . ' ' . scalar(@later), '1 ' . ($n - 1),
             'the request that refreshed is served, the others answer 503');
    ok t_cmp(join(',', map { $_->[3] } @later), join(',', ('2') x ($n - 1)),
             'each 503 with Retry-After: 2');
    ok t_cmp(scalar(grep { session_of($_->[2]) } @later), 0,
             'none of them touched the session');
    ok t_cmp(scalar(log_lines_since($start, qr/OAC00138.*app big3: answering 503/)), $n - 1,
             'each 503 is logged as a warning (OAC00138)');
    $res = LWP::UserAgent->new(timeout => 30)
        ->get(site('/api/big3/again'), Cookie => session_of($served[0][2]));
    ok t_cmp($res->code, 200, 'the browser, back with the stored session, is served');
    $stats = provider_get('/_control/stats');
    ok t_cmp("$stats->{refresh_requests} $stats->{refresh_token_reuse}", '2 0',
             'two refreshes, each with a refresh token never used before');
}
else {
    my $start = log_size();
    my @r = parallel_round(30, 0);
    my $stats = provider_get('/_control/stats');
    my @failed = grep { $_->[0] eq '500' } @r;
    my @out = grep { $_->[0] eq '401' } @r;
    ok t_cmp(scalar(@failed) . ' ' . scalar(@out), '1 ' . ($n - 1),
             'the refresher fails on the session too large for a cookie, the others are logged out');
    ok t_cmp(scalar(grep { session_of($_->[2]) } @out), $n - 1,
             'each of those sends the session without the spent token');
    my @said = log_lines_since($start, qr/OAC00136/);
    ok t_cmp($said[0] // '', qr/app big3: .*too large to hand to parallel requests \(at most 16384\), and a session cookie cannot hold it either: they log the user out/,
             'OAC00136 says why');
    ok t_cmp(scalar(log_lines_since($start, qr/OAC00014/)), 1, 'the refresher says its cookie was too large (OAC00014)');
    my $res = LWP::UserAgent->new(timeout => 30)
        ->get(site('/api/big3/after'), Cookie => session_of($out[0][2]));
    ok t_cmp($res->code, 401, 'the browser is logged out');
    $stats = provider_get('/_control/stats');
    ok t_cmp("$stats->{refresh_requests} $stats->{refresh_token_reuse}", '1 0',
             'and the spent refresh token is never sent again');
}
