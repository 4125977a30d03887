/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include "oac_fix.h"
#include "oac_form.h"
#include "oac_util.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *const oac_fix_names[] = {
    "facebook",     /* "expires" for expires_in, text/plain form bodies */
    "slack",        /* the user's token nested under "authed_user" */
    "camelcase",    /* accessToken, refreshToken, expiresIn, tokenType */
    "linkedin",     /* API calls carry ?oauth2_access_token= */
    "weibo",        /* API calls carry ?access_token= */
    "microsoft",    /* Entra ID: the issuer names the tenant, by its ID */
    "apple",        /* the client_secret is a JWT the client signs */
    NULL
};

static const char *const token_fields[] = {
    "access_token", "refresh_token", "token_type", "expires_in", "scope", NULL
};

int oac_fix_has(const oac_app_t *app, const char *name)
{
    int i;
    for (i = 0; app->compliance_fixes && i < app->compliance_fixes->nelts;
         ++i) {
        if (!strcmp(APR_ARRAY_IDX(app->compliance_fixes, i, const char *),
                    name)) {
            return 1;
        }
    }
    return 0;
}

static void json_cleanup_register(apr_pool_t *p, json_t *j);

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static void json_cleanup_register(apr_pool_t *p, json_t *j)
{
    apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
}

/* The body as a JSON object, whether it came as JSON or as a form. */
static json_t *body_to_object(apr_pool_t *p, const oac_http_response_t *resp)
{
    apr_size_t i = 0;
    apr_array_header_t *form;
    const char *why;
    json_t *o;
    int k;

    while (i < resp->body_len && strchr(" \t\r\n", resp->body[i])) {
        ++i;
    }
    if (i < resp->body_len && resp->body[i] == '{') {
        /* A repeated field is left for the parser to refuse: keeping one
         * of them here would let a fix pick what the parser will not. */
        o = oac_util_json_loadb(resp->body, resp->body_len,
                                JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            return NULL;
        }
        json_cleanup_register(p, o);
        return o;
    }
    /* An HTML error page is no form, even if it parses as one. What the
     * parser would refuse (a NUL, a name or value that is no UTF-8, a
     * repeated name) is left to it: dropped here, the rest would pass. */
    if ((resp->content_type && strstr(resp->content_type, "html"))
        || !memchr(resp->body, '=', resp->body_len)
        || memchr(resp->body, '\0', resp->body_len)
        || oac_form_decode(&form, &why, p,
                           apr_pstrmemdup(p, resp->body, resp->body_len))
           != APR_SUCCESS || !form->nelts) {
        return NULL;
    }
    o = json_object();
    json_cleanup_register(p, o);
    for (k = 0; k < form->nelts; ++k) {
        const oac_param_t *kv = &APR_ARRAY_IDX(form, k, oac_param_t);
        json_t *v;
        /* json_object_set_new() takes v, set or not */
        if (json_object_get(o, kv->name) || !(v = json_string(kv->value))
            || json_object_set_new(o, kv->name, v) != 0) {
            return NULL;
        }
    }
    return o;
}

static void rename_field(json_t *o, const char *from, const char *to)
{
    json_t *v = json_object_get(o, from);
    if (v && !json_object_get(o, to)) {
        json_object_set(o, to, v);
        json_object_del(o, from);
    }
}

/* Slack answers a user-token request with the bot's (or nothing) at the
 * top level and the user's token under authed_user. The user's is the
 * login's: a bot token is the workspace's, and taken for the user it
 * would be every user's (forwarded, used for OAuthProxyAPI). The bot's
 * fields the user's do not replace go, and Slack's token types ("user",
 * "bot") are bearer tokens. */
