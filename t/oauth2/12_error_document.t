# The module's error pages honour httpd's ErrorDocument (issue #18, item
# 5): where one is set for the status, the site's page is served, with the
# reason in REDIRECT_ERROR_NOTES (escaped); elsewhere the module's own page.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_post approve);

plan tests => 6;

sub failed_login {
    my $path = shift;
    my $ua = browser();
    my $res = $ua->get(site($path));
    die "login: " . $res->status_line unless $res->code == 302;
    my $callback = approve($res->header('Location'));
    provider_post('/_control/config', { token_endpoint_mode => 'error500' });
    $res = $ua->get($callback);
    provider_post('/_control/config', { token_endpoint_mode => 'normal' });
    return $res;
}

provider_config();
my $res = failed_login('/branded/login');
ok t_cmp($res->code, 502, 'a login whose token endpoint fails: 502');
ok t_cmp($res->content, qr/Example Corp/, "with the site's ErrorDocument");
ok t_cmp($res->content, qr/Signing in did not work: .*token endpoint/s,
         'which can show the reason (REDIRECT_ERROR_NOTES)');
ok t_cmp($res->header('Cache-Control') // '', qr/no-store/, 'not cached');

$res = failed_login('/oauth/local/login');
ok t_cmp($res->code, 502, 'the same failure where no ErrorDocument is set');
ok t_cmp($res->content =~ /Example Corp/ ? 'branded' : 'own page', 'own page', "gets the module's own page");
