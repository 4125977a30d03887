# A provider whose id_tokens name no kid (or give a new key an old kid)
# rotates its signing key: no kept key verifies the next id_token, and the
# keys are fetched again (at most once a minute, as for an unknown kid)
# instead of every login failing until the kept set is an hour old. A
# token the new keys do not verify either is still refused.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser provider_get provider_post provider_config login
                 log_size log_since);

plan tests => 5;

provider_config(id_token_mode => 'no_kid');
my $res = login(browser(), 'oidcnokid', '/after');
ok t_cmp($res->code, 302, 'an id_token without a kid: login (the keys fetched)');

provider_post('/_control/rotate_oidc_key');
my $before = provider_get('/_control/stats')->{jwks_requests};
$res = login(browser(), 'oidcnokid', '/after');
ok t_cmp($res->code, 302, "after the provider's key rotation the next login works");
ok t_cmp(provider_get('/_control/stats')->{jwks_requests} - $before, 1,
         'the keys were fetched again, once');

# a signature no key verifies, fetched again or not, is no login
provider_config(id_token_mode => 'bad_signature');
my $mark = log_size();
$res = login(browser(), 'oidcnokid', '/after');
ok t_cmp($res->code, 502, 'a bad signature is still refused');
ok t_cmp(log_since($mark, qr/OAC00021/), qr/signature does not verify/, 'said so');
provider_config();
