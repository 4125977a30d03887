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
#include "mod_oauthclient_codec.h"
#include "mod_oauthclient_cache.h"

#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "http_request.h"

#include <apr_optional.h>
#include <apr_strings.h>

APLOG_USE_MODULE(oauthclient);

/* What an app's keys in the session start with: PREFIX NAME "." WHAT */
#define SESSION_KEY_PREFIX "oauthclient."
#define SESSION_KEY_PREFIX_LEN (sizeof(SESSION_KEY_PREFIX) - 1)

#pragma weak ap_hook_session_save
#pragma weak ap_hook_session_load

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
    const char *db_why = NULL, *cookie, *cookie2;
    int retry = 0;

    if (!session_load) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00010)
                      "mod_session is not loaded: add 'LoadModule "
                      "session_module' and a store such as "
                      "session_cookie_module (a2enmod session_cookie)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* mod_session_dbd takes its cookie out of the request as it reads it
     * (SessionDBDCookieRemove, on by default): a second try needs them
     * back, or it loads an empty session and the user is logged out. */
    cookie = apr_table_get(r->headers_in, "Cookie");
    cookie2 = apr_table_get(r->headers_in, "Cookie2");
    rv = session_load(r, &z);
    if (rv != APR_SUCCESS
        && (db_why = oac_dbd_session_failed(r, &retry)) && retry) {
        /* mod_session keeps no failed load: this is a second try. */
        apr_table_unset(r->headers_in, "Cookie");
        apr_table_unset(r->headers_in, "Cookie2");
        if (cookie) {
            apr_table_setn(r->headers_in, "Cookie", cookie);
        }
        if (cookie2) {
            apr_table_setn(r->headers_in, "Cookie2", cookie2);
        }
        if ((rv = session_load(r, &z)) == APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00108)
                          "%s: prepared them again, and the session "
                          "loaded", db_why);
        }
    }
    if (rv == APR_SUCCESS && z && !z->uuid && (cookie || cookie2)
        && (db_why = oac_dbd_broken(r))) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS && db_why) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAC_LOGNO(00109)
                      "the session for %s could not be loaded from the "
                      "database: %s", r->uri, db_why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv != APR_SUCCESS) {
        /* mod_session has just said which of the two it was (AH01815: no
         * store here; AH01816: the store failed), and a database that is
         * down is no configuration mistake: point at that line. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAC_LOGNO(00011)
                      "the session for %s could not be loaded; mod_session's "
                      "line just before says why: AH01815, no session store "
                      "is configured here (SessionCookieName with "
                      "mod_session_cookie, or SessionDBDCookieName with "
                      "mod_session_dbd); AH01816, the store failed (with "
                      "mod_session_dbd: its database, see mod_dbd's lines)",
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
    if (!oac_codec_session_usable(r, z)) {
        /* A private empty session: the chain's record is the earlier
         * request's, to save as that request's scope says. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00152)
                      "%s is under OAuthSessionPassphrase, but an earlier "
                      "request of this chain (an ErrorDocument's or an "
                      "include's parent) read the session outside it, "
                      "unencrypted: it is no session here. Give 'Session On' "
                      "and OAuthSessionPassphrase the same scope", r->uri);
        z = apr_pcalloc(r->pool, sizeof(*z));
        z->pool = r->pool;
        z->entries = apr_table_make(r->pool, 1);
    }
    *pz = z;
    return OK;
}

/* A response whose session cookie browsers would drop: no cookie, an
 * error page instead of the response, and a log line that says why. */
#define COOKIE_FILTER "OAUTHCLIENT_COOKIE_SIZE"
/* Name and value, what browsers keep at most and drop silently beyond
 * (RFC 6265 6.1 asks for at least this much; none keeps more). */
#define COOKIE_MAX 4096

typedef struct {
    apr_size_t largest;         /* the largest name=value over COOKIE_MAX */
    const char *name;           /* its name */
    apr_array_header_t *kept;   /* the Set-Cookie values that fit */
} cookie_scan;

static int scan_cookie(void *rec, const char *key, const char *val)
{
    cookie_scan *cs = rec;
    apr_size_t len = strcspn(val, ";");

    if (len > COOKIE_MAX) {
        if (len > cs->largest) {
            cs->largest = len;
            cs->name = apr_pstrmemdup(cs->kept->pool, val, strcspn(val, "="));
        }
    }
    else {
        APR_ARRAY_PUSH(cs->kept, const char *) = val;
    }
    return 1;
}

/* Drops every Set-Cookie of t over COOKIE_MAX; 1 when there was one. */
static int drop_oversized(request_rec *r, apr_table_t *t, cookie_scan *cs)
{
    apr_size_t before = cs->largest;
    int i;

    cs->kept = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(scan_cookie, cs, t, "Set-Cookie", NULL);
    if (cs->largest == before) {
        return 0;
    }
    apr_table_unset(t, "Set-Cookie");
    for (i = 0; i < cs->kept->nelts; ++i) {
        apr_table_addn(t, "Set-Cookie",
                       APR_ARRAY_IDX(cs->kept, i, const char *));
    }
    return 1;
}

static int collect_token_app(void *rec, const char *key, const char *val)
{
    apr_size_t n = strlen(key);

    if (!strncmp(key, SESSION_KEY_PREFIX, SESSION_KEY_PREFIX_LEN)
        && n > SESSION_KEY_PREFIX_LEN + 6
        && !strcmp(key + n - 6, ".token")) {
        APR_ARRAY_PUSH((apr_array_header_t *)rec, const char *) =
            apr_psprintf(((apr_array_header_t *)rec)->pool, "%.*s (%"
                         APR_SIZE_T_FMT " bytes of token)",
                         (int)(n - SESSION_KEY_PREFIX_LEN - 6),
                         key + SESSION_KEY_PREFIX_LEN, strlen(val));
    }
    return 1;
}

static const char *apps_in_session(request_rec *r)
{
    apr_array_header_t *apps = apr_array_make(r->pool, 2,
                                              sizeof(const char *));
    session_rec *z = NULL;

    if (session_load && session_load(r, &z) == APR_SUCCESS && z
        && z->entries) {
        apr_table_do(collect_token_app, apps, z->entries, NULL);
    }
    return apps->nelts ? apr_array_pstrcat(r->pool, apps, ',') : "none";
}

static apr_status_t cookie_size_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_brigade *out = f->ctx;
    cookie_scan cs = { 0, NULL, NULL };
    apr_bucket *b;

    if (!out) {
        /* mod_session has written its Set-Cookie by now: its filter
         * comes first. */
        int dropped = drop_oversized(r, r->err_headers_out, &cs);

        dropped |= drop_oversized(r, r->headers_out, &cs);
        if (!dropped) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00014)
                      "the session cookie %s would be %" APR_SIZE_T_FMT
                      " bytes, over the %d that browsers keep (they drop "
                      "a larger one without a word): it was not sent and "
                      "the request failed. Apps in the session: %s. Keep "
                      "sessions on the server once tokens are this large: "
                      "mod_session_dbd (the README says how)",
                      cs.name ? cs.name : "?", cs.largest, COOKIE_MAX,
                      apps_in_session(r));
        r->status = HTTP_INTERNAL_SERVER_ERROR;
        apr_table_unset(r->headers_out, "Location");
        apr_table_unset(r->headers_out, "Content-Length");
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        ap_set_content_type(r, "text/html; charset=utf-8");
        out = f->ctx = apr_brigade_create(r->pool, f->c->bucket_alloc);
        apr_brigade_puts(out, NULL, NULL,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>The session is too large</title></head>\n<body>\n"
            "<h1>The session is too large</h1>\n<p>This site's session "
            "would be larger than a browser keeps, so it was not changed. "
            "The site's administrator can find the details in the error "
            "log.</p>\n</body></html>\n");
    }
    /* What the handler wrote goes nowhere; the page goes out at the end. */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(
                f->c->bucket_alloc));
            apr_brigade_cleanup(bb);
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, out);
        }
    }
    apr_brigade_cleanup(bb);
    return APR_SUCCESS;
}

