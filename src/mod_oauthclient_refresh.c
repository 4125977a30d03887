/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * Refreshing OAuth 2 tokens before use, once per token even when a browser
 * sends many requests in parallel. Refresh tokens rotate: the first refresh
 * spends the token every parallel request carries, so one request refreshes
 * and the others, in any child process or, with a shared OAuthCache, on any
 * machine, wait for it and take its result (mod_oauthclient_cache.c).
 */
#include "mod_oauthclient_refresh.h"
#include "mod_oauthclient_claims.h"
#include "mod_oauthclient_hooks.h"
#include "mod_oauthclient_status.h"

#include "mod_oauthclient_cache.h"
#include "mod_oauthclient_cookie.h"
#include "mod_oauthclient_discovery.h"
#include "mod_oauthclient_oidc.h"

#include <apr_strings.h>

#include "oac_form.h"
#include "oac_oauth2.h"
#include "oac_util.h"

APLOG_USE_MODULE(oauthclient);

/* Hand-off results that come back expired (tokens shorter than the time
 * a waiter took) are refreshed again, this many times at most. */
#define MAX_CHAINED_REFRESHES 3
/* A token this close to its expiry is refreshed before use: the request
 * may take a while to reach the provider (Authlib's leeway, 60 s too). */
#define REFRESH_MARGIN 60
#define WAIT_STEP apr_time_from_msec(50)
/* Outcomes handed to parallel requests that are no verdict on the token
 * (no stored token starts with '!'), which they answer as the refreshing
 * request does, keeping the token:
 * - "!unavailable TIME": the provider could not answer
 *   (OAC_OAUTH2_UNAVAILABLE): 502;
 * - "!hook STATUS TIME": a compliance hook failed the refresh, choosing
 *   the answer (contract section 8).
 * Requests within NO_VERDICT_QUIET seconds of TIME answer so at once; a
 * later one tries again, under a key of its own (the hand-off keeps an
 * outcome for a minute, which must not keep a provider that is back, or
 * a hook's verdict on one request, from the next), and so on down the
 * chain. */
#define UNAVAILABLE "!unavailable "
#define HOOK_FAILED "!hook "
#define NO_VERDICT_QUIET 5
#define NO_VERDICT_HOPS (OAC_HANDOFF_TTL / NO_VERDICT_QUIET + 1)

/*
 * Calls the provider; the result on success, NULL on failure, UNAVAILABLE
 * when the provider could not answer (the token is not refused). The
 * result is the token string, followed by a newline and the response's
 * id_token when the session holds one to replace (previous) and the new
 * one passed the checks: the parallel requests that take the result store
 * it too.
 */
static const char *do_refresh(request_rec *r, const oac_app_t *app,
                              const oac_token_t *old, const char *previous)
{
    oac_token_t *fresh;
    const char *why, *id_token, *result;
    apr_status_t rv;

    rv = oac_oauth2_refresh(&fresh, &why, r->pool,
                            oac_hooked_client(r, app, OAC_CALL_REFRESH), app,
                            old, oac_now());
    if (rv != APR_SUCCESS && oac_request_state(r)->hook_status) {
        /* logged by the hook's caller */
        return apr_psprintf(r->pool, HOOK_FAILED "%d %" APR_INT64_T_FMT,
                            oac_request_state(r)->hook_status, oac_now());
    }
    if (rv == OAC_OAUTH2_UNAVAILABLE) {
        oac_count(r, app, OAC_CTR_REFRESH_FAILED);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00149)
                      "app %s: token refresh failed, the provider could not "
                      "answer; the user stays logged in, and a request after "
                      "%d s tries again: %s", app->name, NO_VERDICT_QUIET,
                      why);
        return apr_psprintf(r->pool, UNAVAILABLE "%" APR_INT64_T_FMT,
                            oac_now());
    }
    if (rv != APR_SUCCESS
        || oac_token_check_sendable(&why, r->pool, fresh, NULL)
           != APR_SUCCESS) {
        oac_count(r, app, OAC_CTR_REFRESH_FAILED);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00030)
                      "app %s: token refresh failed, the user must log in "
                      "again: %s", app->name, why);
        return NULL;
    }
    result = oac_token_to_string(r->pool, fresh);
    id_token = app->oidc && previous
               ? oac_form_get(fresh->extra, "id_token") : NULL;
    if (id_token) {
        rv = oac_oidc_check_refreshed(r, app, fresh, previous, &why);
        if (rv == APR_EAGAIN) {
            /* The provider's keys are not to be had now (its keys rotated
             * again within the minute between fetches, say): the token
             * it just issued is good, and the refresh token is spent, so
             * the session goes on with the id_token it has. */
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00135)
                          "app %s: the refresh response's id_token cannot "
                          "be checked now, the session keeps the one it "
                          "has: %s", app->name, why);
            id_token = NULL;
        }
        else if (rv != APR_SUCCESS) {
            /* A provider that answers for another user, or with an
             * id_token it did not sign, is not to be trusted with this
             * session. */
            oac_count(r, app, OAC_CTR_REFRESH_FAILED);
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00134)
                          "app %s: the refresh response's id_token is "
                          "refused, the user must log in again: %s",
                          app->name, why);
            return NULL;
        }
    }
    if (id_token) {
        if (strlen(result) + 1 + strlen(id_token) < OAC_HANDOFF_MAX_RESULT) {
            result = apr_pstrcat(r->pool, result, "\n", id_token, NULL);
        }
        else {
            /* Waiters could not be handed it: the login's stays, for all. */
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "app %s: the "
                          "refreshed id_token is too large to hand to "
                          "parallel requests; the login's is kept",
                          app->name);
        }
    }
    oac_count(r, app, OAC_CTR_REFRESH);
    return result;
}

