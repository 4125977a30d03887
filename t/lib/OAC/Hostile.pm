package OAC::Hostile;
# What the security tests (t/security/) share: the recording backend
# (t/provider/backend.py), whether a browser is logged in, the poisoned
# values a hostile provider sends.
use strict;
use warnings FATAL => 'all';

use JSON::PP ();
use LWP::UserAgent ();
use OAC::Flow qw(site);

use Exporter 'import';
our @EXPORT_OK = qw(backend_reset backend_requests smuggled_requests admin_headers
                    logged_in header_of SMUGGLE);

# A value that, copied into a request header, ends the request and starts
# a second one at the backend, as user admin.
use constant SMUGGLE => "mallory\r\nContent-Length: 0\r\n\r\nGET /admin HTTP/1.1\r\n"
                      . "Host: x\r\nX-OAuth-User: admin\r\n\r\n";

sub backend_reset {
    my $res = LWP::UserAgent->new->post("$ENV{OAC_BACKEND}/_control/reset");
    die "backend reset: " . $res->status_line unless $res->is_success;
}

# Every request the backend received since the last reset, as it arrived.
sub backend_requests {
    my $res = LWP::UserAgent->new->get("$ENV{OAC_BACKEND}/_control/requests");
    die "backend requests: " . $res->status_line unless $res->is_success;
    return JSON::PP::decode_json($res->content)->{requests};
}

# The recorded requests that are not what httpd was asked to forward: a
# target outside PREFIX, or something that is no request at all.
sub smuggled_requests {
    my $prefix = shift;
    return scalar grep { $_->{malformed} || index($_->{target}, $prefix) != 0 }
                  @{ backend_requests() };
}

# How many recorded requests carry the header NAME (any case) equal to VALUE.
sub admin_headers {
    my ($name, $value) = @_;
    $name ||= 'X-OAuth-User';
    $value = 'admin' unless defined $value;
    my $n = 0;
    for my $req (@{ backend_requests() }) {
        $n += grep { lc $_->[0] eq lc $name && $_->[1] eq $value } @{ $req->{headers} };
    }
    return $n;
}

# The value of header NAME (any case) in one recorded request.
sub header_of {
    my ($req, $name) = @_;
    my ($h) = grep { lc $_->[0] eq lc $name } @{ $req->{headers} || [] };
    return $h ? $h->[1] : undef;
}

# As an API client would ask (no redirect to log in): is there a token?
sub logged_in {
    my ($ua, $path) = @_;
    my $res = $ua->get(site($path || '/protected/echo'), Accept => 'application/json');
    return $res->code == 200 ? 'logged in' : 'not logged in';
}

1;
