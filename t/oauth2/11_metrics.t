# SetHandler oauthclient-status answers ?metrics in Prometheus text format
# (contract section 12): counters per virtual host and app, and histograms
# of token-endpoint calls and refreshes. Read with the Prometheus client's
# own parser (python3-prometheus-client), not by pattern.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use JSON::PP ();
use OAC::Flow qw(browser site provider_config provider_post login);

plan tests => 11;

provider_config(access_token_lifetime => 30);
my $ua = browser();
login($ua, 'local');
provider_post('/_control/config', { access_token_lifetime => 3600 });
$ua->get(site('/api/local/me'));     # refreshes first (30 s < 60 s margin)

my $res = browser()->get(site('/oauthclient-status?metrics'));
ok t_cmp($res->code, 200, '?metrics answers');
ok t_cmp($res->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, 'as Prometheus text 0.0.4');

my $tmp = File::Temp->new;
print $tmp $res->content;
close $tmp;
my $parsed = `/usr/bin/python3 - $tmp <<'PY' 2>&1
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    out[fam.name] = {"type": fam.type,
                     "samples": [[s.name, s.labels, s.value] for s in fam.samples]}
print(json.dumps(out))
PY`;
my $families = eval { JSON::PP::decode_json($parsed) };
ok t_cmp($families ? 'parsed' : "not parsed: $parsed", 'parsed', "the Prometheus client's parser reads it");
$families ||= {};

my $hp = Apache::TestRequest::hostport();
my ($port) = $hp =~ /:(\d+)$/;
sub sample {
    my ($family, $name, %want) = @_;
    for my $s (@{ $families->{$family}{samples} || [] }) {
        next unless $s->[0] eq $name;
        next if grep { ($s->[1]{$_} // '') ne $want{$_} } keys %want;
        return $s->[2];
    }
    return undef;
}
my %local = (app => 'local', vhost => "localhost:$port");

ok t_cmp($families->{oauthclient_logins_completed}{type}, 'counter', 'logins_completed is a counter');
ok t_cmp(sample('oauthclient_logins_completed', 'oauthclient_logins_completed_total', %local) // 0,
         qr/^[1-9]/, 'with the login counted for this virtual host and app');
ok t_cmp(sample('oauthclient_refreshes', 'oauthclient_refreshes_total', %local) // 0,
         qr/^[1-9]/, 'and the refresh');

my $h = 'oauthclient_token_endpoint_duration_seconds';
ok t_cmp($families->{$h}{type}, 'histogram', 'token-endpoint calls: a histogram');
my $count = sample($h, "${h}_count", %local) // 0;
ok t_cmp($count >= 2 ? 'counted' : $count, 'counted', 'with the code exchange and the refresh in it');
my @buckets = map { $_->[2] }
    sort { ($a->[1]{le} eq '+Inf' ? 1e9 : $a->[1]{le}) <=> ($b->[1]{le} eq '+Inf' ? 1e9 : $b->[1]{le}) }
    grep { $_->[0] eq "${h}_bucket" && $_->[1]{app} eq 'local' && $_->[1]{vhost} eq "localhost:$port" }
    @{ $families->{$h}{samples} || [] };
my $monotonic = !grep { $buckets[$_] < $buckets[$_ - 1] } 1 .. $#buckets;
ok t_cmp(@buckets > 2 && $monotonic && $buckets[-1] == $count ? 'cumulative' : "@buckets / $count",
         'cumulative', 'buckets cumulative, +Inf equal to the count');
ok t_cmp(sample('oauthclient_refresh_duration_seconds', 'oauthclient_refresh_duration_seconds_count', %local) // 0,
         qr/^[1-9]/, 'refreshes as requests waited for them: a histogram too');
ok t_cmp(defined sample('oauthclient_logins_started', 'oauthclient_logins_started_total', app => 'gitlab')
         ? 'present' : 'missing', 'present', "one scrape shows every virtual host's apps");
