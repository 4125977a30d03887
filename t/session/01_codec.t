# OAuthSessionPassphrase: the session cookie is encrypted and authenticated;
# a tampered or foreign cookie is an empty session; the first passphrase
# encrypts and every listed one decrypts (rotation).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use URI::Escape qw(uri_unescape);
use OAC::Flow qw(provider_config approve json_of vhost_base codec_get);
use OAC::ConfigTest qw(configtest);

plan tests => 14;

my $old = vhost_base('vh_codec_old');
my $new = vhost_base('vh_codec_new');


provider_config();
# log in on the old host
my ($res, $cookie) = codec_get("$old/oauth/local/login");
my ($res2, $c2) = codec_get(approve($res->header('Location')), $cookie);
$cookie = $c2 if $c2;
ok t_cmp($res2->code, 302, 'login through an encrypted session');
ok t_cmp($cookie, qr/^[A-Za-z0-9_-]{100,}$/, 'the cookie is one base64url blob');
# (Words long enough not to turn up by chance in 400 base64url characters:
# the token prefix 'at-' did, once in a few hundred runs.)
ok t_cmp(uri_unescape($cookie) =~ /oauthclient|access_token|alice/ ? 'readable' : 'opaque', 'opaque',
         'no key, field name or user readable in the cookie');

($res) = codec_get("$old/protected/echo", $cookie);
ok t_cmp($res->code, 200, 'the encrypted session carries the token');
ok t_cmp(json_of($res)->{REMOTE_USER}, 'alice', 'as alice');

# tampering: one character changed, truncated, garbage
(my $flipped = $cookie) =~ s/^(.{40})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
($res) = codec_get("$old/protected/echo", $flipped);
ok t_cmp($res->code, 401, 'a tampered cookie is an empty session (401, not 500)');
($res) = codec_get("$old/protected/echo", substr($cookie, 0, 60));
ok t_cmp($res->code, 401, 'a truncated cookie is an empty session');
($res) = codec_get("$old/protected/echo", 'not-a-cookie');
ok t_cmp($res->code, 401, 'garbage is an empty session');
($res) = codec_get("$old/oauth/local/login", $flipped);
ok t_cmp($res->code, 302, 'and the empty session can start a new login');

# rotation: the new host reads the old host's cookie...
my $newcookie;
($res, $newcookie) = codec_get("$new/protected/echo", $cookie);
ok t_cmp($res->code, 200, 'rotation: a cookie made under the old passphrase is still read');
# ...and re-encrypts under the new one, which the old host cannot read
($res, $newcookie) = codec_get("$new/oauth/local/login", $cookie) unless $newcookie;
ok t_cmp($newcookie ? 'rewritten' : 'none', 'rewritten', 'the new host writes the session under its first passphrase');
($res) = codec_get("$old/protected/echo", $newcookie);
ok t_cmp($res->code, 401, 'the old host cannot read the new passphrase\'s cookie');

# configuration: double encryption and short passphrases are refused
my ($status, $out) = configtest("LoadModule session_crypto_module "
    . OAC::Env::apxs_query('LIBEXECDIR') . "/mod_session_crypto.so\n"
    . "<Location /x>\nSession On\nSessionCryptoPassphrase abcdefghijklmnopqrstuvwxyz\n"
    . "OAuthSessionPassphrase abcdefghijklmnopqrstuvwxyz\n</Location>");
ok t_cmp($out, qr/would encrypt the same session twice; keep one of them/,
         'OAuthSessionPassphrase with SessionCryptoPassphrase in one location: refused');
# a short passphrase starts (contract section 3: mod_session_crypto's
# terms), with a warning that names the risk and does not quote it
($status, $out) = configtest("OAuthSessionPassphrase tiny-pass");
ok t_cmp(($status == 0 ? 'starts' : "status $status") . ($out =~ /OAC00161: OAuthSessionPassphrase at \S+:\d+: passphrase 1 is shorter than 16 characters: anyone holding a session cookie can test guesses offline/ ? ', warned' : ", silent: $out")
         . (index($out, 'tiny-pass') < 0 ? '' : ', quoted'),
         'starts, warned', 'a short passphrase starts, with a warning that does not quote it');
