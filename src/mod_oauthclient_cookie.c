/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * mod_session_cookie loads the session with ap_cookie_read, which costs a
 * third of what the module adds to a proxied request (src/oac_cookie.h).
 * For the virtual hosts and locations the module serves (apps declared,
 * or OAuthSessionPassphrase set) this file loads it instead in the common
 * case, with the result mod_session_cookie gives: the same cookie
 * (SessionCookieName2 before SessionCookieName), the same session record,
 * cached in the main request's notes under mod_session_cookie's own key,
 * the same "Cache-Control: no-cache, private".
 *
 * Every other case is left to mod_session_cookie, decided before anything
 * is cached: SessionCookieRemove On (httpd's rewrite of the Cookie header,
 * and its handling of a session cached before an internal redirect, vary
 * between 2.4 releases), and a cookie sent twice with different values
 * (ap_cookie_read then logs AH00011 and gives an empty session: a second
 * cookie planted from a sibling domain must not choose the session).
 * Saving is mod_session_cookie's in all cases.
 *
 * The cookie's name and the remove flag are mod_session_cookie's
 * directives: httpd hands a directive to every module that declares it
 * (server/config.c, ap_walk_config_sub), so this module declares them too
 * and keeps a copy, merged by mod_session_cookie's rules. Without
 * mod_session_cookie they are refused (or, under AllowOverride
 * Nonfatal=Unknown, skipped with a warning) as httpd would.
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

/* 1 when mod_session_cookie is not loaded; *err is then what httpd says
 * of a directive no loaded module declares: an error, or NULL after a
 * warning under AllowOverride Nonfatal=Unknown. */
static int session_cookie_missing(cmd_parms *cmd, const char **err)
{
    *err = NULL;
    if (ap_find_linked_module("mod_session_cookie.c")) {
        return 0;
    }
    if (cmd->override & NONFATAL_UNKNOWN) {
        ap_log_perror(APLOG_MARK, APLOG_WARNING, 0, cmd->temp_pool,
                      OAC_LOGNO(00094) "Unknown directive %s: it belongs to "
                      "mod_session_cookie, which is not loaded",
                      cmd->cmd->name);
    }
    else {
        *err = apr_pstrcat(cmd->pool, "Invalid command '", cmd->cmd->name,
                           "': it belongs to mod_session_cookie, which is "
                           "not loaded (a2enmod session_cookie)", NULL);
    }
    return 1;
}

typedef struct {
    const session_rec *z;
    int found;
} cookie_note_t;

static int is_cookie_note(void *rec, const char *key, const char *val)
{
    cookie_note_t *c = rec;

    if (!strncmp(key, SESSION_COOKIE_NOTE, sizeof(SESSION_COOKIE_NOTE) - 1)
        && val == (const char *)c->z) {
        c->found = 1;
        return 0;
    }
    return 1;
}

request_rec *oac_session_keeper(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    while (r->main) {
        r = r->main;
    }
    return r;
}

int oac_session_in_cookie(request_rec *r, const session_rec *z)
{
    cookie_note_t c = { z, 0 };
    request_rec *m = oac_session_keeper(r);

    if (z) {
        apr_table_do(is_cookie_note, &c, m->notes, NULL);
    }
    return c.found;
}

/* The name as mod_session_cookie reads it: the first word; the cookie
 * attributes after it are its business only. */
const char *oac_cmd_session_cookie_name(cmd_parms *cmd, void *dconf,
                                        const char *args)
{
    oac_dir_conf *dc = dconf;
    const char *err;
    char *last, *name;

    if (session_cookie_missing(cmd, &err)) {
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
    const char *err;

    if (session_cookie_missing(cmd, &err)) {
        return err;
    }
    dc->cookie.remove = on;
    dc->cookie.remove_set = 1;
    return NULL;
}

typedef struct {
    apr_pool_t *pool;
    const char *name;
    oac_cookie_found_t found;
} cookie_read_t;

static int read_line(void *data, const char *key, const char *value)
{
    cookie_read_t *cr = data;

    oac_cookie_scan(cr->pool, value, cr->name, &cr->found);
    return 1;
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
    request_rec *m;
    session_rec *zz;
    cookie_read_t cr;

    if (dc->cookie.name2_set) {
        name = dc->cookie.name2;
    }
    else if (dc->cookie.name_set) {
        name = dc->cookie.name;
    }
    else {
        return DECLINED;
    }
    if (!name || dc->cookie.remove || !module_serves(r, dc)) {
        return DECLINED;
    }
    m = oac_session_keeper(r);
    note = apr_pstrcat(m->pool, SESSION_COOKIE_NOTE, name, NULL);
    if ((zz = (session_rec *)apr_table_get(m->notes, note))) {
        *z = zz;
        return OK;
    }
    /* Into the main request's pool: the session record that keeps the
     * value outlives a subrequest. */
    cr.pool = m->pool;
    cr.name = name;
    cr.found.value = NULL;
    cr.found.duplicated = 0;
    apr_table_do(read_line, &cr, r->headers_in, "Cookie", "Cookie2", NULL);
    if (cr.found.duplicated) {
        return DECLINED;
    }
    zz = apr_pcalloc(m->pool, sizeof(*zz));
    zz->pool = m->pool;
    zz->entries = apr_table_make(m->pool, 10);
    zz->encoded = cr.found.value;
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
