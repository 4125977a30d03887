package OAC::TAPStream;
# A Test::Harness harness and formatter that print the whole Apache::Test
# run as one TAP stream, so that t/run-all counts it with the same parser
# as every other suite instead of scraping the harness's report:
#
#   1..44                                 one test per .t file
#   # Subtest: t/compliance/01_hooks.t
#       1..9                              the file's own TAP, indented
#       # testing : ...
#       ok 1
#       ...
#   ok 1 - t/compliance/01_hooks.t        or "not ok", with the reason
#
# The indented subtest form is the one node's TAP reporter uses too.
# Selected by t/run-all with HARNESS_SUBCLASS=OAC::TAPStream; a person
# running perl t/TEST.PL keeps the usual console report.
use strict;
use warnings;

use parent 'TAP::Harness';

sub new {
    my ($class, $args) = @_;
    # merge: a test's stderr joins its stdout, so that Test.pm's "# Failed
    # test 3 in t/x.t at line 42" stays inside its file's subtest, right
    # after the failure, instead of landing anywhere in the stream.
    return $class->SUPER::new({ %{ $args || {} }, merge => 1,
                                formatter_class => 'OAC::TAPStream::Formatter' });
}

package OAC::TAPStream::Formatter;
use strict;
use warnings;

use parent 'TAP::Formatter::Base';

sub prepare {
    my ($self, @tests) = @_;
    $self->SUPER::prepare(@tests);
    # The plan comes first: if the harness dies half-way (a bail out), the
    # files it never ran show up as missing against it.
    $self->{oac_n} = 0;
    $self->_output('1..' . scalar(@tests) . "\n");
}

sub open_test {
    my ($self, $test, $parser) = @_;
    $self->_output("# Subtest: $test\n");
    return OAC::TAPStream::Session->new(
        { name => $test, formatter => $self, parser => $parser });
}

# The harness's own totals, as a comment: a consumer of the stream needs
# nothing from them.
sub summary {
    my ($self, $aggregate) = @_;
    $self->_output(sprintf "# Files=%d, Tests=%d, Result: %s\n",
                   scalar($aggregate->descriptions), $aggregate->total,
                   $aggregate->get_status);
}

package OAC::TAPStream::Session;
use strict;
use warnings;

use parent 'TAP::Formatter::Session';

sub result {
    my ($self, $result) = @_;
    # Printed as it comes, not buffered per file: a run that hangs still
    # shows how far it got.
    $self->formatter->_output('    ' . $result->raw . "\n");
}

sub close_test {
    my $self = shift;
    my $parser = $self->parser;
    my $f = $self->formatter;
    my $n = ++$f->{oac_n};
    my $name = $self->name;

    if (defined(my $skip = $parser->skip_all)) {
        $f->_output("ok $n - $name # SKIP $skip\n");
    }
    elsif (!$parser->has_problems) {
        $f->_output("ok $n - $name\n");
    }
    else {
        # Why the harness failed the file, which its tests alone may not
        # show (a wrong plan, a non-zero exit, a parse error).
        my @why;
        push @why, 'failed tests: ' . join(' ', $parser->failed)
            if $parser->failed;
        push @why, 'exit status ' . $parser->exit if $parser->exit;
        push @why, 'wait status ' . $parser->wait if $parser->wait;
        push @why, $parser->parse_errors;
        $f->_output("not ok $n - $name\n");
        $f->_output("# $_\n") for @why;
    }
    $self->parser(undef);   # the harness keeps sessions: no cycle
}

1;