/* An error response or a redirect the handler returned as a status
 * starts from a fresh filter chain: mod_session saves there too, and so
 * the size is checked there too. */
static void insert_error_filter(request_rec *r)
{
    const oac_request_t *rs = ap_get_module_config(r->request_config,
                                                   &oauthclient_module);
    if (rs && rs->cookie_watched) {
        ap_add_output_filter(COOKIE_FILTER, NULL, r, r->connection);
    }
}

/*
 * mod_session_dbd gives the session a new id at every save that changed
 * it. After a refresh that strands a browser's other requests, sent with
 * the old id's cookie before the new one came back: they find no session
 * and the user is sent to log in. A refresh does not change who the user
 * is (a refreshed id_token must name the login's sub; the claims it
 * renews may change what the user may do, but the id is already the
 * user's own, new at the login), so a save whose only change was a
 * refresh keeps the id (mod_session_dbd keeps it for a session it thinks
 * unchanged). "Only" is judged on the
 * session itself, not on what this module did: the session must have
 * been unchanged when the refresh began and be exactly what the refresh
 * left at save time, so a change by anyone else (mod_auth_form's login,
 * SessionHeader, a subrequest) still gets a new id. Harmless for the
 * cookie stores, which do not read the flag.
 */
static int same_entries(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *x = apr_table_elts(a), *y = apr_table_elts(b);
    const apr_table_entry_t *ex = (const apr_table_entry_t *)x->elts;
    const apr_table_entry_t *ey = (const apr_table_entry_t *)y->elts;
    int i;

    if (x->nelts != y->nelts) {
        return 0;
    }
    for (i = 0; i < x->nelts; ++i) {
        if (strcmp(ex[i].key, ey[i].key)
            || strcmp(ex[i].val ? ex[i].val : "", ey[i].val ? ey[i].val : "")) {
            return 0;
        }
    }
    return 1;
}

