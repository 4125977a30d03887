/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * mod_session_cookie loads the session with ap_cookie_read, which costs a
 * third of what the module adds to a proxied request (src/oac_cookie.h).
 * For the virtual hosts and locations the module serves (apps declared,
 * or OAuthSessionPassphrase set) this file loads it instead, with the
 * result mod_session_cookie gives:
 *
 * - the same cookie (SessionCookieName2 before SessionCookieName), the
 *   same duplicate rule (the last one wins, logged), the same rewrite of
 *   the Cookie header under SessionCookieRemove On;
 * - the same session record, cached in the main request's notes under
 *   mod_session_cookie's own key, so either module finds what the other
 *   loaded; the same "Cache-Control: no-cache, private".
 *
 * Saving is still mod_session_cookie's. The cookie's name and the remove
 * flag are mod_session_cookie's directives: httpd hands a directive to
 * every module that declares it (server/config.c, ap_walk_config_sub), so
 * this module declares them too and keeps a copy, merged by
 * mod_session_cookie's rules. Without mod_session_cookie they are refused
 * as httpd would refuse them.
 */
#include "mod_oauthclient_cookie.h"
#include "mod_oauthclient_config.h"

#include "http_request.h"
#include "mod_session.h"

#include <apr_strings.h>

#include "oac_cookie.h"

APLOG_USE_MODULE(oauthclient);

#pragma weak ap_hook_session_load

/* mod_session_cookie's key for the session it loaded (MOD_SESSION_COOKIE
 * in mod_session_cookie.c, which no header exports) */
#define SESSION_COOKIE_NOTE "mod_session_cookie"

static const char *need_session_cookie(cmd_parms *cmd)
{
    if (!ap_find_linked_module("mod_session_cookie.c")) {
        return apr_pstrcat(cmd->pool, "Invalid command '",
                           cmd->cmd->name, "': it belongs to "
                           "mod_session_cookie, which is not loaded "
                           "(a2enmod session_cookie)", NULL);
    }
    return NULL;
}

/* The name as mod_session_cookie reads it: the first word; the cookie
 * attributes after it are its business only. */
const char *oac_cmd_session_cookie_name(cmd_parms *cmd, void *dconf,
                                        const char *args)
{
    oac_dir_conf *dc = dconf;
    const char *err = need_session_cookie(cmd);
    char *last, *name;

    if (err) {
        return err;
    }
    name = apr_strtok(apr_pstrdup(cmd->pool, args), " \t", &last);
    if (!strcasecmp(cmd->cmd->name, "SessionCookieName2")) {
        dc->cookie.name2 = name;
        dc->cookie.name2_set = 1;
    }
    else {
        dc->cookie.name = name;
        dc->cookie.name_set = 1;
    }
    /* mod_session_cookie checks the name and reports what is wrong */
    return NULL;
}

const char *oac_cmd_session_cookie_remove(cmd_parms *cmd, void *dconf,
                                          int on)
{
    oac_dir_conf *dc = dconf;
    const char *err = need_session_cookie(cmd);

    if (err) {
        return err;
    }
    dc->cookie.remove = on;
    dc->cookie.remove_set = 1;
    return NULL;
}

typedef struct {
    apr_pool_t *pool;
    const char *name;
    int remove;
    oac_cookie_found_t found;
    apr_table_t *kept;          /* the rewritten headers, when removing */
} cookie_read_t;

static int read_line(void *data, const char *key, const char *value)
{
    cookie_read_t *cr = data;
    const char *rest = NULL;

    oac_cookie_scan(cr->pool, value, cr->name, &cr->found,
                    cr->remove ? &rest : NULL);
    if (rest) {
        apr_table_addn(cr->kept, key, rest);
    }
    return 1;
}

/* Into pool, the main request's: the session record that keeps the value
 * outlives a subrequest. */
static const char *read_cookie(request_rec *r, apr_pool_t *pool,
                               const char *name, int remove)
{
    cookie_read_t cr;

    cr.pool = pool;
    cr.name = name;
    cr.remove = remove;
    cr.found.value = NULL;
    cr.found.duplicated = 0;
    cr.kept = remove ? apr_table_make(r->pool, 2) : NULL;
    apr_table_do(read_line, &cr, r->headers_in, "Cookie", "Cookie2", NULL);
    if (cr.found.duplicated) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00094)
                      "client submitted cookie '%s' more than once: %s",
                      name, r->uri);
    }
    if (remove) {
        apr_table_unset(r->headers_in, "Cookie");
        apr_table_unset(r->headers_in, "Cookie2");
        r->headers_in = apr_table_overlay(r->pool, r->headers_in, cr.kept);
    }
    return cr.found.value;
}

static int module_serves(request_rec *r, const oac_dir_conf *dc)
{
    const oac_server_conf *sc;
    if (dc->codec) {
        return 1;
    }
    sc = oac_server_config(r->server);
    return sc->apps && sc->apps->nelts > 0;
}

static apr_status_t cookie_load(request_rec *r, session_rec **z)
{
    const oac_dir_conf *dc = oac_dir_config(r);
    const char *name, *note;
    request_rec *m = r;
    session_rec *zz;

    if (dc->cookie.name2_set) {
        name = dc->cookie.name2;
    }
    else if (dc->cookie.name_set) {
        name = dc->cookie.name;
    }
    else {
        return DECLINED;
    }
    if (!name || !module_serves(r, dc)) {
        return DECLINED;
    }
    while (m->prev) {
        m = m->prev;
    }
    while (m->main) {
        m = m->main;
    }
    note = apr_pstrcat(m->pool, SESSION_COOKIE_NOTE, name, NULL);
    if ((zz = (session_rec *)apr_table_get(m->notes, note))) {
        *z = zz;
        return OK;
    }
    zz = apr_pcalloc(m->pool, sizeof(*zz));
    zz->pool = m->pool;
    zz->entries = apr_table_make(m->pool, 10);
    zz->encoded = read_cookie(r, m->pool, name, dc->cookie.remove);
    *z = zz;
    apr_table_setn(m->notes, note, (char *)zz);
    apr_table_addn(r->headers_out, "Cache-Control", "no-cache, private");
    return OK;
}

void oac_cookie_register(void)
{
    /* Before mod_session_cookie and mod_session_dbd (APR_HOOK_MIDDLE),
     * which decline when their own directives are not set. Weak, as the
     * codec's (mod_oauthclient_codec.c says why). */
    if (ap_hook_session_load) {
        ap_hook_session_load(cookie_load, NULL, NULL, APR_HOOK_FIRST);
    }
}
