/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <jansson.h>

#include "oac_form.h"
#include "oac_token.h"
#include "oac_util.h"

/* Provider error text is echoed to logs and error pages: keep it short. */
#define OAC_TOKEN_ERROR_TEXT_MAX 200

/* ~31 million years: large enough for any provider, small enough that
 * now + expires_in cannot overflow. */
#define OAC_TOKEN_SECONDS_MAX APR_INT64_C(1000000000000000)

/* ---- small helpers ---------------------------------------------------- */


/* Compact JSON text of any value, copied to the pool. */
static const char *json_text(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy;

    if (!s) {
        return "";
    }
    copy = apr_pstrdup(p, s);
    free(s);
    return copy;
}

/* The value as text: a string as is, anything else as JSON. */
static const char *value_text(apr_pool_t *p, const json_t *v)
{
    return json_is_string(v) ? apr_pstrdup(p, json_string_value(v))
                             : json_text(p, v);
}

/* Member of obj, with JSON null read as absent. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_null(v) ? NULL : v;
}

static int is_json_type(const char *ct)
{
    apr_size_t len;

    if (!ct) {
        return 0;
    }
    ct += strspn(ct, " \t");
    len = strcspn(ct, "; \t");
    if (len == 16 && strncasecmp(ct, "application/json", 16) == 0) {
        return 1;
    }
    return len > 5 && strncasecmp(ct + len - 5, "+json", 5) == 0;
}

/* Skips a UTF-8 BOM and leading whitespace; drops trailing whitespace. */
static const char *trim_body(const char *body, apr_size_t *plen)
{
    apr_size_t len = *plen;

    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        len -= 3;
    }
    while (len > 0 && *body && strchr(" \t\r\n", *body)) {
        ++body;
        --len;
    }
    while (len > 0 && body[len - 1] && strchr(" \t\r\n", body[len - 1])) {
        --len;
    }
    *plen = len;
    return body;
}

/* ---- reading the body into a JSON object ---------------------------- */

/*
 * Jansson's message may quote the text near the error ("near 'abc...'"),
 * which could be a piece of a token: keep only the part before it.
 */
static const char *json_error_text(apr_pool_t *p, const json_error_t *err)
{
    const char *near = strstr(err->text, " near ");
    apr_size_t len = near ? (apr_size_t)(near - err->text) : strlen(err->text);

    return apr_psprintf(p, "%s at line %d column %d",
                        oac_util_sanitize(p,
                                          apr_pstrmemdup(p, err->text, len),
                                          OAC_TOKEN_ERROR_TEXT_MAX),
                        err->line, err->column);
}

static apr_status_t load_json(json_t **pjson, const char **perr,
                              apr_pool_t *p, const char *body, apr_size_t len)
{
    json_error_t err;
    json_t *json = oac_util_json_loadb(body, len, JSON_REJECT_DUPLICATES,
                                       &err);

    if (!json) {
        *perr = apr_pstrcat(p, "token response is not valid JSON: ",
                            json_error_text(p, &err), NULL);
        return APR_EINVAL;
    }
    if (!json_is_object(json)) {
        *perr = "token response is not valid JSON: top level is not an "
                "object at line 1 column 1";
        json_decref(json);
        return APR_EINVAL;
    }
    *pjson = json;
    return APR_SUCCESS;
}

/* Same shape as a JSON body, so the rest has one path: strings only. */
static apr_status_t form_to_json(json_t **pjson, const char **perr,
                                 apr_pool_t *p,
                                 const apr_array_header_t *form)
{
    const oac_param_t *params = (const oac_param_t *)form->elts;
    json_t *json = json_object();
    int i;

    for (i = 0; i < form->nelts; ++i) {
        if (json_object_get(json, params[i].name)) {
            *perr = apr_psprintf(p, "token response repeats field '%s'",
                                 oac_util_sanitize(p, params[i].name, 64));
            json_decref(json);
            return APR_EINVAL;
        }
        if (json_object_set_new(json, params[i].name,
                                json_string(params[i].value))) {
            *perr = "token response has a field that is not valid UTF-8";
            json_decref(json);
            return APR_EINVAL;
        }
    }
    *pjson = json;
    return APR_SUCCESS;
}

static apr_status_t load_form(json_t **pjson, const char **perr,
                              apr_pool_t *p, const char *body, apr_size_t len)
{
    apr_array_header_t *form;
    const char *why;

    if (memchr(body, '\0', len)) {
        *perr = "token response contains a NUL byte";
        return APR_EINVAL;
    }
    if (oac_form_decode(&form, &why, p, apr_pstrmemdup(p, body, len))
        != APR_SUCCESS) {
        *perr = apr_pstrcat(p, "token response is not valid form data: ",
                            why, NULL);
        return APR_EINVAL;
    }
    return form_to_json(pjson, perr, p, form);
}

