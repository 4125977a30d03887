/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oac_form: ordered name/value lists, as OAuth needs them (repeated names
 * are kept, in order), and their application/x-www-form-urlencoded form.
 */

#ifndef OAC_FORM_H
#define OAC_FORM_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *name;
    const char *value;
} oac_param_t;

/* An empty array of oac_param_t. */
apr_array_header_t *oac_form_make(apr_pool_t *p);

/* Appends. Strings are not copied: they must live as long as the array. */
void oac_form_add(apr_array_header_t *form, const char *name,
                  const char *value);

/*
 * Replaces the value of the first parameter called name and removes any
 * later one of that name; appends when there is none. Not copied either.
 */
void oac_form_set(apr_array_header_t *form, const char *name,
                  const char *value);

/* Value of the first parameter called name, or NULL. */
const char *oac_form_get(const apr_array_header_t *form, const char *name);

/* How many parameters are called name (form NULL: 0). */
int oac_form_count(const apr_array_header_t *form, const char *name);

/*
 * "a=1&b=2", names and values through oac_util_pct_encode (space is %20).
 * A NULL value is written as an empty one ("a="). form == NULL gives "".
 */
char *oac_form_encode(apr_pool_t *p, const apr_array_header_t *form);

/*
 * Parses "a=1&b=2&a=3" keeping order and duplicates. '+' is a space, %XX
 * is decoded, "a" gives value "", empty segments are skipped, an empty name
 * or malformed percent-encoding is an error. s == NULL or "" gives an empty
 * array. Decoded strings are allocated from p.
 */
apr_status_t oac_form_decode(apr_array_header_t **pform, const char **perr,
                             apr_pool_t *p, const char *s);

#endif /* OAC_FORM_H */
