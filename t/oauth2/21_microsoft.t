# Microsoft Entra ID's multi-tenant shapes (compliance_fix=microsoft): the
# local provider serves its discovery document as Entra does under
# /NAME/v2.0, naming the issuer by tenant ID, or for "common" by
# the template {tenantid}; a user of a tenant gets id_tokens with that tid
# and that tenant's issuer. With the fix each id_token's iss must be the
# template filled with its own tid (a GUID); tenants are told apart by
# 'Require oauth-claim tid:...'. Without the fix the document is refused,
# and the log names the fix.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use MIME::Base64 qw(decode_base64url);
use OAC::Flow qw(browser site provider_config provider_get provider_post
                 login login_redirect json_of log_size log_since);

my $T1 = '11111111-1111-4111-8111-111111111111';
my $T2 = '22222222-2222-4222-8222-222222222222';
my $base = $ENV{OAC_PROVIDER};
my %tenants = (alice => $T1, bob => $T2);

sub tenant_iss { "$base/$_[0]/v2.0" }
sub last_claims {
    my $jwt = provider_get('/_control/stats')->{last_id_token} // '';
    my (undef, $payload) = split /\./, $jwt;
    return eval { JSON::PP::decode_json(decode_base64url($payload // '')) } || {};
}

my @faults = (
    [ "another tenant's issuer than its tid",
      { id_token_override => { iss => tenant_iss($T2) } }, qr/id_token iss "[^"]*\/22222222-2222-4222[^"]*" is not the issuer "[^"]*\/11111111-1111-4111/ ],
    [ 'the template itself as iss',
      { id_token_override => { iss => tenant_iss('{tenantid}') } }, qr/is not the issuer/ ],
    [ "another host's issuer with the right tid",
      { id_token_override => { iss => "https://evil.example/$T1/v2.0" } }, qr/is not the issuer/ ],
    [ 'no tid',  { id_token_override => { tid => undef } }, qr/id_token has no tid/ ],
    [ 'a tid that is no tenant ID',
      { id_token_override => { tid => 'common', iss => tenant_iss('common') } }, qr/tid is not a tenant ID/ ],
);

plan tests => 9 + 3 * @faults + 2 + 5 + 2 + 3;

# --- the "common" document: users of any tenant -----------------------------
provider_config(tenants => \%tenants);
my $alice = browser();
my $res = login($alice, 'entra', '/after', 'alice');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/after'),
         "a tenant's user logs in through the multi-tenant document");
my $c = last_claims();
ok t_cmp(($c->{iss} // '') . ' ' . ($c->{tid} // ''), tenant_iss($T1) . " $T1",
         "(the provider's id_token named the user's tenant, not the document's template)");
ok t_cmp(json_of($alice->get(site('/ms/all/echo')))->{REMOTE_USER} // '', '1001',
         "the user is the id_token's sub");
ok t_cmp($alice->get(site('/ms/one/echo'))->code, 200,
         "Require oauth-claim tid: the tenant's user is let in");

my $bob = browser();
$res = login($bob, 'entra', '/after', 'bob');
ok t_cmp($res->code, 302, "another tenant's user logs in too");
ok t_cmp((last_claims()->{iss} // ''), tenant_iss($T2), "(with that tenant's issuer)");
ok t_cmp(json_of($bob->get(site('/ms/all/echo')))->{REMOTE_USER} // '', '1002',
         'and is the sub of that id_token');
ok t_cmp($bob->get(site('/ms/one/echo'))->code, 401,
         'but not let in where another tenant is required');

# the app's issuer stays the template: a user without a tenant gets
# the provider's plain issuer and no tid, refused
provider_config();
my $s = log_size();
$res = login(browser(), 'entra', '/after', 'alice');
ok t_cmp($res->code . ' ' . (log_since($s, qr/OAC00021: app entra/) =~ /no tid/ ? 'logged' : 'not logged'),
         '502 logged', 'an id_token of no tenant: refused');

for my $fault (@faults) {
    my ($what, $config, $why) = @$fault;
    provider_config(tenants => \%tenants, %$config);
    my $b = browser();
    my $start = log_size();
    my $r = login($b, 'entra', '/after', 'alice');
    ok t_cmp($r->code, 502, "$what: the login is refused");
    ok t_cmp(log_since($start, qr/OAC00021: app entra/), $why, "$what: the log names the check");
    ok t_cmp($b->get(site('/ms/all/echo'))->code, 302, "$what: nothing was stored");
}

# --- refresh: the id_token it brings is checked as at login, same tenant ----
# (30 s tokens: every request refreshes first; the session keeps the
# id_token for the logout at the provider's end_session_endpoint)
provider_config(tenants => \%tenants, access_token_lifetime => 30,
                refresh_id_token => JSON::PP::true);
my $r = browser();
login($r, 'entra', '/after', 'alice');
my $n0 = provider_get('/_control/stats')->{refresh_requests};
$res = $r->get(site('/ms/one/echo'));
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // '') . ' '
         . (provider_get('/_control/stats')->{refresh_requests} - $n0), '200 1001 1',
         "a refresh's id_token of the user's tenant: accepted, the user stays");
provider_post('/_control/config', { id_token_override => { tid => $T2, iss => tenant_iss($T2) } });
$s = log_size();
$res = $r->get(site('/ms/all/echo'));
ok t_cmp($res->code . ' ' . (log_since($s, qr/OAC00134: app entra/) =~ /iss, aud or azp is not the login's/ ? 'logged' : 'not logged'),
         '302 logged', "a refresh's id_token of another tenant (well formed for it): the session ends");

# --- RFC 9207: an iss in the authorization response -------------------------
provider_config(tenants => \%tenants, callback_extra_params => [[ iss => tenant_iss($T1) ]]);
$res = login(browser(), 'entra', '/after', 'alice');
ok t_cmp($res->code, 302, "an authorization response naming a tenant's issuer: accepted");
provider_config(tenants => \%tenants, callback_extra_params => [[ iss => tenant_iss($T2) ]]);
$s = log_size();
$res = login(browser(), 'entra', '/after', 'alice');
ok t_cmp($res->code . ' ' . (log_since($s, qr/OAC00021: app entra/) =~ /iss \(RFC 9207\) '[^']*\/22222222-2222-4222-8222-222222222222\/v2\.0' names another tenant than the id_token's '[^']*\/11111111-1111-4111-8111-111111111111\/v2\.0'/ ? 'logged' : 'not logged'),
         '502 logged', "an authorization response naming another tenant than the id_token's: refused");
for my $iss ($base, tenant_iss('{tenantid}'), "https://evil.example/$T1/v2.0") {
    provider_config(tenants => \%tenants, callback_extra_params => [[ iss => $iss ]]);
    $res = login(browser(), 'entra', '/after', 'alice');
    ok t_cmp($res->code . ' ' . provider_get('/_control/stats')->{authorization_code_requests},
             '400 0', "an authorization response naming $iss: refused, its code never exchanged");
}

# --- a tenant named by its domain --------------------------------------------
# (the document, fetched once for the machine, names the tenant's ID)
provider_config(tenants => \%tenants, tenant_domains => { 'contoso.example' => $T1 });
my $d = browser();
$res = login($d, 'entradomain', '/after', 'alice');
ok t_cmp($res->code . ' ' . ($d->get(site('/ms/domain/echo'))->code), '302 200',
         "a tenant named by its domain: its users log in");
$s = log_size();
$res = login(browser(), 'entradomain', '/after', 'bob');
ok t_cmp($res->code . ' ' . (log_since($s, qr/OAC00021: app entradomain/) =~ /is not the issuer/ ? 'logged' : 'not logged'),
         '502 logged', "another tenant's user: refused there");

# --- without the fix ----------------------------------------------------------
provider_config(tenants => \%tenants);
$s = log_size();
$res = login_redirect(browser(), 'entranofix', '/after');
ok t_cmp($res->code, 502, 'without compliance_fix=microsoft the templated document is refused');
ok t_cmp(log_since($s, qr/OAC00112: app entranofix/),
         qr/names the issuer '\Q$base\E\/\{tenantid\}\/v2\.0'.*compliance_fix=microsoft accepts it/,
         'and the log names the fix');
ok t_cmp(provider_get('/_control/stats')->{authorize_requests}, 0,
         'and the browser was never sent to the provider');
