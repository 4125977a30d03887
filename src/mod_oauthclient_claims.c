/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Claims about the user: what a login keeps of them, 'Require oauth-claim'
 * and OAuthForwardClaims. A session keeps only the claims the
 * configuration names somewhere (a cookie session has 4,096 bytes for
 * everything, contract section 10), so the names are gathered while httpd
 * reads its configuration, before the children that log users in exist.
 */
#include "mod_oauthclient_claims.h"
#include "mod_oauthclient_session.h"

#include "http_request.h"
#include "mod_auth.h"

#include <apr_hash.h>
#include <apr_strings.h>

#include <openssl/evp.h>
#include <stdlib.h>

#include "oac_claims.h"
#include "oac_jose.h"
#include "oac_token.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

#define CLAIMS_KEY "oac-claims"

/* What the configuration asks to keep: top-level claim names, every claim
 * (OAuthForwardClaims On), the id_token (OAuthForwardTokens On). */
static apr_array_header_t *wanted;
static apr_hash_t *wanted_set;
static int want_all;
static int want_id_token;
/* What a session's claims were kept for: a hash of the names above (made
 * once per process, after the configuration is read). A session whose
 * claims were kept for another configuration lacks claims a rule now
 * names, which a 'Require not' would read as "not there". */
static const char *fingerprint;

void oac_claims_pre_config(apr_pool_t *pconf)
{
    wanted = apr_array_make(pconf, 8, sizeof(const char *));
    wanted_set = apr_hash_make(pconf);
    want_all = 0;
    want_id_token = 0;
    fingerprint = NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *kept_for(void)
{
    if (!fingerprint) {
        apr_pool_t *p = wanted->pool;
        apr_array_header_t *names = apr_array_copy(p, wanted);
        unsigned char md[32];
        unsigned int len = 0;
        const char *all;

        qsort(names->elts, names->nelts, sizeof(const char *), by_name);
        all = apr_pstrcat(p, want_all ? "all\n" : "named\n",
                          apr_array_pstrcat(p, names, '\n'), NULL);
        EVP_Digest(all, strlen(all), md, &len, EVP_sha256(), NULL);
        /* 9 bytes tell configurations apart well enough in 12 characters */
        fingerprint = oac_util_b64url_encode(p, md, 9);
    }
    return fingerprint;
}

void oac_claims_post_config(void)
{
    /* Made here, in the parent, once the configuration is read: the
     * children only read it (pconf is not theirs to allocate from). */
    kept_for();
}

int oac_claims_current(request_rec *r, session_rec *z, const oac_app_t *app)
{
    const char *kept;

    if (!want_all && !wanted->nelts) {
        return 1;
    }
    kept = oac_session_get(r, z, app, "claims_set");
    return kept && !strncmp(kept, kept_for(), strlen(kept_for()));
}

static void want_top(cmd_parms *cmd, const char *top);

/* Every top-level name the claim name may be read from (as
 * oac_claims_lookup reads it): "a.b.c" is the member "a", "a.b" or
 * "a.b.c" (Auth0's namespaced claims, "https://example.com/roles", are
 * top-level names with dots). Keeping the first alone, a rule on such a
 * claim found it absent, and a 'Require not' let its holder in. */
static void want(cmd_parms *cmd, const char *name)
{
    const apr_array_header_t *tops;
    int i;

    if (!oac_reading_main_config()) {
        want_top(cmd, oac_claims_top(cmd->pool, name));  /* says so */
        return;
    }
    tops = oac_claims_tops(cmd->pool, name);
    for (i = 0; i < tops->nelts; ++i) {
        want_top(cmd, APR_ARRAY_IDX(tops, i, const char *));
    }
}

static void want_top(cmd_parms *cmd, const char *top)
{
    if (apr_hash_get(wanted_set, top, APR_HASH_KEY_STRING)) {
        return;
    }
    if (!oac_reading_main_config()) {
        /* An .htaccess file is read by a child, long after the logins
         * that filled the sessions: what it names was not kept. */
        if (!want_all) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                         OAC_LOGNO(00116) "%s:%d: the claim '%s' is not "
                         "named in the main configuration, so sessions do "
                         "not keep it: name it there too (a Require "
                         "oauth-claim or OAuthForwardClaims line)",
                         cmd->directive->filename, cmd->directive->line_num,
                         top);
        }
        return;
    }
    top = apr_pstrdup(wanted->pool, top);
    APR_ARRAY_PUSH(wanted, const char *) = top;
    apr_hash_set(wanted_set, top, APR_HASH_KEY_STRING, top);
}

