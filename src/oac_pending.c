/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <jansson.h>

#include "oac_pending.h"
#include "oac_util.h"

/*
 * One-letter keys: the list lives in the session, often a cookie, where
 * every byte counts against the 4 KiB limit.
 */
#define K_STATE    "s"
#define K_VERIFIER "v"
#define K_NEXT     "n"
#define K_SECRET   "k"
#define K_EXPIRES  "e"

/* ---- decode -------------------------------------------------------------- */

/* An optional string member; absent or null gives NULL. */
static apr_status_t get_string(const char **pv, const char **perr,
                               apr_pool_t *p, const json_t *obj,
                               const char *key, int required)
{
    const json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        if (required) {
            *perr = apr_psprintf(p, "pending login entry has no '%s'", key);
            return APR_EINVAL;
        }
        *pv = NULL;
        return APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        *perr = apr_psprintf(p, "pending login entry field '%s' is not a "
                             "string", key);
        return APR_EINVAL;
    }
    *pv = apr_pstrdup(p, json_string_value(v));
    return APR_SUCCESS;
}

static apr_status_t entry_from_json(oac_pending_t *e, const char **perr,
                                    apr_pool_t *p, const json_t *obj)
{
    const json_t *exp;
    apr_status_t rv;

    if (!json_is_object(obj)) {
        *perr = "pending login entry is not a JSON object";
        return APR_EINVAL;
    }
    if ((rv = get_string(&e->state, perr, p, obj, K_STATE, 1))
        != APR_SUCCESS
        || (rv = get_string(&e->verifier, perr, p, obj, K_VERIFIER, 0))
        != APR_SUCCESS
        || (rv = get_string(&e->next, perr, p, obj, K_NEXT, 0))
        != APR_SUCCESS
        || (rv = get_string(&e->secret, perr, p, obj, K_SECRET, 0))
        != APR_SUCCESS) {
        return rv;
    }
    if (!*e->state) {
        *perr = "pending login entry has an empty state";
        return APR_EINVAL;
    }
    exp = json_object_get(obj, K_EXPIRES);
    if (!json_is_integer(exp) || json_integer_value(exp) <= 0) {
        *perr = "pending login entry has no valid expiry";
        return APR_EINVAL;
    }
    e->expires_at = (apr_int64_t)json_integer_value(exp);
    return APR_SUCCESS;
}

apr_status_t oac_pending_decode(apr_array_header_t **plist, const char **perr,
                                apr_pool_t *p, const char *s,
                                apr_int64_t now)
{
    apr_array_header_t *list;
    json_error_t jerr;
    json_t *json;
    apr_status_t rv = APR_SUCCESS;
    size_t i;

    if (!s || !*s) {
        *plist = apr_array_make(p, 1, sizeof(oac_pending_t));
        return APR_SUCCESS;
    }
    json = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        /* jerr.text may quote the input, which holds verifiers. */
        *perr = apr_psprintf(p, "pending logins are not valid JSON (line %d "
                             "column %d)", jerr.line, jerr.column);
        return APR_EINVAL;
    }
    if (!json_is_array(json)) {
        *perr = "pending logins are not a JSON array";
        json_decref(json);
        return APR_EINVAL;
    }
    list = apr_array_make(p, (int)json_array_size(json) + 1,
                          sizeof(oac_pending_t));
    for (i = 0; i < json_array_size(json); ++i) {
        oac_pending_t e;

        memset(&e, 0, sizeof(e));
        if ((rv = entry_from_json(&e, perr, p, json_array_get(json, i)))
            != APR_SUCCESS) {
            break;
        }
        if (e.expires_at > now) {
            *(oac_pending_t *)apr_array_push(list) = e;
        }
    }
    json_decref(json);
    if (rv == APR_SUCCESS) {
        *plist = list;
    }
    return rv;
}

/* ---- encode -------------------------------------------------------------- */

/* 0 on success; a NULL value is left out. json_string() refuses invalid
 * UTF-8, which is what makes an entry unencodable. */
static int put_string(json_t *obj, const char *key, const char *value)
{
    json_t *v;

    if (!value) {
        return 0;
    }
    if (!(v = json_string(value))) {
        return -1;
    }
    return json_object_set_new(obj, key, v);
}

