/* Licensed under the Apache License, Version 2.0 */

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
    json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

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

/* ---- session form ----------------------------------------------------- */

/* 0 on success; a NULL value is simply left out. */
static int put_string(json_t *obj, const char *key, const char *value)
{
    if (!value) {
        return 0;
    }
    return json_object_set_new(obj, key, json_string(value));
}

static json_t *extra_to_json(const apr_array_header_t *extra)
{
    const oac_param_t *params;
    json_t *obj = json_object();
    int i;

    if (!extra) {
        return obj;
    }
    params = (const oac_param_t *)extra->elts;
    for (i = 0; i < extra->nelts; ++i) {
        if (!params[i].name || json_object_get(obj, params[i].name)) {
            continue;
        }
        if (put_string(obj, params[i].name, params[i].value ? params[i].value
                                                            : "")) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *token_to_json(const oac_token_t *t)
{
    json_t *obj = json_object();

    if (put_string(obj, "access_token", t->access_token)
        || put_string(obj, "token_secret", t->token_secret)
        || put_string(obj, "token_type", t->token_type)
        || put_string(obj, "refresh_token", t->refresh_token)
        || put_string(obj, "scope", t->scope)
        || json_object_set_new(obj, "expires_in",
                               json_integer((json_int_t)t->expires_in))
        || json_object_set_new(obj, "expires_at",
                               json_integer((json_int_t)t->expires_at))
        || json_object_set_new(obj, "extra", extra_to_json(t->extra))) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

char *oac_token_to_json_string(apr_pool_t *p, const oac_token_t *t)
{
    json_t *obj = token_to_json(t);
    char *s, *copy;

    if (!obj) {
        return NULL;
    }
    s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s) {
        return NULL;
    }
    copy = apr_pstrdup(p, s);
    free(s);
    return copy;
}

/* ---- the stored form, version 2 --------------------------------------- */

/*
 * mod_session URL-encodes every value it stores, and a cookie session then
 * carries every byte of it on every request, where httpd and mod_session
 * scan it twice. JSON is the worst case for that ('"', ':', ',', '{' each
 * become three bytes) and repeats every field name. Version 2 is
 * "2.F1.F2...": fixed field order, '.' between fields, and only bytes that
 * URL-encoding leaves alone: [A-Za-z0-9_-] as they are, any other byte as
 * "*XX" (uppercase hex). An empty field is NULL; "*" alone is "".
 */
#define V2_PREFIX "2."

static int v2_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static char *v2_put(char *o, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)v;

    *o++ = '.';
    if (!v) {
        return o;
    }
    if (!*s) {
        *o++ = '*';
        return o;
    }
    for (; *s; ++s) {
        if (v2_plain(*s)) {
            *o++ = (char)*s;
        }
        else {
            *o++ = '*';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 0x0F];
        }
    }
    return o;
}

static apr_size_t v2_room(const char *v)
{
    return 2 + (v ? 3 * strlen(v) : 0);
}

char *oac_token_to_string(apr_pool_t *p, const oac_token_t *t)
{
    const oac_param_t *extra = t->extra
        ? (const oac_param_t *)t->extra->elts : NULL;
    int nextra = t->extra ? t->extra->nelts : 0, i, j;
    char num[2][32];
    const char *fields[7];
    apr_size_t room = sizeof(V2_PREFIX);
    char *out, *o;

    fields[0] = t->access_token;
    fields[1] = t->token_secret;
    fields[2] = t->token_type;
    fields[3] = t->refresh_token;
    fields[4] = t->scope;
    apr_snprintf(num[0], sizeof(num[0]), "%" APR_INT64_T_FMT, t->expires_in);
    apr_snprintf(num[1], sizeof(num[1]), "%" APR_INT64_T_FMT, t->expires_at);
    fields[5] = num[0];
    fields[6] = num[1];
    for (i = 0; i < 7; ++i) {
        room += v2_room(fields[i]);
    }
    for (i = 0; i < nextra; ++i) {
        room += v2_room(extra[i].name) + v2_room(extra[i].value);
    }
    out = o = apr_palloc(p, room);
    memcpy(o, V2_PREFIX, 1);
    ++o;
    for (i = 0; i < 7; ++i) {
        o = v2_put(o, fields[i]);
    }
    for (i = 0; i < nextra; ++i) {
        if (!extra[i].name) {
            continue;
        }
        for (j = 0; j < i; ++j) {        /* the first of a repeated name */
            if (extra[j].name && !strcmp(extra[j].name, extra[i].name)) {
                break;
            }
        }
        if (j < i) {
            continue;
        }
        o = v2_put(o, extra[i].name);
        o = v2_put(o, extra[i].value ? extra[i].value : "");
    }
    *o = '\0';
    return out;
}

