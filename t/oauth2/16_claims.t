# Claims (contract section 9): 'Require oauth-claim' grants on a claim of
# the id_token merged with userinfo (dotted paths, array membership, any
# of several pairs, inside <RequireAll>), denies without reaching the
# backend; OAuthForwardClaims passes the named claims (or all with On)
# and removes a client's own X-OAuth-Claim-*; OAuthForwardTokens passes
# the id_token. Logout ends the provider's session too (RP-initiated
# logout): id_token_hint, client_id, post_logout_redirect_uri, state.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use URI;
use URI::QueryParam;
use OAC::Flow qw(browser site provider_config provider_get login json_of log_lines_since
                 log_size log_since approve);

plan tests => 56;

provider_config();
my $alice = browser();
my $bob = browser();
ok t_cmp(login($alice, 'oidc', '/after', 'alice')->code, 302, 'alice logs in');
my $alice_id_token = provider_get('/_control/stats')->{last_id_token};
ok t_cmp(login($bob, 'oidc', '/after', 'bob')->code, 302, 'bob logs in');

sub status { my ($ua, $path) = @_; return $ua->get(site($path))->code }

# an array claim holds the value
ok t_cmp(status($alice, '/claims/admins/echo'), 200, 'groups:admins: alice is in');
my $start = log_size();
ok t_cmp(status($bob, '/claims/admins/echo'), 401, 'groups:admins: bob is not');
ok t_cmp(log_since($start, qr/OAC00119/), qr/app oidc: the user 1002 has no claim that 'Require oauth-claim groups:admins'/,
         'the denial is logged with the rule');
ok t_cmp(status($bob, '/claims/forbidden/echo'), 403,
         'AuthzSendForbiddenOnFailure makes the denial a 403');

# several pairs: any of them; a boolean as its JSON text
ok t_cmp(status($alice, '/claims/anyof/echo'), 200, 'email_verified:true: alice');
ok t_cmp(status($bob, '/claims/anyof/echo'), 401, 'neither pair: bob denied');

# a dotted path into userinfo's address object (merged over the id_token)
ok t_cmp(status($alice, '/claims/nested/echo'), 200, 'address.country:FR: alice');
ok t_cmp(status($bob, '/claims/nested/echo'), 401, 'address.country:FR: not bob');

# <RequireAll> of two rules
ok t_cmp(status($bob, '/claims/allof/echo'), 200, 'staff and DE: bob');
ok t_cmp(status($alice, '/claims/allof/echo'), 401, 'staff but not DE: alice denied');

# no session: sent to log in, as for valid-user
ok t_cmp(status(browser(), '/claims/admins/echo'), 302, 'no login: sent to log in');

# the backend is not reached by a denied request: the echo would say 200
my $denied = $bob->get(site('/claims/admins/echo'));
ok t_cmp($denied->content =~ /REMOTE_USER/ ? 'reached' : 'not reached', 'not reached',
         'a denied request never reaches the backend');

# forwarding: the named claims, arrays joined, objects as JSON; a client's
# own X-OAuth-Claim-* headers are gone
my $echo = json_of($alice->get(site('/claims/named/echo'),
                               'X-OAuth-Claim-Email' => 'mallory@evil.example',
                               'X-OAuth-Claim-Role' => 'root'));
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_EMAIL} // '', 'alice@example.org', 'X-OAuth-Claim-email');
ok t_cmp($echo->{OAUTH_CLAIM_EMAIL} // '', 'alice@example.org', 'OAUTH_CLAIM_EMAIL');
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_GROUPS} // '', 'staff,admins', 'an array, joined with ","');
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_ADDRESS} // '', '{"country":"FR","locality":"Paris"}',
         'an object, as JSON');
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_EMAIL_VERIFIED} // '', 'true', 'a boolean, as JSON text');
ok t_cmp(exists $echo->{HTTP_X_OAUTH_CLAIM_ROLE} ? 'spoofed' : 'absent', 'absent',
         "a client's own X-OAuth-Claim-Role is removed");
ok t_cmp(exists $echo->{HTTP_X_OAUTH_CLAIM_NAME} ? 'forwarded' : 'not', 'not',
         'a claim not named is not forwarded');
ok t_cmp($echo->{HTTP_X_OAUTH_ID_TOKEN} // '', $alice_id_token,
         'OAuthForwardTokens On: X-OAuth-Id-Token is the id_token of the login');

