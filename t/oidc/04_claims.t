# Claims from a real OpenID Provider (oidc-provider, t/op/op.mjs): in the
# code flow it puts only sub in the id_token and the profile and email
# claims in userinfo, so the rules and forwarded headers below work only
# if the module merged userinfo's answer over the id_token's claims.
# 'Require oauth-claim' on an array (groups), a boolean and a nested object
# (address.country) in <RequireAll>: alice passes, bob gets 403 and the
# backend is not reached. OAuthForwardClaims passes the named claims;
# OAuthForwardTokens the OP's id_token.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use MIME::Base64 qw(decode_base64url);
use OAC::Flow qw(browser site json_of log_size log_since);
use OAC::OP qw(op_log op_reset op_login);

plan tests => 18;

my %sub = (alice => '248289761001', bob => '248289761002');

op_reset();
my $alice = browser();
op_login($alice, 'op', user => 'alice');
my $alice_id_token = op_log()->{tokens}[0]{body}{id_token} // 'none';
my $bob = browser();
op_login($bob, 'op', user => 'bob');

# the premise: these claims are not in the OP's id_token
my ($payload) = $alice_id_token =~ /^[^.]+\.([^.]+)\./;
my $in_id_token = $payload ? JSON::PP::decode_json(decode_base64url($payload)) : {};
ok t_cmp(join(',', grep { exists $in_id_token->{$_} } qw(groups email_verified address email)), '',
         "the OP's id_token carries none of the claims the rules use (userinfo does)");

sub status { my ($ua, $path) = @_; return $ua->get(site($path))->code }

ok t_cmp(status($alice, '/opclaims/admins/echo'), 200, 'groups:admins: alice (an array holding it)');
my $start = log_size();
my $denied = $bob->get(site('/opclaims/admins/echo'));
ok t_cmp($denied->code, 403, 'groups:admins: bob is refused, 403');
ok t_cmp($denied->content =~ /REMOTE_USER/ ? 'reached' : 'not reached', 'not reached',
         'the backend is not reached');
ok t_cmp(log_since($start, qr/OAC00119/), qr/app op: the user $sub{bob} has no claim that 'Require oauth-claim groups:admins'/,
         'the denial is logged with the rule and the sub');
ok t_cmp(status($alice, '/opclaims/staff/echo') . ' ' . status($bob, '/opclaims/staff/echo'), '200 200',
         'groups:staff: both');
ok t_cmp(status($alice, '/opclaims/verified-fr/echo'), 200,
         'email_verified:true and address.country:FR: alice');
ok t_cmp(status($bob, '/opclaims/verified-fr/echo'), 403, 'bob (unverified, DE) is refused');
ok t_cmp(status(browser(), '/opclaims/admins/echo'), 302, 'no login: sent to log in');

my $echo = json_of($alice->get(site('/opclaims/fwd/echo'), 'X-OAuth-Claim-Groups' => 'root'));
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_EMAIL} // '', 'alice@example.org', 'X-OAuth-Claim-email from userinfo');
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_EMAIL_VERIFIED} // '', 'true', 'a boolean as its JSON text');
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_GROUPS} // '', 'staff,admins',
         "an array joined with ',' (the client's own header removed)");
ok t_cmp($echo->{OAUTH_CLAIM_PREFERRED_USERNAME} // '', 'alice', 'OAUTH_CLAIM_PREFERRED_USERNAME');
# (its header, X-OAuth-Claim-address.country, is one that httpd gives no
# CGI script: a header name with a '.')
ok t_cmp($echo->{OAUTH_CLAIM_ADDRESS_COUNTRY} // '', 'FR', 'a dotted path: OAUTH_CLAIM_ADDRESS_COUNTRY');
my $record = json_of($alice->get(site('/opclaims/proxied/x')));
my %got = map { $_->[0] => $_->[1] } @{ $record->{headers} || [] };
ok t_cmp(join(' ', map { "$_: " . ($got{$_} // 'absent') } 'X-OAuth-Claim-address.country', 'X-OAuth-Claim-groups'),
         'X-OAuth-Claim-address.country: FR X-OAuth-Claim-groups: staff,admins',
         'to a proxied backend: X-OAuth-Claim-address.country and -groups');
ok t_cmp(exists $echo->{HTTP_X_OAUTH_CLAIM_NAME} ? 'forwarded' : 'not', 'not', 'a claim not named is not');
ok t_cmp($echo->{HTTP_X_OAUTH_ID_TOKEN} // '', $alice_id_token, "X-OAuth-Id-Token is the OP's id_token");
ok t_cmp(json_of($bob->get(site('/opclaims/fwd/echo')))->{HTTP_X_OAUTH_CLAIM_EMAIL} // '', 'bob@other.example',
         "bob's own");
