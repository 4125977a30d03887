# An id_token in a refresh response (OpenID Connect Core 12.2): checked
# as at login (signature, iss, aud, exp, iat, at_hash) and against the
# login's id_token (the same sub, iss, aud, azp and auth_time; no nonce
# unless the login's), then it replaces the session's, so that
# OAuthForwardTokens passes a current id_token, not the login's long
# expired one. Refused, it ends the session (OAC00134): a provider
# answering for another user, or with an id_token it did not sign, is not
# trusted with the session. Not checkable for want of the provider's key
# (OAC00135), it is not stored and the session goes on. Parallel requests
# that wait for one refresh all get the new id_token. The claims follow
# it (Require oauth-claim, OAuthForwardClaims); userinfo's stay.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 qw(decode_base64url);
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login json_of cookie_of log_size log_since);

plan tests => 69;

my $echo_path = '/oidcrefresh/echo';     # OAuthForwardTokens On

sub claims_of {
    my ($jwt) = @_;
    my (undef, $payload) = split /\./, $jwt // '';
    return eval { JSON::PP::decode_json(decode_base64url($payload // '')) } || {};
}
sub stats { provider_get('/_control/stats') }
sub refreshes { stats()->{refresh_requests} }
sub fresh_login {
    my (%cfg) = @_;
    # 30 s tokens: every request refreshes first (the module's margin is 60 s)
    provider_config(access_token_lifetime => 30, refresh_id_token => JSON::PP::true, %cfg);
    my $ua = browser();
    login($ua, 'oidcrefresh', '/after', 'alice');
    return ($ua, stats()->{last_id_token});
}
# id_tokens compared, not printed: the verbose output stays readable
sub same { my ($x, $y) = @_; return ($x // 'none') eq ($y // '') ? 'the same' : 'different' }
sub echo { my ($ua) = @_; return json_of($ua->get(site($echo_path))) }
# The X-OAuth-Claim-NAME headers path's backend got, '-' for one it did not.
sub forwarded {
    my ($ua, $path, @names) = @_;
    my $e = json_of($ua->get(site($path)));
    return join ' | ', map { $e->{"HTTP_X_OAUTH_CLAIM_$_"} // '-' } @names;
}

# ---- 1. a refresh's id_token replaces the login's -----------------------
my ($ua, $login_id) = fresh_login();
my $login = claims_of($login_id);
ok t_cmp(defined $login->{nonce} ? 'nonce' : 'none', 'nonce', "the login's id_token has the login's nonce");

my $echo = echo($ua);
my $st = stats();
ok t_cmp($st->{refresh_requests}, 1, 'the expiring token was refreshed before use');
my $new_id = $st->{last_id_token};
ok t_cmp($new_id ne $login_id ? 'new' : 'same', 'new', 'the provider sent a new id_token with the refresh');
ok t_cmp(same($echo->{HTTP_X_OAUTH_ID_TOKEN}, $new_id), 'the same',
         "the backend gets the refresh's id_token, not the login's");
my $c = claims_of($echo->{HTTP_X_OAUTH_ID_TOKEN});
ok t_cmp(join(',', $c->{sub} // '', $c->{auth_time} // '', exists $c->{nonce} ? 'nonce' : 'no nonce'),
         join(',', $login->{sub}, $login->{auth_time}, 'no nonce'),
         "the same user and authentication time, no nonce (OpenID Connect Core 12.2)");
ok t_cmp($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '', qr/^at-/, 'and the refreshed access token');

# the next request refreshes again and stores the id_token of that refresh
$echo = echo($ua);
$st = stats();
ok t_cmp($st->{refresh_requests}, 2, 'refreshed again');
ok t_cmp(($echo->{HTTP_X_OAUTH_ID_TOKEN} // '') eq $st->{last_id_token} && $st->{last_id_token} ne $new_id
             ? 'the latest' : 'stale', 'the latest', "the backend gets that refresh's id_token");

# a refresh response without an id_token keeps the stored one
provider_post('/_control/config', { refresh_id_token => JSON::PP::false });
my $kept = $st->{last_id_token};
$echo = echo($ua);
ok t_cmp(refreshes(), 3, 'refreshed, the response without an id_token');
ok t_cmp(same($echo->{HTTP_X_OAUTH_ID_TOKEN}, $kept), 'the same', 'the stored id_token stays');
ok t_cmp($echo->{REMOTE_USER} // '', $login->{sub}, 'the user still logged in');

# ---- 2. parallel requests waiting for one refresh ------------------------
provider_post('/_control/config', { refresh_id_token => JSON::PP::true, token_endpoint_mode => 'slow:1' });
my $n = 6;
my $before = refreshes();
my $cookie = cookie_of($ua);
my @kids;
pipe(my $rd, my $wr) or die "pipe: $!";
for my $i (1 .. $n) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $rd;
        my $res = LWP::UserAgent->new(timeout => 30)->get(site($echo_path), Cookie => $cookie);
        my $e = eval { JSON::PP::decode_json($res->content) } || {};
        syswrite $wr, $res->code . ' ' . ($e->{HTTP_X_OAUTH_ID_TOKEN} // '-') . "\n";
        exit 0;
    }
    push @kids, $pid;
}
close $wr;
my @answers = <$rd>;
close $rd;
waitpid $_, 0 for @kids;
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
chomp @answers;
$st = stats();
ok t_cmp($st->{refresh_requests} - $before, 1, "$n parallel requests: one refresh at the provider");
ok t_cmp(scalar(grep { $_ eq "200 $st->{last_id_token}" } @answers), $n,
         "all $n got that refresh's id_token (the waiters from the hand-off)");

# ---- 3. refused id_tokens end the session --------------------------------
sub refused {
    my ($what, $override, $why) = @_;
    my ($ua2) = fresh_login();
    provider_post('/_control/config', $override);
    my $start = log_size();
    my $n0 = refreshes();
    my $res = $ua2->get(site($echo_path));
    ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), qr{^302 .*/oauth/oidcrefresh/login},
             "$what: the user is sent to log in again");
    ok t_cmp($res->content =~ /REMOTE_USER/ ? 'reached' : 'not reached', 'not reached',
             "$what: the backend is not reached");
    my $line = log_since($start, qr/OAC00134/);
    ok t_cmp($line, $why, "$what: OAC00134 says why");
    my $id = stats()->{last_id_token} // 'none';
    ok t_cmp(index($line, $id) < 0 && $line !~ /at-|rt-/ ? 'no token' : 'token in the log', 'no token',
             "$what: no token in the log line");
    $res = $ua2->get(site($echo_path));
    ok t_cmp($res->code . ' ' . (refreshes() - $n0), qr{^302 1$},
             "$what: the session's tokens are gone (no second refresh)");
}

refused('another sub', { id_token_override => { sub => 'someone-else' } },
        qr/app oidcrefresh: the refresh response's id_token is refused, the user must log in again: id_token: its sub is not the login's/);
refused('a bad signature', { id_token_mode => 'bad_signature' },
        qr/app oidcrefresh: the refresh response's id_token is refused.*: id_token: .*signature/);
refused('a nonce', { id_token_override => { nonce => 'not-the-logins' } },
        qr/id_token is refused.*: id_token: it has a nonce, not the login's/);
refused('another auth_time', { id_token_override => { auth_time => 1 } },
        qr/id_token is refused.*: id_token: its auth_time is not the login's/);
# the checks of a login, on the refresh's access token
refused('an at_hash of another access token', { id_token_override => { at_hash => 'AAAAAAAAAAAAAAAAAAAAAA' } },
        qr/id_token is refused.*: id_token: .*at_hash/);

# OpenID Connect Core 12.2 beyond the login's checks: an azp the login's
# id_token did not have, another audience (an azp naming the client, so
# the checks of a login alone would pass)
refused('an azp added', { id_token_override => { azp => 'oauth2-client' } },
        qr/id_token is refused.*: id_token: its iss, aud or azp is not the login's/);
refused('another audience', { id_token_override => { aud => [ 'oauth2-client', 'another-client' ],
                                                     azp => 'oauth2-client' } },
        qr/id_token is refused.*: id_token: its iss, aud or azp is not the login's/);

# ---- 3b. the claims follow the refreshed id_token -------------------------
# A user taken out of a group at the provider loses what a 'Require
# oauth-claim' rule gave at the next refresh, not at the session's end.
# Claims only userinfo gave (address) stay as at login.
{
    my ($ua4) = fresh_login();
    my $claims = sub { forwarded($ua4, '/oidcrefresh/claims/echo', qw(GROUPS EMAIL ADDRESS)) };
    my $admins = sub { $ua4->get(site('/oidcrefresh/admins/echo'))->code };
    my $addr = qr/"country":"FR"/;
    ok t_cmp($claims->(), qr/^staff,admins \| alice\@example\.org \| .*$addr/,
             "claims after a refresh that changed nothing: the login's");
    ok t_cmp($admins->(), 200, 'an admin passes Require oauth-claim groups:admins');

    provider_post('/_control/config', { id_token_override => { groups => ['staff'] } });
    my $n0 = refreshes();
    ok t_cmp($admins->(), 403, 'out of the admins group at the provider: 403 after the next refresh');
    ok t_cmp(refreshes() - $n0, 1, '(that request refreshed)');
    ok t_cmp($claims->(), qr/^staff \| alice\@example\.org \| .*$addr/,
             "the forwarded groups are the refreshed id_token's; userinfo's address stays");

    # A refresh's id_token need not repeat claims (OpenID Connect Core
    # 12.2): one it lacks is unknown, not removed.
    provider_post('/_control/config', { id_token_override => { groups => undef, email => 'new@example.org' } });
    ok t_cmp($claims->(), qr/^staff \| new\@example\.org \| .*$addr/,
             "a claim the refreshed id_token lacks stays; a changed one follows it");
    provider_post('/_control/config', { id_token_override => { groups => ['admins'] } });
    ok t_cmp($admins->(), 200, 'back in the admins group: 200 after the next refresh');

    # parallel requests waiting for one refresh all renew the same way
    provider_post('/_control/config', { id_token_override => { groups => ['staff', 'ops'] },
                                        token_endpoint_mode => 'slow:1' });
    my $before = refreshes();
    my @got = OAC::Flow::parallel_get(cookie_of($ua4), ('/oidcrefresh/claims/echo') x 4);
    provider_post('/_control/config', { token_endpoint_mode => 'normal' });
    ok t_cmp(refreshes() - $before, 1, '4 parallel requests: one refresh');
    ok t_cmp(join(' ', map { $_->{code} . ':' . ($_->{json}{HTTP_X_OAUTH_CLAIM_GROUPS} // '-') } @got),
             join(' ', ('200:staff,ops') x 4),
             'each forwards the groups of that refresh, the waiters too');
    provider_post('/_control/config', { id_token_override => {} });
}

# Claims too big to keep at login are not renewed from the id_token alone:
# what userinfo gave is gone, so the result would be a guess. None kept:
# rules keep answering 500 (OAC00128), even once the id_token is small.
{
    my ($ua5) = fresh_login(id_token_override => { groups => [ 'g' x 2100, 'admins' ] });
    my $start = log_size();
    ok t_cmp($ua5->get(site('/oidcrefresh/admins/echo'))->code, 500,
             'claims too big at login: a rule on them answers 500');
    provider_post('/_control/config', { id_token_override => { groups => ['admins'] } });
    my $n0 = refreshes();
    ok t_cmp($ua5->get(site('/oidcrefresh/admins/echo'))->code . ' ' . (refreshes() - $n0), '500 1',
             'a refresh with a small id_token does not turn that into a grant');
    ok t_cmp(log_since($start, qr/OAC00128/), qr/app oidcrefresh: the user's claims were too big to keep/,
             'OAC00128 says why');
}
# Only the named claims kept at login (OAuthForwardClaims On asked for
# all, and all were too big): so it stays, or the session would pass on
# the id_token's unnamed claims without userinfo's.
{
    my ($ua6) = fresh_login(id_token_override => { bigjunk => 'j' x 1800 });
    my $all = sub { forwarded($ua6, '/oidcrefresh/all/echo', qw(GROUPS NAME BIGJUNK)) };
    ok t_cmp($all->(), 'staff,admins | - | -', 'all claims too big: only the named ones are passed on');
    provider_post('/_control/config', { id_token_override => { bigjunk => undef, groups => ['staff'] } });
    ok t_cmp($all->(), 'staff | - | -',
             'after a refresh whose id_token would fit: still only the named ones, renewed');
    provider_post('/_control/config', { id_token_override => {} });
}

# ---- 4. the provider's keys rotate ---------------------------------------
# (last: the local provider keeps its new key for the tests after this one,
# none of which logs in to it with OpenID Connect)
sub kid_of {
    my ($jwt) = @_;
    my ($h) = split /\./, $jwt // '';
    return (eval { JSON::PP::decode_json(decode_base64url($h // '')) } || {})->{kid} // '';
}
my ($ua3, $id3) = fresh_login();
provider_post('/_control/rotate_oidc_key');
$echo = echo($ua3);
my $rotated = stats()->{last_id_token};
ok t_cmp(kid_of($rotated) ne kid_of($id3) ? 'new key' : 'same key', 'new key',
         "the provider's refresh id_token is signed with its new key");
ok t_cmp(same($echo->{HTTP_X_OAUTH_ID_TOKEN}, $rotated), 'the same',
         'the module fetched the new key set, checked the id_token and forwards it');

# a second rotation within the minute between fetches for unknown keys: the
# id_token cannot be checked now. The token the provider just issued is
# good and the refresh token spent: the session goes on, with the id_token
# it has.
provider_post('/_control/rotate_oidc_key');
my $start = log_size();
my $access = $echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '';
my $res = $ua3->get(site($echo_path));
$echo = json_of($res);
ok t_cmp($res->code . ' ' . ($echo->{REMOTE_USER} // ''), "200 $login->{sub}", 'the user stays logged in');
ok t_cmp(($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '') ne $access && ($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '') =~ /^at-/
             ? 'refreshed' : 'old', 'refreshed', 'with the refreshed access token');
ok t_cmp(same($echo->{HTTP_X_OAUTH_ID_TOKEN}, $rotated), 'the same', 'and the id_token it had');
ok t_cmp(log_since($start, qr/OAC00135/),
         qr/app oidcrefresh: the refresh response's id_token cannot be checked now, the session keeps the one it has: id_token: kid "[^"]+" names no key of the set; fetching the keys again: jwks_uri was fetched again less than 60 s ago/,
         'OAC00135 says why');
ok t_cmp(log_since($start, qr/OAC00134/), '', 'no refusal logged');