static int v2_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* One field of len bytes at s; APR_EINVAL for a byte outside the
 * alphabet, a bad escape or an escaped NUL. */
static apr_status_t v2_field(const char **pv, apr_pool_t *p, const char *s,
                             apr_size_t len)
{
    const char *end = s + len;
    char *out, *o;

    if (len == 0) {
        *pv = NULL;
        return APR_SUCCESS;
    }
    if (len == 1 && *s == '*') {
        *pv = "";
        return APR_SUCCESS;
    }
    out = o = apr_palloc(p, len + 1);
    while (s < end) {
        int hi, lo;

        if (v2_plain((unsigned char)*s)) {
            *o++ = *s++;
            continue;
        }
        if (*s != '*' || end - s < 3 || (hi = v2_hex(s[1])) < 0
            || (lo = v2_hex(s[2])) < 0 || (hi == 0 && lo == 0)) {
            return APR_EINVAL;
        }
        *o++ = (char)(hi << 4 | lo);
        s += 3;
    }
    *o = '\0';
    *pv = out;
    return APR_SUCCESS;
}

static int v2_integer(apr_int64_t *pv, const char *s, apr_int64_t min)
{
    apr_int64_t v = 0;
    int neg = 0, digits = 0;

    if (!s) {
        return 0;
    }
    if (*s == '-') {
        neg = 1;
        ++s;
    }
    for (; *s >= '0' && *s <= '9'; ++s) {
        if (++digits > 18) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    if (!digits || *s) {
        return 0;
    }
    *pv = neg ? -v : v;
    return *pv >= min;
}

static apr_status_t token_from_v2(oac_token_t **pt, const char **perr,
                                  apr_pool_t *p, const char *s)
{
    static const char *const names[] = {
        "access_token", "token_secret", "token_type", "refresh_token",
        "scope", "expires_in", "expires_at"
    };
    enum { FIXED = sizeof(names) / sizeof(names[0]) };
    oac_token_t *t = token_make(p);
    apr_array_header_t *fields = apr_array_make(p, 12, sizeof(const char *));
    const char *in = s + sizeof(V2_PREFIX) - 1, **f;
    int i;

    for (;;) {
        const char *dot = strchr(in, '.');
        apr_size_t len = dot ? (apr_size_t)(dot - in) : strlen(in);
        const char **slot = apr_array_push(fields);

        if (v2_field(slot, p, in, len) != APR_SUCCESS) {
            i = fields->nelts - 1;
            *perr = apr_psprintf(p, "stored token field '%s' is not valid",
                                 i < FIXED ? names[i] : "extra");
            return APR_EINVAL;
        }
        if (!dot) {
            break;
        }
        in = dot + 1;
    }
    if (fields->nelts < FIXED || (fields->nelts - FIXED) % 2) {
        *perr = apr_psprintf(p, "stored token has %d fields, not 7 and "
                             "pairs", fields->nelts);
        return APR_EINVAL;
    }
    f = (const char **)fields->elts;
    t->access_token = f[0];
    t->token_secret = f[1];
    t->token_type = f[2];
    t->refresh_token = f[3];
    t->scope = f[4];
    if (!v2_integer(&t->expires_in, f[5], -1)) {
        *perr = "stored token field 'expires_in' is not valid";
        return APR_EINVAL;
    }
    if (!v2_integer(&t->expires_at, f[6], 0)) {
        *perr = "stored token field 'expires_at' is not valid";
        return APR_EINVAL;
    }
    for (i = FIXED; i < fields->nelts; i += 2) {
        if (!f[i] || !f[i + 1]) {
            *perr = "stored token field 'extra' is not valid";
            return APR_EINVAL;
        }
        oac_form_add(t->extra, f[i], f[i + 1]);
    }
    if (!t->access_token || !*t->access_token) {
        *perr = "stored token has no access_token";
        return APR_EINVAL;
    }
    *pt = t;
    return APR_SUCCESS;
}

static apr_status_t stored_integer(apr_int64_t *pv, const char **perr,
                                   apr_pool_t *p, const json_t *obj,
                                   const char *key, apr_int64_t min)
{
    const json_t *v = json_object_get(obj, key);

    if (!v) {
        return APR_SUCCESS;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min) {
        *perr = apr_psprintf(p, "stored token field '%s' is not valid", key);
        return APR_EINVAL;
    }
    *pv = (apr_int64_t)json_integer_value(v);
    return APR_SUCCESS;
}

static apr_status_t stored_string(const char **pv, const char **perr,
                                  apr_pool_t *p, const json_t *obj,
                                  const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!v) {
        return APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        *perr = apr_psprintf(p, "stored token field '%s' is not a string",
                             key);
        return APR_EINVAL;
    }
    *pv = apr_pstrdup(p, json_string_value(v));
    return APR_SUCCESS;
}

