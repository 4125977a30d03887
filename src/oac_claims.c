/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "oac_claims.h"
#include "oac_util.h"

apr_status_t oac_claims_parse_rules(apr_array_header_t **prules,
                                    const char **perr, apr_pool_t *p,
                                    const char *line)
{
    apr_array_header_t *rules = apr_array_make(p, 2,
                                               sizeof(oac_claim_rule_t));
    char **words;
    int i;

    if (apr_tokenize_to_argv(line ? line : "", &words, p) != APR_SUCCESS) {
        *perr = "cannot read the line";
        return APR_EINVAL;
    }
    for (i = 0; words[i]; ++i) {
        char *colon = strchr(words[i], ':');
        oac_claim_rule_t *rule;
        if (!colon || colon == words[i]) {
            *perr = apr_psprintf(p, "'%s' is not NAME:VALUE (a claim, a "
                                 "colon, the value it must have)", words[i]);
            return APR_EINVAL;
        }
        *colon = '\0';
        rule = apr_array_push(rules);
        rule->name = words[i];
        rule->value = colon + 1;
    }
    if (!rules->nelts) {
        *perr = "it names no claim: Require oauth-claim NAME:VALUE "
                "[NAME:VALUE ...]";
        return APR_EINVAL;
    }
    *prules = rules;
    return APR_SUCCESS;
}

const char *oac_claims_top(apr_pool_t *p, const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? apr_pstrmemdup(p, name, dot - name) : name;
}

apr_array_header_t *oac_claims_tops(apr_pool_t *p, const char *name)
{
    apr_array_header_t *tops = apr_array_make(p, 2, sizeof(const char *));
    const char *dot;

    for (dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
        APR_ARRAY_PUSH(tops, const char *) = apr_pstrmemdup(p, name,
                                                            dot - name);
    }
    APR_ARRAY_PUSH(tops, const char *) = name;
    return tops;
}

const json_t *oac_claims_lookup(const json_t *claims, const char *name)
{
    const char *dot;
    char seg[256];

    if (!json_is_object(claims) || !name || !*name) {
        return NULL;
    }
    {
        const json_t *v = json_object_get(claims, name);
        if (v) {
            return v;
        }
    }
    /* "a.b.c": member "a" then "b.c" in it, else member "a.b" then "c" */
    for (dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
        apr_size_t n = dot - name;
        const json_t *inner;
        if (n >= sizeof(seg)) {
            return NULL;
        }
        memcpy(seg, name, n);
        seg[n] = '\0';
        inner = json_object_get(claims, seg);
        if (inner && (inner = oac_claims_lookup(inner, dot + 1))) {
            return inner;
        }
    }
    return NULL;
}

/* A scalar's text as the rules compare it and headers carry it. */
static char *scalar_text(apr_pool_t *p, const json_t *v)
{
    char *s, *out;

    if (json_is_string(v)) {
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    }
    if (!(s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS))) {
        return NULL;
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

static int scalar_equals(const json_t *v, const char *value)
{
    char buf[64];
    const char *text;

    if (json_is_string(v)) {
        return strlen(value) == json_string_length(v)
            && !memcmp(json_string_value(v), value, json_string_length(v));
    }
    if (json_is_true(v)) {
        text = "true";
    }
    else if (json_is_false(v)) {
        text = "false";
    }
    else if (json_is_null(v)) {
        text = "null";
    }
    else if (json_is_integer(v)) {
        apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT,
                     (apr_int64_t)json_integer_value(v));
        text = buf;
    }
    else if (json_is_real(v)) {
        /* As jansson writes it: the value's JSON text */
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        int eq = s && !strcmp(s, value);
        free(s);
        return eq;
    }
    else {
        return 0;
    }
    return !strcmp(text, value);
}

int oac_claims_match(const json_t *claims, const char *name,
                     const char *value)
{
    const json_t *v = oac_claims_lookup(claims, name);
    size_t i;
    json_t *e;

    if (!v || !value) {
        return 0;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (scalar_equals(e, value)) {
                return 1;
            }
        }
        return 0;
    }
    return scalar_equals(v, value);
}

int oac_claims_match_any(const json_t *claims,
                         const apr_array_header_t *rules)
{
    int i;
    for (i = 0; rules && i < rules->nelts; ++i) {
        const oac_claim_rule_t *rule =
            &APR_ARRAY_IDX(rules, i, oac_claim_rule_t);
        if (oac_claims_match(claims, rule->name, rule->value)) {
            return 1;
        }
    }
    return 0;
}

/* Why a string of a claim would reach the backend as another value, or
 * NULL. */
static const char *string_misread(const json_t *v, int in_array)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (n && (s[0] == ' ' || s[n - 1] == ' ')) {
        return "a space at either end, which the backend would not see";
    }
    if (in_array && memchr(s, ',', n)) {
        return "a ',' in an element of a list, which the backend would "
               "read as two elements";
    }
    return NULL;
}

const char *oac_claims_text(apr_pool_t *p, const json_t *v,
                            const char **pwhy)
{
    static const char *const controls = "control characters";
    const char *text, *why = NULL;

    if (pwhy) {
        *pwhy = NULL;
    }
    if (!v) {
        return NULL;
    }
    if (json_is_array(v)) {
        apr_array_header_t *parts = apr_array_make(p, 4, sizeof(char *));
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char *t = scalar_text(p, e);
            /* an element with an embedded NUL would be cut short too */
            if (!t || (json_is_string(e)
                       && strlen(t) != json_string_length(e))) {
                why = controls;
                break;
            }
            if (json_is_string(e) && (why = string_misread(e, 1))) {
                break;
            }
            APR_ARRAY_PUSH(parts, char *) = t;
        }
        text = why ? NULL : apr_array_pstrcat(p, parts, ',');
    }
    else {
        text = scalar_text(p, v);
        if (text && json_is_string(v)) {
            why = string_misread(v, 0);
        }
    }
    /* A string with an embedded NUL would be cut short by the copy above
     * (apr_pstrmemdup keeps it): refused with the other controls. */
    if (!why && (!text || oac_util_has_control(text)
                 || (json_is_string(v)
                     && strlen(text) != json_string_length(v)))) {
        why = controls;
    }
    if (why) {
        if (pwhy) {
            *pwhy = why;
        }
        return NULL;
    }
    return text;
}

