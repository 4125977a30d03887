# Each kind of broken configuration stops 'httpd -t' (apachectl configtest)
# with a message naming the app, the key, the bad value and the fix; and
# the client_secret is never printed.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::ConfigTest qw(configtest);
use File::Temp ();

my $secret = 'Sup3rS3cretValue';
my $gh = "client_id=id client_secret=$secret "
       . "authorize_url=https://p.example/authorize "
       . "access_token_url=https://p.example/token";
my $tw = "client_id=id client_secret=$secret "
       . "request_token_url=https://p.example/request_token "
       . "authorize_url=https://p.example/authorize "
       . "access_token_url=https://p.example/access_token";

# Keys for the section 11 cases: one of a curve the module does not sign
# with, one it does, and a file that holds no key; keys of a type it does
# not sign with (DSA, Ed448), an RSA key too short, and a public key.
my $keys = File::Temp::tempdir(CLEANUP => 1);
system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out $keys/p384.pem 2>/dev/null") == 0
    or die "openssl genpkey P-384";
system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $keys/p256.pem 2>/dev/null") == 0
    or die "openssl genpkey P-256";
system("openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out $keys/dsa.param 2>/dev/null") == 0
    && system("openssl genpkey -paramfile $keys/dsa.param -out $keys/dsa.pem 2>/dev/null") == 0
    or die "openssl genpkey DSA";
system("openssl genpkey -algorithm ED448 -out $keys/ed448.pem 2>/dev/null") == 0
    or die "openssl genpkey ED448";
system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $keys/rsa1024.pem 2>/dev/null") == 0
    or die "openssl genpkey RSA 1024";
system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $keys/rsa2048.pem 2>/dev/null") == 0
    or die "openssl genpkey RSA 2048";
system("openssl pkey -in $keys/p256.pem -pubout -out $keys/p256-public.pem 2>/dev/null") == 0
    or die "openssl pkey -pubout";
open my $nokey, '>', "$keys/nokey.pem" or die $!;
print $nokey "not a key\n";
close $nokey;
chmod 0755, $keys;
chmod 0644, glob("$keys/*.pem");

