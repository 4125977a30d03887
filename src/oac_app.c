/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include "oac_app.h"
#include "oac_fix.h"
#include "oac_form.h"
#include "oac_metadata.h"
#include "oac_oauth1.h"
#include "oac_sign.h"
#include "oac_url.h"
#include "oac_util.h"

#include <apr_lib.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

typedef enum {
    K_STRING,       /* any non-empty text */
    K_SECRET,       /* like K_STRING, but its value is never quoted back */
    K_URL,          /* absolute http(s) URL */
    K_BASE_URL,     /* absolute http(s) URL without a query: paths go below */
    K_URL_OR_REL,   /* absolute URL, or a path relative to api_base_url */
    K_PATH,         /* local path beginning with '/' */
    K_PATH_OR_URL,  /* either of the above */
    K_FORM,         /* a=1&b=2 */
    K_ENUM,
    K_FIX_LIST,     /* comma-separated compliance fix names */
    K_FILE,
    K_FIELD_MAP,    /* from:to,... renames of token response fields */
    K_KWARGS        /* form-encoded bundle of other keys */
} key_kind_e;

static const char *const code_challenge_methods[] = { "S256", NULL };
static const char *const client_auth_methods[] = {
    "client_secret_basic", "client_secret_post", "none",
    "client_secret_jwt", "private_key_jwt", NULL };
static const char *const dpop_algs[] = { "ES256", "RS256", "PS256", "EdDSA",
                                         NULL };
static const char *const security_profiles[] = { "fapi2", NULL };
static const char *const placements[] = { "header", "uri", "body", NULL };
static const char *const sig_methods[] = {
    "HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT", NULL };

typedef struct {
    const char *name;
    key_kind_e kind;
    const char *const *allowed;
} key_spec_t;

static const key_spec_t key_specs[] = {
    { "client_id",                  K_STRING,      NULL },
    { "client_secret",              K_SECRET,      NULL },
    { "request_token_url",          K_URL,         NULL },
    { "request_token_params",       K_FORM,        NULL },
    { "access_token_url",           K_URL,         NULL },
    { "access_token_params",        K_FORM,        NULL },
    { "refresh_token_url",          K_URL,         NULL },
    { "revocation_endpoint",        K_URL,         NULL },
    { "end_session_endpoint",       K_URL,         NULL },
    { "post_logout_redirect_uri",   K_PATH_OR_URL, NULL },
    { "issuer",                     K_URL,         NULL },
    { "server_metadata_url",        K_URL,         NULL },
    { "jwks_uri",                   K_URL,         NULL },
    { "id_token_signed_response_alg", K_STRING,    NULL },
    { "leeway",                     K_STRING,      NULL },
    { "authorize_url",              K_URL,         NULL },
    { "authorize_params",           K_FORM,        NULL },
    { "api_base_url",               K_BASE_URL,    NULL },
    { "client_kwargs",              K_KWARGS,      NULL },
    { "scope",                      K_STRING,      NULL },
    { "code_challenge_method",      K_ENUM,        code_challenge_methods },
    { "token_endpoint_auth_method", K_ENUM,        client_auth_methods },
    { "token_placement",            K_ENUM,        placements },
    { "signature_method",           K_ENUM,        sig_methods },
    { "rsa_key_file",               K_FILE,        NULL },
    { "realm",                      K_STRING,      NULL },
    { "compliance_fix",             K_FIX_LIST,    oac_fix_names },
    { "token_field_map",            K_FIELD_MAP,   NULL },
    { "redirect_uri",               K_PATH_OR_URL, NULL },
    { "login_path",                 K_PATH,        NULL },
    { "logout_path",                K_PATH,        NULL },
    { "userinfo_endpoint",          K_URL_OR_REL,  NULL },
    { "user_claim",                 K_STRING,      NULL },
    { "client_key_file",            K_FILE,        NULL },
    { "client_key_id",              K_STRING,      NULL },
    { "apple_team_id",              K_STRING,      NULL },
    { "dpop_signing_alg",           K_ENUM,        dpop_algs },
    { "dpop_key_file",              K_FILE,        NULL },
    { "security_profile",           K_ENUM,        security_profiles },
    { "pushed_authorization_request_endpoint", K_URL, NULL },
    { NULL, K_STRING, NULL }
};

static const key_spec_t *find_spec(const char *key)
{
    const key_spec_t *k;
    for (k = key_specs; k->name; ++k) {
        if (!strcmp(k->name, key)) {
            return k;
        }
    }
    return NULL;
}

/* Edit distance, to suggest the key a typo meant. Keys are short, so the
 * quadratic table is cheap. */
