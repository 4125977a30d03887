# Claims named only in an .htaccess file. A session keeps the claims the
# main configuration names (OAuthForwardClaims, Require oauth-claim), read
# once at startup, long before any .htaccess is; so a claim that only an
# .htaccess names was never kept. Reading such a line warns with the file
# and line (OAC00116), and a Require oauth-claim on that claim answers 500
# (OAC00127): the claim is unknown, not absent, and neither a grant nor a
# denial would be the truth. The same kind of .htaccess naming a claim the
# main configuration also names works.
#
# An httpd of its own: the suite's main configuration has
# OAuthForwardClaims On, under which every claim is kept and neither
# message can happen.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use HTTP::Cookies ();
use IO::Socket::INET ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(sleep);
use OAC::Env ();
use OAC::Flow qw(provider_config approve);

plan tests => 13;

my $libexec = OAC::Env::apxs_query('LIBEXECDIR');
my $provider = "http://127.0.0.1:" . OAC::Env::provider_port();
my $dir = File::Temp->newdir('oac-htaccess-XXXXXX', TMPDIR => 1);
my $port = OAC::Env::free_port();
my $base = "http://127.0.0.1:$port";

sub put {
    my ($file, @lines) = @_;
    open my $fh, '>', "$dir/$file" or die "$dir/$file: $!";
    print $fh join("\n", @lines), "\n";
    close $fh;
}

mkdir "$dir/$_" for qw(htdocs htdocs/main htdocs/unkept htdocs/kept htdocs/tokens htdocs/sealed
                      htdocs/foreign);
put("htdocs/$_/page.txt", "the $_ page") for qw(main unkept kept tokens sealed foreign);
# 'email' is named nowhere in the main configuration
put('htdocs/unkept/.htaccess', 'AuthType OAuth', 'OAuthApp local',
    'OAuthForwardClaims email', 'Require oauth-claim email:alice@example.org');
# OAuthSessionPassphrase in .htaccess: a new one first, the main one still
# opening the cookie (a rotation); and one that cannot open it
put('htdocs/sealed/.htaccess', 'AuthType OAuth', 'OAuthApp local', 'Require valid-user',
    'OAuthSessionPassphrase htaccess-newer-passphrase-0123 htaccess-claims-test-0123456789');
put('htdocs/foreign/.htaccess', 'AuthType OAuth', 'OAuthApp local', 'Require valid-user',
    'OAuthSessionPassphrase htaccess-newer-passphrase-0123');
# the id_token: nothing in the main configuration forwards it
put('htdocs/tokens/.htaccess', 'AuthType OAuth', 'OAuthApp local', 'OAuthForwardTokens On',
    'Require valid-user');
# 'name' is: the main configuration forwards it under /names
put('htdocs/kept/.htaccess', 'AuthType OAuth', 'OAuthApp local',
    'Require oauth-claim "name:Alice Liddell"');
# prefork: under -X, mpm_event's main thread sometimes crashes in
# apr_os_sock_get while closing its listeners on TERM (httpd's own code;
# seen in 1 of 25 runs, core dump read with gdb), which the END block's
# waitpid would make this test's exit status.
my @conf = map { "LoadModule ${_}_module $libexec/mod_$_.so" }
    qw(mpm_prefork authn_core authz_core authz_user session session_cookie);
push @conf, 'LoadModule oauthclient_module ' . OAC::Env::module_so(),
    'ServerName localhost', "Listen 127.0.0.1:$port", "PidFile $dir/httpd.pid",
    "ErrorLog $dir/error_log", 'LogLevel warn', "DefaultRuntimeDir $dir",
    "DocumentRoot $dir/htdocs",
    'Session On', 'SessionCookieName s path=/;HttpOnly',
    'OAuthSessionPassphrase htaccess-claims-test-0123456789',
    'OAuthRemoteApp local client_id=oauth2-client client_secret=oauth2-secret '
        . "authorize_url=$provider/oauth2/authorize access_token_url=$provider/oauth2/token "
        . "userinfo_endpoint=$provider/oauth2/userinfo user_claim=login 'scope=profile email'",
    '<Location /main>', 'AuthType OAuth', 'OAuthApp local', 'Require oauth-claim login:alice',
    '</Location>',
    '<Location /names>', 'OAuthForwardClaims name', '</Location>',
    # With pad7 named too, the fingerprint of what sessions keep (the first
    # 9 bytes of SHA-256 over "named\nlogin\nname\npad7", base64url) ends
    # in 'x', the mark of "claims too big to keep": read as the last
    # character instead of the one after the fingerprint, every claim rule
    # of this httpd answered 500.
    '<Location /pad>', 'OAuthForwardClaims pad7', '</Location>',
    "<Directory $dir/htdocs>", 'AllowOverride AuthConfig', '</Directory>';
push @conf, 'User nobody', 'Group nogroup' if $> == 0;

