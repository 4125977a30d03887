# Logout CSRF: a logout the browser marks as coming from another site
# (Sec-Fetch-Site cross-site, or an Origin of another site, or Origin:
# null) is not carried out; the user gets a confirmation page whose button
# POSTs to the logout path. Same-origin and same-site requests (contract
# section 2: only cross-site ones are held), and requests without those
# headers, log out.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login);
use OAC::Hostile qw(logged_in);

plan tests => 3 + 5 * 2 + 4 * 2;

provider_config();
my $ua = browser();
login($ua, 'local');
my $logout = site('/oauth/local/logout');
my $origin = 'http://' . Apache::TestRequest::hostport();
(my $other_port = $origin) =~ s/:\d+$/:1/;

# --- cross-site: a confirmation page, still logged in ----------------------
my $res = $ua->get($logout, 'Sec-Fetch-Site' => 'cross-site', 'Sec-Fetch-Mode' => 'navigate');
ok t_cmp($res->code, 200, 'GET with Sec-Fetch-Site: cross-site: 200, a confirmation page');
my $page = $res->content;
ok t_cmp(($page =~ /<form\b[^>]*\bmethod="?post"?/i ? 'post form' : 'no post form') . ', '
         . ($page =~ m{<form\b[^>]*\baction="(?:\Q$origin\E)?/oauth/local/logout"}i ? 'to logout' : 'elsewhere') . ', '
         . ($page =~ /<button\b|type="?submit"?/i ? 'button' : 'no button'),
         'post form, to logout, button', 'the confirmation page: a form that POSTs to the logout path, with a button');
ok t_cmp(logged_in($ua), 'logged in', 'GET with Sec-Fetch-Site: cross-site: the token is still there');

for my $case ([ 'POST with Sec-Fetch-Site: cross-site', 'POST', 'Sec-Fetch-Site' => 'cross-site' ],
              [ 'GET with an Origin of another site', 'GET', Origin => 'https://evil.example' ],
              [ 'POST with an Origin of another site', 'POST', Origin => 'https://evil.example' ],
              [ 'POST with Origin: null', 'POST', Origin => 'null' ],
              [ 'POST with an Origin of another port', 'POST', Origin => $other_port ]) {
    my ($what, $method, @headers) = @$case;
    login($ua, 'local') unless logged_in($ua) eq 'logged in';
    $res = $method eq 'POST' ? $ua->post($logout, @headers) : $ua->get($logout, @headers);
    ok t_cmp($res->code, 200, "$what: 200, a confirmation page");
    ok t_cmp(logged_in($ua), 'logged in', "$what: the token is still there");
}

# --- same origin, or no such headers: logged out --------------------------
for my $case ([ 'POST with the Origin of the site', 'POST', Origin => $origin ],
              [ 'POST with Sec-Fetch-Site: same-origin', 'POST', 'Sec-Fetch-Site' => 'same-origin' ],
              [ 'GET with Sec-Fetch-Site: same-site (a sibling subdomain)', 'GET', 'Sec-Fetch-Site' => 'same-site' ],
              [ 'GET without Origin or Sec-Fetch-Site', 'GET' ]) {
    my ($what, $method, @headers) = @$case;
    login($ua, 'local') unless logged_in($ua) eq 'logged in';
    $res = $method eq 'POST' ? $ua->post($logout, @headers) : $ua->get($logout, @headers);
    ok t_cmp($res->code, 302, "$what: logs out (302)");
    ok t_cmp(logged_in($ua), 'not logged in', "$what: the token is gone");
}