void oac_session_refresh_begin(request_rec *r, session_rec *z)
{
    oac_request_t *rs = oac_request_state(r);

    if (rs->refresh_only == 0) {
        rs->refresh_only = z->dirty ? -1 : 1;
    }
    else if (rs->refresh_only == 1
             && (!rs->after_refresh
                 || !same_entries(z->entries, rs->after_refresh))) {
        rs->refresh_only = -1;
    }
}

void oac_session_refresh_end(request_rec *r, session_rec *z)
{
    oac_request_t *rs = oac_request_state(r);

    if (rs->refresh_only == 1) {
        rs->after_refresh = apr_table_copy(r->pool, z->entries);
    }
}

/* Before any store loads a session: mod_session's own fixups load one in
 * every location with Session On, before the module's handlers (login,
 * callback, logout) open it, and mod_session_dbd takes the cookie out of
 * the request as it reads it. A pooled database connection the server
 * closed is made again first. Without a cookie no session is read from
 * a database: no connection is taken from mod_dbd's pool to check on. */
static int dbd_before_load(request_rec *r, session_rec **z)
{
    (void)z;
    if (apr_table_get(r->headers_in, "Cookie")
        || apr_table_get(r->headers_in, "Cookie2")) {
        oac_dbd_before_session(r);
    }
    return DECLINED;
}

/* Whether z holds logins in flight and nothing else (no token, no user,
 * no key of the site's own). */
static int only_logins_in_flight(const session_rec *z)
{
    const apr_array_header_t *arr = z->entries ? apr_table_elts(z->entries)
                                               : NULL;
    const apr_table_entry_t *e;
    int i;

    if (!arr || !arr->nelts) {
        return 0;
    }
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; ++i) {
        const char *dot = e[i].key ? strrchr(e[i].key, '.') : NULL;
        if (!dot || strncmp(e[i].key, SESSION_KEY_PREFIX,
                            SESSION_KEY_PREFIX_LEN)
            || (strcmp(dot + 1, "pending")
                && strcmp(dot + 1, OAC_PENDING_FOR))) {
            return 0;
        }
    }
    return 1;
}

static int keep_session_id(request_rec *r, session_rec *z)
{
    request_rec *q;

    /* mod_session_dbd writes next: a session made by this request (a
     * login) was never loaded from the database, so the connection it is
     * written on was not looked at yet. */
    if (z && z->dirty) {
        oac_dbd_before_session(r);
    }
    if (z && only_logins_in_flight(z)) {
        /* Every anonymous GET of a login path makes such a session, and
         * under mod_session_dbd each is a row: it expires with the login
         * (the README's cleanup from cron removes it then), not after
         * SessionMaxAge or never, at every save, a later request's too
         * (the row's expiry is what mod_session_dbd reads back). Set
         * after mod_session set it, before the store writes it. */
        apr_time_t cap = apr_time_now()
                         + apr_time_from_sec(OAC_PENDING_LIFETIME);
        if (!z->expiry || z->expiry > cap) {
            z->expiry = cap;
        }
    }
    if (!z || !z->uuid || !z->dirty) {
        return DECLINED;
    }
    for (q = r; q; q = q->prev ? q->prev : q->main) {
        const oac_request_t *rs = ap_get_module_config(q->request_config,
                                                       &oauthclient_module);
        if (rs && rs->refresh_only) {
            if (rs->refresh_only == 1 && rs->after_refresh
                && same_entries(z->entries, rs->after_refresh)) {
                ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "the session "
                              "changed only by a token refresh: it keeps "
                              "its id");
                z->dirty = 0;
            }
            break;
        }
    }
    return DECLINED;
}

void oac_session_register(void)
{
    /* Before every store's own save hook (APR_HOOK_MIDDLE). Weak, as the
     * codec's (mod_oauthclient_codec.c says why). */
    if (ap_hook_session_save) {
        ap_hook_session_save(keep_session_id, NULL, NULL,
                             APR_HOOK_REALLY_FIRST);
    }
    if (ap_hook_session_load) {
        ap_hook_session_load(dbd_before_load, NULL, NULL,
                             APR_HOOK_REALLY_FIRST);
    }
    /* After mod_session's own output filter (AP_FTYPE_CONTENT_SET), which
     * writes the cookie, and before the headers go out. */
    ap_register_output_filter(COOKIE_FILTER, cookie_size_filter, NULL,
                              AP_FTYPE_CONTENT_SET + 5);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}

