/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oauthclient-status: per-app counters shared by every child process, and
 * the apps a virtual host sees with every setting but the secret, so an
 * administrator can check what inheritance and overrides produced.
 */
#include "mod_oauthclient_status.h"

#include "http_protocol.h"
#include "http_request.h"

#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <jansson.h>

#include "mod_oauthclient.h"

APLOG_USE_MODULE(oauthclient);

#define OAC_STATUS_HANDLER "oauthclient-status"

static const char *const counter_names[OAC_CTR_COUNT] = {
    "logins_started",
    "logins_completed",
    "login_failed_provider_error",
    "login_failed_state",
    "login_failed_token_endpoint",
    "login_failed_userinfo",
    "login_failed_other",
    "refreshes",
    "refresh_failed",
    "api_proxied",
    "logouts",
};

/* Counters live in anonymous shared memory made before the children fork;
 * one row per app name (an app overridden in a vhost is still one app).
 * The slot index map is built in post_config and only read afterwards. */
static apr_hash_t *counter_slot;
static apr_uint32_t *counters;

apr_status_t oac_counters_init(apr_pool_t *pconf, server_rec *main_s)
{
    apr_shm_t *shm;
    apr_size_t size;
    apr_status_t rv;
    server_rec *s;
    int i, n = 0;

    counter_slot = apr_hash_make(pconf);
    for (s = main_s; s; s = s->next) {
        oac_server_conf *sc = oac_server_config(s);
        for (i = 0; sc->apps && i < sc->apps->nelts; ++i) {
            const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i, oac_app_t *);
            if (!apr_hash_get(counter_slot, app->name, APR_HASH_KEY_STRING)) {
                int *slot = apr_palloc(pconf, sizeof(*slot));
                *slot = n++;
                apr_hash_set(counter_slot, app->name, APR_HASH_KEY_STRING,
                             slot);
            }
        }
    }
    counters = NULL;
    if (!n) {
        return APR_SUCCESS;
    }
    size = sizeof(apr_uint32_t) * OAC_CTR_COUNT * n;
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, main_s, OAC_LOGNO(00040)
                     "no shared memory for the status counters; they will "
                     "stay at zero");
        return rv;
    }
    counters = apr_shm_baseaddr_get(shm);
    memset(counters, 0, size);
    return APR_SUCCESS;
}

static apr_uint32_t *counter_row(const char *name)
{
    int *slot = counter_slot
        ? apr_hash_get(counter_slot, name, APR_HASH_KEY_STRING) : NULL;
    return counters && slot ? counters + (*slot) * OAC_CTR_COUNT : NULL;
}

void oac_count(const oac_app_t *app, oac_counter_e which)
{
    apr_uint32_t *row = counter_row(app->name);
    if (row) {
        apr_atomic_inc32(&row[which]);
    }
}

static json_t *counters_to_json(const oac_app_t *app)
{
    json_t *o = json_object();
    apr_uint32_t *row = counter_row(app->name);
    int i;
    for (i = 0; i < OAC_CTR_COUNT; ++i) {
        json_object_set_new(o, counter_names[i],
                            json_integer(row ? apr_atomic_read32(&row[i])
                                             : 0));
    }
    return o;
}

