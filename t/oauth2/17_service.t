# Service tokens (contract section 11): OAuthProxyAPI NAME
# client_credentials proxies with the app's own token, fetched with the
# client credentials grant (the app's scope), with no session; one token for
# every process, renewed ahead of its expiry, and renewed after the API
# refuses it; a provider that refuses the client: 502 with Retry-After.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(site provider_config provider_get provider_post json_of
                 log_size log_since);

plan tests => 33;

sub api {
    my ($path) = @_;
    return LWP::UserAgent->new(max_redirect => 0)->get(site($path));
}

provider_config();
my $res = api('/svc/things?page=2');
my $echo = json_of($res);
ok t_cmp($res->code, 200, 'a call through OAuthProxyAPI client_credentials, no session');
ok t_cmp($echo->{user} // '', 'service:oauth2-client', "with the app's own token");
ok t_cmp($echo->{path} . '?' . $echo->{raw_query}, '/api/things?page=2', 'to the API path');
my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{client_credentials_requests}, 1, 'one client credentials grant');
ok t_cmp($stats->{last_token_request}{params}{scope} // '', 'read write', "asking for the app's scope");
ok t_cmp(defined $res->header('Set-Cookie') ? 'cookie' : 'none', 'none', 'no session is made');
# the app has no authorize_url, as the README's example: it starts, and
# offers no login
my $mark = log_size();
ok t_cmp(api('/oauth/svc/login')->code, 404, 'an app without authorize_url has no login: 404');
ok t_cmp(log_since($mark, qr/OAC00162/), qr/app svc: no login: it has no authorize_url/, 'the log says why');

# many requests, from four clients at once: the same token for all
my @pids;
for my $w (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $ok = 0;
        $ok += api('/svc/x')->code == 200 ? 1 : 0 for 1 .. 25;
        require POSIX;
        POSIX::_exit($ok == 25 ? 0 : 1);
    }
    push @pids, $pid;
}
my $failed = 0;
for (@pids) { waitpid $_, 0; $failed++ if $? }
ok t_cmp($failed, 0, '100 calls from four clients all succeed');
ok t_cmp(provider_get('/_control/stats')->{client_credentials_requests}, 1,
         'and share the one token, whichever process serves them');

# the API refuses the token of a POST: not sent again (the API may have
# acted on it), the next call gets a new one
provider_post('/_control/expire_tokens');
my $start = log_size();
my $api_before = provider_get('/_control/stats')->{api_requests};
$res = LWP::UserAgent->new(max_redirect => 0)->post(site('/svc/x'));
ok t_cmp($res->code, 401, "the API's refusal of a POST goes back to the caller");
ok t_cmp(provider_get('/_control/stats')->{api_requests} - $api_before, 1, 'the POST was sent once');
ok t_cmp(log_since($start, qr/OAC00126/), qr/OAuthProxyAPI svc: the API answered 401 to the service token: the next request gets a new one/,
         'and is logged');
$res = api('/svc/x');
ok t_cmp($res->code, 200, 'the next call works');
ok t_cmp(provider_get('/_control/stats')->{client_credentials_requests}, 2, 'with a new token');

# refused again at once: renewed at most every 30 s, whoever asks
provider_post('/_control/expire_tokens');
$start = log_size();
api('/svc/x') for 1 .. 5;
ok t_cmp(provider_get('/_control/stats')->{client_credentials_requests}, 2,
         'five more refusals within 30 s: no new token');
ok t_cmp(log_since($start, qr/OAC00126/), qr/renewed less than 30 s ago, and is kept/,
         'and the log says why');

