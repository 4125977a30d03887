# The providers' documents kept for the machine (mod_oauthclient_docs.c):
# a key set bigger than the shared room is fetched by each process for
# itself, and a rotation is never rolled back to the keys before it by a
# process taking the machine's older copy.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser provider_config provider_post provider_get login);

plan tests => 3;

provider_config(jwks_pad => 70000);
my $ok = 0;
for (1 .. 10) {
    $ok++ if login(browser(), 'oidcbig', '/after')->code == 302;
}
ok t_cmp($ok, 10, 'a key set of 70 KB: logins work, each process with its own copy');

provider_post('/_control/rotate_oidc_key');
$ok = 0;
for (1 .. 20) {
    $ok++ if login(browser(), 'oidcbig', '/after')->code == 302;
}
ok t_cmp($ok, 20, 'after a rotation, every login works (no process goes back to the old keys)');
ok t_cmp(provider_get('/_control/stats')->{jwks_requests} <= 8 ? 'bounded' : 'many', 'bounded',
         'and the keys are fetched about once per process');
