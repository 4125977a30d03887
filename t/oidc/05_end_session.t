# RP-initiated logout at a real OpenID Provider (oidc-provider,
# t/op/op.mjs), with the end_session_endpoint from discovery (contract
# section 9): logout revokes the tokens, then sends the browser to the OP
# with id_token_hint, client_id, post_logout_redirect_uri and state; the
# OP accepts them (it checks the id_token_hint's signature and the
# registered post_logout_redirect_uri), ends its own session and sends the
# browser back with the state. A new login then asks for the password
# again, which it does not when the browser skips the OP's end_session.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use HTTP::Request::Common qw(POST);
use URI ();
use URI::QueryParam ();
use OAC::Flow qw(browser site json_of);
use OAC::OP qw(op_log op_reset op_login op_discovery);

plan tests => 15;

my $meta = op_discovery();

op_reset();
my $ua = browser();
my $first = op_login($ua, 'op');
ok t_cmp($first->{login_form}, 1, 'the first login asks for the password');
my $id_token = op_log()->{tokens}[0]{body}{id_token} // 'none';

my $res = $ua->get(site('/oauth/op/logout'));
my $to = URI->new($res->header('Location') // '');
ok t_cmp($res->code . ' ' . $to->scheme . '://' . $to->host_port . $to->path,
         "302 $meta->{end_session_endpoint}", "logout sends the browser to the OP's discovered end_session_endpoint");
ok t_cmp($to->query_param('id_token_hint') // '', $id_token, "with the OP's id_token as id_token_hint");
ok t_cmp($to->query_param('client_id') // '', 'op-client', 'client_id');
ok t_cmp($to->query_param('post_logout_redirect_uri') // '', site('/'), 'post_logout_redirect_uri (default /)');
my $state = $to->query_param('state') // '';
ok t_cmp(length($state) >= 16 ? 'state' : "'$state'", 'state', 'and a state');
ok t_cmp(join(',', map { "$_->{token_type_hint}:$_->{status}" } @{ op_log()->{revocations} }),
         'refresh_token:200,access_token:200', 'the tokens were revoked before');

# at the OP: its confirmation page, which it shows only for a request it
# accepted, then "yes, sign me out"
my $page = $ua->get($to);
my ($action) = $page->content =~ /<form id="op\.logoutForm" method="post" action="([^"]+)"/;
my ($xsrf) = $page->content =~ /name="xsrf" value="([^"]+)"/;
ok t_cmp($page->code . ' ' . ($action ? 'form' : 'no form'), '200 form',
         'the OP accepts the end-session request and asks to confirm');
my $done = $ua->request(POST $action // site('/none'), [ xsrf => $xsrf // '', logout => 'yes' ]);
ok t_cmp($done->header('Location') // '', site('/') . "?state=$state",
         'the OP ends its session and sends the browser back to post_logout_redirect_uri with the state');
my @ends = @{ op_log()->{end_sessions} };
ok t_cmp(join(',', map { "$_->{method}:$_->{status}" } @ends), 'GET:200,POST:303', 'as its log says');

ok t_cmp($ua->get(site('/opapp/echo'))->code, 302, 'logged out here');
my $again = op_login($ua, 'op');
ok t_cmp($again->{login_form}, 1, "a new login asks for the password again: the OP's session is over");
ok t_cmp(json_of($ua->get(site('/opapp/echo')))->{REMOTE_USER} // '', '248289761001', 'and logs in');

# the same without going to the OP: its session lives on
my $skip = browser();
op_login($skip, 'op');
ok t_cmp($skip->get(site('/oauth/op/logout'))->code, 302, 'another browser logs out but skips the OP');
ok t_cmp(op_login($skip, 'op')->{login_form}, 0, 'and its next login needs no password');
