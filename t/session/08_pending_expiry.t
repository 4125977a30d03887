# A session made only for a login in flight (an anonymous GET of a login
# path) lives as long as that login, ten minutes, not SessionMaxAge: under
# mod_session_dbd every such GET is a row, and the README's cleanup from
# cron removes it then. The session of a completed login lives as
# SessionMaxAge says (here none: expiry 0).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_config login cookie_of);

if (($ENV{OAC_SESSION_STORE} // 'cookie') ne 'dbd' || !$ENV{OAC_SESSION_DB}) {
    plan tests => 1, need { 'sessions in the database (OAC_SESSION_STORE=dbd)' => 0 };
    exit 0;
}
plan tests => 5;

# the expiry (Unix microseconds) of the row of session key
sub row_expiry {
    my $key = shift;
    open my $fh, '-|', '/usr/bin/python3', '-c',
        'import sqlite3, sys; r = sqlite3.connect(sys.argv[1]).execute('
        . '"select expiry from session where key = ?", (sys.argv[2],)).fetchone(); '
        . 'print(r[0] if r else "none")', $ENV{OAC_SESSION_DB}, $key
        or die "python3: $!";
    my $out = <$fh> // '';
    close $fh;
    chomp $out;
    return $out;
}

sub key_of { (my $k = shift) =~ s/^oac_session=//; $k =~ s/;.*//; $k }

provider_config();
my $res = LWP::UserAgent->new(max_redirect => 0)->get(site('/oauth/local/login'));
ok t_cmp($res->code, 302, 'an anonymous login starts');
my ($set) = grep { /^oac_session=/ } $res->header('Set-Cookie');
sub ten_minutes {
    my $expiry = row_expiry(key_of(shift // ''));
    my $now = time() * 1_000_000;
    return $expiry ne 'none' && $expiry > $now && $expiry <= $now + 605 * 1_000_000 ? 'ten minutes' : "'$expiry'";
}
ok t_cmp(ten_minutes($set), 'ten minutes', 'its row expires with the login in flight, not never');
# the same browser starts it again: the session (renamed by
# mod_session_dbd) still holds only logins in flight, and still expires
$res = LWP::UserAgent->new(max_redirect => 0)->get(site('/oauth/local/login'),
                                                   Cookie => key_of($set // '') =~ s/^/oac_session=/r);
($set) = grep { /^oac_session=/ } $res->header('Set-Cookie');
ok t_cmp(ten_minutes($set), 'ten minutes', 'and so does it after a second login started with its cookie');

# the login completed: the session lives as configured
my $ua = browser();
login($ua, 'local');
my $key = key_of(cookie_of($ua));
ok t_cmp($ua->get(site('/protected/echo'))->code, 200, 'a completed login');
ok t_cmp(row_expiry($key), '0', 'its row lives as SessionMaxAge says (none here)');
