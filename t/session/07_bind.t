# A session is bound to the client and provider its login was made with:
# two virtual hosts sharing one OAuthSessionPassphrase, each
# with an app named 'local' for another client, do not take each other's
# logins, nor does one that names users by another claim. Without the
# binding, a user who can log in at the first as anyone (their own
# identity provider, a tenant's) could copy the cookie to the second and
# be that user there. A host whose app is the same client of the same
# provider takes it, as before. A session of an earlier version (no
# binding) is no login where apps of its name differ between hosts, as
# here; and logging out with another host's login does not send it to
# this host's provider.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(provider_config approve json_of log_size log_since vhost_base codec_get);

plan tests => 20;

my $one = vhost_base('vh_bind_a');
my $two = vhost_base('vh_bind_b');
my $three = vhost_base('vh_bind_c');
my $four = vhost_base('vh_bind_d');
my $codec = Apache::Test::vars('t_dir') . '/tools/session_codec.py';
my $passphrase = 'bind-passphrase-0123456789';

sub codec {
    open my $fh, '-|', '/usr/bin/python3', $codec, @_ or die "$codec: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return $out;
}

provider_config();
my ($res, $cookie) = codec_get("$one/oauth/local/login");
my ($res2, $c2) = codec_get(approve($res->header('Location')), $cookie);
$cookie = $c2 if $c2;
ok t_cmp($res2->code, 302, 'alice logs in at the first host');
($res) = codec_get("$one/protected/echo", $cookie);
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // ''), '200 alice',
         'the first host takes its login');

# an .htaccess repeating the host's passphrase: the same codec, so the
# session the host read for a missing page is a login in its ErrorDocument
($res) = codec_get("$one/codecht/ok.html", $cookie);
ok t_cmp($res->code . ($res->content =~ /codecht page/ ? ' shown' : ''), '200 shown',
         'control: the .htaccess with the host\'s passphrase takes the login');
($res) = codec_get("$one/no-such-page", $cookie);
ok t_cmp($res->code . ($res->content =~ /codecht page/ ? ' shown' : ' not shown'), '404 shown',
         'an ErrorDocument under that .htaccess takes the session the host decoded');

my $mark = log_size();
($res) = codec_get("$two/protected/echo", $cookie);
ok t_cmp($res->code, 401, 'the second host, its app another client: the cookie is no login there');
ok t_cmp(json_of($res)->{REMOTE_USER} // '', '', 'and names no user');
ok t_cmp(log_since($mark, qr/OAC00144/), qr/OAC00144: app local: the session's login was made with another provider or client/,
         'OAC00144 says why');

($res) = codec_get("$three/protected/echo", $cookie);
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // ''), '200 alice',
         'a third host with the same client of the same provider takes it');

# a login at the second host works, and is its own
($res, my $bcookie) = codec_get("$two/oauth/local/login", $cookie);
ok t_cmp($res->code, 302, 'the second host starts a login of its own');

# Its login in flight is its own: the state spent at the first host's
# callback (a tenant who runs the second provider learns it, and would
# send the user there with a code of its choosing for the first) is
# unknown there, and nothing is exchanged.
{
    my $state = ($res->header('Location') =~ /[?&]state=([^&]+)/)[0];
    my $mark = log_size();
    # as an earlier version wrote it, without its owner: where apps of its
    # name differ between hosts (here), it is no host's
    my $unowned = codec('seal', $passphrase,
                        codec('open', $passphrase, $bcookie) =~ s/(?:^|&)oauthclient\.local\.pending_for=[^&]*//r);
    my ($r) = codec_get("$one/oauth/local/callback?code=chosen-code&state=$state", $unowned);
    ok t_cmp($r->code, 400, "an unowned login in flight where apps of its name differ: unknown");
    ($r) = codec_get("$one/oauth/local/callback?code=chosen-code&state=$state", $bcookie);
    ok t_cmp($r->code, 400, "another host's login in flight: its state is unknown here");
    ok t_cmp(log_since($mark, qr/OAC00021/), qr/unknown or expired login state/, 'said so');
    # a login of another app started at the first host leaves it alone
    my ($other, $c2) = codec_get("$one/oauth/absredir/login", $bcookie);
    ok t_cmp($other->code, 302, 'a login of another app at the first host');
    $bcookie = $c2 if $c2;
    # at its own host the state is known, and the code goes to its
    # provider (which refuses this one)
    $mark = log_size();
    ($r) = codec_get("$two/oauth/local/callback?code=chosen-code&state=$state", $bcookie);
    ok t_cmp($r->code, 502, 'the host that started it takes the state');
    ok t_cmp(log_since($mark, qr/OAC00021/), qr/token endpoint/i, 'and asks its token endpoint');
}

($res) = codec_get("$four/protected/echo", $cookie);
ok t_cmp($res->code, 401, 'a host whose app names users by another claim: no login there');

# As an earlier version wrote it: the same login without its binding.
my $plain = codec('open', $passphrase, $cookie);
(my $legacy = $plain) =~ s/(?:^|&)oauthclient\.local\.bind=[^&]*//;
ok t_cmp(($plain =~ /oauthclient\.local\.bind=/ ? 'bound' : 'unbound') . ' '
         . ($legacy =~ /oauthclient\.local\.bind=/ ? 'bound' : 'unbound'),
         'bound unbound', 'the session holds the binding (and the copy not)');
my $old = codec('seal', $passphrase, $legacy);
($res) = codec_get("$one/protected/echo", $old);
ok t_cmp($res->code, 401, "an earlier version's session, where apps of its name differ: no login");

# Logging out at the second host with the first's login: not sent to the
# second's provider (its end_session_endpoint), as no login of its own.
($res) = codec_get("$two/oauth/local/logout", $cookie);
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), qr{^302 (?!.*end_session)},
         "logging out with another host's login: not to this host's provider");
ok t_cmp($res->header('Location') // '', qr{^http://[^/]+/$}, 'but home');
