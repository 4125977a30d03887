# The example fix module (examples/, built with apxs and the public header
# only) rewrites API requests through the protected_request hook: the
# provider sees its header and query parameter, and OAuth 1 signatures,
# computed after the hook, still verify.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);

plan tests => 9;

provider_config();
my $ua = browser();
login($ua, 'fix2');
login($ua, 'fix1');
login($ua, 'pub');

sub headers_of { my $e = shift; return { map { lc($_) => $e->{headers}{$_} } keys %{ $e->{headers} } } }

my $echo = json_of($ua->get(site('/api/fix2/things?a=1')));
ok t_cmp(headers_of($echo)->{'x-fix-example'}, 'fixed', 'OAuth 2 app: header added by the hook');
ok t_cmp($echo->{query}{fix_example}, '1', 'OAuth 2 app: query parameter added by the hook');
ok t_cmp($echo->{query}{a}, '1', 'OAuth 2 app: own query kept');

$echo = json_of($ua->get(site('/api/fix1/things?a=1')));
ok t_cmp(headers_of($echo)->{'x-fix-example'}, 'fixed', 'OAuth 1 app: header added');
ok t_cmp($echo->{query}{fix_example}, '1', 'OAuth 1 app: query parameter added');
ok t_cmp($echo->{auth}, 'oauth1', 'OAuth 1 signature covers the added parameter and verifies');

my $res = $ua->post(site('/api/fix1/things'), [ b => 2 ]);
$echo = json_of($res);
ok t_cmp($echo->{auth} . ' ' . $echo->{query}{fix_example}, 'oauth1 1', 'OAuth 1 form POST: signed after the fix');

$echo = json_of($ua->get(site('/api/pub/things')));
ok t_cmp(exists headers_of($echo)->{'x-fix-example'} ? 'fixed' : 'untouched', 'untouched',
         'apps not listed are not touched (the hook declines)');
ok t_cmp($echo->{auth}, 'bearer-query', 'and keep their own placement');
