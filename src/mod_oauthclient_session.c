/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Token storage in mod_session's session, through its optional functions so
 * that the module neither links against mod_session nor loads when it is
 * absent without saying why.
 *
 * Keys: oauthclient.NAME.token (oac_token_to_string), oauthclient.NAME.user,
 * oauthclient.NAME.pending (logins in flight).
 */
#include "mod_oauthclient_session.h"

#include "http_request.h"

#include <apr_optional.h>
#include <apr_strings.h>

static APR_OPTIONAL_FN_TYPE(ap_session_load) *session_load;
static APR_OPTIONAL_FN_TYPE(ap_session_get) *session_get;
static APR_OPTIONAL_FN_TYPE(ap_session_set) *session_set;

int oac_session_available(void)
{
    session_load = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    session_get = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    session_set = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    return session_load && session_get && session_set;
}

int oac_session_open(request_rec *r, session_rec **pz)
{
    session_rec *z = NULL;
    apr_status_t rv;

    if (!session_load) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00010)
                      "mod_session is not loaded: add 'LoadModule "
                      "session_module' and a store such as "
                      "session_cookie_module (a2enmod session_cookie)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = session_load(r, &z);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAC_LOGNO(00011)
                      "the session for %s could not be loaded: is a session "
                      "store configured here (SessionCookieName with "
                      "mod_session_cookie, or SessionDBDCookieName)?",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!z) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00012)
                      "no session for %s: tokens are kept in mod_session's "
                      "session, so add 'Session On' and a store (e.g. "
                      "'SessionCookieName oauth path=/;HttpOnly;Secure') "
                      "for this location", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *pz = z;
    return OK;
}

static const char *session_key(request_rec *r, const oac_app_t *app,
                               const char *what)
{
    return apr_pstrcat(r->pool, "oauthclient.", app->name, ".", what, NULL);
}

const char *oac_session_get(request_rec *r, session_rec *z, const oac_app_t *app,
                            const char *what)
{
    const char *value = NULL;
    if (session_get(r, z, session_key(r, app, what), &value) != APR_SUCCESS
        || !value || !*value) {
        return NULL;
    }
    return value;
}

void oac_session_set(request_rec *r, session_rec *z, const oac_app_t *app,
                     const char *what, const char *value)
{
    /* mod_session removes a key set to NULL */
    session_set(r, z, session_key(r, app, what),
                value && *value ? value : NULL);
}

int oac_session_token(request_rec *r, session_rec *z, const oac_app_t *app,
                      oac_token_t **ptoken, const char **puser)
{
    const char *s = oac_session_get(r, z, app, "token");
    const char *user, *why;
    oac_token_t *token;

    if (!s) {
        return 0;
    }
    user = oac_session_get(r, z, app, "user");
    if (oac_token_from_string(&token, &why, r->pool, s) != APR_SUCCESS
        || oac_token_check_sendable(&why, r->pool, token, user)
           != APR_SUCCESS) {
        /* A session written by something else, damaged, or (a plain
         * cookie) edited by its owner: treat it as logged out rather than
         * failing every request or forwarding what it says. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00013)
                      "app %s: ignoring an unreadable token in the session: "
                      "%s", app->name, why);
        return 0;
    }
    *ptoken = token;
    *puser = user;
    return 1;
}

apr_status_t oac_session_store_token(request_rec *r, session_rec *z,
                                     const oac_app_t *app,
                                     const oac_token_t *token,
                                     const char *user, const char **perr)
{
    apr_status_t rv;

    /* Every value stored here is later sent as a header, a variable or
     * REMOTE_USER: what could not be sent safely is never stored. */
    if ((rv = oac_token_check_sendable(perr, r->pool, token, user))
        != APR_SUCCESS) {
        return rv;
    }
    oac_session_set(r, z, app, "token", oac_token_to_string(r->pool, token));
    oac_session_set(r, z, app, "user", user);
    return APR_SUCCESS;
}

void oac_session_forget(request_rec *r, session_rec *z, const oac_app_t *app)
{
    oac_session_set(r, z, app, "token", NULL);
    oac_session_set(r, z, app, "user", NULL);
    oac_session_set(r, z, app, "pending", NULL);
}