static apr_status_t stored_extra(oac_token_t *t, const char **perr,
                                 apr_pool_t *p, const json_t *obj)
{
    const json_t *extra = json_object_get(obj, "extra");
    const char *key;
    json_t *v;

    if (!extra) {
        return APR_SUCCESS;
    }
    if (!json_is_object(extra)) {
        *perr = "stored token field 'extra' is not an object";
        return APR_EINVAL;
    }
    json_object_foreach((json_t *)extra, key, v) {
        if (!json_is_string(v)) {
            *perr = "stored token field 'extra' has a non-string value";
            return APR_EINVAL;
        }
        oac_form_add(t->extra, apr_pstrdup(p, key),
                     apr_pstrdup(p, json_string_value(v)));
    }
    return APR_SUCCESS;
}

static apr_status_t token_from_stored(oac_token_t **pt, const char **perr,
                                      apr_pool_t *p, const json_t *obj)
{
    oac_token_t *t = token_make(p);
    apr_status_t rv;

    if ((rv = stored_string(&t->access_token, perr, p, obj, "access_token"))
        != APR_SUCCESS
        || (rv = stored_string(&t->token_secret, perr, p, obj,
                               "token_secret")) != APR_SUCCESS
        || (rv = stored_string(&t->token_type, perr, p, obj, "token_type"))
        != APR_SUCCESS
        || (rv = stored_string(&t->refresh_token, perr, p, obj,
                               "refresh_token")) != APR_SUCCESS
        || (rv = stored_string(&t->scope, perr, p, obj, "scope"))
        != APR_SUCCESS
        || (rv = stored_integer(&t->expires_in, perr, p, obj, "expires_in",
                                -1)) != APR_SUCCESS
        || (rv = stored_integer(&t->expires_at, perr, p, obj, "expires_at",
                                0)) != APR_SUCCESS
        || (rv = stored_extra(t, perr, p, obj)) != APR_SUCCESS) {
        return rv;
    }
    if (!t->access_token || !*t->access_token) {
        *perr = "stored token has no access_token";
        return APR_EINVAL;
    }
    *pt = t;
    return APR_SUCCESS;
}

/* ---- fast reader for the stored form ---------------------------------- */

/*
 * The stored form is read on every request that carries a token, and
 * jansson spends ~40,000 instructions building and freeing a tree for it.
 * This reader takes only the exact compact form oac_token_to_string writes
 * (no whitespace, known keys, string and integer values, an "extra" object
 * of strings). On anything else it gives up, and jansson decides: then the
 * result and every error message are jansson's, so the two paths can only
 * differ in speed.
 */

typedef struct {
    const char *at;
    apr_pool_t *p;
} fast_t;