/* Why a request has no refreshed token though the token was not refused
 * (*pgave_up below): it left the refresh to another, the provider could
 * not answer, or a compliance hook failed the refresh. */
enum { GAVE_UP_WAITING = 1, GAVE_UP_UNSHARED, GAVE_UP_UNAVAILABLE,
       GAVE_UP_HOOK };

/* The coordination key: the refresh token and the access token it
 * replaces. A provider that does not rotate refresh tokens gives the next
 * refresh the same refresh token, which alone would hand back the previous
 * (by then expired) result for a minute. */
static const char *handoff_key(apr_pool_t *p, const oac_app_t *app,
                               const oac_token_t *old)
{
    /* and the app (its provider, client and user naming): the same token
     * strings issued by another provider, for another virtual host, are
     * not this login's */
    return apr_pstrcat(p, app->session_bind ? app->session_bind : app->name,
                       "\n", old->refresh_token, "\n", old->access_token,
                       NULL);
}

/* The HTTP calls one refresh may make, each bounded by OAuthHTTPTimeout:
 * the token endpoint; with DPoP twice more (the server's nonce, a fresh
 * proof); for an id_token to check, the provider's keys, twice (an
 * unknown kid fetches them again). A claim lasts as long as they may
 * take together, or a waiter would take over a refresh still under way
 * and spend its refresh token a second time. */
static int refresh_calls(const oac_app_t *app, const char *previous)
{
    return 1 + (app->dpop_signer ? 2 : 0) + (app->oidc && previous ? 2 : 0);
}

/* One refresh per refresh token across every process: the first caller
 * refreshes, the others wait for its result. */
