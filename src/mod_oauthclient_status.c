/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * oauthclient-status: per-app counters shared by every child process, and
 * the apps a virtual host sees with every setting but the secret, so an
 * administrator can check what inheritance and overrides produced.
 */
#include "mod_oauthclient_status.h"
#include "oac_util.h"

#include "http_main.h"
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
    "login_failed_id_token",
    "login_failed_other",
    "refreshes",
    "refresh_failed",
    "api_proxied",
    "logouts",
};

/* Histogram bucket bounds, microseconds (Prometheus' default buckets,
 * which fit calls to a provider: 5 ms to 10 s). */
static const apr_interval_time_t bucket_le[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000
};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

static const char *const hist_names[OAC_HIST_COUNT][2] = {
    { "token_endpoint_duration_seconds",
      "Calls to the app's token endpoint (code exchange, refresh)" },
    { "refresh_duration_seconds",
      "Token refreshes as the request needing them waited, a parallel "
      "request's refresh included" },
};

/* One row per virtual host and app, in anonymous shared memory made before
 * the children fork. The sums first: 64-bit atomics want 8-byte
 * alignment, which the row size keeps. */
typedef struct {
    apr_uint64_t sum_us[OAC_HIST_COUNT];
    apr_uint32_t counter[OAC_CTR_COUNT];
    apr_uint32_t bucket[OAC_HIST_COUNT][NBUCKETS + 1];   /* + the +Inf one */
    apr_uint32_t pad;
} counter_row_t;

/* The row of (server, app name): per server (the key is the pointer) its
 * first row and a table of app name -> index in its apps. Virtual hosts
 * that share the main server's apps share that table too, and the rows
 * are untouched (zero, not resident) until counted: 221 apps over 60
 * virtual hosts stay cheap. Built in post_config, only read afterwards. */
typedef struct {
    apr_hash_t *index_of;
    int base;
} server_rows_t;

static apr_hash_t *rows_by_server;
static counter_row_t *rows;

apr_status_t oac_counters_init(apr_pool_t *pconf, server_rec *main_s)
{
    apr_shm_t *shm;
    apr_size_t size;
    apr_status_t rv;
    server_rec *s;
    int i, n = 0;

    apr_hash_t *index_by_apps = apr_hash_make(pconf);

    rows_by_server = apr_hash_make(pconf);
    for (s = main_s; s; s = s->next) {
        oac_server_conf *sc = oac_server_config(s);
        server_rows_t *sr;
        server_rec **key;

        if (!sc->apps) {
            continue;
        }
        sr = apr_palloc(pconf, sizeof(*sr));
        key = apr_palloc(pconf, sizeof(*key));
        sr->index_of = apr_hash_get(index_by_apps, &sc->apps,
                                    sizeof(sc->apps));
        if (!sr->index_of) {
            apr_array_header_t **apps_key = apr_palloc(pconf,
                                                       sizeof(*apps_key));
            *apps_key = sc->apps;
            sr->index_of = apr_hash_make(pconf);
            for (i = 0; i < sc->apps->nelts; ++i) {
                const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i,
                                                     oac_app_t *);
                int *index = apr_palloc(pconf, sizeof(*index));
                *index = i;
                apr_hash_set(sr->index_of, app->name, APR_HASH_KEY_STRING,
                             index);
            }
            apr_hash_set(index_by_apps, apps_key, sizeof(*apps_key),
                         sr->index_of);
        }
        sr->base = n;
        n += sc->apps->nelts;
        *key = s;
        apr_hash_set(rows_by_server, key, sizeof(*key), sr);
    }
    rows = NULL;
    if (!n) {
        return APR_SUCCESS;
    }
    size = sizeof(counter_row_t) * (apr_size_t)n;
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, main_s, OAC_LOGNO(00040)
                     "no shared memory for the status counters; they will "
                     "stay at zero");
        return rv;
    }
    /* An anonymous mapping starts zeroed; not writing it keeps the rows
     * no request has counted in out of memory. */
    rows = apr_shm_baseaddr_get(shm);
    return APR_SUCCESS;
}