my @bad = (
    [ 'unknown key, with suggestion',
      "OAuthRemoteApp gh $gh client_secert=$secret",
      qr/OAuthRemoteApp gh: unknown key 'client_secert'; did you mean 'client_secret'\?/ ],
    [ 'unknown key, no close match',
      "OAuthRemoteApp gh $gh colour=blue",
      qr/OAuthRemoteApp gh: unknown key 'colour'; known keys: client_id, client_secret/ ],
    [ 'missing client_id (OAuth 2)',
      "OAuthRemoteApp gh client_secret=$secret authorize_url=https://p.example/a access_token_url=https://p.example/t",
      qr/OAuthRemoteApp gh: missing required key client_id \(an OAuth 2 app needs/ ],
    [ 'missing access_token_url across two lines',
      "OAuthRemoteApp gh client_id=id client_secret=$secret\nOAuthRemoteApp gh authorize_url=https://p.example/a",
      qr/OAuthRemoteApp gh: missing required key access_token_url/ ],
    [ 'missing client_secret (OAuth 2)',
      "OAuthRemoteApp gh client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t",
      qr/OAuthRemoteApp gh: missing required key client_secret .*token_endpoint_auth_method=none/ ],
    [ 'missing client_secret (OAuth 1)',
      "OAuthRemoteApp tw client_id=id request_token_url=https://p.example/r authorize_url=https://p.example/a access_token_url=https://p.example/t",
      qr/OAuthRemoteApp tw: missing required key client_secret \(an OAuth 1\.0a app needs/ ],
    [ 'URL with a non-http scheme',
      "OAuthRemoteApp gh $gh api_base_url=ftp://p.example/",
      qr/OAuthRemoteApp gh: api_base_url 'ftp:\/\/p\.example\/' is not a valid URL: .*give an absolute http:\/\/ or https:\/\/ URL/ ],
    [ 'relative authorize_url',
      "OAuthRemoteApp gh client_id=id client_secret=$secret authorize_url=/authorize access_token_url=https://p.example/t",
      qr/OAuthRemoteApp gh: authorize_url '\/authorize' is not a valid URL/ ],
    [ 'URL with credentials, neither they nor the query echoed',
      "OAuthRemoteApp gh $gh refresh_token_url=https://user:PWSECRET\@p.example/t?key=QUERYSECRET",
      qr/OAuthRemoteApp gh: refresh_token_url 'https:\/\/\[redacted\]\@p\.example\/t' is not a valid URL: credentials in URLs are not allowed/,
      qr/QUERYSECRET|PWSECRET/ ],
    [ "URL with credentials holding '/', '\@' and '?'",
      "OAuthRemoteApp gh $gh refresh_token_url=https://user:s3/cr\@PW?SECRET\@p.example/t",
      qr/OAuthRemoteApp gh: refresh_token_url 'https:\/\/\[redacted\]\@p\.example\/t' is not a valid URL/,
      qr/PW|SECRET|s3\/cr/ ],
    [ 'code_challenge_method plain',
      "OAuthRemoteApp gh $gh code_challenge_method=plain",
      qr/OAuthRemoteApp gh: code_challenge_method 'plain' is not supported; use one of: S256/ ],
    [ 'signature_method',
      "OAuthRemoteApp tw $tw signature_method=HMAC-MD5",
      qr/OAuthRemoteApp tw: signature_method 'HMAC-MD5' is not supported; use one of: HMAC-SHA1, HMAC-SHA256, RSA-SHA1, PLAINTEXT/ ],
    [ 'token_endpoint_auth_method',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=tls_client_auth",
      qr/OAuthRemoteApp gh: token_endpoint_auth_method 'tls_client_auth' is not supported; use one of: client_secret_basic, client_secret_post, none, client_secret_jwt, private_key_jwt/ ],
    # contract section 11: the keys a client signs with, checked at startup
    [ 'private_key_jwt without client_key_file',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt",
      qr/OAuthRemoteApp gh: token_endpoint_auth_method=private_key_jwt signs with client_key_file=\/path\/to\/key\.pem \(RSA, EC P-256 or Ed25519\)/ ],
    [ 'client_key_file of a wrong key type',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/p384.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/p384\.pem: an EC key on the curve secp384r1; only P-256 \(ES256\) is used/ ],
    [ 'client_key_file of a DSA key',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/dsa.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/dsa\.pem: a DSA key; use RSA \(2048 bits or more\), EC P-256 or Ed25519/ ],
    [ 'client_key_file of an Ed448 key',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/ed448.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/ed448\.pem: a ED448 key; use RSA \(2048 bits or more\), EC P-256 or Ed25519/ ],
    [ 'client_key_file of a short RSA key',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/rsa1024.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/rsa1024\.pem: an RSA key of 1024 bits; at least 2048 are needed/ ],
    [ 'client_key_file holding a public key',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/p256-public.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/p256-public\.pem: no PEM private key in it/ ],
    [ 'compliance_fix=apple without apple_team_id',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple client_key_file=$keys/p256.pem client_key_id=K1",
      qr/OAuthRemoteApp ap: compliance_fix=apple needs apple_team_id=TEAMID, the Team ID of the Apple developer account/ ],
    [ 'compliance_fix=apple with a client_secret',
      "OAuthRemoteApp ap client_id=id client_secret=$secret authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1 client_key_file=$keys/p256.pem client_key_id=K1",
      qr/OAuthRemoteApp ap: compliance_fix=apple signs a client_secret for each call with client_key_file: drop client_secret/ ],
    [ 'compliance_fix=apple without its key',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1",
      qr/OAuthRemoteApp ap: compliance_fix=apple signs the client_secret with the key Apple made .*client_key_file=\/path\/to\/AuthKey_KEYID\.p8 and client_key_id=KEYID/ ],
    [ 'compliance_fix=apple with another key type',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1 client_key_file=$keys/rsa2048.pem client_key_id=K1",
      qr/OAuthRemoteApp ap: client_key_file: \Q$keys\E\/rsa2048\.pem holds a key for RS256; Apple's keys are EC P-256 \(ES256\)/ ],
    [ 'compliance_fix=apple with client_secret_basic',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1 client_key_file=$keys/p256.pem client_key_id=K1 token_endpoint_auth_method=client_secret_basic",
      qr/OAuthRemoteApp ap: compliance_fix=apple sends the client secret it signs in the form \(client_secret_post\), the only way Apple takes it, not client_secret_basic/ ],
    [ 'compliance_fix=apple asking for the email in a fragment',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1 client_key_file=$keys/p256.pem client_key_id=K1 scope=\"name email\" authorize_params=response_mode=fragment",
      qr/OAuthRemoteApp ap: Apple answers a request for the name or email scope only by a form post, and authorize_params asks for response_mode=fragment: drop it/ ],
    [ 'apple_team_id that is no Team ID',
      "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T-1 client_key_file=$keys/p256.pem client_key_id=K1",
      qr/OAuthRemoteApp ap: apple_team_id: letters and digits/ ],
    [ 'apple_team_id without compliance_fix=apple',
      "OAuthRemoteApp ap $gh apple_team_id=T1",
      qr/OAuthRemoteApp ap: apple_team_id is for compliance_fix=apple/ ],
    [ 'fapi2 with a client_key_file of a wrong key type',
      "OAuthRemoteApp gh client_id=id security_profile=fapi2 client_key_file=$keys/p384.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par authorize_url=https://p.example/authorize access_token_url=https://p.example/token",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/p384\.pem: an EC key on the curve secp384r1; only P-256 \(ES256\) is used/ ],
    [ 'client_key_file that is no key',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/nokey.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/nokey\.pem: no PEM private key in it/ ],
    [ 'client_key_file missing',
      "OAuthRemoteApp gh $gh token_endpoint_auth_method=private_key_jwt client_key_file=$keys/missing.pem",
      qr/OAuthRemoteApp gh: client_key_file: \Q$keys\E\/missing\.pem: No such file or directory/ ],
    [ 'client_key_file without private_key_jwt',
      "OAuthRemoteApp gh $gh client_key_file=$keys/p256.pem",
      qr/OAuthRemoteApp gh: client_key_file and client_key_id are for token_endpoint_auth_method=private_key_jwt/ ],
    [ 'dpop_key_file of another algorithm',
      "OAuthRemoteApp gh $gh dpop_signing_alg=EdDSA dpop_key_file=$keys/p256.pem",
      qr/OAuthRemoteApp gh: dpop_key_file: \Q$keys\E\/p256\.pem holds a key for ES256, and dpop_signing_alg is EdDSA/ ],
    [ 'dpop_signing_alg unknown',
      "OAuthRemoteApp gh $gh dpop_signing_alg=HS256",
      qr/OAuthRemoteApp gh: dpop_signing_alg 'HS256' is not supported; use one of: ES256, RS256, PS256, EdDSA/ ],
    [ 'fapi2 with a client secret method',
      "OAuthRemoteApp gh $gh security_profile=fapi2 token_endpoint_auth_method=client_secret_basic issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 authenticates the client with private_key_jwt, not client_secret_basic: drop token_endpoint_auth_method or set it to private_key_jwt/ ],
    [ 'fapi2 with the microsoft fix (assertions to the token endpoint)',
      "OAuthRemoteApp gh $gh security_profile=fapi2 compliance_fix=microsoft client_key_file=$keys/p256.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 addresses client assertions to the issuer, compliance_fix=microsoft to the token endpoint: drop one of them/ ],
    [ 'fapi2 with RS256 DPoP proofs',
      "OAuthRemoteApp gh $gh security_profile=fapi2 dpop_signing_alg=RS256 client_key_file=$keys/p256.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 allows PS256, ES256 and EdDSA, not RS256/ ],
    [ 'a server_metadata_url that names no issuer, without issuer=',
      "OAuthRemoteApp gh client_id=id client_secret=s server_metadata_url=https://p.example/metadata.json",
      qr/OAuthRemoteApp gh: server_metadata_url ends neither in \/.well-known\/openid-configuration nor has \/.well-known\/oauth-authorization-server after its host, so the issuer its document must name is unknown: set issuer=/ ],
    [ 'fapi2 accepting RS256 id_tokens',
      "OAuthRemoteApp gh $gh security_profile=fapi2 scope=openid jwks_uri=https://p.example/jwks id_token_signed_response_alg=ES256,RS256 client_key_file=$keys/p256.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 accepts id_tokens signed with PS256, ES256 or EdDSA, not RS256: drop id_token_signed_response_alg or list only those/ ],
    [ 'fapi2 with tokens in the query',
      "OAuthRemoteApp gh $gh security_profile=fapi2 token_placement=uri client_key_file=$keys/p256.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 sends tokens in the Authorization header, not in the uri: drop token_placement/ ],
    [ 'fapi2 with a fix that puts tokens in the query',
      "OAuthRemoteApp gh $gh security_profile=fapi2 compliance_fix=weibo client_key_file=$keys/p256.pem issuer=https://p.example pushed_authorization_request_endpoint=https://p.example/par",
      qr/OAuthRemoteApp gh: security_profile=fapi2 sends tokens in the Authorization header, and this compliance_fix puts them in the query \(access_token=\): drop one of them/ ],
    [ 'fapi2 without PAR',
      "OAuthRemoteApp gh $gh security_profile=fapi2 client_key_file=$keys/p256.pem issuer=https://p.example",
      qr/OAuthRemoteApp gh: security_profile=fapi2 pushes every authorization request \(PAR\): give server_metadata_url, or pushed_authorization_request_endpoint/ ],
    [ 'fapi2 on an OAuth 1 app',
      "OAuthRemoteApp tw $tw security_profile=fapi2",
      qr/OAuthRemoteApp tw: security_profile applies only to OAuth 2 apps/ ],
    [ 'token_placement',
      "OAuthRemoteApp gh $gh token_placement=cookie",
      qr/OAuthRemoteApp gh: token_placement 'cookie' is not supported; use one of: header, uri, body/ ],
    [ 'bad value inside client_kwargs',
      "OAuthRemoteApp gh $gh client_kwargs=\"scope=a&token_placement=cookie\"",
      qr/OAuthRemoteApp gh: client_kwargs: token_placement 'cookie' is not supported/ ],
    [ 'unknown key inside client_kwargs',
      "OAuthRemoteApp gh $gh client_kwargs=\"scopes=a\"",
      qr/OAuthRemoteApp gh: client_kwargs: unknown key 'scopes'; did you mean 'scope'\?/ ],
    [ 'OAuth 2 key on an OAuth 1 app',
      "OAuthRemoteApp tw $tw code_challenge_method=S256",
      qr/OAuthRemoteApp tw: code_challenge_method applies only to OAuth 2 apps/ ],
    [ 'realm on an OAuth 2 app',
      "OAuthRemoteApp gh $gh realm=Photos",
      qr/OAuthRemoteApp gh: realm applies only to OAuth 1\.0a apps/ ],
    [ 'RSA-SHA1 without a key file',
      "OAuthRemoteApp tw $tw signature_method=RSA-SHA1",
      qr/OAuthRemoteApp tw: signature_method=RSA-SHA1 needs rsa_key_file/ ],
    [ 'unreadable rsa_key_file',
      "OAuthRemoteApp tw $tw signature_method=RSA-SHA1 rsa_key_file=/nonexistent/key.pem",
      qr/OAuthRemoteApp tw: rsa_key_file: cannot open RSA key file \/nonexistent\/key\.pem/ ],
    [ 'rsa_key_file that is not a key',
      "OAuthRemoteApp tw $tw signature_method=RSA-SHA1 rsa_key_file=/etc/hostname",
      qr/OAuthRemoteApp tw: rsa_key_file: .*\/etc\/hostname/ ],
    [ 'unterminated quote',
      "OAuthRemoteApp gh $gh scope=\"a b",
      qr/OAuthRemoteApp gh: unterminated " quote in 'scope'/ ],
    [ 'pair without =',
      "OAuthRemoteApp gh $gh scope",
      qr/OAuthRemoteApp gh: 'scope' has no value: write scope=\.\.\./ ],
    [ 'empty value',
      "OAuthRemoteApp gh $gh client_id=",
      qr/OAuthRemoteApp gh: client_id has an empty value/ ],
    [ 'login_path not a local path',
      "OAuthRemoteApp gh $gh login_path=https://evil.example/login",
      qr/OAuthRemoteApp gh: login_path '.*' must be a local path/ ],
    [ 'two apps on one path',
      "OAuthRemoteApp a $gh\nOAuthRemoteApp b $gh login_path=/oauth/a/login",
      qr/login_path path '\/oauth\/a\/login' is already used by the login_path of app a/ ],
    [ 'unknown compliance fix',
      "OAuthRemoteApp gh $gh compliance_fix=facebook,myspace",
      qr/OAuthRemoteApp gh: compliance_fix 'myspace' is not a built-in fix; known fixes: facebook, slack, camelcase, linkedin, weibo, microsoft, apple/ ],
    [ 'bad token_field_map',
      "OAuthRemoteApp gh $gh token_field_map=accessToken:password",
      qr/OAuthRemoteApp gh: token_field_map target 'password' is not one of access_token/ ],
    [ 'bad app name',
      "OAuthRemoteApp 'my app' $gh",
      qr/OAuthRemoteApp 'my app': a name may hold only letters/ ],
    [ 'OAuthApp naming an app nobody declared',
      "OAuthRemoteApp gh $gh\n<Location /x>\nOAuthApp nope\n</Location>",
      qr/OAuthApp nope at .*httpd\.conf:\d+ \(in <\/x>\): the main server has no app named 'nope'/ ],
    [ 'OAuthProxyAPI in a vhost lacking the app',
      "Listen 127.0.0.1:2\n<VirtualHost 127.0.0.1:2>\nOAuthRemoteApp only_here $gh\n</VirtualHost>\n<Location /api/>\nOAuthProxyAPI only_here\n</Location>",
      qr/OAuthProxyAPI only_here at .*: the main server has no app named 'only_here'/ ],
    [ 'OAuthHTTPTimeout not a number',
      "OAuthHTTPTimeout soon",
      qr/OAuthHTTPTimeout 'soon': give a whole number of seconds/ ],
    [ 'OpenID Connect app that cannot check its id_tokens',
      "OAuthRemoteApp gh $gh scope=\"openid email\"",
      qr/OAuthRemoteApp gh: an OpenID Connect app \(its scope has openid\) checks the signature and issuer of every id_token: give server_metadata_url, or jwks_uri and issuer/ ],
    [ 'id_token_signed_response_alg none',
      "OAuthRemoteApp gh $gh id_token_signed_response_alg=RS256,none",
      qr/OAuthRemoteApp gh: id_token_signed_response_alg: 'none' is not accepted \(an unsigned id_token proves nothing\)/ ],
    [ 'leeway not a number',
      "OAuthRemoteApp gh $gh leeway=soon",
      qr/OAuthRemoteApp gh: leeway 'soon' is not a number of seconds from 0 to 3600/ ],
    [ 'OAuthCache of an unknown kind',
      "OAuthCache redis:127.0.0.1:6379",
      qr/OAuthCache 'redis:127\.0\.0\.1:6379': give shm, shm:SLOTS, dbd or memcache:HOST:PORT\[,HOST:PORT \.\.\.\]/ ],
    [ 'OAuthCache shm with too few slots',
      "OAuthCache shm:10",
      qr/OAuthCache 'shm:10': shm:SLOTS takes the refreshes a minute the table must hold, 64 to 65536 \(default 2048\)/ ],
    [ 'OAuthCache memcache without a port',
      "OAuthCache memcache:127.0.0.1:11211,cache2",
      qr/OAuthCache: 'cache2' is not HOST:PORT \(memcached's address, e\.g\. 127\.0\.0\.1:11211\)/ ],
    [ 'OAuthCAFile missing',
      "OAuthCAFile /nonexistent/ca.pem",
      qr/OAuthCAFile '\/nonexistent\/ca\.pem' is not a readable file/ ],
    [ 'OAuthSessionPassphrase naming an undefined variable',
      'OAuthSessionPassphrase 0123456789abcdef-passphrase ${OAC_TEST_NOT_DEFINED}',
      qr/OAuthSessionPassphrase: passphrase 2 holds \$\{OAC_TEST_NOT_DEFINED\}, which is not defined: define it/ ],
    [ 'OAuthProxyAPI in a LocationMatch',
      "OAuthRemoteApp gh $gh api_base_url=https://p.example/api/\n<LocationMatch ^/api/>\nOAuthProxyAPI gh\n</LocationMatch>",
      qr/OAuthProxyAPI belongs in a <Location \/prefix\/> \(not <LocationMatch>/ ],
    [ 'OAuthProxyAPI in a quoted <Location "~" ...>',
      "OAuthRemoteApp gh $gh api_base_url=https://p.example/api/\n<Location \"~\" \"^/api/gh/\">\nOAuthProxyAPI gh\n</Location>",
      qr/OAuthProxyAPI belongs in a <Location \/prefix\/>/ ],
    [ 'OAuthProxyAPI in a Location with wildcards',
      "OAuthRemoteApp gh $gh api_base_url=https://p.example/api/\n<Location /w/*/gh/>\nOAuthProxyAPI gh\n</Location>",
      qr/OAuthProxyAPI belongs in a <Location \/prefix\/> \(not <LocationMatch>, <Location ~>, a path with wildcards/ ],
    [ 'OAuthProxyAPI in a Directory',
      "OAuthRemoteApp gh $gh api_base_url=https://p.example/api/\n<Directory /tmp>\nOAuthProxyAPI gh\n</Directory>",
      qr/OAuthProxyAPI belongs in a <Location \/prefix\/>/ ],
    [ 'OAuthRemoteApp inside a Location',
      "<Location /x>\nOAuthRemoteApp gh $gh\n</Location>",
      qr/OAuthRemoteApp not allowed in <Location> context/ ],
);

plan tests => 3 * @bad + 29;

# A private key every user of the machine can read: said at configtest
# (OAC00132), not refused; readable by its owner only: nothing said.
{
    my $pk = "OAuthRemoteApp pk client_id=id token_endpoint_auth_method=private_key_jwt "
           . "authorize_url=https://p.example/authorize access_token_url=https://p.example/token "
           . "client_key_file=$keys/p256-own.pem";
    system("cp $keys/p256.pem $keys/p256-own.pem") == 0 or die "cp";
    chmod 0644, "$keys/p256-own.pem";
    my ($status, $out) = configtest($pk);
    ok t_cmp($status, 0, 'a world-readable client_key_file: configtest passes');
    ok t_cmp($out, qr/OAC00132: OAuthRemoteApp pk: client_key_file \Q$keys\E\/p256-own\.pem can be read by every user of this machine: .*chmod 600/,
             'and warns, naming the app, the file and the fix');
    chmod 0600, "$keys/p256-own.pem";
    ($status, $out) = configtest($pk);
    ok t_cmp($status, 0, 'readable by its owner only: configtest passes');
    ok t_cmp($out !~ /OAC00132/ ? 'quiet' : $out, 'quiet', 'without a warning');
}

# A passphrase holding "${" that names no variable is text, as httpd
# leaves it: accepted, and not printed.
{
    my ($status, $out) = configtest('OAuthSessionPassphrase "Kq8${zT4-secret-tail-0123456789"');
    ok t_cmp($status, 0, 'a passphrase with a "${" that names no variable: configtest passes');
    ok t_cmp($out !~ /secret-tail/ ? 'not printed' : $out, 'not printed', 'and it is not printed');
}

# A passphrase file every user can read: said (OAC00154), not refused.
{
    my $file = "$keys/passphrases";
    open my $fh, '>', $file or die $!;
    print $fh "0123456789abcdef-passphrase\n";
    close $fh;
    chmod 0644, $file;
    my ($status, $out) = configtest("OAuthSessionPassphraseFile $file");
    ok t_cmp($status, 0, 'a world-readable OAuthSessionPassphraseFile: configtest passes');
    ok t_cmp($out, qr/OAC00154: .*OAuthSessionPassphraseFile \Q$file\E can be read by every user of this machine: .*chmod 600/,
             'and warns, naming the file and the fix');
    chmod 0600, $file;
    ($status, $out) = configtest("OAuthSessionPassphraseFile $file");
    ok t_cmp($status, 0, 'readable by its owner only: configtest passes');
    ok t_cmp($out !~ /OAC00154/ ? 'quiet' : $out, 'quiet', 'without a warning');
}

# Users of every Entra tenant named by a claim each tenant sets (nOAuth):
# said at configtest (OAC00145); by sub (the default) or oid: nothing said.
{
    my $ms = "OAuthRemoteApp ms client_id=id client_secret=s compliance_fix=microsoft "
           . "scope=openid server_metadata_url=https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration";
    my ($status, $out) = configtest("$ms user_claim=email");
    ok t_cmp($status, 0, 'a multi-tenant app naming users by email: configtest passes');
    ok t_cmp($out, qr/OAC00145: OAuthRemoteApp ms: user_claim=email names the users of every tenant by a claim that each tenant's administrators set.*keep the default \(sub\) or use oid/,
             'and warns, naming the app and the claim');
    ($status, $out) = configtest("$ms user_claim=oid");
    ok t_cmp($status . ($out !~ /OAC00145/ ? ' quiet' : " $out"), '0 quiet', 'user_claim=oid: nothing said');
    ($status, $out) = configtest($ms =~ s{/organizations/}{/contoso.onmicrosoft.com/}r . " user_claim=email");
    ok t_cmp($status . ($out !~ /OAC00145/ ? ' quiet' : " $out"), '0 quiet', 'one tenant, by its domain: nothing said');
}

# compliance_fix=apple with an issuer that is not Apple's: the client
# secret's aud, said at configtest (OAC00147); without one: nothing said.
{
    my $ap = "OAuthRemoteApp ap client_id=id authorize_url=https://p.example/a "
           . "access_token_url=https://p.example/t compliance_fix=apple apple_team_id=T1 "
           . "client_key_file=$keys/p256.pem client_key_id=K1";
    my ($status, $out) = configtest("$ap issuer=https://appleid.apple.com/");
    ok t_cmp($status, 0, 'compliance_fix=apple with another issuer: configtest passes');
    ok t_cmp($out, qr{OAC00147: OAuthRemoteApp ap: compliance_fix=apple with issuer=https://appleid\.apple\.com/, not Apple's \(https://appleid\.apple\.com\): the client_secret is made out to it.*for Apple, drop issuer},
             'and warns, naming the app, the issuer and the fix');
    ($status, $out) = configtest($ap);
    ok t_cmp($status . ($out !~ /OAC00147/ ? ' quiet' : " $out"), '0 quiet', 'without issuer: nothing said');
    ($status, $out) = configtest("$ap issuer=https://appleid.apple.com");
    ok t_cmp($status . ($out !~ /OAC00147/ ? ' quiet' : " $out"), '0 quiet', "Apple's issuer: nothing said");
}

# Modules the apps depend on.
{
    my ($status, $out) = configtest("OAuthRemoteApp gh $gh",
                                    without => [qw(session session_cookie session_dbd)]);
    ok t_cmp($status != 0 ? 'fails' : 'passes', 'fails', 'without mod_session: configtest fails');
    ok t_cmp($out, qr/mod_session is not loaded: a2enmod session session_cookie/,
             'without mod_session: says what to enable');
    ($status, $out) = configtest("OAuthRemoteApp gh $gh api_base_url=https://api.example/\n"
                                 . "<Location /api/>\nOAuthProxyAPI gh\n</Location>",
                                 without => [qw(proxy_http)]);
    ok t_cmp($status != 0 ? 'fails' : 'passes', 'fails', 'OAuthProxyAPI without mod_proxy_http: configtest fails');
    ok t_cmp($out, qr/OAuthProxyAPI at .* hands requests to mod_proxy, which is not loaded: a2enmod proxy proxy_http/,
             'without mod_proxy_http: says what to enable');
    ($status, $out) = configtest("OAuthRemoteApp gh $gh\nOAuthCache dbd",
                                 without => [qw(dbd session_dbd)]);
    ok t_cmp($status != 0 ? 'fails' : 'passes', 'fails', 'OAuthCache dbd without mod_dbd: configtest fails');
    ok t_cmp($out, qr/OAC00104: OAuthCache dbd \(.*httpd\.conf:\d+\) uses mod_dbd's connections, and mod_dbd is not loaded: a2enmod dbd/,
             'OAuthCache dbd without mod_dbd: says what to enable');
    ($status, $out) = configtest("OAuthRemoteApp gh $gh\nOAuthCache memcache:127.0.0.1:11211, 127.0.0.2:11211\n"
                                 . "Listen 127.0.0.1:3\n<VirtualHost 127.0.0.1:3>\nOAuthCache shm:8192\n</VirtualHost>\n"
                                 . "Listen 127.0.0.1:2\n<VirtualHost 127.0.0.1:2>\nOAuthCache dbd\n"
                                 . "DBDriver sqlite3\nDBDParams /tmp/oac-configtest-cache.db\n</VirtualHost>");
    ok t_cmp($status, 0, 'OAuthCache memcache (two servers), dbd and shm:8192 (vhosts): configtest passes');
    ok t_cmp($out, qr/Syntax OK/, 'Syntax OK');
    # mod_dbd loaded, no DBDriver for the host: every refresh would log
    # mod_dbd's error
    ($status, $out) = configtest("OAuthRemoteApp gh $gh\n"
                                 . "Listen 127.0.0.1:2\n<VirtualHost 127.0.0.1:2>\nOAuthCache dbd\n</VirtualHost>");
    ok t_cmp($status != 0 && $out =~ /OAC00158: OAuthCache dbd \(.*\) uses mod_dbd's connections, and no DBDriver applies to the virtual host at \S+:\d+: give it DBDriver and DBDParams/
             ? 'fails, saying so' : "status $status: $out", 'fails, saying so',
             'OAuthCache dbd with no DBDriver for its host: configtest fails');
}

for my $case (@bad) {
    my ($what, $snippet, $expect, $forbidden) = @$case;
    my ($status, $out) = configtest($snippet);
    ok t_cmp($status != 0 ? 'fails' : "passes: $out", 'fails', "$what: configtest fails");
    ok t_cmp($out, $expect, "$what: message");
    my $leak = $forbidden ? qr/\Q$secret\E|$forbidden/ : qr/\Q$secret\E/;
    ok t_cmp($out !~ $leak ? 'no secret' : "leaked: $out", 'no secret',
             "$what: no secret in the output");
}

# A valid configuration with several apps and vhosts passes.
my ($status, $out) = configtest(<<"CONF");
OAuthRemoteApp gh $gh client_kwargs="scope=a%20b&token_placement=uri"
OAuthRemoteApp tw $tw
Session On
SessionCookieName s path=/
Listen 127.0.0.1:2
<VirtualHost 127.0.0.1:2>
    OAuthRemoteApp gh scope=override
    <Location /x>
        AuthType OAuth
        OAuthApp tw
    </Location>
</VirtualHost>
CONF
ok t_cmp($status, 0, 'valid config passes configtest');
ok t_cmp($out, qr/Syntax OK/, 'Syntax OK');
