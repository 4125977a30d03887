# configtest catches the usual mistakes (issue #18, contract section 12),
# each with a message that names the fix: an undefined ${VAR} in an
# OAuthRemoteApp line, AuthType OAuth where no OAuthApp applies, where no
# session applies, OAuthProxyAPI to https:// without SSLProxyEngine On.
# Working configurations, nested sections included, still pass.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::ConfigTest qw(configtest);
use OAC::Env ();
use OAC::Flow qw(browser site);

plan tests => 34;

my $app = <<'CONF';
OAuthRemoteApp gh client_id=id client_secret=s3cret-value \
    authorize_url=https://github.com/login/oauth/authorize \
    access_token_url=https://github.com/login/oauth/access_token \
    api_base_url=https://api.github.com/
CONF
my $session = "Session On\nSessionCookieName oauth_session path=/;HttpOnly\n";
my $protect = "<Location /app>\n AuthType OAuth\n OAuthApp gh\n Require valid-user\n</Location>\n";

sub refused {
    my ($snippet, $pattern, $name) = @_;
    my ($status, $out) = configtest($snippet);
    ok t_cmp($status != 0 && $out =~ $pattern ? 'refused, saying so' : "status $status: $out",
             'refused, saying so', $name);
    return $out;
}

# Started, and said: what contract section 3 or 6 describes must start
sub warned {
    my ($snippet, $pattern, $name) = @_;
    my ($status, $out) = configtest($snippet);
    ok t_cmp($status == 0 && $out =~ $pattern ? 'passes, warning' : "status $status: $out",
             'passes, warning', $name);
}

sub accepted {
    my ($snippet, $name) = @_;
    my ($status, $out) = configtest($snippet);
    ok t_cmp($status == 0 ? 'accepted' : "status $status: $out", 'accepted', $name);
}

accepted($app . $session . $protect, 'a working configuration passes');

# ${VAR} left undefined: httpd only warns and passes the text on
my $out = refused("OAuthRemoteApp gh client_id=\${GH_ID} client_secret=s3cret-value \\\n"
                  . " authorize_url=https://p.example/a access_token_url=https://p.example/t\n",
                  qr/OAuthRemoteApp gh: client_id holds \$\{GH_ID\}, which is not defined: define it/,
                  'an undefined ${VAR} stops configtest, naming it and the key');
ok t_cmp(index($out, 's3cret-value') < 0 ? 'no secret' : 'secret shown', 'no secret',
         'without showing the rest of the line');

# AuthType OAuth with no OAuthApp
refused($app . $session . "<Location /app>\n AuthType OAuth\n Require valid-user\n</Location>\n",
        qr/OAC00099: AuthType OAuth at \S+:\d+: no OAuthApp applies there; add 'OAuthApp NAME'/,
        'AuthType OAuth without OAuthApp');
accepted($app . $session . "<Location /app>\n OAuthApp gh\n</Location>\n"
         . "<Location /app/deeper>\n AuthType OAuth\n Require valid-user\n</Location>\n",
         'OAuthApp from an enclosing <Location> path counts');
accepted($app . $session . "<Directory /srv/app>\n AllowOverride AuthConfig\n</Directory>\n"
         . "<Location /app>\n AuthType OAuth\n Require valid-user\n</Location>\n",
         'not judged when .htaccess files may set OAuthApp');

# no session: a warning, since contract section 3 has such a location
# answer 500 (t/oauth2/02_failures.t, /nosession), logging what is missing
warned($app . $protect, qr/OAC00100: AuthType OAuth at \S+ keeps tokens in mod_session's session, and no 'Session On' applies there/,
       "AuthType OAuth without 'Session On'");
warned($app . "Session On\n" . $protect,
       qr/OAC00100: .*no session store applies there: add 'Session On' and a store/,
       'AuthType OAuth without a session store');
warned($app . "<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n",
       qr/OAC00100: OAuthProxyAPI at \S+ keeps tokens/, 'OAuthProxyAPI without a session');
accepted($app . "<VirtualHost 127.0.0.1:1>\n ServerName v.example\n Session On\n"
         . " SessionCookieName s path=/\n <Location /app>\n  AuthType OAuth\n  OAuthApp gh\n"
         . "  Require valid-user\n </Location>\n</VirtualHost>\n",
         'a session set at the top of the virtual host counts');

# an app for service tokens only (no authorize_url): fine behind
# OAuthProxyAPI NAME client_credentials, refused where users log in
my $svc = "OAuthRemoteApp svc client_id=id client_secret=s3cret-value \\\n"
        . " access_token_url=https://p.example/t api_base_url=http://api.example/\n";
