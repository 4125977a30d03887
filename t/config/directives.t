# The documentation cannot drift from the code: every directive in the
# module's command table is in conf/oauthclient.conf (what a2enmod
# installs) and in the README's directive reference, and neither names a
# directive the module does not have.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Env ();

my $top = OAC::Env::src_dir();
sub slurp {
    my $file = shift;
    open my $fh, '<', "$top/$file" or die "$top/$file: $!";
    local $/;
    return <$fh>;
}

my $code = slurp('mod_oauthclient.c');
# The module's own directives; it also reads mod_session_cookie's three
# (SessionCookie*), which httpd's manual documents.
my @table = grep { /^OAuth/ } $code =~ /AP_INIT_[A-Z0-9_]+\("(\w+)"/g;
my $conf = slurp('conf/oauthclient.conf');
my $readme = slurp('README.md');
my %in_table = map { $_ => 1 } @table;
my @conf_names = $conf =~ /^\s*#?\s*(OAuth[A-Za-z]+)\b/mg;
my @readme_names = $readme =~ /`(OAuth[A-Za-z]+)\b/g;

plan tests => 3 + 2 * @table;

ok t_cmp(scalar(@table) >= 9 ? 'table read' : "only @table", 'table read',
         'the command table of mod_oauthclient.c is read');
for my $d (@table) {
    ok t_cmp(scalar(grep { $_ eq $d } @conf_names) ? 'documented' : 'missing',
             'documented', "$d is in conf/oauthclient.conf");
    ok t_cmp($readme =~ /^###? `\Q$d\E\b|^\| `\Q$d\E\b/m ? 'documented' : 'missing',
             'documented', "$d has a row or a heading in the README's directive reference");
}
my @unknown_conf = grep { !$in_table{$_} } @conf_names;
ok t_cmp("@unknown_conf", '', 'conf/oauthclient.conf names no directive the module lacks');
my %seen;
my @unknown_readme = grep { !$in_table{$_} && !$seen{$_}++ } @readme_names;
ok t_cmp("@unknown_readme", '', 'the README names no directive the module lacks');