static apr_status_t load_body(json_t **pjson, const char **perr,
                              apr_pool_t *p, const char *content_type,
                              const char *body, apr_size_t len)
{
    if (!body) {
        len = 0;
    }
    body = trim_body(body ? body : "", &len);
    if (len == 0) {
        *perr = "token response is empty";
        return APR_EINVAL;
    }
    if (is_json_type(content_type) || body[0] == '{') {
        return load_json(pjson, perr, p, body, len);
    }
    return load_form(pjson, perr, p, body, len);
}

/* ---- fields ----------------------------------------------------------- */

static apr_status_t check_provider_error(const char **perr, apr_pool_t *p,
                                         const json_t *json)
{
    const json_t *error = member(json, "error");
    const json_t *desc = member(json, "error_description");

    if (!error) {
        return APR_SUCCESS;
    }
    *perr = apr_psprintf(p, "provider returned error '%s'%s%s",
                         oac_util_sanitize(p, value_text(p, error),
                                           OAC_TOKEN_ERROR_TEXT_MAX),
                         desc ? ": " : "",
                         desc ? oac_util_sanitize(p, value_text(p, desc),
                                                  OAC_TOKEN_ERROR_TEXT_MAX)
                              : "");
    return APR_EGENERAL;
}

/* An optional string field; NULL when absent or null. */
static apr_status_t take_string(const char **pv, const char **perr,
                                apr_pool_t *p, const json_t *json,
                                const char *field)
{
    const json_t *v = member(json, field);

    if (!v) {
        *pv = NULL;
        return APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        *perr = apr_psprintf(p, "token response field '%s' is not a string",
                             field);
        return APR_EINVAL;
    }
    *pv = apr_pstrdup(p, json_string_value(v));
    return APR_SUCCESS;
}

/* Some providers send scope as a JSON array of strings. */
static apr_status_t take_scope(const char **pv, const char **perr,
                               apr_pool_t *p, const json_t *json)
{
    const json_t *v = member(json, "scope");
    apr_array_header_t *parts;
    size_t i;

    if (!json_is_array(v)) {
        return take_string(pv, perr, p, json, "scope");
    }
    parts = apr_array_make(p, (int)json_array_size(v) + 1, sizeof(char *));
    for (i = 0; i < json_array_size(v); ++i) {
        const json_t *item = json_array_get(v, i);

        if (!json_is_string(item)) {
            *perr = "token response field 'scope' is not a string or an "
                    "array of strings";
            return APR_EINVAL;
        }
        APR_ARRAY_PUSH(parts, const char *) = json_string_value(item);
    }
    *pv = apr_array_pstrcat(p, parts, ' ');
    return APR_SUCCESS;
}

static int parse_digits(apr_int64_t *pv, const char *s)
{
    apr_int64_t v = 0;

    if (!*s || strlen(s) > 18) {
        return 0;
    }
    for (; *s; ++s) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    *pv = v;
    return 1;
}

/* Seconds: an integer, a real (truncated) or a string of digits, >= 0. */
static apr_status_t take_seconds(apr_int64_t *pv, int *ppresent,
                                 const char **perr, apr_pool_t *p,
                                 const json_t *json, const char *field)
{
    const json_t *v = member(json, field);
    apr_int64_t secs = -1;
    int ok = 0;

    if (!v) {
        *ppresent = 0;
        return APR_SUCCESS;
    }
    if (json_is_integer(v)) {
        secs = (apr_int64_t)json_integer_value(v);
        ok = 1;
    }
    else if (json_is_real(v)) {
        double d = json_real_value(v);
        ok = d >= 0 && d <= (double)OAC_TOKEN_SECONDS_MAX;
        secs = ok ? (apr_int64_t)d : -1;
    }
    else if (json_is_string(v)) {
        ok = parse_digits(&secs, json_string_value(v));
    }
    if (!ok || secs < 0 || secs > OAC_TOKEN_SECONDS_MAX) {
        *perr = apr_psprintf(p, "token response field '%s' is not a "
                             "non-negative number of seconds", field);
        return APR_EINVAL;
    }
    *pv = secs;
    *ppresent = 1;
    return APR_SUCCESS;
}

/*
 * OAuth 2 names it access_token; OAuth 1 oauth_token (with its secret).
 * Sets *pkey to the field used so it is kept out of extra.
 */
