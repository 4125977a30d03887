# Logout revokes the app's tokens at the provider (RFC 7009, contract §9):
# the refresh token, then the access token, best effort. A provider that
# fails does not keep the user logged in; the revoke_token_request hook sees
# (and may change, or fail) each call; apps without revocation_endpoint make
# no call.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_get provider_config login json_of);

plan tests => 20;

my $log_file = Apache::Test::vars('t_logs') . '/error_log';

# The access token the provider's API sees for this browser's session.
sub access_token_of {
    my ($ua, $app) = @_;
    my $echo = json_of($ua->get(site("/api/$app/me")));
    my ($token) = ($echo->{headers}{Authorization} // '') =~ /^Bearer (\S+)$/;
    return $token;
}

sub provider_api_with {
    my $token = shift;
    return LWP::UserAgent->new->get("$ENV{OAC_PROVIDER}/api/me",
                                    Authorization => "Bearer $token")->code;
}

sub logout {
    my ($ua, $app) = @_;
    return $ua->get(site("/oauth/$app/logout?next=/bye"));
}

provider_config();
my $ua = browser();
ok t_cmp(login($ua, 'revoker')->code, 302, 'logged in');
my $token = access_token_of($ua, 'revoker');
ok t_cmp(defined $token ? provider_api_with($token) : 'no token', 200,
         'the access token works at the provider');

my $res = logout($ua, 'revoker');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/bye'),
         'logout redirects as usual');
my $rev = provider_get('/_control/stats')->{revocations};
ok t_cmp(scalar(@$rev), 2, 'two revocation calls');
ok t_cmp(join(',', map { "$_->{token_type_hint}:$_->{revoked}" } @$rev),
         'refresh_token:refresh_token,access_token:access_token',
         'the refresh token first, then the access token, each one revoked');
ok t_cmp($rev->[0]{client_id}, 'oauth2-client', 'with the client authenticated');
ok t_cmp(provider_api_with($token), 401, 'the access token no longer works at the provider');
ok t_cmp($ua->get(site('/api/revoker/me'))->code, 401, 'and the user is logged out here');

# without a refresh token: the access token only
provider_config(issue_refresh_token => JSON::PP::false());
$ua = browser();
login($ua, 'revoker');
logout($ua, 'revoker');
$rev = provider_get('/_control/stats')->{revocations};
ok t_cmp(join(',', map { $_->{token_type_hint} } @$rev), 'access_token',
         'no refresh token: only the access token is revoked');

# the provider fails: the user is logged out all the same, the log says so
provider_config(endpoint_modes => { '/oauth2/revoke' => 'error500' });
$ua = browser();
login($ua, 'revoker');
$token = access_token_of($ua, 'revoker');
my $start = -s $log_file;
$res = logout($ua, 'revoker');
ok t_cmp($res->code, 302, 'a failing revocation endpoint: logout still redirects');
ok t_cmp($ua->get(site('/api/revoker/me'))->code, 401, 'and the user is logged out');
open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @lines = grep { /OAC00097/ } <$fh>;
close $fh;
ok t_cmp(scalar(@lines), 1, 'one warning (OAC00097)');
ok t_cmp($lines[0] // '', qr/revoking the tokens at logout failed .*HTTP 500/, 'saying what failed');
ok t_cmp(index($lines[0] // '', $token) < 0 ? 'no token' : 'token in the log', 'no token',
         'without the token');

# the revoke_token_request hook (t/modules/mod_oac_hooktest.c)
provider_config();
$ua = browser();
login($ua, 'hooktest');
logout($ua, 'hooktest');
$rev = provider_get('/_control/stats')->{revocations};
ok t_cmp(scalar(@$rev), 2, 'hooktest: both calls made');
ok t_cmp(join(',', map { join('+', @{ $_->{params} }) } @$rev),
         'hooktest+token+token_type_hint,hooktest+token+token_type_hint',
         'each with the parameter the hook added');

# a hook that fails the call chooses the status; the user is logged out
provider_config();
$ua = browser();
login($ua, 'hooktest');
$res = $ua->get(site('/oauth/hooktest/logout'), 'X-Hooktest-Deny-Revoke' => 1);
ok t_cmp($res->code, 403, 'a failing revoke_token_request hook: its status reaches the browser');
ok t_cmp(scalar(@{ provider_get('/_control/stats')->{revocations} }), 0,
         'no revocation call is sent');
ok t_cmp($ua->get(site('/api/hooktest/me'))->code, 401, 'and the user is logged out all the same');

# an app without revocation_endpoint makes no call
$ua = browser();
login($ua, 'local');
logout($ua, 'local');
ok t_cmp(scalar(@{ provider_get('/_control/stats')->{revocations} }), 0,
         'no revocation_endpoint: no call');
