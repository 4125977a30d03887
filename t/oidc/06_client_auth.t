# Client authentication without a secret on the wire, DPoP and service
# tokens against a real OpenID Provider (npm's oidc-provider, t/op/op.mjs):
#  - private_key_jwt (RFC 7523): op-pkjwt has no secret; the OP holds the
#    public JWK of the EC P-256 key t/TEST.PL made (${OAC_OP_CLIENT_KEY});
#  - client_secret_jwt: op-csjwt's assertions are MACed with its secret;
#  - DPoP (RFC 9449): op-dpop's tokens are DPoP-bound; the OP requires a
#    nonce at its token endpoint, so the first code exchange is answered
#    use_dpop_nonce and retried; userinfo and OAuthProxyAPI calls to the
#    OP's userinfo endpoint (a resource server that checks DPoP) carry
#    proofs with ath;
#  - OAuthProxyAPI NAME client_credentials: op-service's own token, checked
#    by the OP's /_test/resource; op-service-dpop's, DPoP-bound, with a
#    proof on every call to a resource server that checks proofs.
# The OP accepts no other method than the one registered for a client, and
# its log records how each request authenticated.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use Digest::SHA qw(sha256);
use LWP::UserAgent ();
use MIME::Base64 qw(encode_base64url);
use OAC::Flow qw(browser site json_of);
use OAC::OP qw(op_url op_log op_reset op_login op_auth_of);

plan tests => 76;

my $issuer = op_url();
my $alice = '248289761001';
my $bearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';


