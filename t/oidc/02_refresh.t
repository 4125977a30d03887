# Refresh with rotation against a real OpenID Provider (oidc-provider,
# t/op/op.mjs): op-short's access tokens live 30 s, inside the module's
# 60 s margin, so each protected request refreshes first. The OP rotates
# the refresh token on each use; the module must store and use the new
# one, and the OP refuses the old one (and, replayed, revokes the grant:
# the module then logs the user out).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site json_of);
use OAC::OP qw(op_log op_reset op_login op_token op_introspect);

plan tests => 17;

my @client = ('op-short', 'op-short-secret');

op_reset();
my $ua = browser();
my $r = op_login($ua, 'opshort', next => '/opshort/echo');
ok t_cmp($r->{response}->code, 302, 'logged in');
my @tokens = @{ op_log()->{tokens} };
my $first = $tokens[0]{body} || {};
ok t_cmp($first->{expires_in} // 0, 30, 'the OP issued a 30 s access token');
my $rt1 = $first->{refresh_token} // 'none';

# the first use: refreshed before it (a second later: the OP's refresh
# id_token, RS256 and with the login's nonce, would otherwise be the same
# string as the login's, iat included)
sleep 1;
my $echo = json_of($ua->get(site('/opshort/echo')));
@tokens = @{ op_log()->{tokens} };
ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}" } @tokens),
         'authorization_code:200,refresh_token:200',
         'the expiring access token was refreshed before use, and the OP accepted the refresh');
ok t_cmp($tokens[1]{client_id} // '', 'op-short', 'the refresh authenticated as the client');
my $second = $tokens[1]{body} || {};
my $rt2 = $second->{refresh_token} // 'none';
ok t_cmp($rt2 ne $rt1 ? 'rotated' : 'same', 'rotated', 'the OP rotated the refresh token');
ok t_cmp($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '', $second->{access_token} // 'none',
         'the backend gets the refreshed access token');
ok t_cmp($echo->{REMOTE_USER} // '', '248289761001', 'still the same user');
# OpenID Connect Core 12.2: the OP's refresh response has an id_token, which
# the module checks and forwards instead of the login's
ok t_cmp(defined $second->{id_token} && $second->{id_token} ne ($first->{id_token} // '')
             ? 'a new id_token' : 'none', 'a new id_token', "the OP's refresh response has a new id_token");
ok t_cmp(($echo->{HTTP_X_OAUTH_ID_TOKEN} // '') eq ($second->{id_token} // 'none') ? 'the refresh\'s' : 'another',
         "the refresh's", "the backend gets the refresh's id_token");

# the second use: refreshed with the new refresh token (the old one would
# be refused, and its replay would revoke the grant)
$echo = json_of($ua->get(site('/opshort/echo')));
@tokens = @{ op_log()->{tokens} };
ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}" } @tokens[2 .. $#tokens]),
         'refresh_token:200', 'the next request refreshed again, accepted: the rotated token was stored');
my $third = $tokens[2]{body} || {};
ok t_cmp($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '', $third->{access_token} // 'none',
         'the backend gets that access token');
ok t_cmp(op_introspect(\@client, $rt1, 'refresh_token')->{active} ? 'active' : 'inactive',
         'inactive', 'the OP says the first refresh token is no longer active');

my $rt3 = $third->{refresh_token} // 'none';
ok t_cmp(op_introspect(\@client, $rt3, 'refresh_token')->{active} ? 'active' : 'inactive',
         'active', "and the module's current one is");

# the first refresh token, replayed by someone else: refused by the OP,
# which revokes the whole grant (oidc-provider's reuse detection)
my ($code, $doc) = op_token(\@client, [ grant_type => 'refresh_token', refresh_token => $rt1 ]);
ok t_cmp("$code " . ($doc->{error} // ''), '400 invalid_grant', 'the OP refuses the rotated-out refresh token');
ok t_cmp(op_introspect(\@client, $rt3, 'refresh_token')->{active} ? 'active' : 'inactive',
         'inactive', "and revokes the grant: the module's current refresh token too");

# the module's next refresh is refused: the user is logged out here
my $res = $ua->get(site('/opshort/echo'));
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''),
         qr{^302 .*/oauth/opshort/login}, 'a refused refresh logs the user out: sent to log in again');
ok t_cmp($ua->get(site('/opshort/echo'), Accept => 'application/json')->code, 401,
         'and the tokens are gone from the session');
