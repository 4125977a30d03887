# A token_type the module does not understand (anything but "Bearer", in
# any case, or none at all) fails the login: using such a token as a bearer
# token would hand it to backends and APIs under the wrong scheme.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser provider_config login);
use OAC::Hostile qw(logged_in);

my @refused = ('mac', 'MAC', 'N_A', 'DPoP', 'Bearerx', 'Bear', 'Bearer token');
my @accepted = ([ 'Bearer', { token_override => { token_type => 'Bearer' } } ],
                [ 'bearer', { token_override => { token_type => 'bearer' } } ],
                [ 'BEARER', { token_override => { token_type => 'BEARER' } } ],
                [ 'absent', { token_remove => [ 'token_type' ] } ]);

plan tests => 3 * @refused + 2 * @accepted;

for my $type (@refused) {
    provider_config(token_override => { token_type => $type });
    my $ua = browser();
    my $res = login($ua, 'local');
    ok t_cmp($res->code, 502, "token_type \"$type\": the callback answers 502");
    ok t_cmp($res->content_type, 'text/html', "token_type \"$type\": with an HTML error page");
    ok t_cmp(logged_in($ua), 'not logged in', "token_type \"$type\": nothing stored");
}

for my $case (@accepted) {
    my ($type, $config) = @$case;
    provider_config(%$config);
    my $ua = browser();
    ok t_cmp(login($ua, 'local')->code, 302, "token_type $type: login completes");
    ok t_cmp(logged_in($ua), 'logged in', "token_type $type: logged in");
}
provider_config();