static counter_row_t *row_of(const server_rec *s, const char *name)
{
    const server_rows_t *sr = rows_by_server
        ? apr_hash_get(rows_by_server, &s, sizeof(s)) : NULL;
    const int *index = sr ? apr_hash_get(sr->index_of, name,
                                         APR_HASH_KEY_STRING)
                          : NULL;
    return rows && index ? &rows[sr->base + *index] : NULL;
}

void oac_count(request_rec *r, const oac_app_t *app, oac_counter_e which)
{
    counter_row_t *row = row_of(r->server, app->name);
    if (row) {
        apr_atomic_inc32(&row->counter[which]);
    }
}

void oac_observe(request_rec *r, const oac_app_t *app, oac_hist_e which,
                 apr_interval_time_t usec)
{
    counter_row_t *row = row_of(r->server, app->name);
    apr_size_t b;

    if (!row) {
        return;
    }
    for (b = 0; b < NBUCKETS && usec > bucket_le[b]; ++b) {
    }
    /* Buckets hold their own counts; the metrics page adds them up into
     * Prometheus' cumulative ones. */
    apr_atomic_inc32(&row->bucket[which][b]);
    apr_atomic_add64(&row->sum_us[which], (apr_uint64_t)(usec > 0 ? usec : 0));
}

static json_t *counters_to_json(request_rec *r, const oac_app_t *app)
{
    json_t *o = json_object();
    counter_row_t *row = row_of(r->server, app->name);
    int i;
    for (i = 0; i < OAC_CTR_COUNT; ++i) {
        json_object_set_new(o, counter_names[i],
                            json_integer(row ? apr_atomic_read32(
                                                   &row->counter[i])
                                             : 0));
    }
    return o;
}

/* url as the status page shows it: a query or user info is only said to
 * be there. */
static const char *shown_url(apr_pool_t *p, const char *url)
{
    const char *shown;

    if (!strchr(url, '?') && !strchr(url, '@')) {
        return url;
    }
    shown = oac_util_url_for_message(p, url);
    return strchr(url, '?') ? apr_pstrcat(p, shown, "?(query not shown)",
                                          NULL)
                            : shown;
}

static json_t *app_to_json(request_rec *r, const oac_app_t *app)
{
    json_t *o = json_object();
    json_t *fixes = json_array();
    int i;

#define PUT_STR(k, v) \
    json_object_set_new(o, k, (v) ? json_string(v) : json_null())
/* a configured endpoint may carry a key in its query or user info (some
 * providers take one there): shown without them */
#define PUT_URL(k, v) \
    json_object_set_new(o, k, (v) ? json_string(shown_url(r->pool, v)) \
                                  : json_null())
    PUT_STR("name", app->name);
    json_object_set_new(o, "oauth_version",
                        json_string(app->version == OAC_OAUTH1 ? "1.0a"
                                                               : "2.0"));
    PUT_STR("client_id", app->client_id);
    json_object_set_new(o, "client_secret",
                        json_string(app->client_secret ? "(set)" : "(none)"));
    PUT_URL("request_token_url", app->request_token_url);
    PUT_URL("server_metadata_url", app->server_metadata_url);
    PUT_URL("authorize_url", app->authorize_url);
    PUT_URL("access_token_url", app->access_token_url);
    PUT_URL("refresh_token_url",
            app->version == OAC_OAUTH2 ? app->refresh_token_url : NULL);
    PUT_STR("api_base_url", app->api_base_url);
    PUT_STR("scope", app->scope);
    PUT_STR("redirect_uri", app->redirect_uri);
    PUT_STR("login_path", app->login_path);
    PUT_STR("logout_path", app->logout_path);
    PUT_URL("userinfo_endpoint", app->userinfo_endpoint);
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
    json_object_set_new(o, "counters", counters_to_json(r, app));
    return o;
}

static int json_to_brigade(const char *buf, size_t len, void *data)
{
    return ap_rwrite(buf, (int)len, data) < 0 ? -1 : 0;
}

/* ---- ?metrics: Prometheus text format 0.0.4 ----------------------------- */