put('httpd.conf', @conf);
# httpd's children (User nobody) read the .htaccess files
chmod 0755, "$dir";

provider_config();
my $pid = fork // die "fork: $!";
if (!$pid) {
    open STDOUT, '>', "$dir/httpd.out";
    open STDERR, '>&', \*STDOUT;
    exec OAC::Env::httpd_bin(), '-X', '-f', "$dir/httpd.conf" or POSIX::_exit(127);
}
my $up;
for (1 .. 100) {
    last if ($up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port"));
    last if waitpid($pid, POSIX::WNOHANG()) == $pid;
    sleep 0.1;
}
END {
    if ($pid) {
        kill 'TERM', $pid;
        for (1 .. 100) {
            last if waitpid($pid, POSIX::WNOHANG()) == $pid;
            sleep 0.1;
            kill 'KILL', $pid if $_ == 100;
        }
    }
}
sub slurp { open my $fh, '<', "$dir/$_[0]" or return ''; local $/; <$fh> }
sub error_log { slurp('error_log') }
ok t_cmp($up ? 'listening' : 'not started: ' . slurp('httpd.out') . error_log(), 'listening', 'the httpd starts');

my $ua = LWP::UserAgent->new(max_redirect => 0, timeout => 30, cookie_jar => HTTP::Cookies->new);
$ua->default_header(Accept => 'text/html');
my $res = $ua->get("$base/oauth/local/login");
my $callback = $res->code == 302 ? approve($res->header('Location')) : '';
$res = $callback ? $ua->get($callback) : $res;
ok t_cmp($res->code, 302, 'alice logs in through the local provider');

$res = $ua->get("$base/main/page.txt");
ok t_cmp($res->code . ' ' . $res->content, "200 the main page\n",
         'a claim the main configuration names is judged: granted');

$res = $ua->get("$base/kept/page.txt");
ok t_cmp($res->code . ' ' . $res->content, "200 the kept page\n",
         'an .htaccess naming a claim the main configuration names too: judged, granted');

$res = $ua->get("$base/unkept/page.txt");
ok t_cmp($res->code, 500, 'an .htaccess requiring a claim sessions do not keep: 500');
ok t_cmp($res->content =~ /the unkept page/ ? 'page shown' : 'not shown', 'not shown',
         '... and the page is not served');

$ua->get("$base/tokens/page.txt");
my $log = error_log();
ok t_cmp($log, qr{OAC00116: \Q$dir\E/htdocs/tokens/\.htaccess:3: OAuthForwardTokens On is not in the main configuration},
         'OAC00116 for OAuthForwardTokens On in an .htaccess alone');
ok t_cmp($log, qr{OAC00116: \Q$dir\E/htdocs/unkept/\.htaccess:4: the claim 'email' is not named in the main configuration},
         'OAC00116 names the .htaccess file, its line and the claim');
ok t_cmp($log, qr{OAC00127: Require oauth-claim at /unkept/page\.txt: the claim 'email' is not kept in sessions},
         'OAC00127 says which claim at which path');
ok t_cmp(scalar(() = $log =~ /OAC00116: \Q$dir\E\/htdocs\/kept\//g), 0,
         'no warning for the .htaccess whose claim the main configuration names');

# OAuthSessionPassphrase in .htaccess: its keys are derived once per child,
# and the file, read at every request, costs the child no memory per
# request (a copy of the lookup key per request was kept for the child's
# life: 40 bytes each).
$res = $ua->get("$base/sealed/page.txt");
ok t_cmp($res->code . ' ' . $res->content, "200 the sealed page\n",
         'an .htaccess passphrase list that still opens the cookie: logged in');
$res = $ua->get("$base/foreign/page.txt");
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), qr{^302 .*/oauth/local/login},
         'an .htaccess passphrase that cannot open it: no session, off to log in');

sub rss_kb {
    open my $fh, '<', "/proc/$pid/status" or return 0;
    local $/;
    my ($kb) = (<$fh> // '') =~ /^VmRSS:\s*(\d+)/m;
    return $kb // 0;
}
if ($ENV{OAC_ASAN_LOG}) {
    # AddressSanitizer keeps freed memory in quarantine: RSS grows anyway
    skip('under AddressSanitizer RSS is no measure of what the child keeps', 1);
}
else {
    my $keep = LWP::UserAgent->new(max_redirect => 0, timeout => 30, keep_alive => 1,
                                   cookie_jar => $ua->cookie_jar);
    $keep->get("$base/sealed/page.txt") for 1 .. 2000;
    my $before = rss_kb();
    $keep->get("$base/sealed/page.txt") for 1 .. 20000;
    my $grew = rss_kb() - $before;
    ok t_cmp($grew < 400 ? 'flat' : "grew by $grew kB", 'flat',
             "20,000 requests under that .htaccess: the child's memory stays flat ($grew kB)");
}