accepted($svc . "<Location /svc/>\n OAuthProxyAPI svc client_credentials\n</Location>\n",
         'an app without authorize_url, for service tokens');
refused($svc . $session . "<Location /app>\n AuthType OAuth\n OAuthApp svc\n Require valid-user\n</Location>\n",
        qr/OAC00163: OAuthApp svc at \S+:\d+: the app has no authorize_url, so no user can log in to it/,
        'OAuthApp naming it: refused');
refused($svc . $session . "<Location /api/svc/>\n OAuthProxyAPI svc\n</Location>\n",
        qr/OAC00163: OAuthProxyAPI svc at \S+:\d+: the app has no authorize_url/,
        "OAuthProxyAPI with users' tokens naming it: refused");
refused($app . $svc . $session . "<Location /api/svc/>\n OAuthApp gh\n OAuthProxyAPI svc\n</Location>\n",
        qr/OAC00163: OAuthProxyAPI svc at \S+:\d+: the app has no authorize_url/,
        "... also beside an OAuthApp of another app");

# OAuthProxyAPI to https without SSLProxyEngine: a warning, as contract
# section 6's own example is such a location
warned($app . $session . "<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n",
       qr/OAC00101: OAuthProxyAPI gh at \S+ proxies to https:\/\/api.github.com\/, and mod_proxy needs 'SSLProxyEngine On'/,
       'OAuthProxyAPI to https:// without SSLProxyEngine On');
my $ssl = OAC::Env::apxs_query('LIBEXECDIR') . '/mod_ssl.so';
SKIP: {
    skip "no mod_ssl at $ssl", 4 unless -e $ssl;
    accepted("LoadModule ssl_module $ssl\n" . $app . $session . "SSLProxyEngine On\n"
             . "<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n",
             'with SSLProxyEngine On it passes');
    accepted("LoadModule ssl_module $ssl\n" . $app . $session
             . "<Proxy https://api.github.com/*>\n SSLProxyEngine On\n</Proxy>\n"
             . "<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n",
             'as it does with SSLProxyEngine On in a <Proxy> section');
    # mod_ssl verifies nothing it proxies to unless told: said
    my ($st, $said) = configtest("LoadModule ssl_module $ssl\n" . $app . $session
                                 . "SSLProxyEngine On\n<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n");
    ok t_cmp($st == 0 && $said =~ /OAC00155: OAuthProxyAPI gh at \S+ proxies to https:\/\/api.github.com\/, and no 'SSLProxyVerify require' applies there/
             ? 'passes, warning' : "status $st: $said", 'passes, warning',
             'without SSLProxyVerify require: a warning');
    ($st, $said) = configtest("LoadModule ssl_module $ssl\n" . $app . $session
                              . "<Proxy https://api.github.com/*>\n SSLProxyEngine On\n SSLProxyVerify require\n"
                              . " SSLProxyCACertificateFile /etc/ssl/certs/ca-certificates.crt\n</Proxy>\n"
                              . "<Location /api/gh/>\n OAuthProxyAPI gh\n</Location>\n");
    ok t_cmp($st == 0 && $said !~ /OAC00155/ ? 'passes, quiet' : "status $st: $said", 'passes, quiet',
             'with SSLProxyVerify require (in a <Proxy> section): no warning');
}
accepted("OAuthRemoteApp loc client_id=id client_secret=s authorize_url=http://127.0.0.1:9/a "
         . "access_token_url=http://127.0.0.1:9/t api_base_url=http://127.0.0.1:9/api/\n"
         . $session . "<Location /api/loc/>\n OAuthProxyAPI loc\n</Location>\n",
         'an http:// api_base_url needs no SSLProxyEngine');
accepted($app . $session . "<LocationMatch ^/re/>\n AuthType OAuth\n Require valid-user\n</LocationMatch>\n",
         'regex sections are not judged');

# OAuthSessionPassphrase over the protected location but not the app's
# own paths: the callback would keep the login in a plain cookie that
# the location refuses, and every login loops. Said, naming the path.
{
    my $pp = "OAuthSessionPassphrase 0123456789abcdef-passphrase\n";
    my ($st, $said) = configtest($app . $session . "<Location /app>\n $pp AuthType OAuth\n OAuthApp gh\n"
                                 . " Require valid-user\n</Location>\n");
    ok t_cmp($st == 0 && $said =~ /OAC00156: the main server: OAuthSessionPassphrase \(\S+:\d+\) does not apply to app gh's \/oauth\/gh\/login: .*give it the scope of 'Session On'/
             ? 'passes, warning' : "status $st: $said", 'passes, warning',
             'a passphrase narrower than the app\'s paths: a warning');
    for my $cover ("<LocationMatch \"^/(app|oauth)/\">\n $pp</LocationMatch>\n",
                   "<Location /oauth/>\n $pp</Location>\n<Location /app>\n $pp</Location>\n",
                   $pp) {
        ($st, $said) = configtest($app . $session . $cover . $protect);
        ok t_cmp($st == 0 && $said !~ /OAC00156/ ? 'passes, quiet' : "status $st: $said", 'passes, quiet',
                 'a passphrase over the app\'s paths too: no warning (' . (split /\n/, $cover)[0] . ')');
    }
}

