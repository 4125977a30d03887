# The log after a poisoned login: the failure is logged once, as
# "[oauthclient:...] ... OAC00021: app NAME: ...", naming the field, never
# the provider's value — at no log level (the test server logs at trace8),
# so a user claim with CR LF cannot forge a log line either. A provider's
# error_description that passed the state check is logged with its
# control characters replaced.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(sleep);
use URI::Escape qw(uri_escape);
use OAC::Flow qw(browser site provider_config login login_redirect query_of);

my $log_file = Apache::Test::vars('t_logs') . '/error_log';

# Each value carries its own marker the log must not show.
my @cases = (
    [ 'user claim (userinfo) with CR LF', 'local',
      { userinfo_override => { login => "mallory\r\n[oauthclient:warn] LOGMARK1 forged" } }, 'LOGMARK1' ],
    [ 'user claim (userinfo) with LF and ESC', 'local',
      { userinfo_override => { login => "mallory\n\x1b[2JLOGMARK2" } }, 'LOGMARK2' ],
    [ 'user claim (token response) with CR LF', 'tokclaim',
      { token_override => { login => "mallory\r\nX-Injected: LOGMARK3" } }, 'LOGMARK3' ],
    [ 'token_type with CR LF', 'local',
      { token_override => { token_type => "Bearer\r\nLOGMARK4" } }, 'LOGMARK4' ],
    [ 'scope with CR LF', 'tokclaim',
      { token_override => { login => 'alice', scope => "profile\r\nLOGMARK5" } }, 'LOGMARK5' ],
    [ 'access_token with CR LF', 'tokclaim',
      { token_override => { login => 'alice', access_token => "at-LOGMARK6\r\nx" } }, 'LOGMARK6' ],
    [ 'OAuth 1 screen_name with CR LF', 'o1',
      { oauth1_access_override => { screen_name => "mallory\r\nLOGMARK7" } }, 'LOGMARK7' ],
);

plan tests => 5 * @cases + 5;

sub log_size { -s $log_file // 0 }

# What the log gained since OFFSET, once it holds a line matching WANT
# (children write it as they answer; give them a moment).
sub log_since {
    my ($offset, $want) = @_;
    my $text = '';
    for (1 .. 40) {
        open my $fh, '<', $log_file or die "$log_file: $!";
        binmode $fh;
        seek $fh, $offset, 0;
        $text = do { local $/; <$fh> } // '';
        close $fh;
        last if $text =~ $want;
        sleep 0.05;
    }
    return $text;
}

for my $case (@cases) {
    my ($what, $app, $config, $marker) = @$case;
    provider_config(%$config);
    my $offset = log_size();
    my $res = login(browser(), $app, '/done');
    ok t_cmp($res->code, 502, "$what: the login fails (502)");
    my $log = log_since($offset, qr/OAC00021/);
    my @lines = grep { /OAC00021/ } split /\n/, $log;
    ok t_cmp(scalar @lines, 1, "$what: one OAC00021 line");
    ok t_cmp($lines[0] // '', qr/\[oauthclient:[a-z]+\] .*OAC00021: app \Q$app\E: /,
             "$what: it is oauthclient's, and names app $app");
    ok t_cmp(index($log, $marker) >= 0 ? 'value logged' : 'not logged', 'not logged',
             "$what: the value is in no log line, at any level");
    ok t_cmp(scalar(grep { !/^\[/ } split /\n/, $log), 0,
             "$what: every log line is a log entry (nothing begins a line of its own)");
}
provider_config();

# A provider error with the valid state: logged once, the description's
# control characters replaced, nothing begins a line of its own.
my $ua = browser();
my $state = query_of(login_redirect($ua, 'local')->header('Location'))->{state};
my $offset = log_size();
my $res = $ua->get(site('/oauth/local/callback?error=access_denied&state=' . uri_escape($state)
                        . '&error_description=' . uri_escape("LOGDESC said no\r\n[oauthclient:crit] LOGFORGED\x1b[2J")));
ok t_cmp($res->code, 403, 'access_denied with the valid state: 403');
my $log = log_since($offset, qr/OAC00021/);
my @lines = grep { /OAC00021/ } split /\n/, $log;
ok t_cmp(scalar @lines, 1, 'access_denied: one OAC00021 line');
ok t_cmp($lines[0] // '', qr/OAC00021: app local: .*access_denied.*LOGDESC said no/,
         'access_denied: the line names the app, the error and the description');
ok t_cmp(scalar(grep { /^\S*\[oauthclient:crit\] LOGFORGED/ || !/^\[/ } split /\n/, $log), 0,
         'access_denied: the description forges no log line');
ok t_cmp(($lines[0] // '') =~ /[\r\x1b]/ ? 'raw control byte' : 'clean', 'clean',
         'access_denied: no raw CR or ESC in the line');
