package OAC::OP;
# The real OpenID Provider of t/oidc/ (npm's oidc-provider, t/op/op.mjs,
# started by t/TEST.PL): a browser's way through its pages, its test-only
# log, and the calls a client makes to it directly.
use strict;
use warnings FATAL => 'all';

use HTTP::Request::Common qw(POST);
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 qw(encode_base64);
use URI ();
use OAC::Flow qw(site login_redirect);

use Exporter 'import';
our @EXPORT_OK = qw(op_url op_log op_reset op_login op_sign_in op_token
                    op_introspect op_discovery op_auth_of %PASSWORD);

# The accounts of t/op/op.mjs.
our %PASSWORD = (alice => 'wonderland', bob => 'builder');

sub op_url { $ENV{OAC_OP} . (shift // '') }

# How a token or PAR request authenticated, as the OP's log tells it:
# method, Basic or not, assertion type, and the assertion's alg, iss, sub
# and aud.
sub op_auth_of {
    my $e = shift;
    my $a = $e->{assertion} || {};
    return join ' ', $e->{auth_method} // 'none', ($e->{basic} ? 'basic' : 'no-basic'),
        $e->{assertion_type} // 'no-assertion', $a->{alg} // '-', $a->{iss} // '-',
        $a->{sub} // '-', $a->{aud} // '-';
}

sub op_discovery {
    my $res = LWP::UserAgent->new->get(op_url('/.well-known/openid-configuration'));
    die 'discovery: ' . $res->status_line unless $res->is_success;
    return JSON::PP::decode_json($res->content);
}

# What the OP saw since the last op_reset (see t/op/op.mjs).
sub op_log {
    my $res = LWP::UserAgent->new->get(op_url('/_test/log'));
    die 'op log: ' . $res->status_line unless $res->is_success;
    return JSON::PP::decode_json($res->content);
}

sub op_reset {
    my $res = LWP::UserAgent->new->post(op_url('/_test/reset'));
    die 'op reset: ' . $res->status_line unless $res->is_success;
}

sub absolute {
    my ($location, $base) = @_;
    return URI->new_abs($location, $base)->as_string;
}

# Follows the OP's redirects from URL with the browser UA until the OP
# either shows a page (its login form, an error) or sends the browser away
# from itself (to the callback). Returns the last response and its URL.
sub follow_op {
    my ($ua, $url) = @_;
    my $res;
    for (1 .. 10) {
        $res = $ua->get($url);
        return ($res, $url) unless $res->is_redirect;
        my $next = absolute($res->header('Location'), $url);
        return ($res, $url) unless index($next, op_url()) == 0;
        $url = $next;
    }
    die "the OP redirected too often (last: $url)";
}

# The browser, on the OP's login page (the response given), signs in as
# USER with PASSWORD; returns the response and URL at which the OP stops
# redirecting (the callback's redirect, or its page again).
sub op_sign_in {
    my ($ua, $page, $page_url, $user, $password) = @_;
    my ($action) = $page->content =~ m{<form id="login-form" method="post" action="([^"]+)"}
        or die "no login form on the OP's page:\n" . $page->content;
    $action = absolute($action, $page_url);
    my $res = $ua->request(POST $action,
        [ login => $user, password => $password // $PASSWORD{$user} ]);
    return ($res, $action) unless $res->is_redirect;
    return follow_op($ua, absolute($res->header('Location'), $action));
}

# The whole login of APP as USER through the OP's pages, in browser UA
# (whose cookie jar keeps the OP's session, as a browser would). Returns a
# hash: authorize (the module's redirect to the OP), login_form (whether
# the OP asked for the password; not when its session was still alive),
# callback (the URL the OP sent the browser back to), response (httpd's
# answer to it).
sub op_login {
    my ($ua, $app, %o) = @_;
    my $user = $o{user} // 'alice';
    my $start = login_redirect($ua, $app, $o{next});
    die "login of $app: " . $start->status_line unless $start->code == 302;
    my %r = (authorize => $start->header('Location'), login_form => 0);
    my ($res, $url) = follow_op($ua, $r{authorize});
    if (!$res->is_redirect && $res->content =~ /id="login-form"/) {
        $r{login_form} = 1;
        ($res, $url) = op_sign_in($ua, $res, $url, $user, $o{password});
    }
    die "the OP did not send the browser back (" . $res->status_line . " at $url):\n"
        . $res->content unless $res->is_redirect;
    $r{callback} = absolute($res->header('Location'), $url);
    $r{response} = $ua->get($r{callback});
    return \%r;
}

sub basic {
    my ($id, $secret) = @_;
    return 'Basic ' . encode_base64("$id:$secret", '');
}

# A direct call to the OP's token endpoint as a client would make it.
sub op_token {
    my ($client, $params) = @_;
    my $res = LWP::UserAgent->new->request(POST op_url('/token'), $params,
        Authorization => basic(@$client));
    my $doc = eval { JSON::PP::decode_json($res->content) } || {};
    return ($res->code, $doc);
}

# RFC 7662: what the OP says of a token.
sub op_introspect {
    my ($client, $token, $hint) = @_;
    my $res = LWP::UserAgent->new->request(POST op_url('/token/introspection'),
        [ token => $token, ($hint ? (token_type_hint => $hint) : ()) ],
        Authorization => basic(@$client));
    die 'introspection: ' . $res->status_line . ' ' . $res->content unless $res->is_success;
    return JSON::PP::decode_json($res->content);
}

1;