# AuthType OAuth over a session cookie that is not encrypted: its owner
# can name any user in it. Said; with a passphrase, or sessions on the
# server, nothing is said.
{
    my ($st, $said) = configtest($app . $session . $protect);
    ok t_cmp($st == 0 && $said =~ /OAC00159: AuthType OAuth at \S+:\d+ keeps its logins in a session cookie that is not encrypted: .*add OAuthSessionPassphrase/
             ? 'passes, warning' : "status $st: $said", 'passes, warning',
             'a plain session cookie: a warning');
    ($st, $said) = configtest($app . $session . "OAuthSessionPassphrase 0123456789abcdef-passphrase\n" . $protect);
    ok t_cmp($st == 0 && $said !~ /OAC00159/ ? 'passes, quiet' : "status $st: $said", 'passes, quiet',
             'encrypted by the module: no warning');
}

# 'Session On' in a <Directory> only: the module's own paths never enter
# one (their logins answered 500): said. In <Location /> it applies to
# a <Directory>'s AuthType OAuth too: accepted.
{
    my $dir = "<Directory /srv/app>\n Session On\n SessionCookieName s path=/\n AuthType OAuth\n"
            . " OAuthApp gh\n Require valid-user\n</Directory>\n";
    my ($st, $said) = configtest($app . $dir);
    ok t_cmp($st == 0 && $said =~ /OAC00157: the main server: 'Session On' is set in the <Directory> at \S+:\d+, but the module's own paths \(app gh: \/oauth\/gh\/login/
             ? 'passes, warning' : "status $st: $said", 'passes, warning',
             "'Session On' only in a <Directory>: a warning");
    ($st, $said) = configtest($app . "<LocationMatch \"^/(app|oauth)/\">\n Session On\n SessionCookieName s path=/\n"
                              . "</LocationMatch>\n" . $dir);
    ok t_cmp($st == 0 && $said !~ /OAC00157/ ? 'passes, quiet' : "status $st: $said", 'passes, quiet',
             "'Session On' also in a <LocationMatch> over the app's paths: no warning");
    accepted($app . "<Location />\n Session On\n SessionCookieName s path=/\n</Location>\n"
             . "<Directory /srv/app>\n AuthType OAuth\n OAuthApp gh\n Require valid-user\n</Directory>\n",
             "'Session On' in <Location /> counts for a <Directory>'s AuthType OAuth");
}

# a Secure cookie with callbacks that will be http:// (a proxy in front
# terminates TLS): a warning, since http://localhost keeps Secure cookies
my $secure = "Session On\nSessionCookieName s path=/;HttpOnly;Secure\n";
my ($status, $warn) = configtest($app . $secure . $protect);
ok t_cmp($status == 0 && $warn =~ /OAC00103: the main server: the session cookie is Secure, but the callbacks \(app gh: \/oauth\/gh\/callback\) will be http:\/\/localhost\.\.\.: .*set 'ServerName https:\/\/localhost'/
         ? 'warned' : "status $status: $warn", 'warned',
         'a Secure cookie with http:// callbacks: configtest passes with a warning naming the fix');
($status, $warn) = configtest($app . $secure . $protect . "ServerName https://www.example.com\n");
ok t_cmp($status == 0 && $warn !~ /OAC00103/ ? 'quiet' : "status $status: $warn", 'quiet',
         'with ServerName https://... it is quiet');

# at run time, a login that arrives through a TLS-terminating proxy while
# its callback is http://
my $log_file = Apache::Test::vars('t_logs') . '/error_log';
my $start = -s $log_file;
my $res = browser()->get(site('/oauth/local/login'), 'X-Forwarded-Proto' => 'https');
ok t_cmp($res->code, 302, 'a login through a proxy that terminated TLS');
open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @lines = grep { /OAC00102/ } <$fh>;
close $fh;
ok t_cmp($lines[0] // 'no warning', qr/app local: the callback is http:\/\/\S+\/oauth\/local\/callback, but this request came through a proxy that terminated TLS .*set 'ServerName https:\/\//,
         'logs a warning naming the fix');