static const char *session_key(request_rec *r, const oac_app_t *app,
                               const char *what)
{
    return apr_pstrcat(r->pool, SESSION_KEY_PREFIX, app->name, ".", what,
                       NULL);
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
    oac_request_t *rs = oac_request_state(r);

    /* mod_session removes a key set to NULL */
    session_set(r, z, session_key(r, app, what),
                value && *value ? value : NULL);
    if (!rs->cookie_watched) {
        rs->cookie_watched = 1;
        ap_add_output_filter(COOKIE_FILTER, NULL, r, r->connection);
    }
}

/* App names that stand for apps of different clients or providers in
 * different virtual hosts (name -> name), made in post_config, read-only
 * in the children: a session from before logins were bound cannot tell
 * which one it was made with. */
static apr_hash_t *names_ambiguous;

void oac_session_post_config(apr_pool_t *pconf, server_rec *main_s)
{
    apr_hash_t *bind_of = apr_hash_make(pconf);
    server_rec *s;
    int i;

    names_ambiguous = apr_hash_make(pconf);
    for (s = main_s; s; s = s->next) {
        const oac_server_conf *sc = oac_server_config(s);

        for (i = 0; sc->apps && i < sc->apps->nelts; ++i) {
            const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i,
                                                 const oac_app_t *);
            const char *seen = apr_hash_get(bind_of, app->name,
                                            APR_HASH_KEY_STRING);

            if (!seen) {
                apr_hash_set(bind_of, app->name, APR_HASH_KEY_STRING,
                             app->session_bind);
            }
            else if (strcmp(seen, app->session_bind)) {
                apr_hash_set(names_ambiguous, app->name,
                             APR_HASH_KEY_STRING, app->name);
            }
        }
    }
}

int oac_session_name_ambiguous(const char *name)
{
    return names_ambiguous
           && apr_hash_get(names_ambiguous, name, APR_HASH_KEY_STRING);
}

int oac_session_bound(request_rec *r, session_rec *z, const oac_app_t *app)
{
    const char *bind = oac_session_get(r, z, app, "bind");

    if (bind ? !strcmp(bind, app->session_bind)
             : !names_ambiguous
               || !apr_hash_get(names_ambiguous, app->name,
                                APR_HASH_KEY_STRING)) {
        /* Sessions of an earlier version have none: taken where the
         * name tells the app. */
        return 1;
    }
    if (!oac_session_get(r, z, app, "token")
        && !oac_session_get(r, z, app, "id_token")) {
        return 1;               /* no login to judge */
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00144)
                  "app %s: the session's login was made %s: not used",
                  app->name,
                  bind ? "with another provider or client (an app of the "
                         "same name elsewhere under the same session "
                         "passphrase, or this app before its provider "
                         "changed)"
                       : "by an earlier version, and apps of this name "
                         "differ between virtual hosts");
    return 0;
}

int oac_session_token(request_rec *r, session_rec *z, const oac_app_t *app,
                      oac_token_t **ptoken, const char **puser)
{
    const char *s = oac_session_get(r, z, app, "token");
    const char *user, *why;
    oac_token_t *token;

    if (!s || !oac_session_bound(r, z, app)) {
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
                                     const char *stored, const char *user,
                                     const char **perr)
{
    apr_status_t rv;

    /* Every value stored here is later sent as a header, a variable or
     * REMOTE_USER: what could not be sent safely is never stored. */
    if ((rv = oac_token_check_sendable(perr, r->pool, token, user))
        != APR_SUCCESS) {
        return rv;
    }
    oac_session_set(r, z, app, "token",
                    stored ? stored : oac_token_to_string(r->pool, token));
    oac_session_set(r, z, app, "user", user);
    oac_session_set(r, z, app, "bind", app->session_bind);
    return APR_SUCCESS;
}

void oac_session_forget(request_rec *r, session_rec *z, const oac_app_t *app)
{
    oac_session_set(r, z, app, "token", NULL);
    oac_session_set(r, z, app, "user", NULL);
    oac_session_set(r, z, app, "bind", NULL);
    oac_session_set(r, z, app, "pending", NULL);
    oac_session_set(r, z, app, OAC_PENDING_FOR, NULL);
    oac_session_set(r, z, app, "claims", NULL);
    oac_session_set(r, z, app, "id_token", NULL);
    oac_session_set(r, z, app, "claims_set", NULL);
    oac_session_set(r, z, app, "claims_ui", NULL);
}
