# The session cookie as the module reads it (src/mod_oauthclient_cookie.c)
# in the places it serves, instead of mod_session_cookie's ap_cookie_read:
# the same cookie, the same rules (the last of two wins, logged), the same
# Cookie header for the backend, with SessionCookieRemove On or Off, and
# mod_session_cookie's directives refused when that module is missing.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_config login cookie_of json_of);
use OAC::ConfigTest qw(configtest);

plan tests => 21;

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
ok t_cmp($seen->{HTTP_COOKIE} // '', '; c=3',
         'its $ attributes go with it; the rest is written as httpd writes it');
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
ok t_cmp($res->code, 200, 'two session cookies: the last one counts');
($res) = get('/protected/echo', "oac_session=$value; oac_session=junk");
ok t_cmp($res->code, 401, 'whichever it is');
open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @lines = grep { /OAC00094/ } <$fh>;
close $fh;
ok t_cmp(scalar(@lines), 2, 'each logged (OAC00094)');
ok t_cmp($lines[0] // '', qr/cookie 'oac_session' more than once/, 'naming the cookie');

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
