# OpenID Connect (contract section 9): an app configured by discovery with
# scope openid logs in only with an id_token signed by a key of the
# provider's jwks_uri, from its issuer, for this client, not expired, for
# this login's nonce and this access token; userinfo must be about the
# same sub. Each fault the provider can make is refused before anything is
# stored, with the failed check in the log. A provider that rotates its
# key is followed without a restart, and forged id_tokens with random kids
# fetch the keys again only a handful of times.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get provider_post
                 login json_of log_size log_since);

my @faults = (
    [ 'a bad signature',        { id_token_mode => 'bad_signature' },  qr/signature/ ],
    [ 'alg none',               { id_token_mode => 'alg_none' },       qr/none/ ],
    [ 'HS256 keyed by the public key (algorithm confusion)',
                                { id_token_mode => 'hs256' },          qr/HS256/ ],
    [ 'another issuer',         { id_token_override => { iss => 'https://evil.example' } }, qr/iss/ ],
    [ 'another audience',       { id_token_override => { aud => 'someone-else' } }, qr/aud/ ],
    [ 'an expired token',       { id_token_override => { exp => 1000000000 } }, qr/exp/ ],
    [ 'issued in the future',   { id_token_override => { iat => time + 7200 } }, qr/iat/ ],
    [ 'another nonce',          { id_token_override => { nonce => 'replayed' } }, qr/nonce/ ],
    [ 'no nonce',               { id_token_override => { nonce => undef } }, qr/nonce/ ],
    [ 'an at_hash of another token', { id_token_override => { at_hash => 'AAAAAAAAAAAAAAAAAAAAAA' } }, qr/at_hash/ ],
    [ 'no id_token at all',     { token_remove => ['id_token'] },      qr/no id_token/ ],
);

plan tests => 4 + 3 * @faults + 6;


provider_config();
my $ua = browser();
my $res = login($ua, 'oidc', '/after');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
         'login with an id_token that checks out');
my $echo = json_of($ua->get(site('/oidcapp/echo')));
ok t_cmp($echo->{REMOTE_USER} // '', '1001', "the user is the id_token's sub");
# (the keys may have been fetched by an earlier test file: the fault
# tests below show they are used)
ok t_cmp(provider_get('/_control/stats')->{last_id_token} ? 'id_token' : 'none', 'id_token',
         'the token response carried an id_token');

# userinfo about someone else: refused (OpenID Connect Core 5.3.2)
provider_config(userinfo_override => { sub => '9999' });
my $start = log_size();
$res = login(browser(), 'oidc', '/after');
ok t_cmp($res->code . ' ' . (log_since($start, qr/OAC00021: app oidc/) =~ /userinfo's sub is not the id_token's/ ? 'logged' : 'not logged'),
         '502 logged', 'userinfo with another sub: refused, and said why');

for my $fault (@faults) {
    my ($what, $config, $why) = @$fault;
    provider_config(%$config);
    my $b = browser();
    my $s = log_size();
    my $r = login($b, 'oidc', '/after');
    ok t_cmp($r->code, 502, "$what: the login is refused");
    ok t_cmp(log_since($s, qr/OAC00021: app oidc/), $why, "$what: the log names the check");
    ok t_cmp($b->get(site('/oidcapp/echo'))->code, 302, "$what: nothing was stored");
}

# the provider rotates its key: the next login fetches the new one (before
# any unknown kid below, which would hold further fetches for a minute),
# and the other child processes take it from the machine's copy instead
# of fetching it themselves
provider_config();
my $kid = provider_post('/_control/rotate_oidc_key')->{kid};
my $before = provider_get('/_control/stats')->{jwks_requests};
$res = login(browser(), 'oidc', '/after');
ok t_cmp($res->code, 302, "after the provider's key rotation the login works");
my $after_rotation = 0;
for (1 .. 30) {
    $after_rotation++ if login(browser(), 'oidc', '/after')->code == 302;
}
ok t_cmp($after_rotation, 30, '30 more logins work, whichever process serves them');
ok t_cmp(provider_get('/_control/stats')->{jwks_requests} - $before, 1,
         'the new key was fetched once for the machine, without a restart');

# 1,000 forged id_tokens naming random kids, from four clients at once:
# the keys are not fetched again for each, nor for each process
provider_config(id_token_mode => 'unknown_kid');
$before = provider_get('/_control/stats')->{jwks_requests};
my $start_forged = log_size();
my @pipes;
for my $worker (1 .. 4) {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        # accepted would be a 302 to /after; the module answers 502, and
        # with sessions in SQLite a locked database may answer 500 (the
        # dbd pass): neither is a login
        my $n = 0;
        for (1 .. 250) {
            $n++ if login(browser(), 'oidc', '/after')->code != 302;
        }
        print $w "$n\n";
        close $w;
        require POSIX;
        POSIX::_exit(0);
    }
    close $w;
    push @pipes, [$pid, $r];
}
my $refused = 0;
for (@pipes) {
    my ($pid, $r) = @$_;
    my $n = <$r>;
    $refused += $n // 0;
    waitpid $pid, 0;
}
my $fetches = provider_get('/_control/stats')->{jwks_requests} - $before;
ok t_cmp($refused, 1000, '1,000 id_tokens with random kids: none accepted');
ok t_cmp(log_since($start_forged, qr/OAC00021: app oidc/), qr/kid/, 'the log names the unknown kid');
ok t_cmp($fetches <= 2 ? 'a handful' : "$fetches fetches", 'a handful',
         "and the keys fetched again at most once a minute on the machine ($fetches)");