static apr_size_t edit_distance(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b), i, j;
    apr_size_t row[64];
    if (la >= 63 || lb >= 63) {
        return 64;
    }
    for (j = 0; j <= lb; ++j) {
        row[j] = j;
    }
    for (i = 1; i <= la; ++i) {
        apr_size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; ++j) {
            apr_size_t up = row[j];
            apr_size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (row[j] + 1 < best) {
                best = row[j] + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *join_list(apr_pool_t *p, const char *const *items)
{
    const char *s = NULL;
    for (; *items; ++items) {
        s = s ? apr_pstrcat(p, s, ", ", *items, NULL) : *items;
    }
    return s ? s : "(none yet)";
}

static const char *unknown_key_msg(apr_pool_t *p, const char *key)
{
    const key_spec_t *k, *best = NULL;
    apr_size_t best_d = 4;
    for (k = key_specs; k->name; ++k) {
        apr_size_t d = edit_distance(key, k->name);
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    if (best) {
        return apr_psprintf(p, "unknown key '%s'; did you mean '%s'?",
                            key, best->name);
    }
    {
        const char *names = NULL;
        for (k = key_specs; k->name; ++k) {
            names = names ? apr_pstrcat(p, names, ", ", k->name, NULL)
                          : k->name;
        }
        return apr_psprintf(p, "unknown key '%s'; known keys: %s", key,
                            names);
    }
}

/* url as configtest may print it: without its query and fragment (an
 * API key may be there), and with any user:password before the host
 * written [redacted] (the error that refuses credentials in URLs must not
 * print them). Not oac_util_url_for_message: configtest quotes the URLs
 * it refuses, which that one cannot parse. */
static const char *url_for_message(apr_pool_t *p, const char *url)
{
    const char *host = strstr(url, "://"), *at;

    /* A password may hold '/', '?', '#' and '@': everything up to the
     * last '@' goes (a path with an '@' loses more than it must). */
    if (host && (at = strrchr(host + 3, '@'))) {
        url = apr_pstrcat(p, apr_pstrmemdup(p, url, host + 3 - url),
                          "[redacted]", at, NULL);
    }
    return apr_pstrndup(p, url, strcspn(url, "?#"));
}

static apr_status_t check_path(const char **perr, apr_pool_t *p,
                               const char *key, const char *value)
{
    const char *c;
    if (value[0] != '/' || value[1] == '/') {
        *perr = apr_psprintf(p, "%s '%s' must be a local path beginning "
                             "with a single '/'", key, value);
        return APR_EINVAL;
    }
    for (c = value; *c; ++c) {
        if (*c == '?' || *c == '#' || apr_isspace(*c) || apr_iscntrl(*c)) {
            *perr = apr_psprintf(p, "%s '%s' must be a plain path, without "
                                 "query, fragment or whitespace", key,
                                 url_for_message(p, value));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t check_url(const char **perr, apr_pool_t *p,
                              const char *key, const char *value)
{
    apr_uri_t uri;
    const char *why;
    if (oac_url_check(&uri, &why, p, value) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "%s '%s' is not a valid URL: %s; give an "
                             "absolute http:// or https:// URL", key,
                             url_for_message(p, value), why);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_enum(const char **perr, apr_pool_t *p,
                               const key_spec_t *k, const char *value)
{
    const char *const *a;
    for (a = k->allowed; *a; ++a) {
        if (!strcmp(*a, value)) {
            return APR_SUCCESS;
        }
    }
    *perr = apr_psprintf(p, "%s '%s' is not supported; use one of: %s",
                         k->name, value, join_list(p, k->allowed));
    return APR_EINVAL;
}

static apr_status_t check_fix_list(const char **perr, apr_pool_t *p,
                                   const key_spec_t *k, const char *value)
{
    char *list = apr_pstrdup(p, value), *last, *name;
    for (name = apr_strtok(list, ", ", &last); name;
         name = apr_strtok(NULL, ", ", &last)) {
        const char *const *a;
        for (a = k->allowed; *a && strcmp(*a, name); ++a) {
        }
        if (!*a) {
            *perr = apr_psprintf(p, "compliance_fix '%s' is not a built-in "
                                 "fix; known fixes: %s", name,
                                 join_list(p, k->allowed));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t check_value(const char **perr, apr_pool_t *p,
                                const key_spec_t *k, const char *value);

static apr_status_t check_kwargs(const char **perr, apr_pool_t *p,
                                 const char *value)
{
    apr_array_header_t *form;
    const char *why;
    int i;
    if (oac_form_decode(&form, &why, p, value) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "client_kwargs is not form-encoded "
                             "(a=1&b=2): %s", why);
        return APR_EINVAL;
    }
    for (i = 0; i < form->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(form, i, oac_param_t);
        const key_spec_t *k = find_spec(kv->name);
        if (!k) {
            *perr = apr_pstrcat(p, "client_kwargs: ",
                                unknown_key_msg(p, kv->name), NULL);
            return APR_EINVAL;
        }
        if (k->kind == K_KWARGS) {
            *perr = "client_kwargs cannot contain client_kwargs";
            return APR_EINVAL;
        }
        if (check_value(&why, p, k, kv->value) != APR_SUCCESS) {
            *perr = apr_pstrcat(p, "client_kwargs: ", why, NULL);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t check_value(const char **perr, apr_pool_t *p,
                                const key_spec_t *k, const char *value)
{
    const char *why;
    if (!*value) {
        *perr = apr_psprintf(p, "%s has an empty value", k->name);
        return APR_EINVAL;
    }
    switch (k->kind) {
    case K_STRING:
    case K_SECRET:
    case K_FILE:
        return APR_SUCCESS;
    case K_URL:
        return check_url(perr, p, k->name, value);
    case K_BASE_URL:
        if (check_url(perr, p, k->name, value) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (oac_url_check_base(&why, p, value) != APR_SUCCESS) {
            /* every API path and query is appended to it; what is left
             * after check_url is the query */
            *perr = apr_psprintf(p, "%s '%s' must not have a query "
                                 "('?...'): the API's paths and queries are "
                                 "appended to it", k->name,
                                 url_for_message(p, value));
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case K_URL_OR_REL:
        return strstr(value, "://") ? check_url(perr, p, k->name, value)
                                    : APR_SUCCESS;
    case K_PATH:
        return check_path(perr, p, k->name, value);
    case K_PATH_OR_URL:
        return value[0] == '/' ? check_path(perr, p, k->name, value)
                               : check_url(perr, p, k->name, value);
    case K_FORM: {
        apr_array_header_t *form;
        if (oac_form_decode(&form, &why, p, value) != APR_SUCCESS) {
            *perr = apr_psprintf(p, "%s is not form-encoded (a=1&b=2): %s",
                                 k->name, why);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    case K_ENUM:
        return check_enum(perr, p, k, value);
    case K_FIX_LIST:
        return check_fix_list(perr, p, k, value);
    case K_FIELD_MAP:
        return oac_fix_check_field_map(perr, p, value);
    case K_KWARGS:
        return check_kwargs(perr, p, value);
    }
    return APR_SUCCESS;
}

apr_status_t oac_app_tokenize(apr_array_header_t **ppairs, const char **perr,
                              apr_pool_t *p, const char *line)
{
    apr_array_header_t *pairs = oac_form_make(p);
    const char *s = line;

    for (;;) {
        char *buf, *out, *eq;
        char quote = 0;
        const oac_param_t *prev = pairs->nelts
            ? &APR_ARRAY_IDX(pairs, pairs->nelts - 1, oac_param_t)
            : NULL;
        const key_spec_t *prev_spec = prev ? find_spec(prev->name) : NULL;
        /* A word after an unquoted secret may be the rest of it: such a
         * word is never quoted in a message. */
        int after_secret = prev_spec && prev_spec->kind == K_SECRET;
        const char *start;

        while (*s && apr_isspace(*s)) {
            ++s;
        }
        if (!*s) {
            break;
        }
        start = s;
        out = buf = apr_palloc(p, strlen(s) + 1);
        /* Quotes may open anywhere in the word: key="a b" and "key=a b"
         * both give one pair. */
        while (*s && (quote || !apr_isspace(*s))) {
            if (quote && *s == '\\' && (s[1] == quote || s[1] == '\\')) {
                *out++ = s[1];
                s += 2;
            }
            else if (quote && *s == quote) {
                quote = 0;
                ++s;
            }
            else if (!quote && (*s == '"' || *s == '\'')) {
                quote = *s++;
            }
            else {
                *out++ = *s++;
            }
        }
        *out = '\0';
        if (quote) {
            *perr = after_secret
                    || strcspn(start, "=") > strcspn(start, "\"'")
                ? apr_psprintf(p, "unterminated %c quote in a word after "
                               "%s (not shown: it may be part of a secret)",
                               quote, prev ? prev->name : "the name")
                : apr_psprintf(p, "unterminated %c quote in '%.*s'", quote,
                               (int)strcspn(start, "="), start);
            return APR_EINVAL;
        }
        eq = strchr(buf, '=');
        if (!eq || eq == buf) {
            /* Quoted only when it is a key name: otherwise it may be the
             * rest of an unquoted value with a space, a secret as often as
             * not. */
            *perr = find_spec(buf)
                ? apr_psprintf(p, "'%s' has no value: write %s=...", buf, buf)
                : prev
                ? apr_psprintf(p, "a word after %s=... is not of the form "
                               "key=value (not shown: it may be part of a "
                               "secret); a value with spaces must be "
                               "quoted: %s=\"...\"", prev->name, prev->name)
                : "the first word after the name is not of the form "
                  "key=value (not shown: it may be part of a secret)";
            return APR_EINVAL;
        }
        *eq = '\0';
        if (after_secret && !find_spec(buf)) {
            *perr = apr_psprintf(p, "a word after %s=... is not a known key "
                                 "(not shown: it may be the rest of the "
                                 "secret); a value with spaces must be "
                                 "quoted: %s=\"...\"", prev->name,
                                 prev->name);
            return APR_EINVAL;
        }
        oac_form_add(pairs, buf, eq + 1);
    }
    *ppairs = pairs;
    return APR_SUCCESS;
}

oac_app_decl_t *oac_app_decl_make(apr_pool_t *p, const char *name)
{
    oac_app_decl_t *d = apr_pcalloc(p, sizeof(*d));
    d->name = apr_pstrdup(p, name);
    d->keys = apr_table_make(p, 16);
    return d;
}

static apr_array_header_t *form_or_empty(apr_pool_t *p, const char *value);

/* client_kwargs given again (another line, a virtual host's override) is
 * merged key by key, as the keys outside it are: the later bundle's keys
 * win, the earlier one's others stay. Replaced whole, a vhost that only
 * changed the auth method dropped the scope, and with it openid and the
 * id_token's checks. */
static const char *merged_kwargs(apr_pool_t *p, const char *earlier,
                                 const char *later)
{
    apr_array_header_t *out = form_or_empty(p, later);
    const apr_array_header_t *old = form_or_empty(p, earlier);
    int i;

    for (i = 0; i < old->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(old, i, oac_param_t);
        if (!oac_form_get(out, kv->name)) {
            oac_form_add(out, kv->name, kv->value);
        }
    }
    return oac_form_encode(p, out);
}

apr_status_t oac_app_decl_set(const char **perr, apr_pool_t *p,
                              oac_app_decl_t *decl, const char *key,
                              const char *value)
{
    const key_spec_t *k = find_spec(key);
    apr_pool_t *scratch;
    apr_status_t rv;
    if (!k) {
        *perr = unknown_key_msg(p, key);
        return APR_EINVAL;
    }
    /* What checking allocates (parsed URLs, joined lists) goes with a
     * scratch pool: p lives as long as the configuration, and 221 apps
     * over 60 virtual hosts must cost little more than one. */
    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        scratch = p;
    }
    rv = check_value(perr, scratch, k, value);
    if (rv != APR_SUCCESS) {
        *perr = apr_pstrdup(p, *perr);
    }
    if (scratch != p) {
        apr_pool_destroy(scratch);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (k->kind == K_KWARGS && apr_table_get(decl->keys, key)) {
        value = merged_kwargs(p, apr_table_get(decl->keys, key), value);
    }
    /* key and value live in p already (the caller's promise) */
    apr_table_setn(decl->keys, key, value);
    return APR_SUCCESS;
}

oac_app_decl_t *oac_app_decl_merge(apr_pool_t *p, const oac_app_decl_t *base,
                                   const oac_app_decl_t *add)
{
    oac_app_decl_t *d = apr_pcalloc(p, sizeof(*d));
    d->name = add->name;
    d->where = add->where;
    d->keys = apr_table_copy(p, base->keys);
    apr_table_overlap(d->keys, add->keys, APR_OVERLAP_TABLES_SET);
    if (apr_table_get(base->keys, "client_kwargs")
        && apr_table_get(add->keys, "client_kwargs")) {
        apr_table_setn(d->keys, "client_kwargs",
                       merged_kwargs(p, apr_table_get(base->keys,
                                                      "client_kwargs"),
                                     apr_table_get(add->keys,
                                                   "client_kwargs")));
    }
    return d;
}

static int enum_index(const char *const *allowed, const char *value)
{
    int i;
    for (i = 0; allowed[i]; ++i) {
        if (!strcmp(allowed[i], value)) {
            return i;
        }
    }
    return 0;
}

static apr_array_header_t *form_or_empty(apr_pool_t *p, const char *value)
{
    apr_array_header_t *form;
    const char *why;
    /* Already checked by oac_app_decl_set. */
    if (!value || oac_form_decode(&form, &why, p, value) != APR_SUCCESS) {
        return oac_form_make(p);
    }
    return form;
}

int oac_scope_has(const char *scope, const char *want)
{
    apr_size_t n = strlen(want);
    const char *at;

    for (at = scope; (at = strstr(at, want)); at += n) {
        if ((at == scope || at[-1] == ' ') && (!at[n] || at[n] == ' ')) {
            return 1;
        }
    }
    return 0;
}

/* The algorithms an id_token may be signed with; "none" never, HS* only
 * when listed. */
static const char *const id_token_algs[] = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
    "ES512", "EdDSA", "HS256", "HS384", "HS512", NULL };

/* The first algorithm of list (names between commas or spaces) that is
 * not in allowed, or NULL when each is. */
static const char *alg_not_in(apr_pool_t *p, const char *list,
                              const char *const *allowed)
{
    char *copy = apr_pstrdup(p, list), *last, *alg;

    for (alg = apr_strtok(copy, ", ", &last); alg;
         alg = apr_strtok(NULL, ", ", &last)) {
        const char *const *known;
        for (known = allowed; *known && strcmp(*known, alg); ++known) {
        }
        if (!*known) {
            return alg;
        }
    }
    return NULL;
}

/* An app whose scope has openid checks the id_token of every login
 * (oac_jose.c), which takes the provider's keys and issuer. */
static apr_status_t finish_oidc(const char **perr, apr_pool_t *p,
                                oac_app_t *app, apr_table_t *keys)
{
    const char *v;

    if (app->version != OAC_OAUTH2) {
        return APR_SUCCESS;
    }
    if ((v = apr_table_get(keys, "leeway"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || end == v || n < 0 || n > 3600) {
            *perr = apr_psprintf(p, "leeway '%s' is not a number of seconds "
                                 "from 0 to 3600", v);
            return APR_EINVAL;
        }
        app->leeway = (int)n;
    }
    if (app->id_token_algs
        && (v = alg_not_in(p, app->id_token_algs, id_token_algs))) {
        *perr = apr_psprintf(p, "id_token_signed_response_alg: '%s' is not "
                             "accepted%s; use some of: RS256, RS384, RS512, "
                             "PS256, PS384, PS512, ES256, ES384, ES512, "
                             "EdDSA, HS256, HS384, HS512",
                             oac_util_sanitize(p, v, 40),
                             strcasecmp(v, "none") ? ""
                             : " (an unsigned id_token proves nothing)");
        return APR_EINVAL;
    }
    if (app->server_metadata_url && !app->issuer
        && !oac_metadata_expected_issuer(p, app->server_metadata_url)) {
        /* Every login would fail on it (oac_metadata_apply): said now */
        *perr = OAC_METADATA_NO_ISSUER;
        return APR_EINVAL;
    }
    app->oidc = app->scope && oac_scope_has(app->scope, "openid");
    if (app->oidc && !app->server_metadata_url
        && (!app->jwks_uri || !app->issuer)) {
        *perr = "an OpenID Connect app (its scope has openid) checks the "
                "signature and issuer of every id_token: give "
                "server_metadata_url, or jwks_uri and issuer";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t require_keys(const char **perr, apr_pool_t *p,
                                 const oac_app_t *app, apr_table_t *keys)
{
    static const char *const common[] = {
        "client_id", "authorize_url", "access_token_url", NULL };
    const char *const *k;
    const char *needs = app->version == OAC_OAUTH1
        ? "an OAuth 1.0a app needs client_id, client_secret, "
          "request_token_url, authorize_url and access_token_url"
        : "an OAuth 2 app needs client_id, client_secret (unless "
          "token_endpoint_auth_method=none), and access_token_url (with "
          "authorize_url for logins) or server_metadata_url";

    for (k = common; *k; ++k) {
        /* The endpoints come from the provider's metadata when they are
         * not set (oac_metadata.c). An OAuth 2 app without authorize_url
         * serves service tokens only (contract section 11): configtest
         * refuses it where a login is needed (OAC00163). */
        if (!apr_table_get(keys, *k)
            && !(app->version == OAC_OAUTH2
                 && ((apr_table_get(keys, "server_metadata_url")
                      && strcmp(*k, "client_id"))
                     || !strcmp(*k, "authorize_url")))) {
            *perr = apr_psprintf(p, "missing required key %s (%s)", *k, needs);
            return APR_EINVAL;
        }
    }
    if (!app->client_secret
        && ((app->version == OAC_OAUTH2
             && app->token_endpoint_auth_method != OAC_AUTH_NONE
             && app->token_endpoint_auth_method != OAC_AUTH_PRIVATE_KEY_JWT
             && !oac_fix_has(app, "apple"))
            || (app->version == OAC_OAUTH1
                && app->signature_method != OAC_SIG_RSA_SHA1))) {
        *perr = apr_psprintf(p, "missing required key client_secret (%s)",
                             needs);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Keys that only mean something for the other OAuth version are a sign of
 * a mistaken declaration: say so instead of ignoring them. */
static apr_status_t reject_other_version_keys(const char **perr,
                                              apr_pool_t *p,
                                              const oac_app_t *app,
                                              apr_table_t *keys)
{
    static const char *const oauth2_only[] = {
        "code_challenge_method", "refresh_token_url",
        "token_endpoint_auth_method", "token_placement",
        "revocation_endpoint", "issuer", "server_metadata_url", "jwks_uri",
        "id_token_signed_response_alg", "leeway", "end_session_endpoint",
        "post_logout_redirect_uri", "client_key_file", "client_key_id",
        "apple_team_id", "dpop_signing_alg", "dpop_key_file",
        "security_profile", "pushed_authorization_request_endpoint", NULL };
    static const char *const oauth1_only[] = {
        "signature_method", "rsa_key_file", "request_token_params", "realm",
        NULL };
    const char *const *k;

    if (app->version == OAC_OAUTH1) {
        for (k = oauth2_only; *k; ++k) {
            if (apr_table_get(keys, *k)) {
                *perr = apr_psprintf(p, "%s applies only to OAuth 2 apps, "
                                     "and this app is OAuth 1.0a because it "
                                     "has request_token_url", *k);
                return APR_EINVAL;
            }
        }
    }
    else {
        for (k = oauth1_only; *k; ++k) {
            if (apr_table_get(keys, *k)) {
                *perr = apr_psprintf(p, "%s applies only to OAuth 1.0a apps "
                                     "(apps with request_token_url)", *k);
                return APR_EINVAL;
            }
        }
    }
    return APR_SUCCESS;
}

/* The realm goes into the Authorization header as a quoted string, as
 * is: refused here rather than on every signed request. */
static apr_status_t check_realm(const char **perr, const oac_app_t *app)
{
    const unsigned char *c;

    for (c = (const unsigned char *)app->realm; c && *c; ++c) {
        if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\') {
            *perr = "realm must not contain '\"', '\\' or control "
                    "characters (it is sent as a quoted string)";
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t finish_rsa_key(const char **perr, apr_pool_t *p,
                                   oac_app_t *app)
{
    const char *why;
    apr_status_t rv;

    if (app->signature_method != OAC_SIG_RSA_SHA1) {
        if (app->rsa_key_file) {
            *perr = "rsa_key_file is only used with signature_method=RSA-SHA1";
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (!app->rsa_key_file) {
        *perr = "signature_method=RSA-SHA1 needs rsa_key_file=/path/to/key.pem";
        return APR_EINVAL;
    }
    /* Loaded here, so a bad key fails the configtest, not the first
     * login. */
    rv = oac_oauth1_load_rsa_key(&app->rsa_key, &why, p, app->rsa_key_file);
    if (rv != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "rsa_key_file: ", why, NULL);
        return rv;
    }
    return APR_SUCCESS;
}

/* FAPI 2.0 Security Profile (5.3.1, 5.3.2), what a client must do: PAR,
 * PKCE S256, RFC 9207 iss, private_key_jwt, sender-constrained tokens
 * (DPoP here), and only PS256, ES256 or EdDSA. Its defaults fill what is
 * not set; what is set against it is a mistake to say. */
/* What the FAPI 2.0 Security Profile (5.4) signs with. */
static const char *const fapi2_algs[] = { "PS256", "ES256", "EdDSA", NULL };

static apr_status_t finish_fapi2(const char **perr, apr_pool_t *p,
                                 oac_app_t *app, apr_table_t *keys)
{
    const char *v;

    if (!(v = apr_table_get(keys, "security_profile"))) {
        return APR_SUCCESS;
    }
    app->fapi2 = 1;
    if ((v = apr_table_get(keys, "token_endpoint_auth_method"))
        && strcmp(v, "private_key_jwt")) {
        *perr = apr_psprintf(p, "security_profile=fapi2 authenticates the "
                             "client with private_key_jwt, not %s: drop "
                             "token_endpoint_auth_method or set it to "
                             "private_key_jwt", v);
        return APR_EINVAL;
    }
    app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    if (oac_fix_has(app, "microsoft")) {
        *perr = "security_profile=fapi2 addresses client assertions to the "
                "issuer, compliance_fix=microsoft to the token endpoint: "
                "drop one of them";
        return APR_EINVAL;
    }
    if ((v = apr_table_get(keys, "dpop_signing_alg")) && !strcmp(v, "RS256")) {
        *perr = "security_profile=fapi2 allows PS256, ES256 and EdDSA, not "
                "RS256: set dpop_signing_alg=ES256 (or PS256, EdDSA)";
        return APR_EINVAL;
    }
    if (!app->dpop_alg) {
        app->dpop_alg = "ES256";
    }
    /* FAPI 2.0 Security Profile 5.4: PS256, ES256 or EdDSA only, for the
     * id_tokens it accepts too; RS256 and HMAC are what it rules out. */
    if (!app->id_token_algs) {
        app->id_token_algs = "PS256,ES256,EdDSA";
    }
    else if ((v = alg_not_in(p, app->id_token_algs, fapi2_algs))) {
        *perr = apr_psprintf(p, "security_profile=fapi2 accepts id_tokens "
                             "signed with PS256, ES256 or EdDSA, not %s: "
                             "drop id_token_signed_response_alg or list "
                             "only those", oac_util_sanitize(p, v, 40));
        return APR_EINVAL;
    }
    /* Tokens go in the Authorization header (RFC 9449's DPoP scheme;
     * RFC 9700 2.4 keeps them out of URLs). */
    if ((v = apr_table_get(keys, "token_placement")) && strcmp(v, "header")) {
        *perr = apr_psprintf(p, "security_profile=fapi2 sends tokens in the "
                             "Authorization header, not in the %s: drop "
                             "token_placement", v);
        return APR_EINVAL;
    }
    if ((v = oac_fix_api_token_param(app))) {
        *perr = apr_psprintf(p, "security_profile=fapi2 sends tokens in the "
                             "Authorization header, and this "
                             "compliance_fix puts them in the query (%s=): "
                             "drop one of them", v);
        return APR_EINVAL;
    }
    app->pkce_s256 = 1;
    app->iss_required = 1;
    if (!app->par_endpoint && !app->server_metadata_url) {
        *perr = "security_profile=fapi2 pushes every authorization request "
                "(PAR): give server_metadata_url, or "
                "pushed_authorization_request_endpoint";
        return APR_EINVAL;
    }
    if (!app->issuer && !app->server_metadata_url) {
        *perr = "security_profile=fapi2 sends client assertions to the "
                "issuer and checks iss: give server_metadata_url, or issuer";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t load_client_key(const char **perr, apr_pool_t *p,
                                    oac_app_t *app)
{
    const char *why;

    if (oac_signer_from_file(&app->client_signer, &why, p,
                             app->client_key_file, app->client_key_id)
        != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "client_key_file: ", why, NULL);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Sign in with Apple takes no fixed client secret: the client signs one,
 * a JWT of its team, with a key Apple made for it, and sends it as
 * client_secret in the form. Each is made for one call and lives five
 * minutes (Apple allows up to six months): nothing long-lived to leak
 * or to renew by hand. */
static apr_status_t finish_apple(const char **perr, apr_pool_t *p,
                                 oac_app_t *app, apr_table_t *keys)
{
    const char *v;

    if (app->fapi2) {
        *perr = "security_profile=fapi2 authenticates the client with "
                "private_key_jwt, and Apple takes only its client_secret "
                "JWT (compliance_fix=apple): drop one of them";
        return APR_EINVAL;
    }
    if ((v = apr_table_get(keys, "token_endpoint_auth_method"))
        && strcmp(v, "client_secret_post")) {
        *perr = apr_psprintf(p, "compliance_fix=apple sends the client "
                             "secret it signs in the form "
                             "(client_secret_post), the only way Apple "
                             "takes it, not %s: drop "
                             "token_endpoint_auth_method", v);
        return APR_EINVAL;
    }
    if (app->client_secret) {
        *perr = "compliance_fix=apple signs a client_secret for each call "
                "with client_key_file: drop client_secret";
        return APR_EINVAL;
    }
    v = oac_form_get(app->authorize_params, "response_mode");
    if (v && strcmp(v, "form_post")
        && oac_fix_apple_needs_form_post(app->scope ? app->scope
                                         : oac_form_get(app->authorize_params,
                                                        "scope"))) {
        *perr = apr_psprintf(p, "Apple answers a request for the name or "
                             "email scope only by a form post, and "
                             "authorize_params asks for response_mode=%s: "
                             "drop it (the module asks for form_post)", v);
        return APR_EINVAL;
    }
    if (!(v = app->apple_team_id) || !*v || strlen(v) > 64
        || v[strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789")]) {
        *perr = v ? "apple_team_id: letters and digits, as Apple shows "
                    "the Team ID (Membership details)"
                  : "compliance_fix=apple needs apple_team_id=TEAMID, "
                    "the Team ID of the Apple developer account (Membership "
                    "details), which issues the client_secret";
        return APR_EINVAL;
    }
    if (!app->client_key_file || !app->client_key_id) {
        *perr = "compliance_fix=apple signs the client_secret with the key "
                "Apple made for Sign in with Apple (Certificates, "
                "Identifiers & Profiles > Keys): "
                "client_key_file=/path/to/AuthKey_KEYID.p8 and "
                "client_key_id=KEYID";
        return APR_EINVAL;
    }
    if (load_client_key(perr, p, app) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (strcmp(oac_signer_alg(app->client_signer), "ES256")) {
        *perr = apr_psprintf(p, "client_key_file: %s holds a key for %s; "
                             "Apple's keys are EC P-256 (ES256)",
                             app->client_key_file,
                             oac_signer_alg(app->client_signer));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_pool_t *keys_keep;

#define KEPT_KEYS "oauthclient generated DPoP keys"

void oac_app_keep_generated_keys(apr_pool_t *keep)
{
    keys_keep = keep;
}

/* The app's DPoP key made at startup: the one kept for the same app, or
 * a new one, kept (oac_app_keep_generated_keys). What is kept is the key
 * as PEM text, in memory of keep with no cleanup: httpd unloads this
 * module and reloads it at every restart, and a cleanup of its own (or
 * an OpenSSL object's) registered in the process pool would run after
 * its code was gone. Each reading makes its signer from the text. */
static apr_status_t generated_signer(oac_signer_t **ps, const char **pwhy,
                                     apr_pool_t *p, const oac_app_t *app)
{
    const char *alg = !strcmp(app->dpop_alg, "PS256") ? "RS256"
                                                      : app->dpop_alg;
    apr_hash_t *kept = NULL;
    const char *id, *pem;
    apr_size_t len;
    apr_status_t rv;
    char *made;

    if (!keys_keep) {
        return oac_signer_generate(ps, pwhy, p, alg);
    }
    apr_pool_userdata_get((void **)&kept, KEPT_KEYS, keys_keep);
    if (!kept) {
        kept = apr_hash_make(keys_keep);
        apr_pool_userdata_setn(kept, KEPT_KEYS, NULL, keys_keep);
    }
    /* What the provider bound its tokens to the key for: this client of
     * this provider, under this name. */
    id = apr_pstrcat(p, app->name, "\n", app->dpop_alg, "\n",
                     app->client_id, "\n",
                     app->server_metadata_url ? app->server_metadata_url
                     : app->access_token_url ? app->access_token_url : "",
                     NULL);
    if ((pem = apr_hash_get(kept, id, APR_HASH_KEY_STRING))) {
        return oac_signer_from_pem(ps, pwhy, p, pem, strlen(pem), NULL);
    }
    if ((rv = oac_signer_generate(ps, pwhy, p, alg)) != APR_SUCCESS) {
        return rv;
    }
    if ((made = oac_signer_private_pem(*ps, &len))) {
        apr_hash_set(kept, apr_pstrdup(keys_keep, id), APR_HASH_KEY_STRING,
                     apr_pstrmemdup(keys_keep, made, len));
        OPENSSL_cleanse(made, len);
        free(made);
    }
    return APR_SUCCESS;
}

/* The keys the client signs with, loaded here so that a missing or wrong
 * key stops configtest, not the first login. */
static apr_status_t finish_signers(const char **perr, apr_pool_t *p,
                                   oac_app_t *app, apr_table_t *keys)
{
    const char *why;

    if (app->version != OAC_OAUTH2) {
        return APR_SUCCESS;
    }
    if (app->apple_team_id && !oac_fix_has(app, "apple")) {
        *perr = "apple_team_id is for compliance_fix=apple";
        return APR_EINVAL;
    }
    if (oac_fix_has(app, "apple")) {
        apr_status_t rv = finish_apple(perr, p, app, keys);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    else if (app->token_endpoint_auth_method == OAC_AUTH_PRIVATE_KEY_JWT) {
        if (!app->client_key_file) {
            *perr = "token_endpoint_auth_method=private_key_jwt signs with "
                    "client_key_file=/path/to/key.pem (RSA, EC P-256 or "
                    "Ed25519)";
            return APR_EINVAL;
        }
        if (load_client_key(perr, p, app) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (app->fapi2 && !strcmp(oac_signer_alg(app->client_signer),
                                  "RS256")) {
            /* FAPI 2.0 5.4.1: RSA keys sign with PSS */
            oac_signer_use_pss(app->client_signer);
        }
    }
    else if (app->client_key_file || app->client_key_id) {
        *perr = "client_key_file and client_key_id are for "
                "token_endpoint_auth_method=private_key_jwt (or "
                "compliance_fix=apple)";
        return APR_EINVAL;
    }
    if (!app->dpop_alg) {
        if (app->dpop_key_file) {
            *perr = "dpop_key_file is for DPoP: set dpop_signing_alg too";
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (app->dpop_key_file) {
        if (oac_signer_from_file(&app->dpop_signer, &why, p,
                                 app->dpop_key_file, NULL) != APR_SUCCESS) {
            *perr = apr_pstrcat(p, "dpop_key_file: ", why, NULL);
            return APR_EINVAL;
        }
        if (!strcmp(app->dpop_alg, "PS256")
            && !strcmp(oac_signer_alg(app->dpop_signer), "RS256")) {
            oac_signer_use_pss(app->dpop_signer);
        }
        if (strcmp(oac_signer_alg(app->dpop_signer), app->dpop_alg)) {
            *perr = apr_psprintf(p, "dpop_key_file: %s holds a key for %s, "
                                 "and dpop_signing_alg is %s",
                                 app->dpop_key_file,
                                 oac_signer_alg(app->dpop_signer),
                                 app->dpop_alg);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (generated_signer(&app->dpop_signer, &why, p, app)
        != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "dpop_signing_alg: ", why, NULL);
        return APR_EGENERAL;
    }
    if (!strcmp(app->dpop_alg, "PS256")) {
        oac_signer_use_pss(app->dpop_signer);
    }
    return APR_SUCCESS;
}

static apr_status_t finish_paths(const char **perr, apr_pool_t *p,
                                 oac_app_t *app, apr_table_t *keys)
{
    const char *v;

    app->login_path = (v = apr_table_get(keys, "login_path"))
        ? v : apr_psprintf(p, "/oauth/%s/login", app->name);
    app->logout_path = (v = apr_table_get(keys, "logout_path"))
        ? v : apr_psprintf(p, "/oauth/%s/logout", app->name);
    app->redirect_uri = (v = apr_table_get(keys, "redirect_uri"))
        ? v : apr_psprintf(p, "/oauth/%s/callback", app->name);
    if (app->redirect_uri[0] == '/') {
        app->redirect_path = app->redirect_uri;
    }
    else {
        apr_uri_t uri;
        const char *why;
        if (oac_url_check(&uri, &why, p, app->redirect_uri) != APR_SUCCESS) {
            *perr = apr_psprintf(p, "redirect_uri: %s", why);
            return APR_EINVAL;
        }
        app->redirect_path = uri.path && *uri.path ? uri.path : "/";
    }

    if ((v = apr_table_get(keys, "userinfo_endpoint"))) {
        if (strstr(v, "://")) {
            app->userinfo_endpoint = v;
        }
        else if (!app->api_base_url) {
            *perr = apr_psprintf(p, "userinfo_endpoint '%s' is relative, so "
                                 "api_base_url is needed to resolve it", v);
            return APR_EINVAL;
        }
        else {
            char *joined;
            const char *why;
            if (oac_url_join(&joined, &why, p, app->api_base_url, v)
                != APR_SUCCESS) {
                *perr = apr_psprintf(p, "userinfo_endpoint: %s", why);
                return APR_EINVAL;
            }
            app->userinfo_endpoint = joined;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t finalize(oac_app_t **papp, const char **perr,
                             apr_pool_t *p, const oac_app_decl_t *decl,
                             apr_table_t *keys);

apr_status_t oac_app_finalize(oac_app_t **papp, const char **perr,
                              apr_pool_t *p, const oac_app_decl_t *decl)
{
    apr_pool_t *scratch;
    apr_table_t *keys;
    const char *v;
    apr_status_t rv;

    /* The merged keys are needed only while the app is made: in a pool of
     * their own (their strings stay in p, where the app points). */
    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        scratch = p;
    }
    keys = apr_table_copy(scratch, decl->keys);
    if ((v = apr_table_get(keys, "client_kwargs"))) {
        apr_array_header_t *kw = form_or_empty(p, v);
        int i;
        for (i = 0; i < kw->nelts; ++i) {
            const oac_param_t *kv = &APR_ARRAY_IDX(kw, i, oac_param_t);
            if (!apr_table_get(keys, kv->name)) {
                apr_table_setn(keys, kv->name, kv->value);
            }
        }
    }
    rv = finalize(papp, perr, p, decl, keys);
    if (scratch != p) {
        apr_pool_destroy(scratch);
    }
    return rv;
}

static apr_status_t finalize(oac_app_t **papp, const char **perr,
                             apr_pool_t *p, const oac_app_decl_t *decl,
                             apr_table_t *keys)
{
    oac_app_t *app = apr_pcalloc(p, sizeof(*app));
    const char *v;
    apr_status_t rv;

    app->name = decl->name;
    app->version = apr_table_get(keys, "request_token_url") ? OAC_OAUTH1
                                                            : OAC_OAUTH2;
    app->client_id = apr_table_get(keys, "client_id");
    app->client_secret = apr_table_get(keys, "client_secret");
    app->request_token_url = apr_table_get(keys, "request_token_url");
    app->request_token_params =
        form_or_empty(p, apr_table_get(keys, "request_token_params"));
    app->access_token_url = apr_table_get(keys, "access_token_url");
    app->access_token_params =
        form_or_empty(p, apr_table_get(keys, "access_token_params"));
    app->refresh_token_url = (v = apr_table_get(keys, "refresh_token_url"))
        ? v : app->access_token_url;
    app->revocation_endpoint = apr_table_get(keys, "revocation_endpoint");
    app->end_session_endpoint = apr_table_get(keys, "end_session_endpoint");
    app->post_logout_redirect_uri =
        apr_table_get(keys, "post_logout_redirect_uri");
    app->issuer = apr_table_get(keys, "issuer");
    app->server_metadata_url = apr_table_get(keys, "server_metadata_url");
    app->authorize_url = apr_table_get(keys, "authorize_url");
    app->authorize_params =
        form_or_empty(p, apr_table_get(keys, "authorize_params"));
    app->api_base_url = apr_table_get(keys, "api_base_url");
    app->scope = apr_table_get(keys, "scope");
    app->pkce_s256 = apr_table_get(keys, "code_challenge_method") != NULL;
    if ((v = apr_table_get(keys, "token_endpoint_auth_method"))) {
        app->token_endpoint_auth_method = enum_index(client_auth_methods, v);
    }
    if ((v = apr_table_get(keys, "token_placement"))) {
        app->token_placement = enum_index(placements, v);
    }
    if ((v = apr_table_get(keys, "signature_method"))) {
        app->signature_method = enum_index(sig_methods, v);
    }
    app->rsa_key_file = apr_table_get(keys, "rsa_key_file");
    app->realm = apr_table_get(keys, "realm");
    app->compliance_fixes = apr_array_make(p, 2, sizeof(const char *));
    if ((v = apr_table_get(keys, "compliance_fix"))) {
        char *list = apr_pstrdup(p, v), *last, *name;
        for (name = apr_strtok(list, ", ", &last); name;
             name = apr_strtok(NULL, ", ", &last)) {
            APR_ARRAY_PUSH(app->compliance_fixes, const char *) = name;
        }
    }
    app->user_claim = apr_table_get(keys, "user_claim");
    app->token_field_map = apr_table_get(keys, "token_field_map");
    app->jwks_uri = apr_table_get(keys, "jwks_uri");
    app->id_token_algs = apr_table_get(keys, "id_token_signed_response_alg");
    app->leeway = 60;
    app->client_key_file = apr_table_get(keys, "client_key_file");
    app->client_key_id = apr_table_get(keys, "client_key_id");
    app->apple_team_id = apr_table_get(keys, "apple_team_id");
    if (oac_fix_has(app, "apple")
        && !apr_table_get(keys, "token_endpoint_auth_method")) {
        app->token_endpoint_auth_method = OAC_AUTH_CLIENT_SECRET_POST;
    }
    app->dpop_alg = apr_table_get(keys, "dpop_signing_alg");
    app->dpop_key_file = apr_table_get(keys, "dpop_key_file");
    app->par_endpoint =
        apr_table_get(keys, "pushed_authorization_request_endpoint");
    if (apr_table_get(keys, "security_profile")
        && !apr_table_get(keys, "token_endpoint_auth_method")) {
        /* the profile's own: no client_secret is required below */
        app->token_endpoint_auth_method = OAC_AUTH_PRIVATE_KEY_JWT;
    }

    if (APR_SUCCESS != (rv = require_keys(perr, p, app, keys))
        || APR_SUCCESS != (rv = finish_oidc(perr, p, app, keys))
        || APR_SUCCESS != (rv = reject_other_version_keys(perr, p, app, keys))
        || APR_SUCCESS != (rv = finish_fapi2(perr, p, app, keys))
        || APR_SUCCESS != (rv = finish_signers(perr, p, app, keys))
        || APR_SUCCESS != (rv = finish_rsa_key(perr, p, app))
        || APR_SUCCESS != (rv = check_realm(perr, app))
        || APR_SUCCESS != (rv = finish_paths(perr, p, app, keys))) {
        return rv;
    }
    /* Without it, a session could not be told apart from one made for
     * another app of this name: no app rather than one that fails open. */
    if (!(app->session_bind = oac_app_session_bind(p, app))) {
        *perr = "cannot compute the app's session fingerprint (SHA-256 "
                "failed: is OpenSSL's default provider loaded?)";
        return APR_EGENERAL;
    }
    *papp = app;
    return APR_SUCCESS;
}

const char *oac_app_session_bind(apr_pool_t *p, const oac_app_t *app)
{
    /* and how the user's name is read from what they answer: an app that
     * names users by a claim its users may change (preferred_username)
     * is not the one that names them by sub */
    const char *const parts[] = {
        "mod_oauthclient session bind v1", app->client_id, app->issuer,
        app->server_metadata_url, app->access_token_url,
        app->request_token_url, app->userinfo_endpoint, app->user_claim,
        app->token_field_map,
        app->compliance_fixes
            ? apr_array_pstrcat(p, app->compliance_fixes, ',') : NULL
    };
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    apr_size_t i;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    for (i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); ++i) {
        const char *v = parts[i] ? parts[i] : "";
        /* each with its length: no two lists read as one */
        char head[24];
        int n = snprintf(head, sizeof(head), "%zu:", strlen(v));

        ok = EVP_DigestUpdate(ctx, head, (size_t)n) == 1
             && EVP_DigestUpdate(ctx, v, strlen(v)) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 9;
    EVP_MD_CTX_free(ctx);
    /* 9 bytes, 12 characters: the session cookie stays small, and a match
     * by chance is 2^-72 */
    return ok ? oac_util_b64url_encode(p, md, 9) : NULL;
}

apr_status_t oac_app_check_set(const char **perr, apr_pool_t *p,
                               const apr_array_header_t *apps)
{
    /* Exact, as the routes are matched: /In and /in are two paths. */
    apr_hash_t *seen = apr_hash_make(p);
    int i, j;
    for (i = 0; i < apps->nelts; ++i) {
        const oac_app_t *app = APR_ARRAY_IDX(apps, i, const oac_app_t *);
        const char *paths[3];
        const char *what[3] = { "login_path", "logout_path", "redirect_uri" };
        paths[0] = app->login_path;
        paths[1] = app->logout_path;
        paths[2] = app->redirect_path;
        for (j = 0; j < 3; ++j) {
            const char *owner = apr_hash_get(seen, paths[j],
                                             APR_HASH_KEY_STRING);
            if (owner) {
                *perr = apr_psprintf(p, "OAuthRemoteApp %s: %s path '%s' is "
                                     "already used by %s; give each app and "
                                     "each role its own path", app->name,
                                     what[j], paths[j], owner);
                return APR_EINVAL;
            }
            apr_hash_set(seen, paths[j], APR_HASH_KEY_STRING,
                         apr_psprintf(p, "the %s of app %s", what[j],
                                      app->name));
        }
    }
    return APR_SUCCESS;
}

const char *oac_app_client_auth_name(oac_client_auth_e m)
{
    return client_auth_methods[m];
}

const char *oac_app_placement_name(oac_placement_e m)
{
    return placements[m];
}

const char *oac_app_sig_method_name(oac_sig_method_e m)
{
    return sig_methods[m];
}
