# The 4,096-byte rule (contract section 10): a cookie session that would
# be larger than browsers keep is never sent. The login ends on an error
# page, the log says the size, the apps and the fix, and the browser keeps
# the session it had, so its next login works instead of looping.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login cookie_of);

plan tests => 9;

my $log_file = Apache::Test::vars('t_logs') . '/error_log';
my $start = -s $log_file;

# a 4,300-byte access token: fine as a header, too large for a cookie
provider_config(token_override => { login => 'alice', access_token => 'A' x 4300 });
my $ua = browser();
my $res = login($ua, 'tokclaim', '/after');
ok t_cmp($res->code, 500, 'the login whose session would not fit a cookie fails');
ok t_cmp($res->content, qr/The session is too large/, 'with a page that says why');
ok t_cmp($res->header('Location') // 'none', 'none', 'and no redirect to the page the user wanted');
my @too_big = grep { length((split /;/, $_)[0]) > 4096 } $res->header('Set-Cookie');
ok t_cmp(scalar(@too_big), 0, 'no Set-Cookie over 4,096 bytes is sent');
ok t_cmp(length(cookie_of($ua)) < 4096 ? 'small' : 'large', 'small',
         'the browser keeps the session it had');

open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @lines = grep { /OAC00014/ } <$fh>;
close $fh;
ok t_cmp(scalar(@lines), 1, 'one log line (OAC00014)');
ok t_cmp($lines[0] // '', qr/session cookie oac_session would be \d{4,} bytes, over the 4096/,
         'it names the cookie and its size');
ok t_cmp($lines[0] // '', qr/Apps in the session: tokclaim \(43\d\d bytes of token\).*mod_session_dbd/,
         'the apps in the session and the fix');

# the same browser, with a provider whose tokens fit: logged in, no loop
provider_config();
$res = login($ua, 'local', '/after');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
         'the next login with smaller tokens works');