/* A label value: backslash, double quote and line feed escaped. */
static const char *label(apr_pool_t *p, const char *v)
{
    char *out = apr_palloc(p, 2 * strlen(v ? v : "") + 1), *o = out;
    for (; v && *v; ++v) {
        if (*v == '\\' || *v == '"') {
            *o++ = '\\';
            *o++ = *v;
        }
        else if (*v == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *v;
        }
    }
    *o = '\0';
    return out;
}

static const char *series_labels(apr_pool_t *p, const server_rec *s,
                                 const oac_app_t *app)
{
    return apr_psprintf(p, "vhost=\"%s:%u\",app=\"%s\"",
                        label(p, s->server_hostname), s->port,
                        label(p, app->name));
}

/* Calls fn for every (virtual host, app) with a row. */
typedef void series_fn(request_rec *r, const char *labels,
                       counter_row_t *row, int which);

static void each_series(request_rec *r, series_fn *fn, int which)
{
    server_rec *s;
    int i;
    for (s = ap_server_conf; s; s = s->next) {
        oac_server_conf *sc = oac_server_config(s);
        for (i = 0; sc->apps && i < sc->apps->nelts; ++i) {
            const oac_app_t *app = APR_ARRAY_IDX(sc->apps, i, oac_app_t *);
            counter_row_t *row = row_of(s, app->name);
            if (row) {
                fn(r, series_labels(r->pool, s, app), row, which);
            }
        }
    }
}

static void counter_series(request_rec *r, const char *labels,
                           counter_row_t *row, int which)
{
    ap_rprintf(r, "oauthclient_%s_total{%s} %u\n", counter_names[which],
               labels, apr_atomic_read32(&row->counter[which]));
}

static void histogram_series(request_rec *r, const char *labels,
                             counter_row_t *row, int which)
{
    const char *name = hist_names[which][0];
    apr_uint64_t cumulative = 0;
    apr_size_t b;

    for (b = 0; b <= NBUCKETS; ++b) {
        cumulative += apr_atomic_read32(&row->bucket[which][b]);
        if (b < NBUCKETS) {
            ap_rprintf(r, "oauthclient_%s_bucket{%s,le=\"%g\"} %"
                       APR_UINT64_T_FMT "\n", name, labels,
                       (double)bucket_le[b] / 1e6, cumulative);
        }
        else {
            ap_rprintf(r, "oauthclient_%s_bucket{%s,le=\"+Inf\"} %"
                       APR_UINT64_T_FMT "\n", name, labels, cumulative);
        }
    }
    ap_rprintf(r, "oauthclient_%s_sum{%s} %.6f\n", name, labels,
               (double)apr_atomic_read64(&row->sum_us[which]) / 1e6);
    ap_rprintf(r, "oauthclient_%s_count{%s} %" APR_UINT64_T_FMT "\n", name,
               labels, cumulative);
}

/* Every virtual host's apps, whichever virtual host is asked: one scrape
 * sees the whole server. */
static int metrics(request_rec *r)
{
    int i;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    for (i = 0; i < OAC_CTR_COUNT; ++i) {
        ap_rprintf(r, "# HELP oauthclient_%s_total mod_oauthclient: %s, per "
                   "virtual host and app.\n# TYPE oauthclient_%s_total "
                   "counter\n", counter_names[i], counter_names[i],
                   counter_names[i]);
        each_series(r, counter_series, i);
    }
    for (i = 0; i < OAC_HIST_COUNT; ++i) {
        ap_rprintf(r, "# HELP oauthclient_%s mod_oauthclient: %s.\n"
                   "# TYPE oauthclient_%s histogram\n", hist_names[i][0],
                   hist_names[i][1], hist_names[i][0]);
        each_series(r, histogram_series, i);
    }
    return OK;
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
    if (r->args && !strcmp(r->args, "metrics")) {
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        return metrics(r);
    }

    root = json_object();
    apps = json_array();
    for (i = 0; i < sc->apps->nelts; ++i) {
        json_array_append_new(apps, app_to_json(
            r, APR_ARRAY_IDX(sc->apps, i, const oac_app_t *)));
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

