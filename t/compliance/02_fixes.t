# Each built-in fix against the provider in the matching quirk mode: the
# login (or API call) fails or misreads without the fix and works with it.
# Quirks that are harmless to accept work with no fix at all.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);

plan tests => 17;

sub login_status {
    my ($app, %cfg) = @_;
    provider_config(%cfg);
    my $ua = browser();
    my $res = login($ua, $app);
    return ($res->code, $ua, $res);
}

# Facebook: text/plain form body with "expires"
my ($code, $ua) = login_status('fbnofix', token_endpoint_mode => 'text_plain',
                               token_response_quirks => ['expires_alias']);
ok t_cmp($code, 302, 'facebook quirk, no fix: the text/plain form body is accepted anyway');
my $env = json_of($ua->get(site('/fb/nofix/echo')));
ok t_cmp(exists $env->{HTTP_X_OAUTH_EXPIRES_AT} ? 'known' : 'unknown', 'unknown',
         'facebook quirk, no fix: the expiry is lost');
($code, $ua) = login_status('fbfix', token_endpoint_mode => 'text_plain',
                            token_response_quirks => ['expires_alias']);
$env = json_of($ua->get(site('/fb/fix/echo')));
ok t_cmp($code, 302, 'facebook fix: login works');
ok t_cmp(($env->{HTTP_X_OAUTH_EXPIRES_AT} || 0) > time ? 'known' : 'unknown', 'known',
         'facebook fix: "expires" read as the expiry');

# Slack: the user's token under authed_user
my $res;
($code, undef, $res) = login_status('fbnofix', token_response_quirks => ['slack_nested']);
ok t_cmp($code, 502, 'slack quirk, no fix: no access_token at the top, login fails');
ok t_cmp($res->content, qr/no access_token/, 'slack quirk, no fix: says why');
($code) = login_status('slackfix', token_response_quirks => ['slack_nested']);
ok t_cmp($code, 302, 'slack fix: login works');

# camelCase fields, by the built-in fix and by token_field_map
($code) = login_status('fbnofix', token_response_quirks => ['camel_case']);
ok t_cmp($code, 502, 'camelCase quirk, no fix: login fails');
($code) = login_status('camelfix', token_response_quirks => ['camel_case']);
ok t_cmp($code, 302, 'camelcase fix: login works');
($code) = login_status('camelmap', token_response_quirks => ['camel_case']);
ok t_cmp($code, 302, 'token_field_map (no C): login works');

# LinkedIn: the token as ?oauth2_access_token= on API calls
($code, $ua) = login_status('linkedin');
my $echo = json_of($ua->get(site('/api/linkedin/me')));
ok t_cmp($echo->{auth}, 'linkedin-query', 'linkedin fix: token sent as oauth2_access_token');
login($ua, 'local');
$echo = json_of($ua->get(site('/api/local/me')));
ok t_cmp($echo->{auth}, 'bearer-header', 'without the fix: the Authorization header');

# harmless quirks need no fix
for my $quirk (qw(expires_in_string expires_in_zero token_type_lowercase no_token_type)) {
    ($code) = login_status('fbnofix', token_response_quirks => [$quirk]);
    ok t_cmp($code, 302, "$quirk: accepted without a fix");
}
# an error with status 200 is an error, fix or not
($code, undef, $res) = login_status('fbnofix', token_endpoint_mode => 'error_200');
ok t_cmp($code, 502, 'error field with HTTP 200: the login fails');
provider_config();
