# The session cookie as the module reads it (src/mod_oauthclient_cookie.c)
# in the places it serves, instead of mod_session_cookie's ap_cookie_read:
# the same cookie and the same results. A cookie sent twice with two values
# is an empty session, as httpd makes it (AH00011), so a cookie planted from
# a sibling domain cannot choose the session. Where SessionCookieRemove On
# hides the cookie from the backend, mod_session_cookie still reads it,
# also after an internal redirect from a place the module read it. The
# directives are refused when mod_session_cookie is missing.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_config login cookie_of json_of);
use OAC::ConfigTest qw(configtest);

plan tests => 24;

my $log_file = Apache::Test::vars('t_logs') . '/error_log';

provider_config();
my $ua = browser();
login($ua, 'local', '/after');
my ($value) = cookie_of($ua) =~ /^oac_session=(.*)$/;
ok t_cmp(length($value // '') > 20 ? 'session' : 'none', 'session', 'logged in');

# One request with the Cookie header lines given, no jar.
sub get {
    my ($path, @cookies) = @_;
    my $res = LWP::UserAgent->new(max_redirect => 0)->get(
        site($path), Accept => 'application/json', map { (Cookie => $_) } @cookies);
    return ($res, json_of($res));
}

my ($res, $seen) = get('/protected/echo', "a=1; oac_session=$value; b=2");
ok t_cmp($res->code, 200, 'the session cookie among others');
ok t_cmp($seen->{REMOTE_USER} // '', 'alice', 'is read');
# (compared here, not printed: the session holds the test's tokens)
ok t_cmp(($seen->{HTTP_COOKIE} // '') eq "a=1; oac_session=$value; b=2" ? 'as sent' : 'changed',
         'as sent', 'SessionCookieRemove Off: the backend gets the Cookie header as sent');
ok t_cmp(scalar(grep { /no-cache, private/ } $res->header('Cache-Control')), 1,
         'the page says it is private (no-cache, private), as mod_session_cookie does');

($res, $seen) = get('/cookie-remove/echo', "a=1; oac_session=$value; b=2");
ok t_cmp($res->code, 200, 'SessionCookieRemove On: still read');
ok t_cmp($seen->{HTTP_COOKIE} // '', 'a=1; b=2', 'and cut from what the backend gets');
($res, $seen) = get('/cookie-remove/echo', "oac_session=$value; \$Path=/; c=3");
ok t_cmp(($seen->{HTTP_COOKIE} // '') =~ /^\W*c=3$/ ? 'only c=3' : $seen->{HTTP_COOKIE} // 'none',
         'only c=3', 'its $ attributes go with it (httpd writes the rest)');
($res, $seen) = get('/cookie-remove/echo', "oac_session=$value");
ok t_cmp($res->code, 200, 'the session cookie alone');
ok t_cmp(exists $seen->{HTTP_COOKIE} ? 'sent' : 'absent', 'absent', 'leaves no Cookie header');

($res) = get('/protected/echo', 'a=1', "oac_session=$value");
ok t_cmp($res->code, 200, 'found on a second Cookie header line');
($res) = get('/protected/echo', "xoac_session=$value; oac_session_b=$value");
ok t_cmp($res->code, 401, 'a cookie whose name only contains the name is not it');
($res) = get('/protected/echo', "oac_session =$value");
ok t_cmp($res->code, 401, 'nor one with a space before "="');

my $start = -s $log_file;
($res) = get('/protected/echo', "oac_session=junk; oac_session=$value");
ok t_cmp($res->code, 401, 'two session cookies with two values: an empty session');
($res) = get('/protected/echo', "oac_session=$value; oac_session=junk");
ok t_cmp($res->code, 401, 'in either order');
($res) = get('/protected/echo', "oac_session=$value", "oac_session=$value");
ok t_cmp($res->code, 200, 'the same value twice is one session');
open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @lines = grep { /AH00011/ } <$fh>;
close $fh;
ok t_cmp(scalar(@lines), 2, "each of the two logged as httpd logs it (AH00011)");
ok t_cmp($lines[0] // '', qr/cookie 'oac_session' more than once/, 'naming the cookie');

($res, $seen) = get('/cookie-redirect/missing', "a=1; oac_session=$value; b=2");
ok t_cmp($res->code, 404, 'a session read where the cookie stays, then an ErrorDocument');
ok t_cmp(($seen->{HTTP_COOKIE} // '') =~ /oac_session/ ? 'sent on' : 'removed', 'removed',
         'into a SessionCookieRemove On location: the backend does not get the cookie');

($res) = get('/cookie-name2/echo', "oac_session2=$value");
ok t_cmp($res->code, 200, 'a location with SessionCookieName2 reads that cookie');
($res) = get('/cookie-name2/echo', "oac_session=$value");
ok t_cmp($res->code, 401, 'and not the one of SessionCookieName');

my ($status, $out) = configtest("SessionCookieName s path=/", without => ['session_cookie']);
ok t_cmp($status != 0 && $out =~ /Invalid command 'SessionCookieName'.*mod_session_cookie, which is not loaded/
         ? 'refused' : "accepted: $out", 'refused',
         'SessionCookieName without mod_session_cookie is refused, naming the module');
($status, $out) = configtest("SessionCookieName s path=/\nSessionCookieRemove On");
ok t_cmp($status, 0, 'and accepted with it');
