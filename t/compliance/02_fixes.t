# Each built-in fix against the provider in the matching quirk mode: the
# login (or API call) fails or misreads without the fix and works with it.
# Quirks that are harmless to accept work with no fix at all.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);

plan tests => 28;

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

# Slack: the user's token under authed_user (type "user"), the workspace
# bot's at the top level (type "bot")
my $res;
($code, undef, $res) = login_status('fbnofix', token_response_quirks => ['slack_nested']);
ok t_cmp($code, 502, "slack quirk, no fix: the bot's token at the top is refused, login fails");
ok t_cmp($res->content, qr/token_type 'bot'/, 'slack quirk, no fix: says why');
($code, $ua) = login_status('slackfix', token_response_quirks => ['slack_nested']);
ok t_cmp($code, 302, 'slack fix: login works');
$env = json_of($ua->get(site('/slack/fix/echo')));
ok t_cmp(($env->{HTTP_X_OAUTH_ACCESS_TOKEN} // '') =~ /^at-/ ? "the user's" : ($env->{HTTP_X_OAUTH_ACCESS_TOKEN} // 'none'),
         "the user's", "slack fix: the user's token is the login's, not the bot's");

# camelCase fields, by the built-in fix and by token_field_map
($code) = login_status('fbnofix', token_response_quirks => ['camel_case']);
ok t_cmp($code, 502, 'camelCase quirk, no fix: login fails');
($code) = login_status('camelfix', token_response_quirks => ['camel_case']);
ok t_cmp($code, 302, 'camelcase fix: login works');
($code) = login_status('camelmap', token_response_quirks => ['camel_case']);
ok t_cmp($code, 302, 'token_field_map (no C): login works');

# LinkedIn and Weibo: an API that reads the token from one query parameter
# only (the provider in api_token_param mode refuses any other placement)
my $echo;
for my $case (['linkedin', 'oauth2_access_token', 'linkedin-query'],
              ['weibo', 'access_token', 'bearer-query']) {
    my ($fix, $param, $placement) = @$case;
    ($code, $ua) = login_status($fix, api_token_param => $param);
    $res = $ua->get(site("/api/$fix/me"));
    $echo = json_of($res);
    ok t_cmp($res->code . ' ' . ($echo->{auth} || ''), "200 $placement",
             "$fix fix: token sent as ?$param=, the API answers");
    ($code, $ua) = login_status('local', api_token_param => $param);
    $res = $ua->get(site('/api/local/me'));
    ok t_cmp($res->code, 400, "$fix quirk, no fix: the Authorization header is refused");
}

# harmless quirks need no fix
my %expiry = (expires_in_string => 'known', expires_in_zero => 'unknown',
              token_type_lowercase => 'known', no_token_type => 'known');
for my $quirk (qw(expires_in_string expires_in_zero token_type_lowercase no_token_type)) {
    ($code, $ua) = login_status('fbnofix', token_response_quirks => [$quirk]);
    ok t_cmp($code, 302, "$quirk: accepted without a fix");
    $env = json_of($ua->get(site('/fb/nofix/echo')));
    ok t_cmp(($env->{HTTP_X_OAUTH_EXPIRES_AT} || 0) > time ? 'known' : 'unknown',
             $expiry{$quirk}, "$quirk: expiry $expiry{$quirk}");
    $echo = json_of($ua->get(site('/api/fbnofix/me')));
    my %h = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} || {} };
    ok t_cmp($h{authorization} || '', qr/^Bearer \S/, "$quirk: API calls say Bearer");
}
# an error with status 200 is an error, fix or not
($code, undef, $res) = login_status('fbnofix', token_endpoint_mode => 'error_200');
ok t_cmp($code, 502, 'error field with HTTP 200: the login fails');
provider_config();