static apr_status_t take_access_token(oac_token_t *t, const char **pkey,
                                      const char **perr, apr_pool_t *p,
                                      const json_t *json)
{
    const char *key = member(json, "access_token") ? "access_token"
                                                    : "oauth_token";
    const json_t *v = member(json, key);
    apr_status_t rv;

    if (!v) {
        *perr = "token response has no access_token";
        return APR_EINVAL;
    }
    if (!json_is_string(v)) {
        *perr = apr_psprintf(p, "%s is not a string", key);
        return APR_EINVAL;
    }
    if (!*json_string_value(v)) {
        *perr = apr_psprintf(p, "token response has an empty %s", key);
        return APR_EINVAL;
    }
    t->access_token = apr_pstrdup(p, json_string_value(v));
    if (strcmp(key, "oauth_token") == 0
        && (rv = take_string(&t->token_secret, perr, p, json,
                             "oauth_token_secret")) != APR_SUCCESS) {
        return rv;
    }
    *pkey = key;
    return APR_SUCCESS;
}

static apr_status_t take_expiry(oac_token_t *t, const char **perr,
                                apr_pool_t *p, const json_t *json,
                                apr_int64_t now)
{
    apr_int64_t in = -1, at = 0;
    int has_in, has_at;
    apr_status_t rv;

    if ((rv = take_seconds(&in, &has_in, perr, p, json, "expires_in"))
        != APR_SUCCESS
        || (rv = take_seconds(&at, &has_at, perr, p, json, "expires_at"))
        != APR_SUCCESS) {
        return rv;
    }
    t->expires_in = has_in ? in : -1;
    if (has_at) {
        t->expires_at = at;
    }
    else if (has_in && in > 0) {
        t->expires_at = now + in;
    }
    else {
        t->expires_at = 0;
    }
    return APR_SUCCESS;
}

