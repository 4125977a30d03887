/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Provider metadata (oac_metadata_apply): a discovery document, fetched
 * at one of a few URLs, for an app with or without the issuer key and
 * compliance_fix=microsoft; then the same bytes as id_token claims for
 * the fix's issuer checks (oac_fix_token_issuer, oac_fix_issuer_matches),
 * and as Sign in with Apple's "user" form field (oac_fix_apple_user).
 *
 * Input: a selector byte (bits 0-2 the URL, 3-4 the issuer key, 5 openid,
 * 6 the fix), then the document.
 */

#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "oac_app.h"
#include "oac_fix.h"
#include "oac_metadata.h"
#include "oac_url.h"
#include "oac_util.h"

FUZZ_APR_INITIALIZE

static const char *const urls[] = {
    "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
    "https://login.microsoftonline.com/contoso.example/v2.0/.well-known/openid-configuration",
    "https://as.example/.well-known/oauth-authorization-server/t1",
    "https://as.example/.well-known/openid-configuration",
    "https://as.example/realms/x/.well-known/openid-configuration",
    "https://accounts.google.com/.well-known/openid-configuration",
    "http://127.0.0.1:8080/.well-known/openid-configuration",
    "https://tenant.auth0.example/.well-known/openid-configuration",
};
static const char *const issuers[] = {
    NULL, "https://as.example", "https://accounts.google.com",
    "https://login.microsoftonline.com/{tenantid}/v2.0",
};

/* id_token_algs: RS256 first, then at most 31 more distinct printable
 * names without ',' of at most 32 bytes, never none or an HMAC. */
static void check_algs(apr_pool_t *p, const char *algs)
{
    char *list = apr_pstrdup(p, algs), *last, *name;
    apr_array_header_t *seen = apr_array_make(p, 8, sizeof(char *));
    int i;

    CHECK(!strncmp(algs, "RS256", 5) && (!algs[5] || algs[5] == ','));
    for (name = apr_strtok(list, ",", &last); name;
         name = apr_strtok(NULL, ",", &last)) {
        CHECK(*name && strlen(name) <= 32 && oac_util_is_vschar(name)
              && !strchr(name, ' '));
        CHECK(strcasecmp(name, "none") && strncmp(name, "HS", 2));
        for (i = 0; i < seen->nelts; ++i) {
            CHECK(strcmp(name, APR_ARRAY_IDX(seen, i, char *)));
        }
        APR_ARRAY_PUSH(seen, char *) = name;
    }
    CHECK(seen->nelts >= 1 && seen->nelts <= 32);
}

static void check_url(const char *url)
{
    size_t i;

    if (!url) {
        return;
    }
    for (i = 0; url[i]; ++i) {
        CHECK((unsigned char)url[i] > 0x20 && url[i] != 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    oac_app_t app, *out = NULL;
    const char *why = NULL, *iss;
    unsigned mode;
    json_t *claims;

    if (size < 1) {
        return 0;
    }
    mode = data[0];
    apr_pool_create(&p, NULL);
    memset(&app, 0, sizeof(app));
    app.name = "fuzz";
    app.version = OAC_OAUTH2;
    app.client_id = "client";
    app.server_metadata_url = urls[mode & 7];
    app.issuer = issuers[(mode >> 3) & 3];
    app.oidc = (mode >> 5) & 1;
    app.compliance_fixes = apr_array_make(p, 1, sizeof(const char *));
    if (mode & 0x40) {
        APR_ARRAY_PUSH(app.compliance_fixes, const char *) = "microsoft";
    }
    if (oac_metadata_apply(&out, &why, p, &app,
                           apr_pstrmemdup(p, (const char *)data + 1, size - 1),
                           size - 1) == APR_SUCCESS) {
        /* no authorize_url: a server of machine tokens (no login) */
        CHECK(out && out->issuer && out->access_token_url);
        /* the administrator's pin is never widened */
        CHECK(!app.issuer || !strcmp(out->issuer, app.issuer));
        check_url(out->issuer);
        check_url(out->authorize_url);
        check_url(out->access_token_url);
        check_url(out->jwks_uri);
        check_url(out->userinfo_endpoint);
        if (out->id_token_algs && !app.id_token_algs) {
            check_algs(p, out->id_token_algs);
        }
    }
    else {
        CHECK(!out && why && *why);
    }
    /* the same bytes as an id_token's claims */
    claims = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (json_is_object(claims)) {
        const oac_app_t *a = out ? out : &app;
        why = NULL;
        if ((iss = oac_fix_token_issuer(&why, p, a, claims))) {
            CHECK(oac_util_is_vschar(iss));
            (void)oac_fix_issuer_matches(a, iss);
        }
    }
    json_decref(claims);
    /* the same bytes as Sign in with Apple's first-login "user" field:
     * only name claims, printable, as long as their parts allow */
    {
        static const char *const apple[] = { "apple" };
        apr_array_header_t fixes = { p, sizeof(char *), 1, 1,
                                     (char *)apple };
        json_t *c = json_object(), *v;
        const char *key;
        int added;

        app.compliance_fixes = &fixes;
        added = oac_fix_apple_user(&app, c,
                                   apr_pstrmemdup(p, (const char *)data + 1,
                                                  size - 1));
        CHECK(added == (int)json_object_size(c) && added <= 3);
        json_object_foreach(c, key, v) {
            const char *t = json_string_value(v);
            size_t i;
            CHECK(!strcmp(key, "given_name") || !strcmp(key, "family_name")
                  || !strcmp(key, "name"));
            CHECK(t && *t && strlen(t) <= 513);
            for (i = 0; t[i]; ++i) {
                CHECK((unsigned char)t[i] >= 0x20 && t[i] != 0x7f);
            }
        }
        json_decref(c);
    }
    apr_pool_destroy(p);
    return 0;
}