/* Length of a valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if there is none. */
static int utf8_length(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    int n, i;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        }
        else if (c == 0xED) {
            hi = 0x9F;
        }
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90;
        }
        else if (c == 0xF4) {
            hi = 0x8F;
        }
    }
    else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; ++i) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

static int hex4(const char *s, unsigned *pv)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; ++i) {
        char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        }
        else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        }
        else {
            return 0;
        }
    }
    *pv = v;
    return 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Decodes the escapes of a string whose raw text is [s, end). Escapes never
 * grow: \uXXXX (6 bytes) is at most 3 bytes of UTF-8, a pair (12) is 4. */
static const char *fast_unescape(apr_pool_t *p, const char *s,
                                 const char *end)
{
    char *out = apr_palloc(p, (apr_size_t)(end - s) + 1), *o = out;

    while (s < end) {
        unsigned cp, lo;

        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        switch (s[1]) {
        case '"': case '\\': case '/':
            *o++ = s[1];
            s += 2;
            continue;
        case 'b': *o++ = '\b'; s += 2; continue;
        case 'f': *o++ = '\f'; s += 2; continue;
        case 'n': *o++ = '\n'; s += 2; continue;
        case 'r': *o++ = '\r'; s += 2; continue;
        case 't': *o++ = '\t'; s += 2; continue;
        case 'u':
            break;
        default:
            return NULL;
        }
        if (!hex4(s + 2, &cp) || cp == 0) {
            return NULL;
        }
        s += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &lo)
                || lo < 0xDC00 || lo > 0xDFFF) {
                return NULL;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
        }
        o = put_utf8(o, cp);
    }
    *o = '\0';
    return out;
}

/* A JSON string at f->at; NULL when it is not one this reader takes. */
static const char *fast_string(fast_t *f)
{
    const unsigned char *s = (const unsigned char *)f->at;
    const char *start;
    int escaped = 0;

    if (*s != '"') {
        return NULL;
    }
    start = (const char *)++s;
    for (;;) {
        unsigned char c = *s;

        if (c == '"') {
            break;
        }
        if (c < 0x20) {          /* also the terminating NUL */
            return NULL;
        }
        if (c == '\\') {
            escaped = 1;
            if (!s[1]) {
                return NULL;
            }
            s += 2;
            continue;
        }
        if (c >= 0x80) {
            int n = utf8_length(s);

            if (!n) {
                return NULL;
            }
            s += n;
            continue;
        }
        ++s;
    }
    f->at = (const char *)s + 1;
    if (!escaped) {
        return apr_pstrmemdup(f->p, start, (apr_size_t)((const char *)s
                                                         - start));
    }
    return fast_unescape(f->p, start, (const char *)s);
}

/* A JSON integer that fits 18 digits, followed by ',' or '}'. */
static int fast_integer(fast_t *f, apr_int64_t *pv)
{
    const char *s = f->at;
    apr_int64_t v = 0;
    int neg = 0, digits = 0;

    if (*s == '-') {
        neg = 1;
        ++s;
    }
    if (*s == '0') {
        ++s;
        digits = 1;
    }
    else {
        while (*s >= '0' && *s <= '9') {
            if (++digits > 18) {
                return 0;
            }
            v = v * 10 + (*s++ - '0');
        }
    }
    if (!digits || (*s != ',' && *s != '}')) {
        return 0;
    }
    f->at = s;
    *pv = neg ? -v : v;
    return 1;
}

static int fast_extra(fast_t *f, apr_array_header_t *extra)
{
    if (*f->at++ != '{') {
        return 0;
    }
    if (*f->at == '}') {
        ++f->at;
        return 1;
    }
    for (;;) {
        const oac_param_t *seen = (const oac_param_t *)extra->elts;
        const char *key = fast_string(f), *value;
        int i;

        if (!key || *f->at++ != ':' || !(value = fast_string(f))) {
            return 0;
        }
        for (i = 0; i < extra->nelts; ++i) {
            if (!strcmp(seen[i].name, key)) {
                return 0;        /* jansson rejects the duplicate */
            }
        }
        oac_form_add(extra, key, value);
        if (*f->at == '}') {
            ++f->at;
            return 1;
        }
        if (*f->at++ != ',') {
            return 0;
        }
    }
}