static json_t *entry_to_json(const oac_pending_t *e)
{
    json_t *obj;

    if (!e->state || !*e->state) {
        return NULL;
    }
    obj = json_object();
    if (!obj
        || put_string(obj, K_STATE, e->state)
        || put_string(obj, K_VERIFIER, e->verifier)
        || put_string(obj, K_NEXT, e->next)
        || put_string(obj, K_SECRET, e->secret)
        || json_object_set_new(obj, K_EXPIRES,
                               json_integer((json_int_t)e->expires_at))) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

char *oac_pending_encode(apr_pool_t *p, const apr_array_header_t *list)
{
    const oac_pending_t *entries;
    json_t *arr;
    char *text, *copy;
    int i;

    if (!list || list->nelts == 0) {
        return apr_pstrdup(p, "");
    }
    entries = (const oac_pending_t *)list->elts;
    arr = json_array();
    for (i = 0; i < list->nelts; ++i) {
        json_t *obj = entry_to_json(&entries[i]);

        if (obj) {
            json_array_append_new(arr, obj);
        }
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return apr_pstrdup(p, "");
    }
    /* Keys in insertion order, so the text is stable for a given list. */
    text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!text) {
        return apr_pstrdup(p, "");
    }
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

/* ---- add / take ---------------------------------------------------------- */

static void remove_at(apr_array_header_t *list, int i)
{
    oac_pending_t *entries = (oac_pending_t *)list->elts;

    memmove(&entries[i], &entries[i + 1],
            sizeof(*entries) * (apr_size_t)(list->nelts - i - 1));
    --list->nelts;
}

void oac_pending_add(apr_array_header_t *list, const oac_pending_t *e,
                     int max)
{
    oac_pending_t *slot = apr_array_push(list);

    slot->state = e->state ? apr_pstrdup(list->pool, e->state) : NULL;
    slot->verifier = e->verifier ? apr_pstrdup(list->pool, e->verifier)
                                 : NULL;
    slot->next = e->next ? apr_pstrdup(list->pool, e->next) : NULL;
    slot->secret = e->secret ? apr_pstrdup(list->pool, e->secret) : NULL;
    slot->expires_at = e->expires_at;
    if (max < 1) {
        max = 1;
    }
    while (list->nelts > max) {
        remove_at(list, 0);
    }
}

int oac_pending_take(oac_pending_t *out, apr_array_header_t *list,
                     const char *state)
{
    const oac_pending_t *entries = (const oac_pending_t *)list->elts;
    int i, found = -1;

    /* Every entry is compared, so the time taken does not tell which
     * position (if any) matched. */
    for (i = 0; i < list->nelts; ++i) {
        if (oac_util_ct_streq(entries[i].state, state) && found < 0) {
            found = i;
        }
    }
    if (found < 0) {
        return 0;
    }
    *out = entries[found];
    remove_at(list, found);
    return 1;
}

apr_size_t oac_pending_stored_size(apr_pool_t *p,
                                   const apr_array_header_t *list)
{
    const unsigned char *c;
    apr_size_t size = 0;

    for (c = (const unsigned char *)oac_pending_encode(p, list); *c; ++c) {
        size += (apr_isalnum(*c) || strchr(".*_-", *c)) ? 1 : 3;
    }
    return size;
}

static apr_size_t total_size(apr_pool_t *p, apr_array_header_t **lists,
                             int n)
{
    apr_size_t total = 0;
    int i;

    for (i = 0; i < n; ++i) {
        total += oac_pending_stored_size(p, lists[i]);
    }
    return total;
}

void oac_pending_fit(apr_pool_t *p, apr_array_header_t **lists, int n,
                     int newest, apr_size_t budget, int *changed)
{
    while (total_size(p, lists, n) > budget) {
        int i, j, oldest_list = -1, oldest_at = -1;

        for (i = 0; i < n; ++i) {
            const oac_pending_t *e = (const oac_pending_t *)lists[i]->elts;
            int count = lists[i]->nelts - (i == newest);

            for (j = 0; j < count; ++j) {
                if (oldest_list < 0 || e[j].expires_at
                    < ((const oac_pending_t *)lists[oldest_list]->elts)
                          [oldest_at].expires_at) {
                    oldest_list = i;
                    oldest_at = j;
                }
            }
        }
        if (oldest_list >= 0) {
            remove_at(lists[oldest_list], oldest_at);
            changed[oldest_list] = 1;
            continue;
        }
        if (lists[newest]->nelts > 0) {
            oac_pending_t *last = &APR_ARRAY_IDX(lists[newest],
                                                 lists[newest]->nelts - 1,
                                                 oac_pending_t);
            if (last->next) {
                last->next = NULL;
                changed[newest] = 1;
                continue;
            }
        }
        return;
    }
}
