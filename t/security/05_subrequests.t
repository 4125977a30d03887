# Subrequests and internal redirects into forwarding locations. An SSI page
# the module does not protect includes a location with OAuthForwardTokens On:
# the included backend never sees the client's X-OAuth-* headers (nor their
# underscore spellings), only the module's own values or none. Inside a
# forwarding location, an ErrorDocument and a mod_rewrite rule redirect
# internally: the backend gets the real X-OAuth-* headers and OAUTH_*
# variables as well as REMOTE_USER, never the client's.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);
use OAC::Hostile qw(backend_reset backend_requests header_of);

plan tests => 8 + 4 + 2 + 2 * 7;

# What a client sends to claim someone else's identity and token; the
# underscore spellings slip past filters that only look for dashes.
my @spoof = ('X-OAuth-User' => 'admin', 'X-OAuth-Access-Token' => 'forged',
             'X-OAuth-App' => 'forged-app', 'X-OAuth-Scope' => 'forged-scope',
             ':X_OAuth_User' => 'admin_', ':X_OAuth_Access_Token' => 'forged_');
my $forged = qr/^(admin_?|forged.*)$/;

provider_config();
my $ua = browser();
login($ua, 'local');
my $real = json_of($ua->get(site('/protected/echo')));
my $token = $real->{HTTP_X_OAUTH_ACCESS_TOKEN};
die "no token to compare with" unless $token;

# --- SSI include of a proxied forwarding location -------------------------
backend_reset();
my $res = $ua->get(site('/ssi/proxy.shtml'), @spoof);
my $reqs = backend_requests();
ok t_cmp($res->code . ' ' . scalar(@$reqs), '200 1', 'SSI include of a proxied forwarding location reaches the backend');
my $req = $reqs->[0] || {};
my @client_values = grep { lc($_->[0]) =~ /^x[-_]oauth[-_]/ && $_->[1] =~ $forged } @{ $req->{headers} || [] };
ok t_cmp(join(', ', map { "$_->[0]: $_->[1]" } @client_values), '',
         'SSI include: none of the client X-OAuth-* headers reaches the backend');
ok t_cmp(scalar(grep { $_->[0] =~ /_/ } @{ $req->{headers} || [] }), 0,
         'SSI include: no underscore spelling of X-OAuth-* reaches the backend');
ok t_cmp(header_of($req, 'X-OAuth-User') // 'absent', qr/^(alice|absent)$/,
         'SSI include: X-OAuth-User is the logged-in user or absent');
ok t_cmp(header_of($req, 'X-OAuth-Access-Token') // 'absent', qr/^(\Q$token\E|absent)$/,
         'SSI include: X-OAuth-Access-Token is the real token or absent');

# --- SSI include of a CGI in a forwarding location ------------------------
$res = $ua->get(site('/ssi/cgi.shtml'), @spoof);
my $env = json_of($res);
ok t_cmp($env->{REMOTE_USER}, 'alice', 'SSI include of the CGI echo: served as alice');
ok t_cmp($env->{HTTP_X_OAUTH_USER} // 'absent', qr/^(alice|absent)$/,
         'SSI include of the CGI echo: HTTP_X_OAUTH_USER is alice or absent, not the client\'s');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN} // 'absent', qr/^(\Q$token\E|absent)$/,
         'SSI include of the CGI echo: HTTP_X_OAUTH_ACCESS_TOKEN is the real token or absent');

# --- the same without a login ---------------------------------------------
my $anon = browser();
backend_reset();
$res = $anon->get(site('/ssi/proxy.shtml'), @spoof);
ok t_cmp($res->code, 200, 'not logged in: the SSI page itself is served');
$reqs = backend_requests();
my @seen = grep { $_->[1] =~ $forged } map { @{ $_->{headers} } } @$reqs;
ok t_cmp(join(', ', map { "$_->[0]: $_->[1]" } @seen), '',
         'not logged in: the client\'s X-OAuth-* values never reach the backend');
$res = $anon->get(site('/ssi/cgi.shtml'), @spoof);
ok t_cmp($res->content =~ /admin|forged/ ? 'client values shown' : 'not shown', 'not shown',
         'not logged in: the included CGI never shows the client\'s values');
ok t_cmp($res->content =~ /"REMOTE_USER"/ ? 'served' : 'not served', 'not served',
         'not logged in: the included protected CGI is not run');

# --- internal redirects inside a forwarding location ----------------------
$res = $ua->get(site('/ssi/proxy.shtml'));
ok t_cmp($res->code, 200, 'control: logged in after the SSI requests');
ok t_cmp(json_of($ua->get(site('/redir/echo')))->{HTTP_X_OAUTH_USER}, 'alice',
         'control: the redirect target forwards when asked directly');

for my $case ([ 'ErrorDocument 404', '/redir/missing' ],
              [ 'mod_rewrite [PT] in the location', '/redir/alias' ]) {
    my ($what, $path) = @$case;
    $res = $ua->get(site($path), @spoof);
    my $env = json_of($res);
    ok t_cmp($env->{REMOTE_USER}, 'alice', "$what: REMOTE_USER");
    ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN} // 'absent', $token, "$what: X-OAuth-Access-Token, the real one");
    ok t_cmp($env->{OAUTH_ACCESS_TOKEN} // 'absent', $token, "$what: OAUTH_ACCESS_TOKEN, the real one");
    ok t_cmp($env->{HTTP_X_OAUTH_USER} // 'absent', 'alice', "$what: X-OAuth-User");
    ok t_cmp($env->{OAUTH_USER} // 'absent', 'alice', "$what: OAUTH_USER");
    my @missing = grep { ($env->{"OAUTH_$_"} // '') ne ($real->{"OAUTH_$_"} // '-')
                         || ($env->{"HTTP_X_OAUTH_$_"} // '') ne ($real->{"HTTP_X_OAUTH_$_"} // '-') }
                  qw(APP TOKEN_TYPE EXPIRES_AT SCOPE);
    ok t_cmp("@missing", '', "$what: X-OAuth-App, -Token-Type, -Expires-At, -Scope and their OAUTH_* variables");
    my @spoofed = grep { defined $env->{$_} && $env->{$_} =~ $forged } sort keys %$env;
    ok t_cmp("@spoofed", '', "$what: none of the client's values");
}
