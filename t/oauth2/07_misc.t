# Require beyond valid-user, the bound on logins in flight, the status
# page as text, and the logs: no secret, token or code above debug.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_get provider_config login_redirect
                 approve login json_of);

plan tests => 16;

provider_config();

# Require user: the OAuth user name takes part in authorization
my $ua = browser();
login($ua, 'local', undef, 'alice');
ok t_cmp($ua->get(site('/only-bob/echo'))->code, 403, 'Require user bob: alice is refused');
my $bob = browser();
login($bob, 'local', undef, 'bob');
my $res = $bob->get(site('/only-bob/echo'), 'X-OAuth-Access-Token' => 'forged',
                   'X-OAuth-User' => 'mallory');
ok t_cmp($res->code, 200, 'Require user bob: bob is served');
my $env = json_of($res);
ok t_cmp(join(',', grep { /^HTTP_X_OAUTH_/ } sort keys %$env), '',
         'no forwarding here, and client-sent X-OAuth-* headers stripped all the same');

# at most 5 logins in flight per app: the oldest is dropped
$ua = browser();
my @authorize = map { login_redirect($ua, 'local', "/tab$_")->header('Location') } 1 .. 6;
$res = $ua->get(approve($authorize[0]));
ok t_cmp($res->code, 400, 'the 6th pending login pushes out the 1st');
$res = $ua->get(approve($authorize[1]));
ok t_cmp($res->header('Location'), site('/tab2'), 'the 2nd still completes');

# The logins in flight of all apps share one budget in the session, and an
# app configured by discovery (server_metadata_url) counts once in it, as
# any other: it was counted twice (its discovered copy beside itself), and
# pushed out other apps' logins that fit.
{
    my $b = browser();
    my $long = '/p?' . ('x' x 400) . '=';
    my @plain = map { login_redirect($b, 'local', "$long$_")->header('Location') } 1 .. 3;
    login_redirect($b, 'disco', "/d$_") for 1 .. 3;
    my $res = $b->get(approve($plain[0]));
    ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site("${long}1"),
             "a discovered app's logins in flight count once: another app's that fit are kept");
}

# response_mode=form_post: the provider's auto-submitting form POSTs the
# code and state to the callback
{
    my $b = browser();
    my $res = login_redirect($b, 'formpost', '/fp/done');
    my $page = LWP::UserAgent->new(max_redirect => 0)
        ->get($res->header('Location') . '&auto_approve=alice');
    ok t_cmp($page->code . ' ' . ($page->content =~ /<form method="post" action="([^"]+)"/ ? $1 : '-'),
             '200 ' . site('/oauth/formpost/callback'), 'form_post: the provider answers with a form');
    my %field = $page->content =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
    $res = $b->post(site('/oauth/formpost/callback'), \%field);
    ok t_cmp($res->code . ' ' . ($res->header('Location') || ''), '302 ' . site('/fp/done'),
             'form_post: the POSTed callback completes the login');
    $res = $b->post(site('/oauth/formpost/callback'), \%field);
    ok t_cmp($res->code, 400, 'form_post: the same POST replayed is refused');
}

# status page, text form
my $text = browser()->get(site('/oauthclient-status'))->content;
ok t_cmp($text, qr/^\[local\]$/m, 'status lists the app');
ok t_cmp($text, qr/^counters\.logins_completed = [1-9]\d*$/m, 'status shows counters as text');
ok t_cmp($text, qr{^access_token_url = http://127\.0\.0\.1:\d+/oauth2/token\?\(query not shown\)$}m,
         "status says an endpoint has a query, and shows the rest");
ok t_cmp($text =~ /statusq-key/ ? 'shown' : 'not shown', 'not shown',
         "status never shows an endpoint's query (it may hold a key)");

# nothing secret in the log above debug
open my $fh, '<', Apache::Test::vars('t_logs') . '/error_log' or die $!;
my @lines = grep { /\[[a-z_]+:(emerg|alert|crit|error|warn|notice|info)\]/ } <$fh>;
close $fh;
my $log = join '', @lines;
ok t_cmp($log =~ /oauth2-secret|oauth1-secret|interop-secret|interop-consumer-secret/
         ? 'secret logged' : 'clean', 'clean', 'client secrets never logged');
ok t_cmp($log =~ /\b(at|rt|o1at)-[A-Za-z0-9_-]{10,}/ ? 'token logged' : 'clean', 'clean',
         'tokens (OAuth 2 and OAuth 1) never logged');
ok t_cmp($log =~ /code-[A-Za-z0-9_-]{10,}/ ? 'code logged' : 'clean', 'clean', 'codes never logged');
