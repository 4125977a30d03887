# FAPI 2.0 and private_key_jwt with every key type, end to end against a
# real OpenID Provider (npm's oidc-provider, t/op/op.mjs), contract
# section 11:
#  - security_profile=fapi2: opfapi and opfapirsa are configured with
#    client_id, server_metadata_url, client_key_file, security_profile and
#    scope only; the OP registers op-fapi and op-fapi-rsa as FAPI 2.0
#    clients (its FAPI 2.0 profile, pushed authorization requests
#    required, DPoP-bound tokens, private_key_jwt with ES256 or PS256
#    only, ES256 id_tokens). The OP's log shows PAR, PKCE S256, DPoP
#    (PAR's dpop_jkt, proofs, the token bound to their key), the
#    assertions' alg and aud = the issuer; the module refuses a callback
#    whose RFC 9207 iss is wrong or missing, before any code exchange;
#  - private_key_jwt with an RSA key (RS256 outside FAPI 2.0) and an
#    Ed25519 key (EdDSA), to OP clients holding those public JWKs only;
#  - DPoP faults (op.mjs /_test/fault): a resource server (the OP's
#    userinfo endpoint) asking for a nonce gets a new proof carrying it,
#    at login and on OAuthProxyAPI calls; a proof the OP refuses as a
#    replay is never sent again: a fresh one is.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256);
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use URI ();
use URI::Escape ();
use URI::QueryParam ();
use OAC::Flow qw(browser site query_of json_of log_size log_since);
use OAC::OP qw(op_url op_log op_reset op_login op_auth_of op_sign_in);

plan tests => 58;

my $issuer = op_url();
my $alice = '248289761001';
my $bearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';