static void lift_authed_user(json_t *o)
{
    json_t *user = json_object_get(o, "authed_user"), *type;
    const char *const *f;
    int lifted = json_is_object(user)
                 && json_is_string(json_object_get(user, "access_token"));

    for (f = token_fields; lifted && *f; ++f) {
        json_t *v = json_object_get(user, *f);
        if (v) {
            json_object_set(o, *f, v);
        }
        else {
            json_object_del(o, *f);
        }
    }
    /* A refresh answers the user's token at the top level, of type
     * "user" too (token rotation). */
    type = json_object_get(o, "token_type");
    if ((lifted && !type)
        || (json_is_string(type)
            && (!strcmp(json_string_value(type), "user")
                || !strcmp(json_string_value(type), "bot")))) {
        json_object_set_new(o, "token_type", json_string("Bearer"));
    }
}

static json_t *lookup_path(json_t *o, const char *path, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, path), *last, *part;
    json_t *v = o;
    for (part = apr_strtok(copy, ".", &last); part && v;
         part = apr_strtok(NULL, ".", &last)) {
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
    }
    return v;
}

static void apply_field_map(json_t *o, const char *map, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, map), *last, *pair;
    for (pair = apr_strtok(copy, ",", &last); pair;
         pair = apr_strtok(NULL, ",", &last)) {
        char *colon = strchr(pair, ':');
        json_t *v;
        if (!colon) {
            continue;
        }
        *colon = '\0';
        if ((v = lookup_path(o, pair, p))) {
            json_object_set(o, colon + 1, v);
            if (!strchr(pair, '.') && strcmp(pair, colon + 1)) {
                json_object_del(o, pair);
            }
        }
    }
}

