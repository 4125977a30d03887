/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include <apr_strings.h>

#include "oac_form.h"
#include "oac_util.h"

/* Names quoted in error messages are cut so a garbage body stays readable. */
#define OAC_FORM_QUOTE_MAX 64

apr_array_header_t *oac_form_make(apr_pool_t *p)
{
    return apr_array_make(p, 8, sizeof(oac_param_t));
}

void oac_form_add(apr_array_header_t *form, const char *name,
                  const char *value)
{
    oac_param_t *param = apr_array_push(form);

    param->name = name;
    param->value = value;
}

void oac_form_set(apr_array_header_t *form, const char *name,
                  const char *value)
{
    oac_param_t *params = (oac_param_t *)form->elts;
    int i, kept = 0, found = 0;

    for (i = 0; i < form->nelts; ++i) {
        if (strcmp(params[i].name, name) == 0) {
            if (found) {
                continue;
            }
            found = 1;
            params[i].value = value;
        }
        params[kept++] = params[i];
    }
    form->nelts = kept;
    if (!found) {
        oac_form_add(form, name, value);
    }
}

const char *oac_form_get(const apr_array_header_t *form, const char *name)
{
    const oac_param_t *params = (const oac_param_t *)form->elts;
    int i;

    for (i = 0; i < form->nelts; ++i) {
        if (strcmp(params[i].name, name) == 0) {
            return params[i].value;
        }
    }
    return NULL;
}

int oac_form_count(const apr_array_header_t *form, const char *name)
{
    const oac_param_t *params;
    int i, n = 0;

    if (!form) {
        return 0;
    }
    params = (const oac_param_t *)form->elts;
    for (i = 0; i < form->nelts; ++i) {
        n += strcmp(params[i].name, name) == 0;
    }
    return n;
}

char *oac_form_encode(apr_pool_t *p, const apr_array_header_t *form)
{
    const oac_param_t *params;
    struct iovec *parts;
    apr_size_t n = 0;
    int i;

    if (!form || form->nelts == 0) {
        return apr_pstrdup(p, "");
    }
    params = (const oac_param_t *)form->elts;
    parts = apr_palloc(p, sizeof(*parts) * (apr_size_t)form->nelts * 4);
    for (i = 0; i < form->nelts; ++i) {
        char *name = oac_util_pct_encode(p, params[i].name);
        char *value = oac_util_pct_encode(p, params[i].value);

        if (i > 0) {
            parts[n].iov_base = "&";
            parts[n++].iov_len = 1;
        }
        parts[n].iov_base = name;
        parts[n++].iov_len = strlen(name);
        parts[n].iov_base = "=";
        parts[n++].iov_len = 1;
        parts[n].iov_base = value;
        parts[n++].iov_len = strlen(value);
    }
    return apr_pstrcatv(p, parts, n, NULL);
}

/* A raw (still encoded) name, cut and made printable for an error. */
static const char *quote_name(apr_pool_t *p, const char *name, apr_size_t len)
{
    char *q;
    apr_size_t i;

    if (len > OAC_FORM_QUOTE_MAX) {
        len = OAC_FORM_QUOTE_MAX;
    }
    q = apr_pstrmemdup(p, name, len);
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)q[i];
        if (c < 0x20 || c >= 0x7f) {
            q[i] = '?';
        }
    }
    return q;
}

/* Decodes one non-empty "name[=value]" segment and appends it. */
static apr_status_t decode_segment(apr_array_header_t *form,
                                   const char **perr, apr_pool_t *p,
                                   const char *seg, apr_size_t len)
{
    const char *eq = memchr(seg, '=', len);
    apr_size_t nlen = eq ? (apr_size_t)(eq - seg) : len;
    const char *raw_value = eq ? apr_pstrmemdup(p, eq + 1, len - nlen - 1)
                               : "";
    char *name, *value;
    const char *why;

    if (nlen == 0) {
        *perr = "form has a parameter with an empty name";
        return APR_EINVAL;
    }
    if (oac_util_pct_decode(&name, &why, p, apr_pstrmemdup(p, seg, nlen), 1)
        != APR_SUCCESS) {
        *perr = apr_psprintf(p, "form parameter name '%s': %s",
                             quote_name(p, seg, nlen), why);
        return APR_EINVAL;
    }
    if (oac_util_pct_decode(&value, &why, p, raw_value, 1) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "value of form parameter '%s': %s",
                             quote_name(p, seg, nlen), why);
        return APR_EINVAL;
    }
    oac_form_add(form, name, value);
    return APR_SUCCESS;
}

apr_status_t oac_form_decode(apr_array_header_t **pform, const char **perr,
                             apr_pool_t *p, const char *s)
{
    apr_array_header_t *form = oac_form_make(p);
    const char *seg = s ? s : "";

    while (*seg) {
        apr_size_t len = strcspn(seg, "&");
        apr_status_t rv;

        if (len > 0
            && (rv = decode_segment(form, perr, p, seg, len)) != APR_SUCCESS) {
            return rv;
        }
        seg += len;
        if (*seg == '&') {
            ++seg;
        }
    }
    *pform = form;
    return APR_SUCCESS;
}
