# Four apps holding JWT-sized tokens (2.5 KB access and refresh tokens,
# as Entra or Keycloak issue them). With sessions in mod_session_dbd
# (OAC_SESSION_STORE=dbd) all four work end to end and the browser holds
# only the session's key. With a cookie session even one does not fit:
# the login ends on the error page and a log line, never in a loop, as
# seen by a client that drops a Set-Cookie over 4,096 bytes as browsers do.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get login cookie_of json_of);

my @apps = map { "big$_" } 1 .. 4;
my $dbd = ($ENV{OAC_SESSION_STORE} || 'cookie') eq 'dbd';
plan tests => $dbd ? 4 + 3 * @apps : 7;

# Browsers drop a cookie whose name and value exceed 4,096 bytes.
sub limited_browser {
    my $ua = browser();
    $ua->add_handler(response_header => sub {
        my $res = shift;
        my @kept = grep { length((split /;/, $_)[0]) <= 4096 } $res->header('Set-Cookie');
        $res->remove_header('Set-Cookie');
        $res->push_header('Set-Cookie' => $_) for @kept;
        return;
    });
    return $ua;
}

provider_config(token_length => 2500);
my $ua = limited_browser();

if ($dbd) {
    for my $app (@apps) {
        my $res = login($ua, $app, '/after');
        ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
                 "$app: login completes");
    }
    for my $app (@apps) {
        my $res = $ua->get(site("/api/$app/me"), Accept => 'application/json');
        ok t_cmp($res->code, 200, "$app: an API call with its 2.5 KB token");
        my $echo = json_of($res);
        ok t_cmp(($echo->{auth} // '') . ' ' . ($echo->{user} // ''), 'bearer-header alice',
                 "$app: the provider accepted the token");
    }
    ok t_cmp(length(cookie_of($ua)) < 100 ? 'small' : 'large', 'small',
             'the browser holds only the session key');
    # every app's login survived the others' (one session, four tokens)
    my $ok = grep { $ua->get(site("/api/$_/me"))->code == 200 } @apps;
    ok t_cmp($ok, scalar @apps, 'all four apps are still logged in');
    # a refresh of one of them, with tokens this large, works too
    provider_config(token_length => 2500, access_token_lifetime => 30);
    my $res = login($ua, 'big2', '/after');
    ok t_cmp($ua->get(site('/api/big2/refreshed'))->code, 200,
             'a 2.5 KB token that must be refreshed first: refreshed and used');
    ok t_cmp(provider_get('/_control/stats')->{refresh_requests}, 1, 'by one refresh');
}
else {
    my $log_file = Apache::Test::vars('t_logs') . '/error_log';
    my $start = -s $log_file;
    my $res = login($ua, 'big1', '/after');
    ok t_cmp($res->code, 500, 'the login whose session cannot be a cookie fails');
    ok t_cmp($res->content, qr/The session is too large/, 'on a page that says why');
    ok t_cmp($ua->get(site('/api/big1/me'))->code, 401, 'the user is not logged in (no "success")');
    $res = login($ua, 'big1', '/after');
    ok t_cmp($res->code . ' ' . ($res->header('Location') // 'none'), '500 none',
             'logging in again ends on the same page, not in a redirect loop');
    open my $fh, '<', $log_file or die "$log_file: $!";
    seek $fh, $start, 0;
    my @lines = grep { /OAC00014/ } <$fh>;
    close $fh;
    ok t_cmp(scalar(@lines), 2, 'each attempt is logged (OAC00014)');
    ok t_cmp($lines[0] // '', qr/would be \d{4,} bytes, over the 4096.*Apps in the session: big1 \(5\d\d\d bytes of token\).*mod_session_dbd/,
             'naming the size, the app and the fix');
    ok t_cmp(length(cookie_of($ua)) <= 4096 ? 'kept' : 'too large', 'kept',
             'the browser never held a cookie over 4,096 bytes');
}