# a GET the API refuses: the token is renewed and the GET sent again, the
# caller sees only the answer to the second
$res = api('/svcre/x');
my $cc = provider_get('/_control/stats')->{client_credentials_requests};
provider_post('/_control/expire_tokens');
$start = log_size();
$api_before = provider_get('/_control/stats')->{api_requests};
$res = api('/svcre/x?again=1');
ok t_cmp($res->code, 200, 'a refused GET is answered by a renewal and one retry');
ok t_cmp(json_of($res)->{raw_query} // '', 'again=1', 'the same request, sent again');
my $stats2 = provider_get('/_control/stats');
ok t_cmp(($stats2->{client_credentials_requests} - $cc) . ' ' . ($stats2->{api_requests} - $api_before),
         '1 2', 'one new token, two calls to the API');
ok t_cmp(log_since($start, qr/OAC00130/), qr/OAuthProxyAPI svcre: GET \/svcre\/x sent again with a renewed service token/,
         'the retry is logged');
ok t_cmp(defined $res->header('WWW-Authenticate') ? 'challenge' : 'none', 'none',
         "nothing of the swallowed refusal reaches the caller");
# refused again within 30 s: the token is kept, the refusal is not retried
provider_post('/_control/expire_tokens');
$api_before = provider_get('/_control/stats')->{api_requests};
$res = api('/svcre/x');
$stats2 = provider_get('/_control/stats');
ok t_cmp($res->code . ' ' . ($stats2->{api_requests} - $api_before) . ' ' . ($stats2->{client_credentials_requests} - $cc),
         '401 1 1', 'a refusal the kept token cannot help is passed on, sent once');

# a PUT with a body of a few kilobytes: kept, and sent again whole
{
    my $ua = LWP::UserAgent->new(max_redirect => 0);
    my $doc = '{"n":' . ('7' x 3000) . "}\0binary";
    $ua->put(site('/svcput/doc'), 'Content-Type' => 'application/octet-stream', Content => $doc);
    my $cc0 = provider_get('/_control/stats')->{client_credentials_requests};
    provider_post('/_control/expire_tokens');
    my $before = provider_get('/_control/stats')->{api_requests};
    my $put = $ua->put(site('/svcput/doc'), 'Content-Type' => 'application/octet-stream', Content => $doc);
    my $st = provider_get('/_control/stats');
    ok t_cmp($put->code . ' ' . ($st->{api_requests} - $before) . ' ' . ($st->{client_credentials_requests} - $cc0),
             '200 2 1', 'a refused PUT with a body: renewed and sent again, once');
    my $got = json_of($put);
    ok t_cmp(($got->{method} // '') . ' ' . length($got->{body} // ''), 'PUT ' . length($doc),
             'the second PUT carried the whole body');
}

# another audience (access_token_params) for the same client: its own token
$cc = provider_get('/_control/stats')->{client_credentials_requests};
$res = api('/svcaud/x');
ok t_cmp(provider_get('/_control/stats')->{last_token_request}{params}{audience} // '', 'api-two',
         'an app with another audience asks for its own token');
ok t_cmp(provider_get('/_control/stats')->{client_credentials_requests} - $cc, 1, 'never the other app\'s');

# the first requests for a token nobody has, all at once, while the
# provider takes a second to answer: one fetch serves them all
{
    provider_post('/_control/config', { token_endpoint_mode => 'slow:1' });
    my $cc0 = provider_get('/_control/stats')->{client_credentials_requests};
    my @kids;
    for (1 .. 8) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            require POSIX;
            POSIX::_exit(api('/svccold/x')->code == 200 ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $bad = 0;
    for (@kids) { waitpid $_, 0; $bad++ if $? }
    provider_post('/_control/config', { token_endpoint_mode => 'normal' });
    ok t_cmp($bad, 0, 'eight calls at once for a token not yet fetched all succeed');
    ok t_cmp(provider_get('/_control/stats')->{client_credentials_requests} - $cc0, 1,
             'and the provider is asked once: the others wait for that answer');
}

# renewed ahead of its expiry: a token of 10 s is renewed after 9
provider_post('/_control/config', { access_token_lifetime => 10 });
api('/svcshort/x');
my $before = provider_get('/_control/stats')->{client_credentials_requests};
sleep 9;
$res = api('/svcshort/x');
ok t_cmp($res->code . ' ' . (provider_get('/_control/stats')->{client_credentials_requests} - $before),
         '200 1', 'a token near its expiry (a tenth of its life left) is renewed before use');

# a provider that refuses the client: 502 (contract section 7), a reason
# in the log, no secret
$start = log_size();
$res = api('/svcbad/x');
ok t_cmp($res->code . ' ' . ($res->header('Retry-After') // ''), '502 5',
         'no service token: 502 with Retry-After');
ok t_cmp(json_of($res)->{error} // '', 'no_service_token', 'and a JSON error');
my $line = log_since($start, qr/OAC00124/);
ok t_cmp($line =~ /app svcbad: no service token/ && $line !~ /wrong-secret/ ? 'logged' : "'$line'",
         'logged', 'logged, without the secret');
