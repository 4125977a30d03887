/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "oac_pending.h"
#include "oac_util.h"

/*
 * "P", then five fields per entry in the module's stored form
 * (oac_util_stored_put): state, verifier, next, secret, expires_at. The
 * token is stored the same way: nothing to URL-encode, no JSON parser on
 * the callback's path.
 */
#define PENDING_PREFIX 'P'
#define ENTRY_FIELDS 5

/* ---- decode -------------------------------------------------------------- */

static const char *const field_names[ENTRY_FIELDS] = {
    "state", "verifier", "next", "secret", "expires_at"
};

apr_status_t oac_pending_decode(apr_array_header_t **plist, const char **perr,
                                apr_pool_t *p, const char *s,
                                apr_int64_t now)
{
    apr_array_header_t *list, *fields;
    const char **f;
    int bad, i;

    if (!s || !*s) {
        *plist = apr_array_make(p, 1, sizeof(oac_pending_t));
        return APR_SUCCESS;
    }
    if (*s != PENDING_PREFIX) {
        *perr = "pending logins are not in the module's form";
        return APR_EINVAL;
    }
    if (oac_util_stored_split(&fields, &bad, p, s + 1) != APR_SUCCESS) {
        /* Names the field, never quotes it: it may hold a verifier. */
        *perr = bad < 0 ? "pending logins are not in the module's form"
                        : apr_psprintf(p, "pending login field '%s' is not "
                                       "valid", field_names[bad
                                                            % ENTRY_FIELDS]);
        return APR_EINVAL;
    }
    if (fields->nelts % ENTRY_FIELDS) {
        *perr = "pending logins do not have 5 fields per entry";
        return APR_EINVAL;
    }
    f = (const char **)fields->elts;
    list = apr_array_make(p, fields->nelts / ENTRY_FIELDS + 1,
                          sizeof(oac_pending_t));
    for (i = 0; i < fields->nelts; i += ENTRY_FIELDS) {
        oac_pending_t e;

        if (!f[i] || !*f[i]) {
            *perr = "pending login entry has an empty state";
            return APR_EINVAL;
        }
        if (!oac_util_stored_seconds(&e.expires_at, f[i + 4])
            || e.expires_at <= 0) {
            *perr = "pending login entry has no valid expiry";
            return APR_EINVAL;
        }
        e.state = f[i];
        e.verifier = f[i + 1];
        e.next = f[i + 2];
        e.secret = f[i + 3];
        if (e.expires_at > now) {
            *(oac_pending_t *)apr_array_push(list) = e;
        }
    }
    *plist = list;
    return APR_SUCCESS;
}

/* ---- encode -------------------------------------------------------------- */

char *oac_pending_encode(apr_pool_t *p, const apr_array_header_t *list)
{
    const oac_pending_t *entries;
    apr_size_t room = 2;
    char at[32], *out, *o;
    int i;

    if (!list || list->nelts == 0) {
        return apr_pstrdup(p, "");
    }
    entries = (const oac_pending_t *)list->elts;
    for (i = 0; i < list->nelts; ++i) {
        room += oac_util_stored_room(entries[i].state)
                + oac_util_stored_room(entries[i].verifier)
                + oac_util_stored_room(entries[i].next)
                + oac_util_stored_room(entries[i].secret) + 2 + sizeof(at);
    }
    out = o = apr_palloc(p, room);
    *o++ = PENDING_PREFIX;
    for (i = 0; i < list->nelts; ++i) {
        const oac_pending_t *e = &entries[i];

        /* An entry without a state could never be taken back. */
        if (!e->state || !*e->state) {
            continue;
        }
        apr_snprintf(at, sizeof(at), "%" APR_INT64_T_FMT, e->expires_at);
        o = oac_util_stored_put(o, e->state);
        o = oac_util_stored_put(o, e->verifier);
        o = oac_util_stored_put(o, e->next);
        o = oac_util_stored_put(o, e->secret);
        o = oac_util_stored_put(o, at);
    }
    if (o == out + 1) {
        return apr_pstrdup(p, "");
    }
    *o = '\0';
    return out;
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