const char *oac_cmd_forward_claims(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    oac_dir_conf *dc = dconf;
    int onoff = !strcasecmp(arg, "On") ? 1 : !strcasecmp(arg, "Off") ? 0 : -1;

    if (onoff >= 0) {
        if (dc->forward_claims == 2) {
            return "OAuthForwardClaims takes On, Off, or claim names, not "
                   "both";
        }
        dc->forward_claims = onoff;
        if (onoff && oac_reading_main_config()) {
            want_all = 1;
        }
        else if (onoff && !want_all) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                         OAC_LOGNO(00116) "%s:%d: OAuthForwardClaims On is "
                         "not in the main configuration, so sessions keep "
                         "only the claims named there: put one there too",
                         cmd->directive->filename, cmd->directive->line_num);
        }
        return NULL;
    }
    if (dc->forward_claims == 0 || dc->forward_claims == 1) {
        return "OAuthForwardClaims takes On, Off, or claim names, not both";
    }
    if (!*arg || strchr(arg, ':')) {
        return apr_psprintf(cmd->pool, "OAuthForwardClaims: '%s' is not a "
                            "claim name", arg);
    }
    if (dc->forward_claims != 2) {
        dc->forward_claims = 2;
        dc->forward_claim_names = apr_array_make(cmd->pool, 4,
                                                 sizeof(const char *));
    }
    APR_ARRAY_PUSH(dc->forward_claim_names, const char *) = arg;
    want(cmd, arg);
    return NULL;
}

const char *oac_cmd_forward_tokens(cmd_parms *cmd, void *dconf, int on)
{
    oac_dir_conf *dc = dconf;
    dc->forward_tokens = on;
    if (on && oac_reading_main_config()) {
        want_id_token = 1;
    }
    else if (on && !want_id_token) {
        /* as for claims: an .htaccess is read long after the logins */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     OAC_LOGNO(00116) "%s:%d: OAuthForwardTokens On is not "
                     "in the main configuration, so sessions do not keep "
                     "the id_token (X-OAuth-Id-Token stays empty): put one "
                     "there too", cmd->directive->filename,
                     cmd->directive->line_num);
    }
    return NULL;
}

/* Marks after the fingerprint in claims_set: none were kept, for being
 * too big; only the named ones were (OAuthForwardClaims On asked for
 * all). Older versions compare the fingerprint alone. */
#define KEPT_NONE 'x'
#define KEPT_NAMED 's'

/* The mark after the fingerprint, or '\0'. Read at the fingerprint's
 * length, not as the last character: the fingerprint's own last
 * character is any of base64url's 64, 'x' among them. */
static char kept_mark(const char *set)
{
    apr_size_t n = strlen(kept_for());

    return set && strlen(set) > n ? set[n] : '\0';
}

/* Of userinfo_names, those of claims the session kept (kept, their
 * JSON text), as JSON text; "[]" for none. */
