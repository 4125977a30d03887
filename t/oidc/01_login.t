# Login against a real OpenID Provider (npm's oidc-provider, t/op/op.mjs)
# with an app configured by nothing but client_id, client_secret,
# server_metadata_url and scope="openid email profile" (contract section
# 9): every endpoint comes from discovery; PKCE S256 because the metadata
# lists it (the OP refuses a code exchanged without its verifier); the
# id_token checked with the OP's keys; RFC 9207's iss checked; userinfo
# fetched; the user is the sub. The authorization request goes by PAR
# (RFC 9126), since the OP's metadata lists its endpoint.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use MIME::Base64 qw(decode_base64url);
use URI ();
use OAC::Flow qw(browser site query_of json_of log_size log_since);
use OAC::OP qw(op_url op_log op_reset op_login op_discovery);

plan tests => 32;

my $issuer = op_url();
my $meta = op_discovery();
my %sub = (alice => '248289761001', bob => '248289761002');

op_reset();
my $ua = browser();
my $r = op_login($ua, 'op', next => '/opapp/echo?x=1');

# --- the authorization request ----------------------------------------------
# The OP's metadata lists a pushed_authorization_request_endpoint: the
# request is pushed (RFC 9126) and the browser carries only its
# request_uri; the parameters are those the OP received by PAR.
my $authz = URI->new($r->{authorize});
my $redirect = query_of($r->{authorize});
ok t_cmp($authz->scheme . '://' . $authz->host_port . $authz->path, $meta->{authorization_endpoint},
         "the browser is sent to the OP's discovered authorization_endpoint");
