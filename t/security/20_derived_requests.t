# Requests httpd derives from the client's, beyond subrequests and plain
# internal redirects (05_subrequests.t): a fast redirect, where mod_dir
# hands the main request its index file's configuration after the fact,
# and an ErrorDocument after a failed API call, which shares the API
# request's header table. Neither may carry the client's X-OAuth-* to a
# backend, nor the user's token to the error page's target.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);
use OAC::Hostile qw(backend_reset backend_requests header_of);

plan tests => 8;

provider_config();
my $ua = browser();
login($ua, 'local', undef, 'alice');

# --- fast redirect: GET /fastidx/ is served by index.cgi ---------------
my $env = json_of($ua->get(site('/fastidx/'), Accept => 'application/json',
                           'X-OAuth-User' => 'admin',
                           'X-OAuth-Access-Token' => 'forged',
                           'X_OAuth_Scope' => 'forged'));
ok t_cmp($env->{OAUTH_APP}, 'local', 'fast redirect: the index CGI gets the module\'s variables');
ok t_cmp($env->{OAUTH_USER}, 'alice', 'fast redirect: the module\'s own OAUTH_USER');
ok t_cmp($env->{HTTP_X_OAUTH_USER} // 'absent', 'absent',
         'fast redirect: the client\'s X-OAuth-User does not reach the CGI');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN} // 'absent', 'absent',
         'fast redirect: nor its X-OAuth-Access-Token');
ok t_cmp($env->{HTTP_X_OAUTH_SCOPE} // 'absent', 'absent', 'fast redirect: nor an underscore spelling');

# --- ErrorDocument after an API call whose upstream is down -------------
my $api = browser();
login($api, 'deadapi');
backend_reset();
my $res = $api->get(site('/api/deadapi/me'), Accept => 'application/json',
                    'Sec-Fetch-Site' => 'same-origin');
my @seen = grep { $_->{target} =~ m{^/errdoc/} } @{ backend_requests() };
ok t_cmp(scalar(@seen), 1, 'the API upstream is down: the ErrorDocument target was asked once');
ok t_cmp(@seen ? header_of($seen[0], 'Accept') : undef, 'application/json',
         'with the client\'s own headers');
my $auth = @seen ? header_of($seen[0], 'Authorization') : undef;
ok t_cmp(defined $auth && $auth =~ /^Bearer / ? 'token sent' : 'no token', 'no token',
         'the ErrorDocument target does not get the user\'s token');