apr_status_t oac_fix_token_response(oac_http_response_t *resp,
                                    const char **perr, apr_pool_t *p,
                                    const oac_app_t *app)
{
    int facebook = oac_fix_has(app, "facebook");
    int slack = oac_fix_has(app, "slack");
    int camel = oac_fix_has(app, "camelcase");
    json_t *o;
    char *text;

    if (!facebook && !slack && !camel && !app->token_field_map) {
        return APR_SUCCESS;
    }
    if (!resp->body || !(o = body_to_object(p, resp))) {
        return APR_SUCCESS;
    }
    if (facebook) {
        rename_field(o, "expires", "expires_in");
    }
    if (camel) {
        rename_field(o, "accessToken", "access_token");
        rename_field(o, "refreshToken", "refresh_token");
        rename_field(o, "expiresIn", "expires_in");
        rename_field(o, "tokenType", "token_type");
        rename_field(o, "idToken", "id_token");
    }
    if (slack) {
        lift_authed_user(o);
    }
    if (app->token_field_map) {
        apply_field_map(o, app->token_field_map, p);
    }
    if (!(text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        *perr = "cannot rewrite the token response";
        return APR_ENOMEM;
    }
    resp->body = apr_pstrdup(p, text);
    resp->body_len = strlen(text);
    resp->content_type = "application/json";
    free(text);
    return APR_SUCCESS;
}

const char *oac_fix_api_token_param(const oac_app_t *app)
{
    if (oac_fix_has(app, "linkedin")) {
        return "oauth2_access_token";
    }
    if (oac_fix_has(app, "weibo")) {
        return "access_token";
    }
    return NULL;
}

apr_status_t oac_fix_check_field_map(const char **perr, apr_pool_t *p,
                                     const char *map)
{
    char *copy = apr_pstrdup(p, map), *last, *pair;
    for (pair = apr_strtok(copy, ",", &last); pair;
         pair = apr_strtok(NULL, ",", &last)) {
        char *colon = strchr(pair, ':');
        const char *const *f;
        if (!colon || colon == pair || !colon[1]) {
            *perr = apr_psprintf(p, "token_field_map entry '%s' is not "
                                 "from:to (e.g. accessToken:access_token)",
                                 pair);
            return APR_EINVAL;
        }
        for (f = token_fields; *f && strcmp(*f, colon + 1); ++f) {
        }
        if (!*f) {
            *perr = apr_psprintf(p, "token_field_map target '%s' is not one "
                                 "of access_token, refresh_token, "
                                 "token_type, expires_in, scope", colon + 1);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* Microsoft Entra ID names a tenant in its URLs by ID, by a domain
 * (contoso.onmicrosoft.com) or by a group of tenants (common,
 * organizations, consumers), and in its issuer always by ID: a document
 * fetched under another name names the ID, or for a group the template
 * {tenantid}, which each id_token's tid fills. */
#define TENANT_TEMPLATE "{tenantid}"
#define TENANT_TEMPLATE_LEN (sizeof(TENANT_TEMPLATE) - 1)
#define GUID_LEN 36

static int is_guid(const char *s, apr_size_t len)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    apr_size_t i;

    if (len != GUID_LEN) {
        return 0;
    }
    for (i = 0; i < len; ++i) {
        if (shape[i] == '-' ? s[i] != '-'
                            : !apr_isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static int segment_is(const char *seg, apr_size_t len, const char *name)
{
    return len == strlen(name) && !strncmp(seg, name, len);
}

/* A tenant's name in a URL path: an ID, a domain or a group's name. */
static int is_tenant_name(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (!len || len > 255 || segment_is(s, len, ".")
        || segment_is(s, len, "..")) {
        return 0;
    }
    for (i = 0; i < len; ++i) {
        if (!apr_isalnum((unsigned char)s[i]) && !strchr(".-_", s[i])) {
            return 0;
        }
    }
    return 1;
}

/* The first path segment of an http(s) URL without userinfo: its offset
 * in *poff and length in *plen; 0 when there is none. */
static int first_segment(const char *url, apr_size_t *poff, apr_size_t *plen)
{
    const char *auth, *seg;
    apr_size_t alen;

    if (!strncmp(url, "https://", 8)) {
        auth = url + 8;
    }
    else if (!strncmp(url, "http://", 7)) {
        auth = url + 7;
    }
    else {
        return 0;
    }
    alen = strcspn(auth, "/?#");
    if (!alen || auth[alen] != '/' || memchr(auth, '@', alen)) {
        return 0;
    }
    seg = auth + alen + 1;
    *poff = (apr_size_t)(seg - url);
    *plen = strcspn(seg, "/?#");
    return 1;
}

/* common and organizations stand for several tenants. */
static int is_tenant_group(const char *seg, apr_size_t len)
{
    return segment_is(seg, len, "common")
           || segment_is(seg, len, "organizations");
}

/* Where {tenantid} stands in the app's issuer, when the microsoft fix
 * fills it; NULL otherwise. */
static const char *tenant_template(const oac_app_t *app)
{
    const char *t = app->issuer ? strstr(app->issuer, TENANT_TEMPLATE)
                                : NULL;

    return t && oac_fix_has(app, "microsoft") ? t : NULL;
}

const char *oac_fix_metadata_issuer(const oac_app_t *app,
                                    const char *expected, const char *iss)
{
    apr_size_t off, len, ioff, ilen;
    const char *seg;

    /* Never widens an issuer the administrator named (the issuer key),
     * and only takes what the URL's first segment may stand for. */
    if (!oac_fix_has(app, "microsoft") || app->issuer
        || !first_segment(expected, &off, &len)
        || !first_segment(iss, &ioff, &ilen) || ioff != off
        || strncmp(expected, iss, off)
        || strcmp(expected + off + len, iss + off + ilen)
        || !is_tenant_name(expected + off, len)) {
        return NULL;
    }
    seg = expected + off;
    if (is_tenant_group(seg, len)) {
        /* several tenants: the template */
        return segment_is(iss + off, ilen, TENANT_TEMPLATE) ? iss : NULL;
    }
    /* consumers, or one tenant by its domain: that tenant's ID; a URL
     * naming an ID must be answered with that ID */
    return !is_guid(seg, len) && is_guid(iss + off, ilen) ? iss : NULL;
}

int oac_fix_multi_tenant(const oac_app_t *app)
{
    apr_size_t off, len;

    return oac_fix_has(app, "microsoft") && app->server_metadata_url
           && !app->issuer
           && first_segment(app->server_metadata_url, &off, &len)
           && is_tenant_group(app->server_metadata_url + off, len);
}

int oac_fix_issuer_is_template(const char *issuer)
{
    return issuer && strstr(issuer, TENANT_TEMPLATE) != NULL;
}

/* Google documents its id_tokens' iss as https://accounts.google.com or
 * accounts.google.com, and its own libraries take both (the second is
 * the form OpenID Connect Core 1.0's 2014 errata note as Google's). */
#define GOOGLE_HOST "accounts.google.com"
#define GOOGLE_ISSUER "https://" GOOGLE_HOST

const char *oac_fix_token_issuer(const char **pwhy, apr_pool_t *p,
                                 const oac_app_t *app, const json_t *claims)
{
    const char *t = tenant_template(app);
    json_t *tid, *iss;

    if (app->issuer && !strcmp(app->issuer, GOOGLE_ISSUER)
        && (iss = json_object_get(claims, "iss")) && json_is_string(iss)
        && !strcmp(json_string_value(iss), GOOGLE_HOST)) {
        return GOOGLE_HOST;
    }
    if (!t) {
        return app->issuer;
    }
    tid = json_object_get(claims, "tid");
    if (!json_is_string(tid)) {
        *pwhy = tid ? "id_token tid is not a string"
                    : "id_token has no tid, the tenant that the issuer's "
                      "{tenantid} stands for";
        return NULL;
    }
    if (!is_guid(json_string_value(tid), json_string_length(tid))) {
        *pwhy = "id_token tid is not a tenant ID (a GUID)";
        return NULL;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, app->issuer,
                                         (apr_size_t)(t - app->issuer)),
                       json_string_value(tid), t + TENANT_TEMPLATE_LEN,
                       NULL);
}

int oac_fix_issuer_matches(const oac_app_t *app, const char *iss)
{
    const char *t = tenant_template(app);
    apr_size_t pre, len = strlen(iss);

    if (!t) {
        return app->issuer && !strcmp(iss, app->issuer);
    }
    pre = (apr_size_t)(t - app->issuer);
    return len == pre + GUID_LEN + strlen(t + TENANT_TEMPLATE_LEN)
           && !strncmp(iss, app->issuer, pre)
           && is_guid(iss + pre, GUID_LEN)
           && !strcmp(iss + pre + GUID_LEN, t + TENANT_TEMPLATE_LEN);
}

/* A name part as a claim may carry it: a string of 1 to 256 bytes with
 * no control character (Jansson's strings are UTF-8 already). */
static const char *name_part(const json_t *name, const char *key)
{
    const char *v = json_string_value(json_object_get(name, key));

    return v && *v && strlen(v) <= 256 && !oac_util_has_control(v)
           ? v : NULL;
}

int oac_fix_apple_user(const oac_app_t *app, json_t *claims,
                       const char *user)
{
    json_t *doc, *name;
    const char *first, *last;
    int added = 0;

    if (!oac_fix_has(app, "apple") || !json_is_object(claims) || !user
        || strlen(user) > 4096
        || !(doc = oac_util_json_loadb(user, strlen(user),
                                       JSON_REJECT_DUPLICATES, NULL))) {
        return 0;
    }
    name = json_object_get(doc, "name");
    first = name_part(name, "firstName");
    last = name_part(name, "lastName");
    if (first && !json_object_get(claims, "given_name")) {
        json_object_set_new(claims, "given_name", json_string(first));
        ++added;
    }
    if (last && !json_object_get(claims, "family_name")) {
        json_object_set_new(claims, "family_name", json_string(last));
        ++added;
    }
    if ((first || last) && !json_object_get(claims, "name")) {
        char *full = malloc((first ? strlen(first) : 0)
                            + (last ? strlen(last) : 0) + 2);
        if (full) {
            strcpy(full, first ? first : "");
            if (first && last) {
                strcat(full, " ");
            }
            strcat(full, last ? last : "");
            json_object_set_new(claims, "name", json_string(full));
            free(full);
            ++added;
        }
    }
    json_decref(doc);
    return added;
}

int oac_fix_apple_needs_form_post(const char *scope)
{
    return scope && (oac_scope_has(scope, "name")
                     || oac_scope_has(scope, "email"));
}
