/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * App declarations: oac_app_tokenize on an OAuthRemoteApp line, then
 * oac_app_decl_set on every pair, oac_app_finalize and
 * oac_app_check_set on the result. Input: the arguments of the line.
 */

#include <strings.h>

#include <apr_lib.h>

#include "fuzz_common.h"
#include "oac_app.h"
#include "oac_url.h"

/* More than one line of every key, twice over. */
#define MAX_PAIRS 64

/* The keys oac_app.h's users may declare; decl_set takes no other. */
static const char *const known_keys[] = {
    /* every key of src/oac_app.c's key_specs */
    "client_id", "client_secret", "request_token_url", "request_token_params",
    "access_token_url", "access_token_params", "refresh_token_url",
    "revocation_endpoint", "end_session_endpoint", "post_logout_redirect_uri",
    "issuer", "server_metadata_url", "jwks_uri",
    "id_token_signed_response_alg", "leeway", "authorize_url",
    "authorize_params", "api_base_url", "client_kwargs", "scope",
    "code_challenge_method", "token_endpoint_auth_method", "token_placement",
    "signature_method", "rsa_key_file", "realm", "compliance_fix",
    "token_field_map", "redirect_uri", "login_path", "logout_path",
    "userinfo_endpoint", "user_claim", "client_key_file", "client_key_id",
    "apple_team_id",
    "dpop_signing_alg", "dpop_key_file", "security_profile",
    "pushed_authorization_request_endpoint", NULL
};

static const char *const url_keys[] = {
    "request_token_url", "access_token_url", "refresh_token_url",
    "authorize_url", "api_base_url", NULL
};
static const char *const path_keys[] = { "login_path", "logout_path", NULL };
static const char *const form_keys[] = {
    "request_token_params", "access_token_params", "authorize_params", NULL
};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; ++list) {
        if (!strcmp(*list, s)) {
            return 1;
        }
    }
    return 0;
}

static int is_local_path(const char *v)
{
    const char *c;

    if (v[0] != '/' || v[1] == '/') {
        return 0;
    }
    for (c = v; *c; ++c) {
        if (*c == '?' || *c == '#' || apr_isspace(*c) || apr_iscntrl(*c)) {
            return 0;
        }
    }
    return 1;
}

static int url_ok(apr_pool_t *p, const char *v)
{
    apr_uri_t u;
    const char *err;

    return v && oac_url_check(&u, &err, p, v) == APR_SUCCESS;
}

