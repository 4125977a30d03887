#!/usr/bin/perl
# A backend that shows what it received: the X-OAuth-* headers (as CGI
# variables) and the OAUTH_* variables, as JSON.
use strict;
use warnings;
use JSON::PP ();

my %seen;
for my $k (sort keys %ENV) {
    $seen{$k} = $ENV{$k}
        if $k =~ /^(HTTP_X_OAUTH|OAUTH_|REMOTE_USER$|AUTH_TYPE$|HTTP_COOKIE$|HTTP_AUTHORIZATION$|REQUEST_URI$)/;
}
print "Content-Type: application/json\r\n\r\n";
print JSON::PP->new->canonical->encode(\%seen), "\n";
