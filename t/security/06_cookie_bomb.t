# Cookie bombs: a page that makes the victim's browser start logins with
# long `next` values, or a provider whose token response is padded, must not
# grow the session cookie past what browsers keep (4096 bytes), which would
# lock the victim out. `next` over 1024 bytes is not kept; all pending
# logins of a session together stay under 2048 bytes, the oldest dropped
# first; extra token-response fields are not stored.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login_redirect approve login cookie_of);
use OAC::Hostile qw(logged_in);

plan tests => 13;

provider_config();

# --- next over 1024 bytes is not kept; the login still works --------------
my $ua = browser();
my $res = login_redirect($ua, 'local', '/' . ('a' x 1100));
ok t_cmp($res->code, 302, 'next of 1101 bytes: the login still starts');
$res = $ua->get(approve($res->header('Location')));
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/'),
         'next of 1101 bytes: not kept, the login returns to /');

$ua = browser();
my $next = '/' . ('b' x 999);
$res = login($ua, 'local', $next);
ok t_cmp($res->header('Location') // '', site($next), 'next of 1000 bytes: kept');

# --- 20 logins with 1000-byte next values, across apps ---------------------
$ua = browser();
my @apps = qw(local pub post formpost);
my ($largest, @codes) = (0);
for my $i (1 .. 20) {
    $res = login_redirect($ua, $apps[$i % @apps], '/' . ($i % 10) x 999);
    push @codes, $res->code;
    my $len = length cookie_of($ua);
    $largest = $len if $len > $largest;
}
ok t_cmp(join(',', grep { $_ != 302 } @codes), '', 'the 20 logins all redirect to the provider');
ok t_cmp($largest < 4096 ? 'under 4096' : "$largest bytes", 'under 4096',
         'the session cookie stays under 4096 bytes throughout');
my $after = length cookie_of($ua);
ok t_cmp($after < 2300 ? 'small' : "$after bytes", 'small',
         'pending logins of all apps together are kept under 2048 bytes');

# the victim then logs in as usual
$res = eval { login($ua, 'local', '/home') };
ok t_cmp($res ? $res->code . ' ' . ($res->header('Location') // '') : "failed: $@", '302 ' . site('/home'),
         "after the bomb, the victim's next login completes");
ok t_cmp(logged_in($ua), 'logged in', 'after the bomb, the victim is logged in');
ok t_cmp(length(cookie_of($ua)) < 4096 ? 'under 4096' : 'over', 'under 4096',
         'after the bomb and the login, the cookie is under 4096 bytes');

# --- extra token-response fields are not stored ----------------------------
provider_config(token_override => { id_token => 'x' x 3000 });
$ua = browser();
$res = login($ua, 'local');
ok t_cmp($res->code, 302, 'a 3 KB id_token in the token response: login completes');
my $len = length cookie_of($ua);
ok t_cmp($len < 1500 ? 'small' : "$len bytes", 'small', 'a 3 KB id_token: not stored, the cookie stays small');

provider_config(token_override => { map { sprintf('junk_%02d', $_) => 'j' x 40 } 1 .. 50 });
$ua = browser();
$res = login($ua, 'local');
ok t_cmp($res->code, 302, '50 junk fields in the token response: login completes');
$len = length cookie_of($ua);
ok t_cmp($len < 1500 ? 'small' : "$len bytes", 'small', '50 junk fields: not stored, the cookie stays small');
provider_config();
