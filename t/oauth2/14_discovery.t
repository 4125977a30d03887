# Discovery (contract section 9): an app declared with client_id,
# client_secret and server_metadata_url only takes its endpoints from the
# provider's metadata, fetched on first need (httpd starts without it) and
# kept; a document that names another issuer is refused (OpenID Connect
# Discovery 4.3; the issuer's terminating '/' is not another issuer); PKCE and RFC 9207's iss follow what the metadata says.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get provider_post
                 login login_redirect json_of log_size log_since);

plan tests => 15;


provider_config();
my $ua = browser();
my $res = login($ua, 'disco', '/after');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
         'login with nothing but client_id, client_secret and server_metadata_url');
my $stats = provider_get('/_control/stats');
# (fetched now or by an earlier test: the machine keeps one copy per URL;
# the app names no endpoint, so any use of one proves the metadata's)
ok t_cmp($stats->{authorize_requests} >= 1 ? 'discovered' : 'not', 'discovered',
         "the browser went to the metadata's authorization endpoint");
ok t_cmp($stats->{last_token_request}{params}{code_verifier} // '', qr/^[A-Za-z0-9_~.-]{43,}$/,
         'with PKCE S256, which the metadata lists');
$res = $ua->get(site('/api/disco/me'));
ok t_cmp(json_of($res)->{user} // '', 'alice', 'the token works on the API');

# kept: more logins do not fetch it again each time
my $before = provider_get('/_control/stats')->{oidc_requests};
login(browser(), 'disco', '/after') for 1 .. 6;
my $fetches = provider_get('/_control/stats')->{oidc_requests} - $before;
ok t_cmp($fetches < 6 ? 'kept' : "fetched $fetches times", 'kept',
         'six more logins do not fetch it six times');

# refresh goes to the discovered token endpoint
provider_post('/_control/config', { access_token_lifetime => 30 });
$ua = browser();
login($ua, 'disco', '/after');
$res = $ua->get(site('/api/disco/refreshed'));
ok t_cmp($res->code, 200, 'an expiring token is refreshed through the discovered endpoint');
ok t_cmp(provider_get('/_control/stats')->{refresh_requests}, 1, 'once');

# a document that speaks for another issuer
provider_config(metadata_override => { issuer => 'https://evil.example' });
my $start = log_size();
$res = login_redirect(browser(), 'discoevil', '/after');
ok t_cmp($res->code, 502, 'metadata naming another issuer: the login fails');
ok t_cmp(log_since($start, qr/OAC00112/),
         qr/app discoevil: the provider's metadata cannot be had: the provider's metadata names the issuer 'https:\/\/evil\.example', not 'http:\/\/localhost:\d+'/,
         'the log names both issuers');
ok t_cmp(provider_get('/_control/stats')->{authorize_requests}, 0,
         'and the browser was never sent there');

# RFC 9207: the metadata promises iss; a response without it is refused
provider_config(authorization_response_iss => JSON::PP::true());
$res = login(browser(), 'discoiss', '/after');
ok t_cmp($res->code, 302, 'iss promised and sent: the login completes');
provider_config(metadata_override => { authorization_response_iss_parameter_supported => JSON::PP::true() });
$res = login(browser(), 'discoiss', '/after');
ok t_cmp($res->code . ' ' . ($res->content =~ /Login failed/ ? 'page' : 'no page'), '400 page',
         'iss promised by the metadata but missing: refused');

# An issuer that ends in '/' has it removed before the well-known part
# (OpenID Connect Discovery 4.1; Auth0's issuers do): its document is
# taken, and its id_tokens must name it with the '/'.
my $slashed = "$ENV{OAC_PROVIDER}/slash/v2.0/";
provider_config(metadata_override => { issuer => $slashed }, id_token_override => { iss => $slashed });
$res = login(browser(), 'discoslash', '/after');
ok t_cmp($res->code, 302, "an issuer with a terminating '/': the login completes");
provider_config(metadata_override => { issuer => $slashed }, id_token_override => { iss => $slashed =~ s{/$}{}r });
$start = log_size();
$res = login(browser(), 'discoslash', '/after');
ok t_cmp($res->code . ' ' . log_since($start, qr/OAC00021: app discoslash/),
         qr/^502 .*id_token iss "[^"]*\/slash\/v2\.0" is not the issuer "[^"]*\/slash\/v2\.0\/"/,
         "and an id_token naming it without the '/' is refused");

# a provider that is down: httpd started, the login says so
$res = browser()->get(site('/oauth/discodown/login'));
ok t_cmp($res->code, 502, 'metadata that cannot be fetched: 502, httpd serves on');