# On: every claim but the id_token's one-time ones
$echo = json_of($alice->get(site('/claims/all/echo')));
ok t_cmp(($echo->{HTTP_X_OAUTH_CLAIM_NAME} // '') . '|' . ($echo->{HTTP_X_OAUTH_CLAIM_SUB} // ''),
         'Alice Liddell|1001', 'On: claims named nowhere are forwarded too');
ok t_cmp(join(',', grep { exists $echo->{"HTTP_X_OAUTH_CLAIM_$_"} } qw(NONCE AT_HASH EXP IAT)), '',
         "but not the id_token's nonce, at_hash, exp, iat");
$echo = json_of($alice->get(site('/claims/all/off/echo')));
ok t_cmp(scalar(grep { /CLAIM/ } keys %$echo), 0, 'Off below it forwards nothing');

# a negated rule: bob (not an admin) passes, alice does not
ok t_cmp(status($bob, '/claims/notadmin/echo'), 200, 'Require not oauth-claim groups:admins: bob passes');
ok t_cmp(status($alice, '/claims/notadmin/echo'), 401, 'alice does not');

# a rule over a whole site: its login and callback paths stay open
{
    my $b = browser();
    my $to = $b->get(site('/whole/login?next=/whole/echo'));
    my $r = $b->get(approve($to->header('Location') // '', 'alice'));
    ok t_cmp($r->code . ' ' . ($r->header('Location') // ''), '302 ' . site('/whole/echo'),
             'login and callback inside a claim rule\'s location work');
    ok t_cmp($b->get(site('/whole/echo'))->code, 200, 'and alice is let in');
}

# RP-initiated logout: revocation, then the provider's end_session_endpoint
my $res = $alice->get(site('/oauth/oidc/logout'));
my $to = URI->new($res->header('Location') // '');
ok t_cmp($res->code . ' ' . $to->path, '302 /oauth2/logout',
         "logout sends the browser to the provider's end_session_endpoint");
ok t_cmp($to->query_param('id_token_hint') // '', $alice_id_token, 'with the id_token as id_token_hint');
ok t_cmp($to->query_param('client_id') // '', 'oauth2-client', 'and client_id');
ok t_cmp($to->query_param('post_logout_redirect_uri') // '', site('/'),
         'and post_logout_redirect_uri (default /, made absolute)');
my $state = $to->query_param('state') // '';
ok t_cmp(length($state) >= 16 ? 'state' : "'$state'", 'state', 'and a fresh state');
my $revoked = provider_get('/_control/stats')->{revocations};
ok t_cmp(join(',', map { $_->{revoked} } @$revoked), 'refresh_token,access_token',
         'the tokens were revoked first (refresh, then access)');
ok t_cmp(status($alice, '/claims/admins/echo'), 302, 'and the user is logged out here');
# the provider sends the browser back with the state
my $back = LWP::UserAgent->new(max_redirect => 0)->get($to);
ok t_cmp($back->header('Location') // '', site('/') . "?state=$state",
         'the provider sends the browser back to post_logout_redirect_uri');

# keys typed by hand: end_session_endpoint and post_logout_redirect_uri=/bye
my $carol = browser();
login($carol, 'oidchand', '/after');
$to = URI->new($carol->get(site('/oauth/oidchand/logout'))->header('Location') // '');
ok t_cmp($to->query_param('post_logout_redirect_uri') // '', site('/bye'),
         'post_logout_redirect_uri as configured');

# not logged in: no trip to the provider
$res = browser()->get(site('/oauth/oidc/logout'));
ok t_cmp($res->header('Location') // '', site('/'), 'a logout without a login stays here');

# Claims too big to keep, even only the named ones (over 2 KiB): none are
# kept, the log says so at the login, and a rule on them is an error (500)
# rather than a denial a 'Require not' could turn into a grant.
{
    provider_config(userinfo_override => { groups => [ map { "group-$_-" . ('x' x 24) } 1 .. 200 ] });
    my $erin = browser();
    my $start = log_size();
    ok t_cmp(login($erin, 'oidc', '/after', 'alice')->code, 302, 'a login with 7 KB of groups');
    ok t_cmp(log_since($start, qr/OAC00115/), qr/app oidc: the user's claims are over 2048 bytes: none are kept/,
             'the claims are not kept, and the log says so');
    $start = log_size();
    ok t_cmp(status($erin, '/claims/admins/echo'), 500, 'a rule on them cannot be judged: 500');
    ok t_cmp(log_since($start, qr/OAC00128/), qr/app oidc: the user's claims were too big to keep in the session \(OAC00115\), so 'Require oauth-claim groups:admins' cannot be judged/,
             'and the log says why');
    provider_config();
}

# With OAuthForwardClaims On (this suite's main configuration), claims too
# big to keep them all are kept as far as the main configuration names
# them: an .htaccess rule on another claim cannot be judged then (500),
# rather than reading it as absent, which 'Require not' turned into a grant.
{
    provider_config(userinfo_override => { blocked => JSON::PP::true() });
    my $gail = browser();
    ok t_cmp(login($gail, 'oidc', '/after', 'alice')->code, 302, 'a login with blocked:true');
    ok t_cmp(status($gail, '/claimsht/page.txt'), 401, "control: the .htaccess's 'Require not' keeps her out");
    provider_config(userinfo_override => { blocked => JSON::PP::true(), x_pad => 'A' x 3000 });
    my $hank = browser();
    ok t_cmp(login($hank, 'oidc', '/after', 'alice')->code, 302, 'the same with 3 KB more claims');
    my $start = log_size();
    ok t_cmp(status($hank, '/claimsht/page.txt'), 500, 'her claims were not all kept: the rule cannot be judged');
    ok t_cmp(log_since($start, qr/OAC00127/), qr/the claim 'blocked' is not kept in this session, whose claims were too big to keep them all/,
             'and the log says why');
    provider_config();
}

# Claims a backend would read as other values are not forwarded: an email
# with a space at its end (header values are read without it), a group
# with a ',' (which would read as two groups); the log says which and why,
# not the value. The others go as ever.
{
    provider_config(userinfo_override => { email => 'admin@example.org ',
                                           groups => [ 'staff', 'users,admins' ] });
    my $frank = browser();
    ok t_cmp(login($frank, 'oidc', '/after', 'alice')->code, 302, 'a login with such claims');
    my $start = log_size();
    my $echo = json_of($frank->get(site('/claims/named/echo'))) // {};
    ok t_cmp(join(' ', map { exists $echo->{$_} ? 'sent' : 'not sent' }
                  qw(HTTP_X_OAUTH_CLAIM_EMAIL HTTP_X_OAUTH_CLAIM_GROUPS OAUTH_CLAIM_EMAIL HTTP_X_OAUTH_CLAIM_EMAIL_VERIFIED)),
             'not sent not sent not sent sent', 'neither the email nor the groups, the rest as ever');
    my $log = log_since($start, qr/OAC00117/);
    ok t_cmp(join("\n", log_lines_since($start, qr/OAC00117/)),
             qr/the claim 'email' holds a space at either end.*\n.*the claim 'groups' holds a ',' in an element of a list/s,
             'the log says which claims and why');
    ok t_cmp($log =~ /admin\@example|users,admins/ ? 'value logged' : 'clean', 'clean', 'and not their values');
    provider_config();
}

# An id_token longer than a token may be (8,000 bytes): a backend with the
# default LimitRequestFieldSize would answer 400 to X-OAuth-Id-Token, so
# the header is left out and the log says why; OAUTH_ID_TOKEN keeps it.
# (Such a session fits mod_session_dbd only: the cookie pass skips.)
if (($ENV{OAC_SESSION_STORE} // '') ne 'dbd') {
    skip('an id_token over 8 KB needs sessions on the server (OAC_SESSION_STORE=dbd)', 1) for 1 .. 4;
}
else {
    provider_config(id_token_override => { x_pad => 'A' x 9000 });
    my $dave = browser();
    ok t_cmp(login($dave, 'oidc', '/after', 'alice')->code, 302, 'a login with a 12 KB id_token');
    my $start = log_size();
    my $echo = json_of($dave->get(site('/claims/named/echo')));
    ok t_cmp(exists $echo->{HTTP_X_OAUTH_ID_TOKEN} ? 'forwarded' : 'left out', 'left out',
             'the id_token is not forwarded as a header');
    ok t_cmp(length($echo->{OAUTH_ID_TOKEN} // ''), qr/^\d{5}$/, 'OAUTH_ID_TOKEN still has it');
    ok t_cmp(log_since($start, qr/OAC00133/), qr/app oidc: the id_token \(\d+ bytes\) is not forwarded as X-OAuth-Id-Token/,
             'and the log says why');
    provider_config();
}
