# RFC 9207 (contract section 9): an app whose issuer is known refuses an
# authorization response whose iss parameter names another issuer, error
# responses included, before its code is exchanged: the mix-up attack,
# where a second provider's response is replayed to the first's client.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get login approve
                 login_redirect);

plan tests => 10;

my $issuer = $ENV{OAC_PROVIDER};
my $log_file = Apache::Test::vars('t_logs') . '/error_log';

sub login_with_iss {
    my ($app, $iss) = @_;
    provider_config($iss ? (callback_extra_params => [[ 'iss', $iss ]]) : ());
    my $res = login(browser(), $app, '/after');
    return ($res, provider_get('/_control/stats'));
}

my ($res, $stats) = login_with_iss('issued', $issuer);
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
         'iss equal to the issuer: the login completes');

($res, $stats) = login_with_iss('issued', undef);
ok t_cmp($res->code, 302, 'no iss (the provider does not send it): the login completes');

my $start = -s $log_file;
($res, $stats) = login_with_iss('issued', 'https://evil.example');
ok t_cmp($res->code, 400, 'iss of another provider: refused');
ok t_cmp($res->content, qr/Login failed/, 'on the login error page');
ok t_cmp($stats->{authorization_code_requests}, 0, 'and its code is never exchanged');
ok t_cmp($res->header('Set-Cookie') // '', qr/^(?!.*oauthclient)/, 'nothing stored');
open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my ($line) = grep { /app issued/ && /RFC 9207/ } <$fh>;
close $fh;
ok t_cmp($line // '', qr/names the issuer 'https:\/\/evil\.example', not this app's issuer '\Q$issuer\E' \(RFC 9207\)/,
         'the log names both issuers');

# an error response naming another issuer is not shown as the provider's
provider_config(callback_extra_params => [[ 'iss', 'https://evil.example' ]]);
my $ua = browser();
my $redirect = login_redirect($ua, 'issued', '/after');
my $cb = approve($redirect->header('Location'), 1, 'auto_deny');
$res = $ua->get($cb);
ok t_cmp($res->code, 400, 'an error response with a foreign iss: refused as a mix-up');
ok t_cmp($res->content, qr/RFC 9207/, 'not shown as the provider refusing');

# without a known issuer nothing can be compared: as before
($res, $stats) = login_with_iss('local', 'https://evil.example');
ok t_cmp($res->code, 302, 'an app without issuer ignores iss');