# --- 1. private_key_jwt ---------------------------------------------------------
for my $case ([ 'oppkjwt', 'op-pkjwt', 'private_key_jwt', 'ES256' ],
              [ 'opcsjwt', 'op-csjwt', 'client_secret_jwt', 'HS256' ]) {
    my ($app, $client, $method, $alg) = @$case;
    op_reset();
    my $ua = browser();
    my $r = op_login($ua, $app, next => "/$app/echo");
    ok t_cmp($r->{response}->code . ' ' . ($r->{response}->header('Location') // ''),
             '302 ' . site("/$app/echo"), "$method: the login completes");
    my $log = op_log();
    my $want = "$method no-basic $bearer $alg $client $client $issuer";
    ok t_cmp(join(',', map { "$_->{status}" } @{ $log->{pushed} }), '201', "$method: PAR accepted");
    ok t_cmp(op_auth_of($log->{pushed}[0] || {}), $want,
             "$method: the PAR request authenticated with a $alg assertion, aud the issuer");
    my @tokens = @{ $log->{tokens} };
    ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}" } @tokens), 'authorization_code:200',
             "$method: the code exchange accepted");
    ok t_cmp(op_auth_of($tokens[0] || {}), $want, "$method: the token request authenticated the same way");
    my ($pa, $ta) = map { $_->{assertion} || {} } $log->{pushed}[0], $tokens[0];
    ok t_cmp(($pa->{jti} // 'a') ne ($ta->{jti} // 'a') && ($ta->{exp} // 0) > ($ta->{iat} // 0)
             && ($ta->{exp} // 0) - ($ta->{iat} // 0) <= 600 ? 'fresh' : 'reused or unbounded',
             'fresh', "$method: each assertion has its own jti and a short exp");
    ok t_cmp($ta->{kid} // '', 'op-test-client', "$method: the kid is client_key_id")
        if $method eq 'private_key_jwt';
    my $echo = json_of($ua->get(site("/$app/echo")));
    ok t_cmp($echo->{REMOTE_USER} // '', $alice, "$method: alice is logged in");
    ok t_cmp($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '', ($tokens[0]{body} || {})->{access_token} // 'none',
             "$method: with the OP's access token");
}

# --- 3. DPoP --------------------------------------------------------------------
{
    op_reset();
    my $ua = browser();
    my $r = op_login($ua, 'opdpop', next => '/opdpop/echo');
    ok t_cmp($r->{response}->code . ' ' . ($r->{response}->header('Location') // ''),
             '302 ' . site('/opdpop/echo'), 'DPoP: the login completes');
    my $log = op_log();
    my @tokens = @{ $log->{tokens} };
    ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}:" . (($_->{body} || {})->{error} // 'ok') } @tokens),
             'authorization_code:400:use_dpop_nonce,authorization_code:200:ok',
             'DPoP: the OP asked for a nonce, the module retried once with it');
    my ($first, $second) = @tokens;
    my ($d1, $d2) = map { ($_ || {})->{dpop} || {} } $first, $second;
    ok t_cmp("$d1->{typ} $d1->{alg} $d1->{htm} $d1->{htu}", "dpop+jwt ES256 POST $issuer/token",
             'DPoP: the first proof (typ, alg, htm, htu)');
    ok t_cmp(defined $d1->{nonce} ? 'nonce' : 'no nonce', 'no nonce', 'DPoP: the first proof has no nonce');
    ok t_cmp(length($d2->{nonce} // '') > 0 ? 'nonce' : 'no nonce', 'nonce', 'DPoP: the retry carries the nonce');
    ok t_cmp(($d1->{jti} // 'x') ne ($d2->{jti} // 'x') ? 'new' : 'same', 'new', 'DPoP: the retry is a new proof');
    my ($a1, $a2) = map { ($_ || {})->{assertion} || {} } $first, $second;
    ok t_cmp(op_auth_of($second || {}), "private_key_jwt no-basic $bearer ES256 op-dpop op-dpop $issuer",
             'DPoP: the retry is authenticated with private_key_jwt');
    ok t_cmp(($a1->{jti} // 'x') ne ($a2->{jti} // 'x') ? 'fresh' : 'reused', 'fresh',
             'DPoP: with a fresh client assertion');
    my $tok = ($second || {})->{body} || {};
    ok t_cmp($tok->{token_type} // '', 'DPoP', 'DPoP: the OP issued a DPoP-bound access token');
    my $at = $tok->{access_token} // '';

    my @ui = @{ $log->{userinfo} };
    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{sub} // '') . ":$_->{scheme}" } @ui), "200:$alice:DPoP",
             'DPoP: userinfo fetched with Authorization: DPoP, the OP accepted the proof');
    my $ud = ($ui[0] || {})->{dpop} || {};
    ok t_cmp(($ud->{htm} // '') . ' ' . ($ud->{htu} // '') . ' ' . ($ud->{ath} // ''),
             "GET $issuer/me " . encode_base64url(sha256($at)), "DPoP: userinfo's proof has htm, htu and the token's ath");

    my $echo = json_of($ua->get(site('/opdpop/echo')));
    ok t_cmp($echo->{REMOTE_USER} // '', $alice, 'DPoP: alice is logged in');

    # cnf.jkt: the OP bound the token to the key of the module's proofs.
    my $held = json_of(LWP::UserAgent->new->get(op_url('/_test/token?token=' . $at)));
    ok t_cmp(($held->{jkt} // 'none') . ' ' . ($held->{client_id} // ''), ($d2->{jkt} // 'no proof key') . ' op-dpop',
             "DPoP: the OP bound the token (cnf.jkt) to the thumbprint of the token request's proof key");
    ok t_cmp(join(',', map { $_->{jkt} // 'none' } $d1, $ud), join(',', ($held->{jkt} // 'unbound') x 2),
             'DPoP: the first proof and the userinfo proof are signed with that key too');

    # The token is bound: the OP refuses it as a Bearer token.
    my $plain = LWP::UserAgent->new->get(op_url('/me'), Authorization => "Bearer $at");
    ok t_cmp($plain->code, 401, 'DPoP: the OP refuses the access token without a proof (bound to the key)');
    my $nokey = LWP::UserAgent->new->get(op_url('/me'), Authorization => "DPoP $at");
    ok t_cmp($nokey->code, qr/^40[01]$/, 'DPoP: and as DPoP without a proof');

    # OAuthProxyAPI to the OP's userinfo endpoint, a DPoP-checking resource.
    op_reset();
    my $api = $ua->get(site('/api/opdpop/me'), Accept => 'application/json');
    ok t_cmp($api->code, 200, 'DPoP: OAuthProxyAPI call to the OP accepted');
    ok t_cmp(json_of($api)->{sub} // '', $alice, "DPoP: with alice's claims");
    my @calls = @{ op_log()->{userinfo} };
    ok t_cmp(join(',', map { "$_->{status}:$_->{scheme}" } @calls), '200:DPoP', 'DPoP: the API request was Authorization: DPoP');
    my $pd = ($calls[0] || {})->{dpop} || {};
    ok t_cmp(($pd->{htm} // '') . ' ' . ($pd->{htu} // '') . ' ' . ($pd->{ath} // ''),
             "GET $issuer/me " . encode_base64url(sha256($at)),
             "DPoP: its proof names the API's method and URL, and the token's hash");
    ok t_cmp(($pd->{jti} // 'x') ne ($ud->{jti} // 'x') ? 'new' : 'same', 'new', 'DPoP: a proof of its own');
    ok t_cmp($pd->{jkt} // 'none', $held->{jkt} // 'unbound', "DPoP: with the token's key");
    my $again = $ua->get(site('/api/opdpop/me'), Accept => 'application/json');
    my $pd2 = ((op_log()->{userinfo} || [])->[1] || {})->{dpop} || {};
    ok t_cmp($again->code . ' ' . (($pd2->{jti} // 'x') ne ($pd->{jti} // 'x') ? 'new proof' : 'replayed'),
             '200 new proof', 'DPoP: a second API call, a new proof (the OP rejects replays)');
    ok t_cmp(browser()->get(site('/api/opdpop/me'), Accept => 'application/json')->code == 200 ? 'served' : 'refused',
             'refused', 'DPoP: without a session no API call');

    # A resource server that demands its own nonce (RFC 9449 9): the first
    # proof has none, the answer 401 use_dpop_nonce is swallowed and the
    # call sent again at once with the nonce in a fresh proof.
    op_reset();
    my $rs = $ua->get(site('/api/opdpop/_test/dpop-resource/items?n=1'));
    ok t_cmp($rs->code, 200, 'DPoP nonce at the API: the caller gets the answer to the retried call');
    my @seen = @{ op_log()->{resources} };
    # (The first proof may carry the nonce the OP's userinfo endpoint, of
    # the same origin, gave earlier: not the resource's.)
    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{error} // '-') . ':' . ($_->{query}{n} // '') } @seen),
             '401:use_dpop_nonce:1,200:-:1',
             'DPoP nonce at the API: refused without its nonce, accepted with it, the same call');
    ok t_cmp(($seen[1]{nonce} // 'none') ne ($seen[0]{nonce} // 'none') ? 'learnt' : 'same', 'learnt',
             'DPoP nonce at the API: the retry carries the nonce the refusal gave');
    ok t_cmp(($seen[0]{jti} // 'x') ne ($seen[1]{jti} // 'x') ? 'fresh' : 'reused', 'fresh',
             'DPoP nonce at the API: the retry has a fresh proof, never the refused one');
    ok t_cmp(defined $rs->header('WWW-Authenticate') ? 'challenge' : 'none', 'none',
             "DPoP nonce at the API: nothing of the refusal reaches the caller");
    # Each child process learns the nonce for itself: a call served by
    # another child may need its own retry, never more.
    op_reset();
    my $ok = 0;
    for my $n (1 .. 6) {
        $ok++ if $ua->get(site("/api/opdpop/_test/dpop-resource/items?m=$n"))->code == 200;
    }
    @seen = @{ op_log()->{resources} };
    my %tries;
    $tries{ $_->{query}{m} }++ for @seen;
    ok t_cmp("$ok " . (grep({ $_ > 2 } values %tries) ? 'more than one retry' : 'at most one retry each'),
             '6 at most one retry each', 'DPoP nonce at the API: six more calls succeed, each sent at most twice');

    # A PUT of a few kilobytes is kept and sent again whole.
    my $doc = '{"doc":"' . ('d' x 5000) . '"}';
    LWP::UserAgent->new->post(op_url('/_test/dpop-nonce'));
    op_reset();
    $rs = $ua->put(site('/api/opdpop/_test/dpop-resource/doc'), 'Content-Type' => 'application/json',
                   Content => $doc);
    @seen = @{ op_log()->{resources} };
    my $sha = Digest::SHA::sha256_hex($doc);
    ok t_cmp(join(',', $rs->code, map { "$_->{status}:" . (($_->{body_sha256} // '') eq $sha ? 'whole' : 'other') } @seen),
             '200,401:whole,200:whole', 'DPoP nonce at the API: a PUT with a body, refused, sent again whole');

    # A POST is not an idempotent request, and its body streamed to the
    # API: the refusal goes back, the nonce is learnt for the next call.
    LWP::UserAgent->new->post(op_url('/_test/dpop-nonce'));
    op_reset();
    $rs = $ua->post(site('/api/opdpop/_test/dpop-resource/items'), 'Content-Type' => 'application/json',
                    Content => '{"a":1}');
    ok t_cmp($rs->code . ' ' . scalar(@{ op_log()->{resources} }), '401 1',
             'DPoP nonce at the API: a POST with a streamed body is sent once, its refusal passed on');
    $rs = $ua->get(site('/api/opdpop/_test/dpop-resource/items?n=3'));
    ok t_cmp($rs->code, 200, 'DPoP nonce at the API: the next call succeeds');
}

# --- DPoP on refresh -------------------------------------------------------------
# op-dpop-short's tokens live 30 s, inside the module's refresh margin: the
# next protected request refreshes, with a proof (the OP binds refresh
# tokens of DPoP clients too, and its token endpoint requires a nonce).
{
    op_reset();
    my $ua = browser();
    my $r = op_login($ua, 'opdpopshort', next => '/opdpopshort/echo');
    ok t_cmp($r->{response}->code, 302, 'DPoP refresh: the login completes');
    my $login_at = ((op_log()->{tokens}[-1] || {})->{body} || {})->{access_token} // 'none';
    op_reset();
    my $echo = json_of($ua->get(site('/opdpopshort/echo')));
    my @tokens = @{ op_log()->{tokens} };
    my $ok = $tokens[-1] || {};
    ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}:" . (($_->{body} || {})->{error} // 'ok') } @tokens),
             qr/^(refresh_token:400:use_dpop_nonce,)?refresh_token:200:ok$/,
             'DPoP refresh: the refresh accepted (after at most one nonce retry)');
    ok t_cmp(join(' ', ($ok->{dpop} || {})->{htm} // '-', ($ok->{dpop} || {})->{htu} // '-',
                  length(($ok->{dpop} || {})->{nonce} // '') ? 'nonce' : 'no nonce'),
             "POST $issuer/token nonce", 'DPoP refresh: with a proof carrying the nonce');
    ok t_cmp(op_auth_of($ok), "private_key_jwt no-basic $bearer ES256 op-dpop-short op-dpop-short $issuer",
             'DPoP refresh: and a client assertion');
    my $new_at = ($ok->{body} || {})->{access_token} // '';
    ok t_cmp(($ok->{body} || {})->{token_type} // '', 'DPoP', 'DPoP refresh: a DPoP-bound token again');
    ok t_cmp(($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '') eq $new_at && $new_at ne $login_at ? 'new token' : 'old token',
             'new token', 'DPoP refresh: the request goes on with the new token');
}

# --- 4. client_credentials ----------------------------------------------------------
{
    op_reset();
    my $ua = LWP::UserAgent->new(max_redirect => 0);
    my $res = $ua->get(site('/api/opservice/resource?x=1'));
    ok t_cmp($res->code, 200, 'service token: the call with no credential is proxied and accepted');
    my $doc = json_of($res);
    ok t_cmp(join(' ', map { $doc->{$_} // '-' } qw(scheme kind client_id scope)),
             'Bearer ClientCredentials op-service api:read',
             "service token: the OP's resource saw op-service's client credentials token, the app's scope");
    ok t_cmp(($doc->{query} || {})->{x} // '', '1', 'service token: the query went along');
    my $log = op_log();
    my @tokens = @{ $log->{tokens} };
    ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}:" . ($_->{client_id} // '') } @tokens),
             'client_credentials:200:op-service', 'service token: one client credentials grant');
    ok t_cmp(op_auth_of($tokens[0] || {}), 'client_secret_basic basic no-assertion - - - -',
             'service token: authenticated with client_secret_basic');
    ok t_cmp(defined(($tokens[0]{body} || {})->{refresh_token}) ? 'refresh' : 'none', 'none',
             'service token: no refresh token');
    my $cookie = $res->header('Set-Cookie');
    ok t_cmp(defined $cookie ? $cookie : 'none', 'none', 'service token: no session');

    for (1 .. 3) {
        $ua->get(site("/api/opservice/resource?n=$_"));
    }
    $log = op_log();
    ok t_cmp(scalar(@{ $log->{tokens} }), 1, 'service token: three more calls, no new token');
    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{client_id} // '') } @{ $log->{resources} }),
             join(',', ('200:op-service') x 4), 'service token: every call reached the resource with a valid token');
}

# --- 5. client_credentials with DPoP -------------------------------------------------
# The service token bound to the module's key (the OP's token endpoint
# demands its nonce first), and every API call with a proof for it, to the
# resource server that checks proofs and demands a nonce of its own.
{
    op_reset();
    my $ua = LWP::UserAgent->new(max_redirect => 0);
    my $res = $ua->get(site('/api/opservicedpop/dpop-resource/items?x=1'));
    ok t_cmp($res->code, 200, 'DPoP service token: the call with no credential is proxied and accepted');
    my $doc = json_of($res);
    ok t_cmp(join(' ', map { $doc->{$_} // '-' } qw(kind client_id)), 'ClientCredentials op-service-dpop',
             "DPoP service token: the resource saw op-service-dpop's client credentials token, its proof bound to it");
    my $log = op_log();
    my @tokens = @{ $log->{tokens} };
    ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}" } @tokens),
             qr/^(client_credentials:400,)?client_credentials:200$/,
             'DPoP service token: one client credentials grant (after at most one nonce retry)');
    ok t_cmp(($tokens[-1]{body} || {})->{token_type} // '', 'DPoP', 'DPoP service token: the OP bound it (token_type DPoP)');
    ok t_cmp(($tokens[-1]{dpop} || {})->{htm} // '', 'POST', 'DPoP service token: the grant carried a proof');
    for (1 .. 3) {
        $ua->get(site("/api/opservicedpop/dpop-resource/items?n=$_"));
    }
    $log = op_log();
    ok t_cmp(scalar(@{ $log->{tokens} }), scalar(@tokens), 'DPoP service token: three more calls, no new token');
    my @ok = grep { $_->{status} == 200 } @{ $log->{resources} };
    my %jti = map { ($_->{jti} // '') => 1 } @{ $log->{resources} };
    ok t_cmp(scalar(@ok) . ' ok, ' . scalar(keys %jti) . ' proofs for ' . scalar(@{ $log->{resources} }) . ' calls',
             '4 ok, ' . scalar(@{ $log->{resources} }) . ' proofs for ' . scalar(@{ $log->{resources} }) . ' calls',
             'DPoP service token: all four calls accepted, a fresh proof for every call sent');

    # A proof the resource server refuses (a replay cache's false alarm):
    # the call is sent once more with a fresh proof, the token kept.
    LWP::UserAgent->new->post(op_url('/_test/fault?resource_replay=1'));
    my $before = scalar @{ op_log()->{resources} };
    $res = $ua->get(site('/api/opservicedpop/dpop-resource/items?r=1'));
    ok t_cmp($res->code, 200, 'DPoP proof refused by the API: the caller gets the answer to the retried call');
    $log = op_log();
    my @seen = @{ $log->{resources} }[$before .. $#{ $log->{resources} }];
    ok t_cmp(join(',', map { "$_->{status}:" . ($_->{error} // '-') } @seen), '401:invalid_dpop_proof,200:-',
             'DPoP proof refused by the API: refused once, accepted once');
    ok t_cmp(@seen == 2 && $seen[0]{jti} ne $seen[1]{jti} ? 'fresh' : 'reused', 'fresh',
             'DPoP proof refused by the API: the retry has a fresh proof');
    ok t_cmp(scalar(@{ $log->{tokens} }), scalar(@tokens), 'DPoP proof refused by the API: the service token kept');
}
