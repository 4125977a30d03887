# A session cookie tampered with (the plain, unencrypted cookie store) to
# carry a control character or an over-long value in the user name or a
# token field is no login at all: 401 for API clients, a redirect to log in
# for a browser; nothing of it reaches the backend.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use URI::Escape qw(uri_escape);
use OAC::Flow qw(browser site provider_config login json_of cookie_of);

provider_config();
my $ua = browser();
login($ua, 'local');
my $cookie = cookie_of($ua);
die "unexpected session cookie: $cookie"
    unless $cookie =~ /oauthclient\.local\.user=alice(&|$)/
        && $cookie =~ /oauthclient\.local\.token=3\.([^&.]*)\.\.Bearer\.[^&.]*\.profile\*20email\./;
my $at = $1;

# each: what, a substitution on the cookie
my $user = sub { my $v = shift; sub { $_[0] =~ s/(oauthclient\.local\.user=)alice/$1$v/ } };
my $field = sub { my ($from, $to) = @_; sub { $_[0] =~ s/\Q$from\E/$to/ } };
my $json = uri_escape(qq({"access_token":"$at","token_type":"Bearer\\r\\nX-OAuth-User: admin","scope":"profile"}));
my @cases = (
    [ 'user with CR LF', $user->('alice%0D%0AX-OAuth-User:%20admin') ],
    [ 'user with LF', $user->('alice%0AX-OAuth-User:%20admin') ],
    [ 'user with CR', $user->('alice%0DX-OAuth-User:%20admin') ],
    [ 'user with TAB', $user->('alice%09admin') ],
    [ 'user with DEL', $user->('alice%7Fadmin') ],
    [ 'user of 1025 bytes', $user->('u' x 1025) ],
    [ 'token_type with CR LF', $field->('..Bearer.', '..Bearer*0D*0AX-OAuth-User*3A*20admin.') ],
    [ 'scope with CR LF', $field->('.profile*20email.', '.profile*0D*0AX-OAuth-User*3A*20admin.') ],
    [ 'scope with TAB', $field->('.profile*20email.', '.profile*09email.') ],
    [ 'access token with CR LF', $field->("3.$at.", "3.$at*0D*0AX-OAuth-User*3A*20admin.") ],
    [ 'token in the pre-2 JSON form, token_type with CR LF',
      sub { $_[0] =~ s/(oauthclient\.local\.token=)[^&]*/$1$json/ } ],
);

plan tests => 2 + 3 * @cases;

my $forger = LWP::UserAgent->new(max_redirect => 0);
my $res = $forger->get(site('/protected/echo'), Accept => 'application/json', Cookie => $cookie);
ok t_cmp($res->code, 200, 'control: the cookie as the module wrote it logs in');
ok t_cmp(json_of($res)->{REMOTE_USER}, 'alice', 'control: as alice');

for my $case (@cases) {
    my ($what, $tamper) = @$case;
    my $bad = $cookie;
    $tamper->($bad);
    die "$what: the substitution did not apply" if $bad eq $cookie;
    $res = $forger->get(site('/protected/echo'), Accept => 'application/json', Cookie => $bad);
    ok t_cmp($res->code, 401, "tampered cookie, $what: an API client gets 401");
    ok t_cmp($res->content =~ /admin/ ? 'value shown' : 'value not shown', 'value not shown',
             "tampered cookie, $what: nothing of the value in the answer");
    $res = $forger->get(site('/protected/echo?p=1'), Accept => 'text/html', Cookie => $bad);
    ok t_cmp($res->code . ' ' . ($res->header('Location') // ''),
             qr{^302 (\Q@{[site('')]}\E)?/oauth/local/login\?next=},
             "tampered cookie, $what: a browser is sent to log in");
}