static const char *kept_names(apr_pool_t *p, const json_t *userinfo_names,
                              const char *kept)
{
    const json_t *in = oac_claims_parse(p, kept);
    json_t *out = json_array(), *v;
    apr_size_t i;
    char *text;
    const char *copy;

    if (!out) {
        return NULL;
    }
    json_array_foreach((json_t *)userinfo_names, i, v) {
        if (in && json_is_string(v) && json_object_get(in, json_string_value(v))
            && json_array_append(out, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    copy = text ? apr_pstrdup(p, text) : NULL;
    free(text);
    return copy;
}

/* Keeps what the configuration names of claims in the session; with
 * named_only, only the claims rules and OAuthForwardClaims name, as for
 * a session whose login could keep no more. userinfo_names (NULL when not
 * known) says which claims userinfo gave, for the refreshes to leave. */
static void keep(request_rec *r, session_rec *z, const oac_app_t *app,
                 const json_t *claims, int named_only,
                 const json_t *userinfo_names)
{
    const char *kept = NULL;
    char mark[2] = "";
    int shrunk = 0;

    if (claims && (want_all || wanted->nelts)) {
        kept = oac_claims_select(r->pool, claims, wanted,
                                 want_all && !named_only, OAC_CLAIMS_MAX,
                                 &shrunk);
        if (shrunk) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00115)
                          "app %s: the user's claims are over %d bytes: "
                          "%s", app->name, OAC_CLAIMS_MAX,
                          shrunk == 1 ? "only those a Require oauth-claim "
                          "line or OAuthForwardClaims names are kept"
                          : "none are kept, and rules on them will deny");
        }
    }
    if (shrunk == 2) {
        mark[0] = KEPT_NONE;
    }
    else if (want_all && (shrunk == 1 || named_only)) {
        mark[0] = KEPT_NAMED;
    }
    oac_session_set(r, z, app, "claims", kept);
    oac_session_set(r, z, app, "claims_set",
                    want_all || wanted->nelts
                        ? apr_pstrcat(r->pool, kept_for(), mark, NULL)
                        : NULL);
    oac_session_set(r, z, app, "claims_ui",
                    userinfo_names && kept
                        ? kept_names(r->pool, userinfo_names, kept) : NULL);
}

void oac_claims_store(request_rec *r, session_rec *z, const oac_app_t *app,
                      const json_t *claims, const char *id_token)
{
    const json_t *id_claims;
    const char *why;

    /* Which claims userinfo gave is known only now, with both at hand. */
    id_claims = app->oidc && id_token && claims
        ? oac_jose_claims_unverified(&why, r->pool, id_token) : NULL;
    keep(r, z, app, claims, 0,
         id_claims ? oac_claims_userinfo_names(r->pool, claims, id_claims)
                   : NULL);
    /* The id_token is the largest thing a login brings: kept only for the
     * logout at the provider (id_token_hint) or for forwarding. */
    if (!app->oidc || !(app->end_session_endpoint || want_id_token)
        || !id_token || !oac_util_is_vschar(id_token)) {
        id_token = NULL;
    }
    oac_session_set(r, z, app, "id_token", id_token);
}

/* The session's claims for the app, parsed once per request. */
static const json_t *session_claims(request_rec *r, const oac_app_t *app)
{
    apr_hash_t *parsed = NULL;
    const json_t *claims;
    session_rec *z;

    apr_pool_userdata_get((void **)&parsed, CLAIMS_KEY, r->pool);
    if (!parsed) {
        parsed = apr_hash_make(r->pool);
        apr_pool_userdata_setn(parsed, CLAIMS_KEY, NULL, r->pool);
    }
    if ((claims = apr_hash_get(parsed, app->name, APR_HASH_KEY_STRING))) {
        return claims;
    }
    if (oac_session_open(r, &z) != OK) {
        return NULL;
    }
    claims = oac_claims_parse(r->pool, oac_session_get(r, z, app, "claims"));
    if (claims) {
        apr_hash_set(parsed, app->name, APR_HASH_KEY_STRING, claims);
    }
    return claims;
}

void oac_claims_renew(request_rec *r, session_rec *z, const oac_app_t *app,
                      const char *previous, const char *id_token)
{
    const json_t *before, *after, *kept, *ui, *renewed = NULL;
    apr_hash_t *parsed = NULL;
    const char *why = "out of memory";
    char mark = kept_mark(oac_session_get(r, z, app, "claims_set"));

    if (!want_all && !wanted->nelts) {
        return;
    }
    if (mark == KEPT_NONE) {
        /* What userinfo gave is gone with the login: renewed from the
         * id_token alone, the claims would be a guess that rules would
         * then judge (OAC00128 answers them instead). */
        return;
    }
    kept = oac_claims_parse(r->pool, oac_session_get(r, z, app, "claims"));
    ui = oac_claims_parse_names(r->pool,
                                oac_session_get(r, z, app, "claims_ui"));
    if (!ui) {
        /* A login by an older version: what differs from the id_token
         * the claims were last made with is userinfo's. Both id_tokens
         * were checked when stored: the login's at its callback, a
         * refreshed one by the request that refreshed. */
        before = oac_jose_claims_unverified(&why, r->pool, previous);
        ui = before ? oac_claims_userinfo_names(r->pool, kept, before) : NULL;
    }
    after = ui ? oac_jose_claims_unverified(&why, r->pool, id_token) : NULL;
    if (after) {
        renewed = oac_claims_renewed(r->pool, kept, ui, after);
    }
    if (!renewed) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00139)
                      "app %s: the user's claims stay as they were: the "
                      "id_tokens cannot be read: %s", app->name, why);
        return;
    }
    keep(r, z, app, renewed, mark == KEPT_NAMED, ui);
    /* This request's rules read the renewed claims, not the ones parsed
     * before the refresh. */
    apr_pool_userdata_get((void **)&parsed, CLAIMS_KEY, r->pool);
    if (parsed) {
        apr_hash_set(parsed, app->name, APR_HASH_KEY_STRING, NULL);
    }
}