const char *oac_claims_header_name(apr_pool_t *p, const char *name)
{
    char *out = apr_pstrdup(p, name), *o;
    for (o = out; *o; ++o) {
        if (!apr_isalnum(*o) && *o != '.') {
            *o = '-';
        }
    }
    return out;
}

const char *oac_claims_env_name(apr_pool_t *p, const char *name)
{
    char *out = apr_pstrdup(p, name), *o;
    for (o = out; *o; ++o) {
        *o = apr_isalnum(*o) ? apr_toupper(*o) : '_';
    }
    return out;
}

/* The id_token's bookkeeping, which says nothing about the user and is
 * never the same twice. */
static int is_one_time(const char *name)
{
    static const char *const names[] = {
        "nonce", "at_hash", "c_hash", "exp", "iat", "nbf", "jti", NULL
    };
    const char *const *n;
    for (n = names; *n; ++n) {
        if (!strcmp(*n, name)) {
            return 1;
        }
    }
    return 0;
}

static const char *dump(apr_pool_t *p, json_t *kept, apr_size_t max)
{
    char *s;
    const char *out = NULL;

    if (!json_object_size(kept)) {
        return "";
    }
    if ((s = json_dumps(kept, JSON_COMPACT | JSON_SORT_KEYS))) {
        if (strlen(s) <= max) {
            out = apr_pstrdup(p, s);
        }
        free(s);
    }
    return out;
}

const char *oac_claims_select(apr_pool_t *p, const json_t *claims,
                              const apr_array_header_t *names, int all,
                              apr_size_t max, int *pshrunk)
{
    json_t *kept = json_object();
    const char *key, *out;
    json_t *v;
    int i;

    *pshrunk = 0;
    if (!kept || !json_is_object(claims)) {
        json_decref(kept);
        return NULL;
    }
    if (all) {
        json_object_foreach((json_t *)claims, key, v) {
            if (!is_one_time(key)) {
                json_object_set(kept, key, v);
            }
        }
        if ((out = dump(p, kept, max))) {
            json_decref(kept);
            return *out ? out : NULL;
        }
        *pshrunk = 1;
        json_object_clear(kept);
    }
    for (i = 0; names && i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if ((v = json_object_get(claims, name))) {
            json_object_set(kept, name, v);
        }
    }
    out = dump(p, kept, max);
    json_decref(kept);
    if (!out) {
        *pshrunk = 2;
        return NULL;
    }
    return *out ? out : NULL;
}

/* s as JSON of the type wanted, owned by p; NULL otherwise. */
static json_t *parse_as(apr_pool_t *p, const char *s, json_type wanted)
{
    json_error_t jerr;
    json_t *doc;

    if (!s || !(doc = json_loads(s, 0, &jerr))) {
        return NULL;
    }
    if (json_typeof(doc) != wanted) {
        json_decref(doc);
        return NULL;
    }
    return oac_util_json_owned(p, doc);
}

json_t *oac_claims_parse(apr_pool_t *p, const char *s)
{
    return parse_as(p, s, JSON_OBJECT);
}

json_t *oac_claims_parse_names(apr_pool_t *p, const char *s)
{
    return parse_as(p, s, JSON_ARRAY);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *oac_claims_userinfo_names(apr_pool_t *p, const json_t *claims,
                                  const json_t *id_claims)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(const char *));
    json_t *names, *v;
    const char *name;
    int i;

    json_object_foreach((json_t *)claims, name, v) {
        const json_t *id = id_claims ? json_object_get(id_claims, name)
                                     : NULL;
        if (!id || !json_equal((json_t *)id, v)) {
            APR_ARRAY_PUSH(found, const char *) = name;
        }
    }
    /* sorted: the same text whatever order the provider sent */
    qsort(found->elts, found->nelts, sizeof(const char *), by_name);
    if (!(names = json_array())) {
        return NULL;
    }
    for (i = 0; i < found->nelts; ++i) {
        if (json_array_append_new(names, json_string(APR_ARRAY_IDX(
                                      found, i, const char *))) != 0) {
            json_decref(names);
            return NULL;
        }
    }
    return oac_util_json_owned(p, names);
}

static int named(const json_t *names, const char *name)
{
    apr_size_t i;

    for (i = 0; i < json_array_size(names); ++i) {
        const char *s = json_string_value(json_array_get(names, i));
        if (s && !strcmp(s, name)) {
            return 1;
        }
    }
    return 0;
}

json_t *oac_claims_renewed(apr_pool_t *p, const json_t *kept,
                           const json_t *userinfo_names, const json_t *after)
{
    json_t *out = kept ? json_deep_copy(kept) : json_object();
    const char *name;
    json_t *v;

    if (!out) {
        return NULL;
    }
    /* Userinfo's claims stay as at login: it is not asked again. A claim
     * the refreshed id_token lacks stays too: OpenID Connect Core 12.2
     * does not make a provider repeat claims there, so its absence says
     * nothing, and removing the claim could turn a 'Require not' into a
     * grant. */
    json_object_foreach((json_t *)after, name, v) {
        if (!named(userinfo_names, name)
            && json_object_set(out, name, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return oac_util_json_owned(p, out);
}
