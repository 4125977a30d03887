# OAuthSessionPassphrase on fewer locations than 'Session On': mod_session
# decodes a session once per chain of requests, so a plain cookie read by
# a request outside the passphrase's scope was handed, as decoded, to an
# ErrorDocument or an SSI include inside it. A cookie edited to name
# another user must never log in there (SECURITY.md: an edited cookie is
# an empty session where the codec applies).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_config login json_of cookie_of log_size log_since);

if (($ENV{OAC_SESSION_STORE} // 'cookie') ne 'cookie') {
    plan tests => 1, need { 'only a cookie store holds what the browser edits' => 0 };
    exit 0;
}
plan tests => 9;

provider_config();
my $ua = browser();
login($ua, 'local');
my $cookie = cookie_of($ua);
(my $forged = $cookie) =~ s/(oauthclient\.local\.user=)alice/${1}admin/;
die "unexpected session cookie: $cookie" if $forged eq $cookie;

my $client = LWP::UserAgent->new(max_redirect => 0);
my %json = (Accept => 'application/json');

# controls: the plain cookie logs in where there is no passphrase, not
# where there is one
my $res = $client->get(site('/protected/echo'), %json, Cookie => $forged);
ok t_cmp(json_of($res)->{REMOTE_USER}, 'admin', 'control: a plain cookie is what it says outside the codec');
$res = $client->get(site('/codecscope/echo'), %json, Cookie => $forged);
ok t_cmp($res->code, 401, 'control: no session under the codec');

my $start = log_size();
# an ErrorDocument inside the codec's scope, for a request outside it
$res = $client->get(site('/plainscope/nothing-here'), %json, Cookie => $forged);
ok t_cmp($res->content =~ /admin/ ? 'admin shown' : 'not shown', 'not shown',
         'ErrorDocument under the codec: the edited cookie is no login');
ok t_cmp($res->content =~ /REMOTE_USER/ ? 'backend ran' : 'backend did not run', 'backend did not run',
         'ErrorDocument under the codec: the protected page is not served');
ok t_cmp(log_since($start, qr/OAC00152/), qr/OAC00152.*read the session outside it/,
         'the log says why');

# an SSI include of a location under the codec
$res = $client->get(site('/ssi/codecscope.shtml'), Cookie => $forged);
ok t_cmp($res->code, 200, 'the page itself is served');
ok t_cmp($res->content =~ /admin|REMOTE_USER/ ? 'included' : 'not included', 'not included',
         'include under the codec: the edited cookie is no login');
# the genuine login is no session there either: it was never encrypted
$res = $client->get(site('/ssi/codecscope.shtml'), Cookie => $cookie);
ok t_cmp($res->content =~ /alice|REMOTE_USER/ ? 'included' : 'not included', 'not included',
         'include under the codec: an unencrypted session is none');
# and the session outside is untouched by it
$res = $client->get(site('/protected/echo'), %json, Cookie => $cookie);
ok t_cmp(json_of($res)->{REMOTE_USER}, 'alice', 'the session outside still logs in');