static void forward_one(request_rec *r, const oac_app_t *app,
                        const char *name, const json_t *v, apr_table_t *used)
{
    const char *why = NULL;
    const char *text = oac_claims_text(r->pool, v, &why);
    const char *header = apr_pstrcat(r->pool, "X-OAuth-Claim-",
                                     oac_claims_header_name(r->pool, name),
                                     NULL);
    const char *env = apr_pstrcat(r->pool, "OAUTH_CLAIM_",
                                  oac_claims_env_name(r->pool, name), NULL);

    /* "GROUPS" and "groups", "a_b" and "a.b" would arrive under one
     * name: the first (in the claims' sorted order) is the one passed,
     * never a mix, and the other is said in the log. */
    if (apr_table_get(used, header) || apr_table_get(used, env)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00117)
                      "app %s: the claim '%s' would be forwarded under the "
                      "name of another: not forwarded", app->name,
                      oac_util_sanitize(r->pool, name, 64));
        return;
    }
    apr_table_setn(used, header, "");
    apr_table_setn(used, env, "");

    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00117)
                      "app %s: the claim '%s' holds %s: not forwarded",
                      app->name, oac_util_sanitize(r->pool, name, 64),
                      why ? why : "control characters");
        return;
    }
    apr_table_set(r->headers_in, header, text);
    apr_table_set(r->subprocess_env, env, text);
}

void oac_claims_forward(request_rec *r, const oac_dir_conf *dc,
                        const oac_request_t *rs)
{
    const json_t *claims = session_claims(r, rs->app);
    apr_table_t *used = apr_table_make(r->pool, 8);
    const char *key;
    json_t *v;
    int i;

    if (!claims) {
        return;
    }
    if (dc->forward_claims == 1) {
        json_object_foreach((json_t *)claims, key, v) {
            forward_one(r, rs->app, key, v, used);
        }
        return;
    }
    for (i = 0; dc->forward_claim_names
                && i < dc->forward_claim_names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(dc->forward_claim_names, i,
                                         const char *);
        if ((v = (json_t *)oac_claims_lookup(claims, name))) {
            forward_one(r, rs->app, name, v, used);
        }
    }
}

void oac_claims_forward_id_token(request_rec *r, const oac_request_t *rs)
{
    session_rec *z;
    const char *id_token;

    if (!rs->app->oidc || oac_session_open(r, &z) != OK
        || !(id_token = oac_session_get(r, z, rs->app, "id_token"))
        || !oac_util_is_vschar(id_token)) {
        return;
    }
    apr_table_set(r->subprocess_env, "OAUTH_ID_TOKEN", id_token);
    /* The header as long as a token may be (so that it fits a backend's
     * default LimitRequestFieldSize, 8,190): a longer one would have the
     * backend answer 400 to every request of the user. Only the header
     * is left out; said once a minute per process. */
    if (strlen(id_token) > OAC_TOKEN_VALUE_MAX) {
        static volatile apr_uint32_t said_at;
        if (oac_util_say_due(&said_at, oac_now(), 60)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00133)
                          "app %s: the id_token (%" APR_SIZE_T_FMT " bytes) "
                          "is not forwarded as X-OAuth-Id-Token: longer "
                          "than %d bytes, the header would make a backend "
                          "with the default LimitRequestFieldSize answer "
                          "400 (OAUTH_ID_TOKEN has it, for a CGI or "
                          "module)", rs->app->name, strlen(id_token),
                          OAC_TOKEN_VALUE_MAX);
        }
        return;
    }
    apr_table_set(r->headers_in, "X-OAuth-Id-Token", id_token);
}