static const char *coordinate(request_rec *r, const oac_app_t *app,
                              const oac_token_t *old, const char *previous,
                              const char *retry, int server_side,
                              int *pgave_up)
{
    /* a retry after the provider could not answer is a refresh of its own
     * (the first one's outcome stays in the hand-off for a minute) */
    const char *key = apr_pstrcat(r->pool, handoff_key(r->pool, app, old),
                                  retry, NULL);
    oac_server_conf *sc = oac_server_config(r->server);
    apr_int64_t patience = refresh_calls(app, previous)
                           * apr_time_sec(sc->http_timeout > 0
                                          ? sc->http_timeout
                                          : OAC_HTTP_DEFAULT_TIMEOUT) + 2;
    /* Twice the patience: a claim taken over after a lapse gets a whole
     * one too. */
    apr_time_t deadline = apr_time_now()
                          + apr_time_from_sec(2 * patience + 1);
    const char *result;
    char *shared;
    oac_cache_claim_t claim = { 0 };

    for (;;) {
        switch (oac_cache_begin(r, key, patience, &shared, &claim)) {
        case OAC_HANDOFF_MINE: {
            apr_time_t start = apr_time_now();
            apr_size_t len;

            result = do_refresh(r, app, old, previous);
            if (apr_time_now() - start > apr_time_from_sec(patience)) {
                /* Compliance hooks have no time bound of their own. */
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              OAC_LOGNO(00114) "app %s: the refresh took "
                              "longer than its claim lasts (%" APR_INT64_T_FMT
                              " s): a parallel request may have refreshed "
                              "the same token", app->name, patience);
            }
            if (result && (len = strlen(result)) > OAC_HANDOFF_MAX_RESULT) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              OAC_LOGNO(00136) "app %s: the refreshed token "
                              "is %" APR_SIZE_T_FMT " bytes, too large to "
                              "hand to parallel requests (at most %d)%s",
                              app->name, len,
                              OAC_HANDOFF_MAX_RESULT, server_side
                              ? ": they go on with the token they have "
                                "until the browser brings the session "
                                "this request stores"
                              : ", and a session cookie cannot hold it "
                                "either: they log the user out");
                if (!server_side) {
                    /* This request's cookie will not be sent (OAC00014):
                     * the browser keeps the spent refresh token unless
                     * the waiters remove it. */
                    oac_cache_finish(r, key, NULL);
                    return result;
                }
            }
            oac_cache_finish(r, key, result);
            return result;
        }
        case OAC_HANDOFF_DONE:
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, OAC_LOGNO(00063)
                          "app %s: took the token a parallel request "
                          "refreshed", app->name);
            return shared;
        case OAC_HANDOFF_FAILED:
            return NULL;
        case OAC_HANDOFF_UNSHARED:
            /* The refresh succeeded, and its request keeps the result:
             * this one must not log the user out (see OAC00136). */
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAC_LOGNO(00137)
                          "app %s: a parallel request refreshed the token "
                          "but could not hand it over; this request leaves "
                          "the session as it is", app->name);
            *pgave_up = GAVE_UP_UNSHARED;
            return NULL;
        case OAC_HANDOFF_WAIT:
            if (apr_time_now() > deadline) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              OAC_LOGNO(00064) "app %s: gave up waiting for "
                              "a parallel refresh", app->name);
                *pgave_up = GAVE_UP_WAITING;
                return NULL;
            }
            apr_sleep(WAIT_STEP);
            break;
        }
    }
}

/* coordinate() on one connection to the shared cache: a waiter asks it
 * every 50 ms. */
static const char *coordinated_refresh(request_rec *r, const oac_app_t *app,
                                       const oac_token_t *old,
                                       const char *previous,
                                       const char *retry, int server_side,
                                       int *pgave_up)
{
    const char *result;

    oac_cache_hold(r, 1);
    result = coordinate(r, app, old, previous, retry, server_side,
                        pgave_up);
    oac_cache_hold(r, 0);
    return result;
}

/* The refreshed token for old, or NULL (logged), and in *pid_token the
 * checked id_token that came with it, if any (see do_refresh). A result
 * another request obtained may have expired by the time this one takes it
 * (tokens that live less than the wait): its refresh token is then used in
 * turn. */
static oac_token_t *refreshed(request_rec *r, const oac_app_t *app,
                              const oac_token_t *old, const char *previous,
                              const char **pstored, const char **pid_token,
                              int server_side, int *pgave_up)
{
    const char *retry = "";
    int round, hops = 0;

    for (round = 0; round < MAX_CHAINED_REFRESHES; ++round) {
        const char *result = coordinated_refresh(r, app, old, previous,
                                                 retry, server_side,
                                                 pgave_up);
        const char *why, *nl;
        oac_token_t *fresh;

        if (!result) {
            return NULL;
        }
        if (*result == '!') {
            /* no verdict on the token (or one of a later version's) */
            const char *t = strrchr(result, ' ');
            int hook = !strncmp(result, HOOK_FAILED, sizeof(HOOK_FAILED) - 1);

            if (++hops <= NO_VERDICT_HOPS && t
                && oac_now() - apr_atoi64(t + 1) >= NO_VERDICT_QUIET) {
                /* every request that finds this outcome stale derives the
                 * same key: one of them refreshes, the others wait for it
                 * or follow on to its outcome */
                retry = apr_pstrcat(r->pool, retry, "\n", result, NULL);
                --round;
                continue;
            }
            if (hook) {
                int status = atoi(result + sizeof(HOOK_FAILED) - 1);
                /* the hook's answer, for the parallel requests too */
                if (!oac_request_state(r)->hook_status) {
                    oac_request_state(r)->hook_status =
                        ap_is_HTTP_VALID_RESPONSE(status)
                        ? status : HTTP_INTERNAL_SERVER_ERROR;
                }
                *pgave_up = GAVE_UP_HOOK;
            }
            else {
                *pgave_up = GAVE_UP_UNAVAILABLE;
            }
            return NULL;
        }
        if ((nl = strchr(result, '\n'))) {
            /* Checked by the request that refreshed; a header's value. */
            if (previous && oac_util_is_vschar(nl + 1)) {
                previous = *pid_token = nl + 1;
            }
            result = apr_pstrmemdup(r->pool, result,
                                    (apr_size_t)(nl - result));
        }
        if (oac_token_from_string(&fresh, &why, r->pool, result)
            != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00067)
                          "app %s: a refreshed token cannot be read: %s",
                          app->name, why);
            return NULL;
        }
        if (!fresh->expires_at || fresh->expires_at > oac_now()
            || !fresh->refresh_token) {
            *pstored = result;
            return fresh;
        }
        ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: the token a "
                      "parallel request refreshed has expired already; "
                      "refreshing it in turn", app->name);
        old = fresh;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00068)
                  "app %s: %d refreshes in a row gave tokens that had "
                  "expired by the time they were used", app->name,
                  MAX_CHAINED_REFRESHES);
    return NULL;
}

