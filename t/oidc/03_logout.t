# Logout revokes the tokens at a real OpenID Provider (oidc-provider,
# t/op/op.mjs): its revocation_endpoint comes from discovery (RFC 7009,
# contract section 9), the refresh token first, then the access token;
# afterwards the OP's introspection (RFC 7662) says neither is active. The
# OP's refresh tokens do not end with its browser session (t/op/op.mjs),
# so an inactive one was revoked.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site json_of);
use OAC::OP qw(op_log op_reset op_login op_introspect op_discovery);

plan tests => 9;

my @client = ('op-client', 'op-secret');

op_reset();
my $ua = browser();
op_login($ua, 'op');
my $tok = op_log()->{tokens}[0]{body} || {};
my ($at, $rt) = ($tok->{access_token} // 'none', $tok->{refresh_token} // 'none');
ok t_cmp(op_introspect(\@client, $rt, 'refresh_token')->{active} ? 'active' : 'inactive',
         'active', 'after login the OP says the refresh token is active');
ok t_cmp(op_introspect(\@client, $at, 'access_token')->{active} ? 'active' : 'inactive',
         'active', 'and the access token');
ok t_cmp($ua->get(site('/opapp/echo'))->code, 200, 'the protected page is served');

my $res = $ua->get(site('/oauth/op/logout'));
ok t_cmp($res->is_redirect ? 'redirect' : $res->code, 'redirect', 'logout redirects');
my $rev = op_log()->{revocations};
ok t_cmp(join(',', map { ($_->{token_type_hint} // 'no hint') . ":$_->{status}" } @$rev),
         'refresh_token:200,access_token:200',
         "two calls to the OP's discovered revocation_endpoint: the refresh token, then the access token");
ok t_cmp(join(',', map { $_->{client_id} // 'anonymous' } @$rev), 'op-client,op-client',
         'each authenticated as the client');
ok t_cmp(op_introspect(\@client, $rt, 'refresh_token')->{active} ? 'active' : 'inactive',
         'inactive', 'the OP says the refresh token is no longer active');
ok t_cmp(op_introspect(\@client, $at, 'access_token')->{active} ? 'active' : 'inactive',
         'inactive', 'nor the access token');
ok t_cmp($ua->get(site('/opapp/echo'))->code, 302, 'and the user is logged out here');