static json_t *app_to_json(const oac_app_t *app)
{
    json_t *o = json_object();
    json_t *fixes = json_array();
    int i;

#define PUT_STR(k, v) \
    json_object_set_new(o, k, (v) ? json_string(v) : json_null())
    PUT_STR("name", app->name);
    json_object_set_new(o, "oauth_version",
                        json_string(app->version == OAC_OAUTH1 ? "1.0a"
                                                               : "2.0"));
    PUT_STR("client_id", app->client_id);
    json_object_set_new(o, "client_secret",
                        json_string(app->client_secret ? "(set)" : "(none)"));
    PUT_STR("request_token_url", app->request_token_url);
    PUT_STR("authorize_url", app->authorize_url);
    PUT_STR("access_token_url", app->access_token_url);
    PUT_STR("refresh_token_url",
            app->version == OAC_OAUTH2 ? app->refresh_token_url : NULL);
    PUT_STR("api_base_url", app->api_base_url);
    PUT_STR("scope", app->scope);
    PUT_STR("redirect_uri", app->redirect_uri);
    PUT_STR("login_path", app->login_path);
    PUT_STR("logout_path", app->logout_path);
    PUT_STR("userinfo_endpoint", app->userinfo_endpoint);
    PUT_STR("user_claim", app->user_claim);
    if (app->version == OAC_OAUTH2) {
        PUT_STR("code_challenge_method", app->pkce_s256 ? "S256" : NULL);
        PUT_STR("token_endpoint_auth_method",
                oac_app_client_auth_name(app->token_endpoint_auth_method));
        PUT_STR("token_placement",
                oac_app_placement_name(app->token_placement));
    }
    else {
        PUT_STR("signature_method",
                oac_app_sig_method_name(app->signature_method));
    }
#undef PUT_STR
    for (i = 0; i < app->compliance_fixes->nelts; ++i) {
        json_array_append_new(fixes, json_string(APR_ARRAY_IDX(
            app->compliance_fixes, i, const char *)));
    }
    json_object_set_new(o, "compliance_fix", fixes);
    json_object_set_new(o, "counters", counters_to_json(app));
    return o;
}

static int json_to_brigade(const char *buf, size_t len, void *data)
{
    return ap_rwrite(buf, (int)len, data) < 0 ? -1 : 0;
}

int oac_status_handler(request_rec *r)
{
    oac_server_conf *sc;
    json_t *root, *apps;
    int i, as_json;

    if (!r->handler || strcmp(r->handler, OAC_STATUS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    sc = oac_server_config(r->server);
    as_json = r->args && !strcmp(r->args, "json");

    root = json_object();
    apps = json_array();
    for (i = 0; i < sc->apps->nelts; ++i) {
        json_array_append_new(apps, app_to_json(
            APR_ARRAY_IDX(sc->apps, i, const oac_app_t *)));
    }
    json_object_set_new(root, "module", json_string("mod_oauthclient/"
                                                    MOD_OAUTHCLIENT_VERSION));
    json_object_set_new(root, "server", json_string(r->server->server_hostname
                                                    ? r->server->server_hostname
                                                    : ""));
    json_object_set_new(root, "apps", apps);

    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (as_json) {
        ap_set_content_type(r, "application/json");
        json_dump_callback(root, json_to_brigade, r,
                           JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        ap_rputs("\n", r);
    }
    else {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rprintf(r, "mod_oauthclient/%s on %s\n", MOD_OAUTHCLIENT_VERSION,
                   r->server->server_hostname ? r->server->server_hostname
                                              : "");
        for (i = 0; i < (int)json_array_size(apps); ++i) {
            json_t *app = json_array_get(apps, i);
            const char *key;
            json_t *val;
            ap_rprintf(r, "\n[%s]\n",
                       json_string_value(json_object_get(app, "name")));
            json_object_foreach(app, key, val) {
                char *text;
                if (json_is_null(val) || !strcmp(key, "name")) {
                    continue;
                }
                if (json_is_string(val)) {
                    ap_rprintf(r, "%s = %s\n", key, json_string_value(val));
                    continue;
                }
                if (json_is_object(val)) {
                    const char *ckey;
                    json_t *cval;
                    json_object_foreach(val, ckey, cval) {
                        ap_rprintf(r, "%s.%s = %" APR_INT64_T_FMT "\n",
                                   key, ckey,
                                   (apr_int64_t)json_integer_value(cval));
                    }
                    continue;
                }
                text = json_dumps(val, JSON_COMPACT);
                ap_rprintf(r, "%s = %s\n", key, text ? text : "");
                free(text);
            }
        }
    }
    json_decref(root);
    return OK;
}