/* How long before t expires it is refreshed. One without a refresh token
 * serves until it expires: removing it earlier logged the user out while
 * it was valid, and one shorter than the margin sent every login back to
 * the provider. */
static apr_int64_t refresh_margin(const oac_token_t *t)
{
    return t->refresh_token ? REFRESH_MARGIN : 0;
}

int oac_ensure_fresh_token(request_rec *r, session_rec *z, const oac_app_t *app,
                           oac_token_t **ptoken)
{
    oac_token_t *fresh = NULL;
    const char *stored = NULL, *id_token = NULL, *previous = NULL, *why;
    int gave_up = 0;

    if (app->version != OAC_OAUTH2
        || !oac_oauth2_token_expiring(*ptoken, oac_now(),
                                      refresh_margin(*ptoken))) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "app %s: the token "
                  "expires at %" APR_INT64_T_FMT ", %s", app->name,
                  (*ptoken)->expires_at, (*ptoken)->refresh_token
                  ? "refreshing it" : "and there is no refresh token");
    if ((*ptoken)->refresh_token) {
        const oac_app_t *provider = oac_discovered(r, app, &why);
        apr_time_t start = apr_time_now();

        if (!provider) {
            /* The token stays: the provider's metadata may be back soon. */
            return HTTP_BAD_GATEWAY;
        }
        /* Only an id_token the session keeps (for forwarding, or the
         * logout's hint) is replaced by the refresh's. */
        previous = app->oidc ? oac_session_get(r, z, app, "id_token") : NULL;
        fresh = refreshed(r, provider, *ptoken, previous,
                          &stored, &id_token,
                          !oac_session_in_cookie(r, z), &gave_up);
        oac_observe(r, app, OAC_HIST_REFRESH, apr_time_now() - start);
        if (!fresh && oac_request_state(r)->hook_status) {
            /* A compliance hook failed the refresh and chose the answer:
             * not the provider's verdict on the token, which is kept. */
            return oac_request_state(r)->hook_status;
        }
    }
    if (!fresh && gave_up) {
        /* Another request holds the refresh, or made it and could not
         * hand the result over: its outcome is not this one's to undo (a
         * save here would overwrite it). Or the provider could not
         * answer, which is no verdict on the token. The token in hand
         * still works until it expires. */
        if ((*ptoken)->expires_at > oac_now()) {
            return OK;
        }
        if (gave_up == GAVE_UP_UNAVAILABLE) {
            /* contract section 7: a provider endpoint that cannot be
             * reached gives a 502 */
            return HTTP_BAD_GATEWAY;
        }
        if (gave_up == GAVE_UP_UNSHARED) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00138)
                          "app %s: answering 503: the token has expired, "
                          "and a parallel request's refresh of it was too "
                          "large to hand over (OAC00136); the browser gets "
                          "the new token with that request's answer",
                          app->name);
        }
        apr_table_setn(r->err_headers_out, "Retry-After", "2");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!fresh) {
        /* Expired and not renewable: the user is logged out. */
        oac_session_set(r, z, app, "token", NULL);
        return HTTP_UNAUTHORIZED;
    }
    /* Stored as the string it was shared as: serialised once, when the
     * provider answered. */
    oac_session_refresh_begin(r, z);
    if (oac_session_store_token(r, z, app, fresh, stored,
                                oac_session_get(r, z, app, "user"), &why)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00065)
                      "app %s: the refreshed token cannot be used, the user "
                      "must log in again: %s", app->name, why);
        oac_session_set(r, z, app, "token", NULL);
        return HTTP_UNAUTHORIZED;
    }
    if (id_token) {
        oac_claims_renew(r, z, app, previous, id_token);
        oac_session_set(r, z, app, "id_token", id_token);
    }
    oac_session_refresh_end(r, z);
    *ptoken = fresh;
    return OK;
}