static int is_known_field(const char *key, const char *token_key)
{
    static const char *const known[] = {
        "token_type", "refresh_token", "scope", "expires_in", "expires_at",
        NULL
    };
    int i;

    if (strcmp(key, token_key) == 0) {
        return 1;
    }
    if (strcmp(token_key, "oauth_token") == 0
        && strcmp(key, "oauth_token_secret") == 0) {
        return 1;
    }
    for (i = 0; known[i]; ++i) {
        if (strcmp(key, known[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static void collect_extra(oac_token_t *t, apr_pool_t *p, json_t *json,
                          const char *token_key)
{
    const char *key;
    json_t *v;

    json_object_foreach(json, key, v) {
        /* Only what can be read back as a value (a user_claim): a string
         * or a number. An object or an array as a user name would be its
         * JSON text. */
        if (!(json_is_string(v) || json_is_number(v))
            || is_known_field(key, token_key)) {
            continue;
        }
        oac_form_add(t->extra, apr_pstrdup(p, key), value_text(p, v));
    }
}

static oac_token_t *token_make(apr_pool_t *p)
{
    oac_token_t *t = apr_pcalloc(p, sizeof(*t));

    t->expires_in = -1;
    t->extra = oac_form_make(p);
    return t;
}

static apr_status_t token_from_json(oac_token_t **ptoken, const char **perr,
                                    apr_pool_t *p, json_t *json,
                                    apr_int64_t now)
{
    oac_token_t *t = token_make(p);
    const char *token_key = NULL;
    apr_status_t rv;

    if ((rv = check_provider_error(perr, p, json)) != APR_SUCCESS
        || (rv = take_access_token(t, &token_key, perr, p, json))
        != APR_SUCCESS
        || (rv = take_string(&t->token_type, perr, p, json, "token_type"))
        != APR_SUCCESS
        || (rv = take_string(&t->refresh_token, perr, p, json,
                             "refresh_token")) != APR_SUCCESS
        || (rv = take_scope(&t->scope, perr, p, json)) != APR_SUCCESS
        || (rv = take_expiry(t, perr, p, json, now)) != APR_SUCCESS) {
        return rv;
    }
    collect_extra(t, p, json, token_key);
    *ptoken = t;
    return APR_SUCCESS;
}

/* What is wrong with value as a header value of at most max bytes, or
 * NULL when nothing is. */
static const char *unsendable(const char *value, apr_size_t max)
{
    const unsigned char *c;

    for (c = (const unsigned char *)value; *c; ++c) {
        if (*c < 0x20 || *c == 0x7F) {
            return "contains a control character";
        }
    }
    if ((apr_size_t)(c - (const unsigned char *)value) > max) {
        return "is too long";
    }
    return NULL;
}

apr_status_t oac_token_check_sendable(const char **perr, apr_pool_t *p,
                                      const oac_token_t *t, const char *user)
{
    const struct {
        const char *name;
        const char *value;
        apr_size_t max;
    } fields[] = {
        { "access_token", t ? t->access_token : NULL, OAC_TOKEN_VALUE_MAX },
        { "token secret", t ? t->token_secret : NULL, OAC_TOKEN_VALUE_MAX },
        { "token_type", t ? t->token_type : NULL, OAC_TOKEN_TYPE_MAX },
        { "refresh_token", t ? t->refresh_token : NULL, OAC_TOKEN_VALUE_MAX },
        { "scope", t ? t->scope : NULL, OAC_TOKEN_SCOPE_MAX },
        { "user name", user, OAC_TOKEN_USER_MAX },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i) {
        const char *why;

        if (!fields[i].value) {
            continue;
        }
        if (!(why = unsendable(fields[i].value, fields[i].max))) {
            continue;
        }
        *perr = apr_psprintf(p, "the %s %s (at most %" APR_SIZE_T_FMT
                             " bytes, no control characters)",
                             fields[i].name, why, fields[i].max);
        return APR_EINVAL;
    }
    if (user && !*user) {
        *perr = "the user name is empty";
        return APR_EINVAL;
    }
    /* A backend trims a header value: "admin " would be admin to it and
     * something else to httpd (REMOTE_USER, Require user). */
    if (user && (*user == ' ' || user[strlen(user) - 1] == ' ')) {
        *perr = "the user name begins or ends with a space";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t oac_token_parse(oac_token_t **ptoken, const char **perr,
                             apr_pool_t *p, const char *content_type,
                             const char *body, apr_size_t len,
                             apr_int64_t now)
{
    json_t *json = NULL;
    apr_status_t rv;

    if ((rv = load_body(&json, perr, p, content_type, body, len))
        != APR_SUCCESS) {
        return rv;
    }
    rv = token_from_json(ptoken, perr, p, json, now);
    json_decref(json);
    return rv;
}

/* ---- the stored form ------------------------------------------------- */

/*
 * mod_session URL-encodes every value it stores, and a cookie session then
 * carries every byte of it on every request, where httpd and mod_session
 * scan it twice. JSON is the worst case for that ('"', ':', ',', '{' each
 * become three bytes) and repeats every field name. The stored form is
 * "3.ACCESS.SECRET.TYPE.REFRESH.SCOPE.EXPIRES_AT": fixed field order, '.'
 * between fields, and only bytes that URL-encoding leaves alone:
 * [A-Za-z0-9_-] as they are, any other byte as "*XX" (uppercase hex). An
 * empty field is NULL; "*" alone is "". Only what is read back is kept:
 * no expires_in (expires_at says it), no other field of the response.
 */
#define STORED_PREFIX "3."
#define STORED_FIELDS 6

char *oac_token_to_string(apr_pool_t *p, const oac_token_t *t)
{
    char at[32];
    const char *fields[STORED_FIELDS];
    apr_size_t room = sizeof(STORED_PREFIX);
    char *out, *o;
    int i;

    apr_snprintf(at, sizeof(at), "%" APR_INT64_T_FMT, t->expires_at);
    fields[0] = t->access_token;
    fields[1] = t->token_secret;
    fields[2] = t->token_type;
    fields[3] = t->refresh_token;
    fields[4] = t->scope;
    fields[5] = at;
    for (i = 0; i < STORED_FIELDS; ++i) {
        room += oac_util_stored_room(fields[i]);
    }
    out = o = apr_palloc(p, room);
    *o++ = STORED_PREFIX[0];
    for (i = 0; i < STORED_FIELDS; ++i) {
        o = oac_util_stored_put(o, fields[i]);
    }
    *o = '\0';
    return out;
}

apr_status_t oac_token_from_string(oac_token_t **pt, const char **perr,
                                   apr_pool_t *p, const char *s)
{
    static const char *const names[STORED_FIELDS] = {
        "access_token", "token_secret", "token_type", "refresh_token",
        "scope", "expires_at"
    };
    apr_array_header_t *fields;
    const char **f;
    oac_token_t *t;
    int bad;

    /* The prefix without its '.', which starts the first field */
    if (!s || strncmp(s, STORED_PREFIX, sizeof(STORED_PREFIX) - 2)) {
        *perr = "stored token is not in the module's form";
        return APR_EINVAL;
    }
    if (oac_util_stored_split(&fields, &bad, p,
                              s + sizeof(STORED_PREFIX) - 2) != APR_SUCCESS) {
        *perr = bad >= 0 && bad < STORED_FIELDS
                    ? apr_psprintf(p, "stored token field '%s' is not valid",
                                   names[bad])
                    : "stored token does not have 6 fields";
        return APR_EINVAL;
    }
    if (fields->nelts != STORED_FIELDS) {
        *perr = "stored token does not have 6 fields";
        return APR_EINVAL;
    }
    f = (const char **)fields->elts;
    if (!f[0] || !*f[0]) {
        *perr = "stored token has no access_token";
        return APR_EINVAL;
    }
    t = token_make(p);
    if (!oac_util_stored_seconds(&t->expires_at, f[5])) {
        *perr = "stored token field 'expires_at' is not valid";
        return APR_EINVAL;
    }
    t->access_token = f[0];
    t->token_secret = f[1];
    t->token_type = f[2];
    t->refresh_token = f[3];
    t->scope = f[4];
    *pt = t;
    return APR_SUCCESS;
}
