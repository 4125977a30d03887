# Callback error text: only the provider this browser was sent to may put
# its words on this site's page. A forged callback
#   /oauth/local/callback?error=access_denied&error_description=<text>
# without the state of this browser's login in flight (no login started, a
# wrong state, no state, another app's state) is a 400 that does not show
# the text. With the valid state: access_denied is a 403, other errors 400;
# the description is shown escaped, cut to at most 200 bytes (never inside
# a UTF-8 character), control characters replaced.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use URI::Escape qw(uri_escape);
use OAC::Flow qw(browser site provider_config login_redirect approve query_of);

plan tests => 3 * 4 + 2 + 3 + 2 + 5 + 2 + 4 + 3 + 3;

my $marker = 'ATTACKER-TEXT-7f3a';

sub callback {
    my ($ua, $app, %p) = @_;
    my $q = join '&', map { $_ . '=' . uri_escape($p{$_}) } sort keys %p;
    return $ua->get(site("/oauth/$app/callback?$q"));
}

# A login in flight: [ the provider's authorize URL, its state ].
sub start {
    my ($ua, $app) = @_;
    my $url = login_redirect($ua, $app || 'local')->header('Location');
    return ($url, query_of($url)->{state});
}

sub shown { my ($res, $text) = @_; index($res->content, $text) >= 0 ? 'shown' : 'not shown' }

provider_config();

# --- without a valid state ---------------------------------------------------
my $ua = browser();
my ($authorize, $state) = ('', '');
my @forged = (
    [ 'no login started', sub { callback(browser(), 'local', error => 'access_denied',
                                         error_description => $marker, state => 'x' x 43) } ],
    [ 'a wrong state, a login in flight', sub {
        ($authorize, $state) = start($ua);
        callback($ua, 'local', error => 'access_denied', error_description => $marker,
                 state => scalar reverse $state) } ],
    [ 'no state, a login in flight', sub {
        callback($ua, 'local', error => 'access_denied', error_description => $marker) } ],
    [ "another app's state (formpost's, at local's callback)", sub {
        my (undef, $fp) = start($ua, 'formpost');
        callback($ua, 'local', error => 'access_denied', error_description => $marker, state => $fp) } ],
);
for my $case (@forged) {
    my ($what, $call) = @$case;
    my $res = $call->();
    ok t_cmp($res->code, 400, "forged callback, $what: 400");
    ok t_cmp(shown($res, $marker), 'not shown', "forged callback, $what: the attacker's text is not shown");
    ok t_cmp(shown($res, 'access_denied'), 'not shown', "forged callback, $what: nor its error code");
}
# The forged callbacks spent nothing: the genuine login still completes.
my $res = $ua->get(approve($authorize));
ok t_cmp($res->code, 302, 'after the forged callbacks, the genuine callback completes the login');
ok t_cmp($res->header('Location') // '', site('/'), '... and redirects home');

# --- with the valid state ----------------------------------------------------
sub error_callback {
    my (%p) = @_;
    my $ua = browser();
    my (undef, $state) = start($ua);
    return (callback($ua, 'local', state => $state, %p), $ua, $state);
}

# access_denied: 403, the description shown
($res, my $b, my $st) = error_callback(error => 'access_denied', error_description => "$marker: the user said no");
ok t_cmp($res->code, 403, 'access_denied with the valid state: 403');
ok t_cmp(shown($res, "$marker: the user said no"), 'shown', 'access_denied with the valid state: the description is shown');
ok t_cmp($res->header('Content-Type') // '', qr{^text/html}, 'access_denied: an HTML page');

my $replay = callback($b, 'local', state => $st, error => 'access_denied', error_description => $marker);
ok t_cmp($replay->code, 400, 'the same error callback replayed: 400 (the state was spent)');
ok t_cmp(shown($replay, $marker), 'not shown', 'the replay does not show the text');

# long: cut to at most 200 bytes
($res) = error_callback(error => 'access_denied', error_description => $marker . ('A' x 500) . 'TAIL');
my ($cut) = $res->content =~ /(\Q$marker\EA*)/;
ok t_cmp($res->code, 403, 'a 525-byte description: 403');
ok t_cmp(defined $cut ? 'shown' : 'not shown', 'shown', 'a 525-byte description: its start is shown');
ok t_cmp(length($cut // ''), qr/^(?:[1-9]\d?|1\d\d|200)$/, 'a 525-byte description: at most 200 bytes of it');
ok t_cmp(shown($res, 'TAIL'), 'not shown', 'a 525-byte description: its end is cut off');
ok t_cmp(length($cut // '') >= 100 ? 'kept' : 'lost', 'kept', 'a 525-byte description: a useful part is kept');

# the cut does not split a UTF-8 character
($res) = error_callback(error => 'access_denied', error_description => ('B' x 199) . "\xc3\xa9\xc3\xa9");
my ($b_run, $after) = $res->content =~ /(B{199,})(.?)/s;
ok t_cmp(length($b_run // ''), 199, 'a 2-byte character across byte 200: the text before it is kept');
ok t_cmp(sprintf('%vX', $after // ''), qr/^(?!C3$)/,
         'a 2-byte character across byte 200: no lone lead byte (cut before the character)');

# control characters replaced
my $ctl = "BEGIN\r\nX-Injected: 1\r\n\r\n<p>\x1b[2J\x1b]0;title\x07\tDEL\x7f\x08END";
($res) = error_callback(error => 'access_denied', error_description => $ctl);
my ($between) = $res->content =~ /BEGIN(.*?)END/s;
ok t_cmp($res->code, 403, 'a description with CR LF, ESC, BEL, TAB, DEL, BS: 403');
ok t_cmp(defined $between ? 'shown' : 'not shown', 'shown', 'control characters: the text around them is shown');
ok t_cmp(join(' ', map { sprintf '%02X', ord } ($between // '') =~ /([\x00-\x1f\x7f])/g), '',
         'control characters: none of them is on the page');
ok t_cmp($res->content =~ /[\r\x1b\x07\x08\x7f]/ ? 'raw control byte' : 'none', 'none',
         'control characters: no raw CR, ESC, BEL, BS or DEL anywhere on the page');

# markup is escaped
($res) = error_callback(error => 'access_denied',
                        error_description => '<script>alert(1)</script><a href="//evil.example">x</a>');
ok t_cmp(shown($res, '<script>alert'), 'not shown', 'a description with markup: no <script> on the page');
ok t_cmp(shown($res, 'href="//evil.example"'), 'not shown', 'a description with markup: no link of the attacker');
ok t_cmp(shown($res, '&lt;script&gt;alert(1)'), 'shown', 'a description with markup: shown escaped');

# other errors: 400
($res) = error_callback(error => 'server_error', error_description => "$marker: try later");
ok t_cmp($res->code, 400, 'error=server_error with the valid state: 400');
ok t_cmp(shown($res, "$marker: try later"), 'shown', 'error=server_error: the description is shown');
($res) = error_callback(error => "temporarily_unavailable\r\nX-Injected: 1");
ok t_cmp($res->code . ' ' . ($res->content =~ /[\r\x1b]/ ? 'raw CR' : 'clean'), '400 clean',
         'an error code with CR LF: 400, no raw CR on the page');