enum {
    FAST_ACCESS = 1, FAST_SECRET = 2, FAST_TYPE = 4, FAST_REFRESH = 8,
    FAST_SCOPE = 16, FAST_IN = 32, FAST_AT = 64, FAST_EXTRA = 128
};

static int fast_member(fast_t *f, oac_token_t *t, unsigned *pseen)
{
    static const struct {
        const char *name;
        unsigned bit;
        size_t offset;
    } strings[] = {
        { "access_token", FAST_ACCESS, offsetof(oac_token_t, access_token) },
        { "token_secret", FAST_SECRET, offsetof(oac_token_t, token_secret) },
        { "token_type", FAST_TYPE, offsetof(oac_token_t, token_type) },
        { "refresh_token", FAST_REFRESH,
          offsetof(oac_token_t, refresh_token) },
        { "scope", FAST_SCOPE, offsetof(oac_token_t, scope) },
    };
    const char *key = fast_string(f);
    unsigned bit;
    size_t i;

    if (!key || *f->at++ != ':') {
        return 0;
    }
    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); ++i) {
        if (!strcmp(key, strings[i].name)) {
            const char *v;

            if ((*pseen & strings[i].bit) || !(v = fast_string(f))) {
                return 0;
            }
            *pseen |= strings[i].bit;
            *(const char **)((char *)t + strings[i].offset) = v;
            return 1;
        }
    }
    if (!strcmp(key, "expires_in") || !strcmp(key, "expires_at")) {
        int at = key[8] == 'a';
        apr_int64_t v;

        bit = at ? FAST_AT : FAST_IN;
        if ((*pseen & bit) || !fast_integer(f, &v) || v < (at ? 0 : -1)) {
            return 0;
        }
        *pseen |= bit;
        *(at ? &t->expires_at : &t->expires_in) = v;
        return 1;
    }
    if (!strcmp(key, "extra") && !(*pseen & FAST_EXTRA)) {
        *pseen |= FAST_EXTRA;
        return fast_extra(f, t->extra);
    }
    return 0;                    /* unknown or repeated: jansson's call */
}

int oac_token_from_compact(oac_token_t **pt, apr_pool_t *p, const char *s)
{
    fast_t f = { s, p };
    oac_token_t *t = token_make(p);
    unsigned seen = 0;

    if (*f.at++ != '{' || *f.at == '}') {
        return 0;
    }
    for (;;) {
        if (!fast_member(&f, t, &seen)) {
            return 0;
        }
        if (*f.at == '}') {
            break;
        }
        if (*f.at++ != ',') {
            return 0;
        }
    }
    if (f.at[1] != '\0' || !t->access_token || !*t->access_token) {
        return 0;
    }
    *pt = t;
    return 1;
}

apr_status_t oac_token_from_string_json(oac_token_t **pt, const char **perr,
                                   apr_pool_t *p, const char *s)
{
    json_error_t err;
    json_t *obj;
    apr_status_t rv;

    if (!s || !*s) {
        *perr = "stored token is empty";
        return APR_EINVAL;
    }
    obj = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    if (!obj) {
        *perr = apr_psprintf(p, "stored token is not valid JSON (line %d "
                             "column %d)", err.line, err.column);
        return APR_EINVAL;
    }
    if (!json_is_object(obj)) {
        *perr = "stored token is not a JSON object";
        rv = APR_EINVAL;
    }
    else {
        rv = token_from_stored(pt, perr, p, obj);
    }
    json_decref(obj);
    return rv;
}

apr_status_t oac_token_from_string(oac_token_t **pt, const char **perr,
                                   apr_pool_t *p, const char *s)
{
    if (s && !strncmp(s, V2_PREFIX, sizeof(V2_PREFIX) - 1)) {
        return token_from_v2(pt, perr, p, s);
    }
    /* Sessions written before version 2. */
    if (s && *s && oac_token_from_compact(pt, p, s)) {
        return APR_SUCCESS;
    }
    return oac_token_from_string_json(pt, perr, p, s);
}