# A token request's outcome: grant:status:error (or ok).
sub outcome {
    return join ',', map { ($_->{grant_type} // '-') . ":$_->{status}:" . (($_->{body} || {})->{error} // 'ok') } @_;
}

sub jwt_header {
    my $jwt = shift // '';
    my ($h) = split /\./, $jwt;
    return eval { JSON::PP::decode_json(decode_base64url($h // '')) } || {};
}

sub op_post {
    my $res = LWP::UserAgent->new->post(op_url(shift));
    die 'op: ' . $res->status_line unless $res->is_success;
}

# The login of APP up to the OP's redirect to the callback, which is
# returned, not followed.
sub callback_of {
    my ($ua, $app) = @_;
    my $start = $ua->get(site("/oauth/$app/login"));
    die "login of $app: " . $start->status_line unless $start->code == 302;
    my ($res, $url) = OAC::OP::follow_op($ua, $start->header('Location'));
    ($res, $url) = op_sign_in($ua, $res, $url, 'alice') if $res->content =~ /id="login-form"/;
    die "the OP did not send the browser back: " . $res->status_line unless $res->is_redirect;
    return URI->new_abs($res->header('Location'), $url);
}

# --- 1. security_profile=fapi2 --------------------------------------------------
for my $case ([ 'opfapi', 'op-fapi', 'ES256', 'EC P-256' ],
              [ 'opfapirsa', 'op-fapi-rsa', 'PS256', 'RSA' ]) {
    my ($app, $client, $alg, $key) = @$case;
    op_reset();
    my $ua = browser();
    my $r = op_login($ua, $app, next => "/$app/echo");
    ok t_cmp($r->{response}->code . ' ' . ($r->{response}->header('Location') // ''),
             '302 ' . site("/$app/echo"), "fapi2 ($key key): the login completes");
    my $log = op_log();
    my @pushed = @{ $log->{pushed} };
    my $par = $pushed[0] || {};
    my $q = $par->{params} || {};
    my @tokens = @{ $log->{tokens} };
    my $tok = $tokens[-1] || {};

    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{fapi_profile} // 'no profile') } @pushed, @tokens),
             join(',', '201:2.0', map { "$_->{status}:2.0" } @tokens),
             "fapi2 ($key key): the OP treated every PAR and token request as FAPI 2.0");
    my $authz = query_of($r->{authorize});
    ok t_cmp(join(',', sort keys %$authz) . ' ' . ($authz->{request_uri} // ''),
             "client_id,request_uri " . ($par->{request_uri} // 'none'),
             "fapi2 ($key key): PAR: the browser carries only client_id and the pushed request_uri");
    ok t_cmp(op_auth_of($par), "private_key_jwt no-basic $bearer $alg $client $client $issuer",
             "fapi2 ($key key): PAR authenticated by private_key_jwt, $alg, aud the issuer");
    ok t_cmp(($q->{code_challenge_method} // '-') . ' '
             . ($q->{code_challenge} // '-') . ' ' . ($q->{redirect_uri} // '-'),
             'S256 ' . encode_base64url(sha256($tok->{code_verifier} // 'no verifier')) . ' '
             . site("/oauth/$app/callback"),
             "fapi2 ($key key): PKCE S256, the challenge of the verifier the code was exchanged with");
    ok t_cmp(outcome(@tokens), qr/^(authorization_code:400:use_dpop_nonce,)?authorization_code:200:ok$/,
             "fapi2 ($key key): the code exchanged (after the OP's DPoP nonce)");
    ok t_cmp(op_auth_of($tok), "private_key_jwt no-basic $bearer $alg $client $client $issuer",
             "fapi2 ($key key): the token request authenticated by private_key_jwt, $alg, aud the issuer");
    my @proofs = map { $_->{dpop} || {} } $par, @tokens;
    ok t_cmp(join(',', map { join ' ', map { $_ // '-' } @$_{qw(typ alg htm jkt)} } @proofs),
             join(',', ("dpop+jwt ES256 POST " . ($q->{dpop_jkt} // 'no dpop_jkt')) x @proofs),
             "fapi2 ($key key): DPoP: PAR binds the code to a key (dpop_jkt), every request carries a proof of it");
    my %jti = map { ($_->{jti} // '') => 1 } @proofs, map { $_->{assertion} || {} } $par, @tokens;
    ok t_cmp(scalar(grep { length } keys %jti), 2 * @proofs,
             "fapi2 ($key key): every proof and every client assertion has a jti of its own");
    my $body = $tok->{body} || {};
    my $held = json_of(LWP::UserAgent->new->get(op_url('/_test/token?token=' . ($body->{access_token} // ''))));
    ok t_cmp(($body->{token_type} // '') . ' ' . ($held->{jkt} // 'unbound'), 'DPoP ' . ($q->{dpop_jkt} // 'none'),
             "fapi2 ($key key): the OP issued a DPoP-bound token (cnf.jkt, the proofs' key)");
    ok t_cmp(jwt_header($body->{id_token})->{alg} // 'none', 'ES256',
             "fapi2 ($key key): the module accepted the OP's ES256 id_token");
    ok t_cmp(query_of($r->{callback})->{iss} // 'none', $issuer,
             "fapi2 ($key key): the authorization response carried iss (RFC 9207)");
    ok t_cmp(join(',', map { "$_->{status}:$_->{scheme}:" . (($_->{dpop} || {})->{jkt} // '-') } @{ $log->{userinfo} }),
             "200:DPoP:" . ($q->{dpop_jkt} // 'none'), "fapi2 ($key key): userinfo called with the DPoP token and a proof");
    my $echo = json_of($ua->get(site("/$app/echo")));
    ok t_cmp(($echo->{REMOTE_USER} // '') . ' ' . ($echo->{HTTP_X_OAUTH_TOKEN_TYPE} // ''), "$alice DPoP",
             "fapi2 ($key key): alice is logged in, with the DPoP token");
}

# The OP is strict about its FAPI clients: an authorization request that
# was not pushed is refused (so the module's logins above pushed theirs).
{
    my $res = LWP::UserAgent->new(max_redirect => 0)->get(op_url('/auth?' . join '&',
        'client_id=op-fapi', 'response_type=code', 'scope=openid',
        'redirect_uri=' . URI::Escape::uri_escape(site('/oauth/opfapi/callback')),
        'code_challenge_method=S256', 'code_challenge=' . encode_base64url(sha256('x' x 43))));
    my $answer = ($res->header('Location') // '') . ' ' . $res->content;
    ok t_cmp(($answer =~ /error=invalid_request&error_description=Pushed\+Authorization\+Request\+must\+be\+used/
              ? 'PAR required' : $answer), 'PAR required',
             'the OP refuses op-fapi an authorization request not pushed');
}

# --- 2. RFC 9207: the module checks iss before the code is exchanged ------------
for my $case ([ 'a wrong iss', sub { $_[0]->query_param(iss => 'http://mix-up.example') },
                qr/names the issuer 'http:\/\/mix-up\.example', not this app's issuer '\Q$issuer\E'/ ],
              [ 'no iss', sub { $_[0]->query_param_delete('iss') }, qr/has no iss parameter/ ]) {
    my ($what, $change, $why) = @$case;
    op_reset();
    my $ua = browser();
    my $cb = callback_of($ua, 'opfapi');
    my $has_iss = defined $cb->query_param('iss') ? 'iss' : 'no iss';
    $change->($cb);
    my $size = log_size();
    my $res = $ua->get($cb);
    ok t_cmp("$has_iss " . $res->code, 'iss 400', "iss: a callback with $what is refused");
    ok t_cmp(log_since($size, qr/app opfapi: login failed/), $why, "iss: the log says why ($what)");
    ok t_cmp(scalar(@{ op_log()->{tokens} }), 0, "iss: the code of a callback with $what is not exchanged");
}

# --- 3. private_key_jwt with RSA (RS256) and Ed25519 (EdDSA) keys ----------------
for my $case ([ 'oppkjwtrsa', 'op-pkjwt-rsa', 'RS256', 'op-test-client-rsa', 'RSA' ],
              [ 'oppkjwted', 'op-pkjwt-ed25519', 'EdDSA', 'op-test-client-ed25519', 'Ed25519' ]) {
    my ($app, $client, $alg, $kid, $key) = @$case;
    op_reset();
    my $ua = browser();
    my $r = op_login($ua, $app, next => "/$app/echo");
    ok t_cmp($r->{response}->code . ' ' . ($r->{response}->header('Location') // ''),
             '302 ' . site("/$app/echo"), "private_key_jwt ($key key): the login completes");
    my $log = op_log();
    my ($par, @tokens) = ($log->{pushed}[0] || {}, @{ $log->{tokens} });
    ok t_cmp(join(',', $par->{status} // '-', outcome(@tokens)), '201,authorization_code:200:ok',
             "private_key_jwt ($key key): PAR and code exchange accepted");
    my $want = "private_key_jwt no-basic $bearer $alg $client $client $issuer";
    ok t_cmp(join(' | ', map { op_auth_of($_) } $par, @tokens), join(' | ', ($want) x (1 + @tokens)),
             "private_key_jwt ($key key): both authenticated with a $alg assertion (the only alg the OP accepts of $client)");
    ok t_cmp(join(',', map { ($_->{assertion} || {})->{kid} // '-' } $par, @tokens), "$kid,$kid",
             "private_key_jwt ($key key): the kid is client_key_id");
    my $echo = json_of($ua->get(site("/$app/echo")));
    ok t_cmp(($echo->{REMOTE_USER} // '') . ' ' . ($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // ''),
             "$alice " . ((($tokens[-1] || {})->{body} || {})->{access_token} // 'none'),
             "private_key_jwt ($key key): alice is logged in with the OP's token");
}

# --- 4. DPoP: the provider refuses a proof ---------------------------------------
# A resource server that wants a nonce (the OP's userinfo endpoint, with
# the userinfo_nonce fault): 401 use_dpop_nonce; the module's userinfo
# call is made again with a new proof carrying the nonce.
my $api_ua;
{
    op_reset();
    op_post('/_test/fault?userinfo_nonce=1');
    $api_ua = browser();
    my $r = op_login($api_ua, 'opfapiapi', next => '/opfapiapi/echo');
    ok t_cmp($r->{response}->code, 302, 'userinfo nonce: the login completes');
    my $log = op_log();
    my @ui = @{ $log->{userinfo} };
    my ($u1, $u2) = map { ($_ || {})->{dpop} || {} } @ui[0, 1];
    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{sub} // $_->{error} // '-') } @ui),
             qr/^401:(use_dpop_nonce|invalid_dpop_proof|invalid_token|-),200:$alice$/,
             'userinfo nonce: the OP asked for a nonce, the second call was accepted');
    ok t_cmp(join(' ', defined $u1->{nonce} ? 'nonce' : 'no nonce', length($u2->{nonce} // '') ? 'nonce' : 'no nonce'),
             'no nonce nonce', "userinfo nonce: the retry's proof carries the OP's nonce");
    ok t_cmp(($u1->{jti} // 'x') ne ($u2->{jti} // 'x') && ($u1->{ath} // 'a') eq ($u2->{ath} // 'b')
             && ($u1->{jkt} // 'k') eq ($u2->{jkt} // 'l') ? 'fresh' : 'reused',
             'fresh', 'userinfo nonce: a new proof (new jti), for the same token and key');
}

# OAuthProxyAPI to the same endpoint: a GET refused with use_dpop_nonce
# is sent once more at once with the nonce the OP gave (the first proof
# may carry a nonce of the OP's that is no longer current); the caller
# sees only the answer to the second.
{
    op_reset();
    op_post('/_test/fault?userinfo_nonce=1');
    my $conn = LWP::UserAgent->new(keep_alive => 1, max_redirect => 0, cookie_jar => $api_ua->cookie_jar);
    my $code = $conn->get(site('/api/opfapi/me'), Accept => 'application/json')->code;
    my @calls = @{ op_log()->{userinfo} };
    ok t_cmp($code, 200, 'API nonce: the call is accepted');
    ok t_cmp(join(',', map { "$_->{status}:" . (length((($_->{dpop} || {})->{nonce}) // '') ? 'nonce' : 'no nonce') } @calls),
             qr/^(401:(no )?nonce,)?200:nonce$/, "API nonce: the accepted call's proof carries the nonce, at most one refusal before");
    my %jti = map { ((($_->{dpop} || {})->{jti}) // '') => 1 } @calls;
    ok t_cmp(scalar(grep { length } keys %jti), scalar(@calls), 'API nonce: each call a proof of its own');
}

# A proof the OP refuses as a replay (invalid_dpop_proof, the dpop_replay
# fault, refused before the code or the assertion is looked at, as a
# replay cache shared by several OP nodes may): the code exchange is sent
# once more with a fresh proof, that proof is never sent again, and the
# login completes; so does the next one, with new proofs.
{
    op_reset();
    op_post('/_test/fault?dpop_replay=1');
    my $ua = browser();
    my $r = op_login($ua, 'opfapi', next => '/opfapi/echo');
    my @tokens = @{ op_log()->{tokens} };
    my $refused = (($tokens[0] || {})->{dpop} || {})->{jti} // 'none';
    ok t_cmp(outcome($tokens[0] || {}), '-:400:invalid_dpop_proof', 'replay: the OP refused the first proof');
    ok t_cmp(scalar(grep { ((($_->{dpop} || {})->{jti}) // '') eq $refused } @tokens), 1,
             'replay: the refused proof was not sent again');
    ok t_cmp(outcome($tokens[-1] || {}), qr/:200:/, 'replay: the code exchange is sent again with a fresh proof, and accepted');
    my %jti = map { ((($_->{dpop} || {})->{jti}) // '') => 1 } @tokens;
    ok t_cmp(scalar(keys %jti) . ' of ' . scalar(@tokens), scalar(@tokens) . ' of ' . scalar(@tokens),
             'replay: every attempt a proof of its own');
    ok t_cmp($r->{response}->code, 302, 'replay: the login completes');
    op_reset();
    my $again = op_login($ua, 'opfapi', next => '/opfapi/echo');
    my @proofs = map { ($_->{dpop} || {})->{jti} // '' } @{ op_log()->{pushed} }, @{ op_log()->{tokens} };
    ok t_cmp($again->{response}->code . ' ' . (scalar(grep { $_ eq $refused } @proofs) ? 'reused' : 'new proofs'),
             '302 new proofs', 'replay: a new login completes, with new proofs');
}

op_reset();   # ends the faults for the tests that follow