/* ------------------------------------------------------------------------
 * Require oauth-claim NAME:VALUE ...
 */

static const char *parse_rule(cmd_parms *cmd, const char *require_line,
                              const void **parsed)
{
    apr_array_header_t *rules;
    const char *why;
    int i;

    if (oac_claims_parse_rules(&rules, &why, cmd->pool, require_line)
        != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "Require oauth-claim: ", why, NULL);
    }
    for (i = 0; i < rules->nelts; ++i) {
        want(cmd, APR_ARRAY_IDX(rules, i, oac_claim_rule_t).name);
    }
    *parsed = rules;
    return NULL;
}

/* The first top-level name the claim name may be read from (see want())
 * that sessions do not keep, or NULL when they keep them all. */
static const char *kept_names_miss(apr_pool_t *p, const char *name)
{
    const apr_array_header_t *tops = oac_claims_tops(p, name);
    int i;

    for (i = 0; i < tops->nelts; ++i) {
        const char *top = APR_ARRAY_IDX(tops, i, const char *);
        if (!apr_hash_get(wanted_set, top, APR_HASH_KEY_STRING)) {
            return top;
        }
    }
    return NULL;
}

static authz_status check_rule(request_rec *r, const char *require_line,
                               const void *parsed)
{
    const oac_request_t *rs = oac_request_state(r);
    const apr_array_header_t *rules = parsed;
    session_rec *z;
    char mark;
    int i;

    if (rs->route) {
        /* The module's own login, callback and logout paths are how one
         * gets claims: a rule over a whole site must not lock them. */
        return AUTHZ_GRANTED;
    }
    if (!r->user) {
        /* httpd authenticates, then asks again */
        return AUTHZ_DENIED_NO_USER;
    }
    if (!rs->app || !rs->token) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00118)
                      "Require oauth-claim at %s: the user was not "
                      "authenticated by AuthType OAuth (with OAuthApp), so "
                      "there are no claims to check", r->uri);
        return AUTHZ_DENIED;
    }
    /* A claim the session could not keep is unknown, not absent: no
     * answer a 'Require not' could turn into a grant. With
     * OAuthForwardClaims On, a session whose claims were too big keeps
     * only those the main configuration names (KEPT_NAMED). */
    if (oac_session_open(r, &z) != OK) {
        z = NULL;
    }
    mark = z ? kept_mark(oac_session_get(r, z, rs->app, "claims_set")) : 0;
    for (i = 0; i < rules->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(rules, i, oac_claim_rule_t).name;
        const char *top = kept_names_miss(r->pool, name);
        if ((!want_all || mark == KEPT_NAMED) && top) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00127)
                          "Require oauth-claim at %s: the claim '%s' is not "
                          "kept in %s (it is named only in an .htaccess "
                          "file): name it in the main configuration",
                          r->uri, top, want_all ? "this session, whose "
                          "claims were too big to keep them all"
                                                : "sessions");
            return AUTHZ_GENERAL_ERROR;
        }
    }
    if (mark == KEPT_NONE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00128)
                      "app %s: the user's claims were too big to keep in "
                      "the session (OAC00115), so 'Require oauth-claim %s' "
                      "cannot be judged", rs->app->name,
                      oac_util_sanitize(r->pool, require_line, 256));
        return AUTHZ_GENERAL_ERROR;
    }
    if (oac_claims_match_any(session_claims(r, rs->app), rules)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00119)
                  "app %s: the user %s has no claim that 'Require "
                  "oauth-claim %s' asks for", rs->app->name,
                  oac_util_sanitize(r->pool, r->user, 128),
                  oac_util_sanitize(r->pool, require_line, 256));
    return AUTHZ_DENIED;
}

static const authz_provider claim_provider = {
    &check_rule,
    &parse_rule,
};

void oac_claims_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
