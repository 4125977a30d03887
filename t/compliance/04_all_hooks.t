# Every compliance hook runs where the header says (t/modules/
# mod_oac_hooktest.c): token responses are rewritten before parsing,
# refresh calls can be changed before sending, protected_request hooks run
# in hook order and a declining one changes nothing.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login json_of
                 cookie_of parallel_get log_size log_lines_since);

plan tests => 19;

# camelCase token responses: only the hook makes them readable
provider_config(token_response_quirks => ['camel_case'], access_token_lifetime => 30);
my $ua = browser();
ok t_cmp(login($ua, 'hooktest')->code, 302, 'access_token_response rewrote the body before parsing');
ok t_cmp(login(browser(), 'local')->code, 502, 'the same response without the hook fails');

# a 30 s token: the API call refreshes first, through the refresh hooks
my $echo = json_of($ua->get(site('/api/hooktest/me')));
my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{refresh_requests}, 1, 'refreshed (refresh_token_response rewrote the camelCase answer)');
my %h = map { lc($_) => $stats->{last_token_request}{headers}{$_} }
        keys %{ $stats->{last_token_request}{headers} };
ok t_cmp($h{'x-hooktest-refresh'}, 'seen', 'refresh_token_request added a header to the refresh call');
ok t_cmp($echo->{auth}, 'bearer-header', 'API call made with the refreshed token');
my %api = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} };
ok t_cmp($api{'x-hooktest-order'}, 'first,second',
         'protected_request hooks ran in hook order; the declining one changed nothing');

# protected_request sees the OAuth 2 token applied, so it can move it
$echo = json_of($ua->get(site('/api/hooktest/me?x=1'), 'X-Hooktest-Move' => 'yes'));
ok t_cmp($echo->{auth}, 'bearer-query', 'protected_request moved the applied token into the query');
ok t_cmp(exists $echo->{headers}{Authorization} ? 'header sent' : 'no header', 'no header',
         'and the Authorization header it removed is not sent');
ok t_cmp($echo->{query}{x}, '1', 'the client\'s own query is kept');
# the same by a hook that hands back a header table of its own
$echo = json_of($ua->get(site('/api/hooktest/me?x=1'), 'X-Hooktest-Move' => 'replace'));
ok t_cmp(($echo->{auth} // '') . ' ' . (exists $echo->{headers}{Authorization} ? 'header sent' : 'no header'),
         'bearer-query no header', 'a header table the hook replaced is the one sent');

# a hook may change the method (the refresh and revocation hooks' are
# sent too); one that is not an HTTP token would split the request line
$echo = json_of($ua->get(site('/api/hooktest/me'), 'X-Hooktest-Method' => 'PUT'));
ok t_cmp($echo->{method}, 'PUT', 'the method a protected_request hook set is the one sent');
ok t_cmp($ua->get(site('/api/hooktest/me'), 'X-Hooktest-Method' => 'GET /x HTTP/1.1')->code, 500,
         'a method that is not an HTTP token is refused, not written into the request line');

# what a careless hook copied into the URL or a header unencoded would
# split the request mod_proxy_http writes: refused, nothing sent
my ($before, $logpos) = (provider_get('/_control/stats')->{api_requests}, log_size());
ok t_cmp(join(' ', map { $ua->get(site('/api/hooktest/me?x=1'), 'X-Hooktest-Careless' => $_)->code }
              qw(url header name)), '500 500 500',
         'a URL with a space, a header value or name with CRLF from a hook: 500');
ok t_cmp(provider_get('/_control/stats')->{api_requests} - $before, 0, 'and none of them reached the API');
ok t_cmp(scalar(log_lines_since($logpos, qr/OAC00160: app hooktest: a protected_request hook set a (URL with a space|header whose name)/)),
         3, 'the error log says what each hook set wrong');
# a refresh_token_request hook that fails the refresh chooses the answer,
# for the requests that waited on that refresh too, and the token stays:
# the parallel ones were told the refresh failed, and logged the user out
provider_config(token_response_quirks => ['camel_case'], access_token_lifetime => 30);
my $uh = browser();
login($uh, 'hooktest');
my @answers = parallel_get(cookie_of($uh), map { "/api/hooktest/deny-refresh/$_" } 1 .. 3);
ok t_cmp(join(' ', map { $_->{code} } @answers), '403 403 403',
         'a hook fails the refresh with 403: each parallel request gets 403');
ok t_cmp(join('', map { $_->{set_cookie} } @answers) =~ /oac_session=(;|$)/ ? 'emptied' : 'kept', 'kept',
         'none empties the session');
sleep 6;        # its verdict was on those requests, not on the next
my $n = provider_get('/_control/stats')->{refresh_requests};
my $after = $uh->get(site('/api/hooktest/me'));
ok t_cmp($after->code . ' ' . (provider_get('/_control/stats')->{refresh_requests} - $n), '200 1',
         'a later request refreshes as ever: the token was kept');

# a hook that fails a login chooses the status the browser gets
provider_config();
ok t_cmp(login(browser(), 'hookdeny')->code, 403,
         'access_token_response failing with 403: the browser gets 403, not 502');
provider_config();
