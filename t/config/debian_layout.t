# The module as Debian's a2enmod enables it: mods-available with Debian's
# own .load files and the project's conf/oauthclient.load and .conf,
# 'a2enmod oauthclient' (which follows "# Depends:"), and httpd reading
# mods-enabled/*.load, then *.conf, as /etc/apache2/apache2.conf does.
# The session codec needs its hooks in mod_session, which only resolve
# when mod_session was loaded first: configtest refuses the codec
# otherwise, so it passing here shows the order is right. The old layout
# (LoadModule in oauthclient.load) is checked to fail with the sentence
# that says what to do. Nothing outside a temporary directory is touched.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Copy qw(copy);
use File::Temp ();
use OAC::Env ();

my $a2enmod = '/usr/sbin/a2enmod';
my $debian = '/etc/apache2/mods-available';
plan tests => 9, need { "Debian's a2enmod and $debian" => -x $a2enmod && -d $debian };

my $top = OAC::Env::src_dir();
my $so = OAC::Env::module_so();
my $httpd = OAC::Env::httpd_bin();

sub slurp { my $f = shift; open my $fh, '<', $f or die "$f: $!"; local $/; return <$fh> }
sub spew { my ($f, $s) = @_; open my $fh, '>', $f or die "$f: $!"; print $fh $s; close $fh }

# A Debian configuration directory with the project's two files, the
# module path pointed at the built module.
sub layout {
    my %opt = @_;
    my $dir = File::Temp->newdir('oac-debian-XXXXXX', TMPDIR => 1);
    mkdir "$dir/$_" for qw(mods-available mods-enabled sites-enabled state);
    opendir my $dh, $debian or die "$debian: $!";
    for my $f (grep { /\.(load|conf)$/ } readdir $dh) {
        copy("$debian/$f", "$dir/mods-available/$f") or die "copy $f: $!";
    }
    my $load = slurp("$top/conf/oauthclient.load");
    my $conf = slurp("$top/conf/oauthclient.conf");
    $conf =~ s{^LoadModule oauthclient_module \S+$}{LoadModule oauthclient_module $so}m
        or die "no LoadModule line in conf/oauthclient.conf";
    if ($opt{old_layout}) {
        # the module loaded from its .load file, before mod_session's
        $conf =~ s{^LoadModule oauthclient_module .*\n}{}m;
        $load .= "LoadModule oauthclient_module $so\n";
    }
    spew("$dir/mods-available/oauthclient.load", $load);
    spew("$dir/mods-available/oauthclient.conf", $conf);
    local $ENV{APACHE_CONFDIR} = "$dir";
    local $ENV{APACHE_STATE_DIRECTORY} = "$dir/state";
    local $ENV{APACHE_ENVVARS} = '/dev/null';
    my $out = `$a2enmod -q mpm_event authn_core authz_core authz_user oauthclient 2>&1`;
    my $status = $? >> 8;
    spew("$dir/apache2.conf", <<"CONF");
ServerRoot $dir
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
DefaultRuntimeDir $dir
ServerName localhost
Listen 127.0.0.1:1
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
IncludeOptional sites-enabled/*.conf
CONF
    spew("$dir/sites-enabled/site.conf", <<'SITE');
OAuthRemoteApp demo client_id=c client_secret=s \
    authorize_url=https://provider.example/authorize \
    access_token_url=https://provider.example/token
Session On
SessionCookieName oauth_session path=/;HttpOnly
OAuthSessionPassphrase 0123456789abcdef-passphrase
<Location /private>
    AuthType OAuth
    OAuthApp demo
    Require valid-user
</Location>
SITE
    return ($dir, $status, $out);
}

sub configtest {
    my $dir = shift;
    my $out = `$httpd -t -d $dir -f $dir/apache2.conf 2>&1`;
    return ($? >> 8, $out);
}

my ($dir, $status, $out) = layout();
ok t_cmp($status, 0, "a2enmod oauthclient succeeds ($out)");
my @enabled = map { m{([^/]+)$} } glob("$dir/mods-enabled/*");
for my $m (qw(session.load session_cookie.load proxy_http.load oauthclient.conf)) {
    ok t_cmp(scalar(grep { $_ eq $m } @enabled), 1, "and enables $m (# Depends: and the .conf)");
}
($status, $out) = configtest($dir);
ok t_cmp($status, 0, 'configtest passes with the session codec in use');
ok t_cmp($out, qr/Syntax OK/, "and says Syntax OK ($out)");
ok t_cmp($out =~ /OAC0009[56]/ ? 'load order warned about' : 'quiet', 'quiet',
         'with nothing to say about the load order');

($dir, $status, $out) = layout(old_layout => 1);
($status, $out) = configtest($dir);
ok t_cmp($status != 0 && $out =~ /OAC00095.*mod_session loaded before mod_oauthclient.*oauthclient\.conf/
         ? 'refused, saying why' : "status $status: $out",
         'refused, saying why',
         'loaded from oauthclient.load (before mod_session), the codec is refused with the fix');