/* Quoted as the tokenizer reads quotes: \" and \\ escaped. */
static const char *quote_pair(apr_pool_t *p, const oac_param_t *kv)
{
    const char *s = apr_pstrcat(p, kv->name, "=", kv->value, NULL);
    char *out = apr_palloc(p, 2 * strlen(s) + 3), *o = out;

    *o++ = '"';
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* What oac_app_decl_set promises about a value it records. */
static void check_recorded(apr_pool_t *p, const char *key, const char *value)
{
    apr_array_header_t *form;
    const char *err;

    CHECK(*value);
    if (in_list(url_keys, key)) {
        CHECK(url_ok(p, value));
    }
    if (in_list(path_keys, key)) {
        CHECK(is_local_path(value));
    }
    if (!strcmp(key, "redirect_uri")) {
        CHECK(value[0] == '/' ? is_local_path(value) : url_ok(p, value));
    }
    if (in_list(form_keys, key) || !strcmp(key, "client_kwargs")) {
        CHECK(oac_form_decode(&form, &err, p, value) == APR_SUCCESS);
    }
    if (!strcmp(key, "token_endpoint_auth_method")) {
        static const char *const ok[] = {
            "client_secret_basic", "client_secret_post", "none", NULL };
        CHECK(in_list(ok, value));
    }
    if (!strcmp(key, "signature_method")) {
        static const char *const ok[] = {
            "HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT", NULL };
        CHECK(in_list(ok, value));
    }
}

/* What a finalized app may be trusted with by the rest of the module. */
static void check_app(apr_pool_t *p, const oac_app_t *app)
{
    apr_array_header_t *one, *two;
    const char *err;
    const unsigned char *c;

    CHECK(app->client_id && *app->client_id);
    /* an OAuth 2 app without authorize_url serves service tokens only */
    CHECK((app->version == OAC_OAUTH2 && !app->authorize_url)
          || url_ok(p, app->authorize_url));
    CHECK(url_ok(p, app->access_token_url));
    CHECK(url_ok(p, app->refresh_token_url));
    CHECK(!app->api_base_url || url_ok(p, app->api_base_url));
    CHECK(!app->userinfo_endpoint || url_ok(p, app->userinfo_endpoint));
    CHECK((app->version == OAC_OAUTH1) == (app->request_token_url != NULL));
    CHECK(!app->request_token_url || url_ok(p, app->request_token_url));
    CHECK(app->login_path[0] == '/' && app->logout_path[0] == '/');
    CHECK(app->redirect_path && app->redirect_path[0] == '/');
    for (c = (const unsigned char *)app->realm; c && *c; ++c) {
        CHECK(*c >= 0x20 && *c != 0x7f && *c != '"' && *c != '\\');
    }
    CHECK(app->client_secret || (app->version == OAC_OAUTH2
                                 && app->token_endpoint_auth_method
                                    == OAC_AUTH_NONE));
    CHECK(app->request_token_params && app->access_token_params
          && app->authorize_params && app->compliance_fixes);

    one = apr_array_make(p, 2, sizeof(const oac_app_t *));
    APR_ARRAY_PUSH(one, const oac_app_t *) = app;
    /* Its own three paths may coincide (then it is refused alone); they
     * are compared exactly, as the routes are matched. */
    if (strcmp(app->login_path, app->logout_path)
        && strcmp(app->login_path, app->redirect_path)
        && strcmp(app->logout_path, app->redirect_path)) {
        CHECK(oac_app_check_set(&err, p, one) == APR_SUCCESS);
    }
    two = apr_array_copy(p, one);
    APR_ARRAY_PUSH(two, const oac_app_t *) = app;
    CHECK(oac_app_check_set(&err, p, two) != APR_SUCCESS);
}

/* finalize loads rsa_key_file from disk: the fuzzer must not name files,
 * so a declaration that could reach the load is not finalized. */
static int may_load_file(apr_pool_t *p, const oac_app_decl_t *d)
{
    const char *kw = apr_table_get(d->keys, "client_kwargs");
    apr_array_header_t *form;
    const char *err;

    if (apr_table_get(d->keys, "rsa_key_file")) {
        return 1;
    }
    return kw && oac_form_decode(&form, &err, p, kw) == APR_SUCCESS
           && oac_form_get(form, "rsa_key_file");
}

FUZZ_APR_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *pairs, *again, *quoted;
    const char *line, *err = NULL;
    oac_app_decl_t *decl;
    oac_app_t *app;
    int i, unknown;

    apr_pool_create(&p, NULL);
    line = apr_pstrmemdup(p, (const char *)data, size);
    if (oac_app_tokenize(&pairs, &err, p, line) != APR_SUCCESS) {
        CHECK(err != NULL);
        apr_pool_destroy(p);
        return 0;
    }
    /* Pairs are key=value with a non-empty key; quoting each pair back
     * gives the same pairs (the tokenizer loses nothing it keeps). */
    quoted = apr_array_make(p, pairs->nelts + 1, sizeof(const char *));
    for (i = 0; i < pairs->nelts; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(pairs, i, oac_param_t);
        CHECK(*kv->name && !strchr(kv->name, '='));
        APR_ARRAY_PUSH(quoted, const char *) = quote_pair(p, kv);
    }
    CHECK(oac_app_tokenize(&again, &err, p,
                           apr_array_pstrcat(p, quoted, ' ')) == APR_SUCCESS);
    CHECK(fuzz_form_equal(pairs, again));

    /* Each unknown key costs an edit distance to every known one (the
     * "did you mean" hint); with coverage instrumentation, lines of junk
     * keys took most of the run. One per line covers that path. */
    decl = oac_app_decl_make(p, "fuzz");
    for (i = 0, unknown = 0; i < pairs->nelts && i < MAX_PAIRS; ++i) {
        const oac_param_t *kv = &APR_ARRAY_IDX(pairs, i, oac_param_t);
        int known = in_list(known_keys, kv->name);
        int repeated = !strcmp(kv->name, "client_kwargs")
                       && apr_table_get(decl->keys, kv->name);

        if (!known && unknown++) {
            continue;
        }

        if (oac_app_decl_set(&err, p, decl, kv->name, kv->value)
            == APR_SUCCESS) {
            const char *kept = apr_table_get(decl->keys, kv->name);
            CHECK(known);
            if (repeated) {
                /* merged key by key: every key of the later bundle is
                 * there with the later value */
                apr_array_header_t *later, *merged;
                const char *why;
                int j;
                CHECK(oac_form_decode(&later, &why, p, kv->value)
                      == APR_SUCCESS);
                CHECK(oac_form_decode(&merged, &why, p, kept)
                      == APR_SUCCESS);
                for (j = 0; j < later->nelts; ++j) {
                    const oac_param_t *lv = &APR_ARRAY_IDX(later, j,
                                                           oac_param_t);
                    CHECK(fuzz_streq(oac_form_get(merged, lv->name),
                                     oac_form_get(later, lv->name)));
                }
                check_recorded(p, kv->name, kept);
            }
            else {
                CHECK(fuzz_streq(kept, kv->value));
                check_recorded(p, kv->name, kv->value);
            }
        }
        else {
            CHECK(err != NULL);
        }
    }
    if (!may_load_file(p, decl)
        && oac_app_finalize(&app, &err, p, decl) == APR_SUCCESS) {
        check_app(p, app);
    }
    apr_pool_destroy(p);
    return 0;
}
