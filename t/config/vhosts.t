# The multi-vhost configuration of t/conf/extra.conf.in: which value of each
# app every virtual host sees (inheritance, per-key override, client_kwargs,
# defaults), read from the oauthclient-status handler.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();

plan tests => 32;

sub apps_of {
    my $vhost = shift;
    Apache::TestRequest::module($vhost);
    my $res = GET '/oauthclient-status?json';
    Apache::TestRequest::module('default');
    die "status page of $vhost answered " . $res->code unless $res->code == 200;
    my $doc = JSON::PP::decode_json($res->content);
    return { map { $_->{name} => $_ } @{ $doc->{apps} } }, $res->content;
}

my ($main, $main_raw) = apps_of('default');
my ($over, $over_raw) = apps_of('vh_override');
my ($plain, $plain_raw) = apps_of('vh_plain');

# main server
ok t_cmp(join(',', grep { /^(github|local|twitter|gitlab)$/ } sort keys %$main), 'github,local,twitter',
         'main server apps (and not the vhost-only gitlab)');
my $gh = $main->{github};
ok t_cmp($gh->{oauth_version}, '2.0', 'github is OAuth 2 (no request_token_url)');
ok t_cmp($gh->{client_id}, 'gh-client-id', 'client_id');
ok t_cmp($gh->{scope}, 'user:email', 'scope unpacked from client_kwargs');
ok t_cmp($gh->{token_endpoint_auth_method}, 'client_secret_post',
         'token_endpoint_auth_method unpacked from client_kwargs');
ok t_cmp($gh->{userinfo_endpoint}, 'https://api.github.com/user',
         'second declaration line merged; relative userinfo_endpoint joined');
ok t_cmp($gh->{user_claim}, 'login', 'user_claim from the second line');
ok t_cmp($gh->{redirect_uri}, '/oauth/github/callback', 'default redirect_uri');
ok t_cmp($gh->{login_path}, '/oauth/github/login', 'default login_path');
ok t_cmp($gh->{logout_path}, '/oauth/github/logout', 'default logout_path');
ok t_cmp($gh->{token_placement}, 'header', 'default token_placement');
ok t_cmp($gh->{client_secret}, '(set)', 'secret reported only as set');

my $tw = $main->{twitter};
ok t_cmp($tw->{oauth_version}, '1.0a', 'request_token_url makes twitter OAuth 1.0a');
ok t_cmp($tw->{signature_method}, 'HMAC-SHA1', 'signature_method');

my $local = $main->{local};
ok t_cmp($local->{scope}, 'profile email', "whole-pair quoting 'scope=profile email'");
ok t_cmp($local->{code_challenge_method}, 'S256', 'PKCE on');
ok t_cmp($local->{authorize_url}, qr{^http://127\.0\.0\.1:\d+/oauth2/authorize$},
         '${OAC_PROVIDER_PORT} substituted by httpd');
ok t_cmp($local->{refresh_token_url}, $local->{access_token_url},
         'refresh_token_url defaults to access_token_url');

# vh_override: inherits, overrides per key, adds its own
ok t_cmp(join(',', sort keys %$over), join(',', sort(keys(%$main), 'gitlab')),
         'vhost sees every server app plus its own');
my $ogh = $over->{github};
ok t_cmp($ogh->{scope}, 'read:user repo', 'vhost overrides scope (explicit key beats client_kwargs)');
ok t_cmp($ogh->{login_path}, '/gh/login', 'vhost overrides login_path');
ok t_cmp($ogh->{token_placement}, 'uri', 'vhost override on a second line');
ok t_cmp($ogh->{client_id}, 'gh-client-id', 'vhost inherits client_id');
ok t_cmp($ogh->{token_endpoint_auth_method}, 'client_secret_post',
         'vhost inherits client_kwargs');
ok t_cmp($ogh->{logout_path}, '/oauth/github/logout', 'vhost keeps default logout_path');

# vh_plain: exactly the server's view
ok t_cmp(join(',', sort keys %$plain), join(',', sort keys %$main), 'plain vhost sees exactly the server apps');
ok t_cmp($plain->{github}{scope}, 'user:email', 'plain vhost: server scope');
ok t_cmp($plain->{github}{login_path}, '/oauth/github/login', 'plain vhost: default login_path');
ok t_cmp(exists $main->{gitlab} ? 'leaked' : 'absent', 'absent',
         'a vhost app does not leak into the main server');

# secrets never shown
my $all = $main_raw . $over_raw . $plain_raw;
ok t_cmp($all =~ /SECRET-do-not-show/ ? 'shown' : 'hidden', 'hidden',
         'client_secret never appears on the status page');
my $text = GET('/oauthclient-status')->content;
ok t_cmp($text, qr/^\[github\]\noauth_version = 2.0\nclient_id = gh-client-id$/m, 'plain-text status lists apps');
ok t_cmp($text =~ /SECRET-do-not-show/ ? 'shown' : 'hidden', 'hidden',
         'plain-text status shows no secret');
