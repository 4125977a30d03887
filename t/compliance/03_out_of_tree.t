# The example fix module builds out of the tree with apxs alone, against
# nothing but the public header as 'make install' installs it, as a third
# party would build theirs.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Copy qw(copy);
use File::Temp ();
use OAC::Env ();

plan tests => 4;

my $dir = File::Temp->newdir('oac-fix-XXXXXX', TMPDIR => 1);
my $apxs = $ENV{APXS} || '/usr/bin/apxs';
# apxs' include directory, or the one configure was told to install into
# instead (make distcheck installs under its own prefix); make check says
# which.
my $includedir = $ENV{OAC_INSTALL_INCLUDEDIR} || `$apxs -q INCLUDEDIR`;
chomp $includedir;

my $build = OAC::Env::build_dir();
my $out = `make -s -C $build install DESTDIR=$dir/stage 2>&1`;
ok t_cmp(-f "$dir/stage$includedir/mod_oauthclient.h" ? 'installed' : $out, 'installed',
         'make install puts the header into apxs\' include directory');

copy(OAC::Env::src_dir() . "/examples/mod_oauthclient_fix_example.c", "$dir/") or die $!;
$out = `cd $dir && $apxs -c -I$dir/stage$includedir mod_oauthclient_fix_example.c 2>&1`;
ok t_cmp($?, 0, 'apxs -c with only the public header succeeds');
ok t_cmp(-f "$dir/.libs/mod_oauthclient_fix_example.so" ? 'built' : $out, 'built', 'the module is built');
ok t_cmp($out =~ /warning:/ ? $out : 'no warnings', 'no warnings', 'without warnings');
