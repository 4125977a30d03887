# A request that changes nothing in the session writes nothing: no
# Set-Cookie for a cookie session (with mod_session_dbd, no database
# write). A protected page, a forwarded token, an API call and a refresh
# that is not due leave the session as it is; a refresh writes it once.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_post login);

plan tests => 6;

sub session_written {
    my $res = shift;
    return scalar(grep { /^oac_session=/ } $res->header('Set-Cookie')) ? 'written' : 'not written';
}

provider_config();
my $ua = browser();
login($ua, 'local', '/after');
my $res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code, 200, 'a protected page');
ok t_cmp(session_written($res), 'not written', 'does not write the session');
$res = $ua->get(site('/api/local/me'));
ok t_cmp($res->code, 200, 'an API call');
ok t_cmp(session_written($res), 'not written', 'does not write the session');

# a token inside the refresh margin (30 s against 60): the refresh is
# stored, once (the refreshed token lives an hour)
provider_config(access_token_lifetime => 30);
$ua = browser();
login($ua, 'local', '/after');
provider_post('/_control/config', { access_token_lifetime => 3600 });
$res = $ua->get(site('/protected/echo'));
ok t_cmp(session_written($res), 'written', 'a refresh writes the session');
$res = $ua->get(site('/protected/echo'));
ok t_cmp(session_written($res), 'not written', 'and the next request does not');
