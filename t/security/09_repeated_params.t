# Repeated parameters in a callback (state, code, error, iss in OAuth 2,
# query or form_post body; oauth_token, oauth_verifier in OAuth 1): which
# copy counts is anybody's guess, so none does. 400, nothing stored, and
# the genuine login is not spent: its callback afterwards still succeeds.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use OAC::Flow qw(browser site provider_post provider_config login_redirect approve query_of
                 cookie_of);
use OAC::Hostile qw(logged_in);

plan tests => 3 * 12;

# Starts a login; returns the genuine callback URL the provider gave.
sub genuine_callback {
    my ($ua, $app) = @_;
    return approve(login_redirect($ua, $app)->header('Location'));
}

sub check {
    my ($what, $ua, $bad, $good, $path, $method) = @_;
    my $res = $method ? $method->($bad) : $ua->get($bad);
    ok t_cmp($res->code, 400, "$what: 400");
    ok t_cmp(ref $path ? $path->() : logged_in($ua, $path), 'not logged in', "$what: nothing stored");
    $res = $method ? $method->($good) : $ua->get($good);
    ok t_cmp($res->code, 302, "$what: the genuine callback afterwards still succeeds");
}

provider_config();

# --- OAuth 2, query ----------------------------------------------------------
for my $case ([ 'state repeated, same value', sub { "&state=$_[0]{state}" } ],
              [ 'state repeated, another value', sub { '&state=x' . $_[0]{state} } ],
              [ 'code repeated, same value', sub { "&code=$_[0]{code}" } ],
              [ 'code repeated, another value', sub { '&code=code-other' } ],
              [ 'iss repeated', sub { '&iss=https%3A%2F%2Fa.example&iss=https%3A%2F%2Fb.example' } ]) {
    my ($what, $extra) = @$case;
    my $ua = browser();
    my $good = genuine_callback($ua, 'local');
    check("OAuth 2 callback, $what", $ua, $good . $extra->(query_of($good)), $good);
}
{
    my $ua = browser();
    my $good = genuine_callback($ua, 'local');
    my $state = query_of($good)->{state};
    check('OAuth 2 callback, error repeated', $ua,
          site("/oauth/local/callback?error=access_denied&error=access_denied&state=$state"), $good);
}
# the provider itself repeats state in its redirect
{
    provider_config(callback_extra_params => [ [ 'state', '{state}' ] ]);
    my $ua = browser();
    my $bad = genuine_callback($ua, 'local');
    provider_post('/_control/config', { callback_extra_params => [] });
    (my $good = $bad) =~ s/&state=[^&]*$//;
    check('OAuth 2 callback, the provider repeats state', $ua, $bad, $good);
}

# --- OAuth 2, form_post --------------------------------------------------
sub form_post_fields {
    my $ua = shift;
    my $page = LWP::UserAgent->new(max_redirect => 0)
        ->get(login_redirect($ua, 'formpost')->header('Location') . '&auto_approve=alice');
    my @fields = $page->content =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
    return @fields;
}
for my $case ([ 'state repeated', 'state' ], [ 'code repeated', 'code' ]) {
    my ($what, $name) = @$case;
    my $ua = browser();
    my @good = form_post_fields($ua);
    my %f = @good;
    my $post = sub { $ua->post(site('/oauth/formpost/callback'), $_[0]) };
    # formpost protects no location: look for its token in the plain cookie
    my $stored = sub { cookie_of($ua) =~ /oauthclient\.formpost\.token=/ ? 'logged in' : 'not logged in' };
    check("form_post callback, $what", $ua, [ @good, $name => $f{$name} ], \@good, $stored, $post);
}

# --- OAuth 1 ---------------------------------------------------------------
for my $case ([ 'oauth_token repeated', sub { "&oauth_token=$_[0]{oauth_token}" } ],
              [ 'oauth_verifier repeated, another value', sub { '&oauth_verifier=other' } ]) {
    my ($what, $extra) = @$case;
    my $ua = browser();
    my $good = genuine_callback($ua, 'o1');
    check("OAuth 1 callback, $what", $ua, $good . $extra->(query_of($good)), $good, '/o1/echo');
}
{
    provider_config(callback_extra_params => [ [ 'oauth_verifier', '{oauth_verifier}' ] ]);
    my $ua = browser();
    my $bad = genuine_callback($ua, 'o1');
    provider_post('/_control/config', { callback_extra_params => [] });
    (my $good = $bad) =~ s/&oauth_verifier=[^&]*$//;
    check('OAuth 1 callback, the provider repeats oauth_verifier', $ua, $bad, $good, '/o1/echo');
}