my $pushed = op_log()->{pushed};
ok t_cmp(join(',', map { "$_->{status}:" . ($_->{client_id} // '') } @$pushed), '201:op-client',
         "PAR: the request was pushed to the OP's discovered endpoint, by the authenticated client");
ok t_cmp(join(',', sort keys %$redirect) . ' ' . ($redirect->{request_uri} // ''),
         'client_id,request_uri ' . ($pushed->[0]{request_uri} // 'none'),
         "and the browser carries only client_id and the OP's request_uri");
my $q = $pushed->[0]{params} || {};
ok t_cmp($q->{client_id}, 'op-client', 'client_id');
ok t_cmp($q->{response_type}, 'code', 'response_type=code');
ok t_cmp($q->{scope}, 'openid email profile', 'the configured scope');
ok t_cmp($q->{redirect_uri}, site('/oauth/op/callback'), "redirect_uri is the app's callback");
ok t_cmp($q->{code_challenge_method}, 'S256', 'PKCE: code_challenge_method=S256 (the metadata lists it)');
ok t_cmp($q->{code_challenge} // '', qr/^[A-Za-z0-9_-]{43}$/, 'PKCE: a code_challenge');
ok t_cmp($q->{nonce} // '', qr/^[A-Za-z0-9_-]{16,}$/, 'an OpenID Connect nonce');
ok t_cmp($r->{login_form}, 1, "the OP asked for the user's password");

# --- the authorization response ---------------------------------------------
my $cb = query_of($r->{callback});
my $callback_url = site('/oauth/op/callback');
ok t_cmp(index($r->{callback}, "$callback_url?") == 0 ? 'callback' : $r->{callback},
         'callback', "the OP sent the browser back to the app's callback");
ok t_cmp($cb->{iss}, $issuer, "RFC 9207: the OP's iss in the authorization response");
ok t_cmp($cb->{state}, $q->{state}, 'with the state sent');
ok t_cmp($r->{response}->code . ' ' . ($r->{response}->header('Location') // ''),
         '302 ' . site('/opapp/echo?x=1'), 'the callback logs in and goes on to next');

# --- what the OP saw --------------------------------------------------------
my $log = op_log();
my @tokens = @{ $log->{tokens} };
ok t_cmp(join(',', map { "$_->{grant_type}:$_->{status}" } @tokens), 'authorization_code:200',
         'one code exchange, which the OP accepted (oidc-provider requires the PKCE verifier)');
my $tok = $tokens[0]{body} || {};
ok t_cmp(join(',', map { defined $tok->{$_} ? $_ : "no $_" } qw(access_token id_token refresh_token)),
         'access_token,id_token,refresh_token', 'the OP issued an access token, an id_token and a refresh token');
my ($payload) = ($tok->{id_token} // '') =~ /^[^.]+\.([^.]+)\./;
my $claims = $payload ? JSON::PP::decode_json(decode_base64url($payload)) : {};
ok t_cmp($claims->{nonce} // '', $q->{nonce}, "the id_token carries the login's nonce");
ok t_cmp($log->{documents}{discovery} >= 1 ? 'fetched' : 'not', 'fetched',
         "the module fetched the OP's discovery document");
ok t_cmp($log->{documents}{jwks} >= 1 ? 'fetched' : 'not', 'fetched',
         "the module fetched the OP's keys (jwks_uri) to check the id_token");
ok t_cmp(join(',', map { "$_->{status}:" . ($_->{sub} // '') } @{ $log->{userinfo} }), "200:$sub{alice}",
         "userinfo fetched once after login, about alice's sub");

# --- the user ----------------------------------------------------------------
my $echo = json_of($ua->get(site('/opapp/echo')));
ok t_cmp($echo->{REMOTE_USER} // '', $sub{alice}, "REMOTE_USER is the id_token's sub (user_claim's default)");
ok t_cmp($echo->{HTTP_X_OAUTH_USER} // '', $sub{alice}, 'X-OAuth-User the same');
ok t_cmp($echo->{HTTP_X_OAUTH_ACCESS_TOKEN} // '', $tok->{access_token} // 'none',
         "the backend gets the OP's access token");
ok t_cmp($echo->{HTTP_X_OAUTH_SCOPE} // '', qr/\bopenid\b/, 'and its scope');

# another user, another browser
my $ua_bob = browser();
op_login($ua_bob, 'op', user => 'bob');
ok t_cmp(json_of($ua_bob->get(site('/opapp/echo')))->{REMOTE_USER} // '', $sub{bob}, "bob's sub for bob");

# the same browser again: the OP's session is still alive, no password
op_reset();
my $again = op_login($ua, 'op');
ok t_cmp($again->{login_form} . ' ' . $again->{response}->code, '0 302',
         "a second login in the same browser: the OP's session signs in without a password");

# --- RFC 9207 enforced against the real OP's issuer -----------------------------
# The same authorization response with iss changed, or without iss: refused
# before the code is exchanged (the OP says it always sends iss).
for my $case ([ 'another iss', sub { $_[0]->query_param(iss => 'http://127.0.0.1:1') } ],
              [ 'no iss',      sub { $_[0]->query_param_delete('iss') } ]) {
    my ($what, $edit) = @$case;
    my $b = browser();
    op_reset();
    my $login = OAC::Flow::login_redirect($b, 'op');
    my ($res, $url) = OAC::OP::follow_op($b, $login->header('Location'));
    ($res, $url) = OAC::OP::op_sign_in($b, $res, $url, 'alice');
    my $callback = URI->new(URI->new_abs($res->header('Location'), $url));
    $edit->($callback);
    my $s = log_size();
    my $cres = $b->get($callback);
    ok t_cmp(($cres->code >= 400 ? 'refused' : $cres->code) . ', '
             . (log_since($s, qr/OAC00021: app op:/) =~ /RFC 9207/ ? 'RFC 9207' : 'another reason'),
             'refused, RFC 9207', "$what in the callback: refused, and the log says why");
    ok t_cmp(scalar(@{ op_log()->{tokens} }), 0, "$what: the code was not exchanged");
}
ok t_cmp(browser()->get(site('/opapp/echo'))->code, 302, 'without a login the app sends the browser to log in');
