/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OAuthCache shm[:SLOTS] | memcache:HOST:PORT[,HOST:PORT ...] | dbd
 *
 * One refresh per refresh token: the first request to need it claims it,
 * the others wait and take its result (src/oac_handoff.c has the protocol
 * and keeps results sealed under a key only holders of the old token can
 * derive). shm is a table in this machine's shared memory under a global
 * mutex. memcache uses memcached's "add", which stores only when the name
 * is free, as the claim; dbd does the same with an INSERT that does
 * nothing on a conflict, in a table oauthclient_cache reached through the
 * virtual host's mod_dbd pool. A claim on a shared cache lapses after the
 * HTTP timeout, so a node that dies holding one delays the others by no
 * more than that.
 */
#include "mod_oauthclient_cache.h"

#include "oac_memcache.h"
#include "oac_util.h"

#include "util_mutex.h"

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <dlfcn.h>
#include <poll.h>
#include <stdlib.h>

/* After apr_dbd.h, which it needs and does not include. */
#include "mod_dbd.h"

APLOG_USE_MODULE(oauthclient);

#define OAC_REFRESH_MUTEX "oauthclient-refresh"
/* The promise on one machine: parallel requests within OAC_HANDOFF_TTL
 * (60 s) of a refresh reuse it, for up to HANDOFF_SLOTS refreshes a minute
 * (34/s: ~120,000 active users with one-hour tokens). Beyond that rate
 * the oldest results are reused and OAC00066 says so; a shared cache has
 * no such bound. The results' room is reserved, not resident: a lookup
 * reads the slots' headers (~80 bytes each, together), and a result's
 * pages are touched only as far as it fills them. */
#define HANDOFF_SLOTS 2048
/* How often an unreachable shared cache is mentioned again. */
#define SAY_AGAIN_SECONDS 60

/* OAuthCache shm:SLOTS, 0 for HANDOFF_SLOTS; reset before each reading of
 * the configuration. */
static int shm_slots;
static apr_global_mutex_t *mutex;
static const char *mutex_file;
static void *table;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

/* --- the directive ------------------------------------------------------- */

const char *oac_cmd_cache(cmd_parms *cmd, void *dconf, const char *arg)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    const char *list;

    (void)dconf;
    /* memcache:A:1, B:2 reads as memcache:A:1,B:2 */
    sc->cache_where = apr_psprintf(cmd->pool, "%s:%d",
                                   cmd->directive->filename,
                                   cmd->directive->line_num);
    arg = apr_pstrdup(cmd->pool, arg);
    apr_collapse_spaces((char *)arg, arg);
    if (!*arg) {
        return "OAuthCache takes one of shm, dbd or "
               "memcache:HOST:PORT[,HOST:PORT ...]";
    }
    if (!strcasecmp(arg, "shm")) {
        sc->cache_kind = OAC_CACHE_SHM;
        sc->cache_spec = "shm";
        return NULL;
    }
    if (!strncasecmp(arg, "shm:", 4)) {
        char *end;
        long n = strtol(arg + 4, &end, 10);
        if (*end || end == arg + 4 || n < 64 || n > 65536) {
            return apr_psprintf(cmd->pool, "OAuthCache '%s': shm:SLOTS "
                                "takes the refreshes a minute the table "
                                "must hold, 64 to 65536 (default %d)", arg,
                                HANDOFF_SLOTS);
        }
        sc->cache_kind = OAC_CACHE_SHM;
        sc->cache_spec = apr_pstrdup(cmd->pool, arg);
        /* One table per machine: the largest size asked for anywhere. */
        shm_slots = (int)n > shm_slots ? (int)n : shm_slots;
        return NULL;
    }
    if (!strcasecmp(arg, "dbd")) {
        sc->cache_kind = OAC_CACHE_DBD;
        sc->cache_spec = "dbd";
        return NULL;
    }
    if (strncasecmp(arg, "memcache:", 9) || !arg[9]) {
        return apr_psprintf(cmd->pool, "OAuthCache '%s': give shm, "
                            "shm:SLOTS, dbd or "
                            "memcache:HOST:PORT[,HOST:PORT ...]", arg);
    }
    /* Every server is checked now, so a typo fails the configtest rather
     * than the first refresh. */
    if (!arg[9 + strspn(arg + 9, ", \t")]) {
        return "OAuthCache memcache: names no server";
    }
    for (list = arg + 9; *list;) {
        apr_size_t n = strcspn(list, ", \t");
        char *one = apr_pstrmemdup(cmd->temp_pool, list, n);
        char *host, *scope;
        apr_port_t port;

        if (n && (apr_parse_addr_port(&host, &scope, &port, one,
                                      cmd->temp_pool) != APR_SUCCESS
                  || !host || !port || scope)) {
            return apr_psprintf(cmd->pool, "OAuthCache: '%s' is not "
                                "HOST:PORT (memcached's address, e.g. "
                                "127.0.0.1:11211)", one);
        }
        list += n;
        list += strspn(list, ", \t");
    }
    sc->cache_kind = OAC_CACHE_MEMCACHE;
    sc->cache_spec = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* --- startup ------------------------------------------------------------- */

apr_status_t oac_cache_pre_config(apr_pool_t *pconf)
{
    shm_slots = 0;
    return ap_mutex_register(pconf, OAC_REFRESH_MUTEX, NULL, APR_LOCK_DEFAULT,
                             0);
}

int oac_cache_check_config(server_rec *main_s)
{
    server_rec *s;

    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    for (s = main_s; s; s = s->next) {
        if (oac_server_config(s)->cache_kind == OAC_CACHE_DBD
            && !dbd_acquire) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         OAC_LOGNO(00104) "OAuthCache dbd (%s) uses "
                         "mod_dbd's connections, and mod_dbd is not loaded: "
                         "a2enmod dbd, and give the virtual host DBDriver "
                         "and DBDParams", oac_server_config(s)->cache_where);
            return !OK;
        }
    }
    return OK;
}

/* The machine's table and its mutex, kept in the parent's own pool from
 * one reading of the configuration to the next. */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    int slots;
} kept_table_t;

#define KEPT_TABLE_KEY "oauthclient refresh table"

/*
 * The machine's table, also the fallback of a shared cache that cannot be
 * reached: made whatever the configuration says. Made once for the life
 * of httpd's parent, not for each reading of the configuration: after a
 * graceful restart the old generation's children finish their requests,
 * a refresh among them, while the new generation's serve the same users;
 * with a table each, a refresh in flight in an old child was invisible to
 * the new ones, which refreshed the same token again (a provider that
 * detects reuse then logs the user out). A new size (OAuthCache
 * shm:SLOTS) takes a new table.
 */
apr_status_t oac_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    kept_table_t *kept = NULL;
    apr_shm_t *shm;
    apr_status_t rv;
    int slots;

    (void)pconf;
    table = NULL;
    mutex = NULL;
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    slots = shm_slots ? shm_slots : HANDOFF_SLOTS;
    apr_pool_userdata_get((void **)&kept, KEPT_TABLE_KEY, pproc);
    if (kept && kept->slots == slots) {
        table = apr_shm_baseaddr_get(kept->shm);
        mutex = kept->mutex;
        mutex_file = kept->mutex_file;
        return APR_SUCCESS;
    }
    rv = apr_shm_create(&shm, oac_handoff_size(slots), NULL, pproc);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAC_LOGNO(00060)
                     "no shared memory for refresh coordination; parallel "
                     "requests may each refresh a token");
        return rv;
    }
    rv = ap_global_mutex_create(&mutex, &mutex_file, OAC_REFRESH_MUTEX, NULL,
                                s, pproc, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAC_LOGNO(00061)
                     "no '%s' mutex; parallel requests may each refresh a "
                     "token", OAC_REFRESH_MUTEX);
        mutex = NULL;
        apr_shm_destroy(shm);
        return rv;
    }
    if (kept) {
        /* Of another size: the children still running keep their own
         * mapping of it, the parent needs it no more. */
        apr_shm_destroy(kept->shm);
    }
    else {
        kept = apr_pcalloc(pproc, sizeof(*kept));
        apr_pool_userdata_setn(kept, KEPT_TABLE_KEY, NULL, pproc);
    }
    kept->shm = shm;
    kept->mutex = mutex;
    kept->mutex_file = mutex_file;
    kept->slots = slots;
    table = apr_shm_baseaddr_get(shm);
    /* apr_shm_create without a file name maps fresh anonymous memory,
     * which starts zeroed: the slots are not made resident here. */
    oac_handoff_init_zeroed(table, slots);
    return APR_SUCCESS;
}

/* How long memcached may take to connect, accept a command or answer
 * one: it answers in well under a millisecond when it is up. */
#define MEMCACHE_TIMEOUT apr_time_from_sec(1)

void oac_cache_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    apr_hash_t *clients = apr_hash_make(pchild);
    server_rec *s;

    if (mutex && apr_global_mutex_child_init(&mutex, mutex_file, pchild)
                 != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_s, OAC_LOGNO(00062)
                     "cannot reopen the '%s' mutex in this child",
                     OAC_REFRESH_MUTEX);
        mutex = NULL;
    }
    for (s = main_s; s; s = s->next) {
        oac_server_conf *sc = oac_server_config(s);
        if (sc->cache_kind != OAC_CACHE_MEMCACHE) {
            continue;
        }
        sc->cache_client = apr_hash_get(clients, sc->cache_spec,
                                        APR_HASH_KEY_STRING);
        if (!sc->cache_client) {
            oac_mc_t *mc = NULL;
            const char *why;
            if (oac_mc_make(&mc, &why, pchild, sc->cache_spec + 9,
                            MEMCACHE_TIMEOUT) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, OAC_LOGNO(00105)
                             "OAuthCache %s: %s", sc->cache_spec, why);
            }
            sc->cache_client = mc;
            apr_hash_set(clients, sc->cache_spec, APR_HASH_KEY_STRING,
                         sc->cache_client);
        }
    }
}

/* --- memcached (src/oac_memcache.c) ------------------------------------ */

static oac_kv_e mc_get(void *baton, apr_pool_t *p, const char *name,
                       char **pvalue)
{
    (void)p;
    return oac_mc_get(baton, name, pvalue);
}

static oac_kv_e mc_add(void *baton, apr_pool_t *p, const char *name,
                       const char *value, apr_int64_t ttl)
{
    (void)p;
    return oac_mc_add(baton, name, value, ttl);
}

static oac_kv_e mc_set(void *baton, apr_pool_t *p, const char *name,
                       const char *value, apr_int64_t ttl)
{
    (void)p;
    return oac_mc_set(baton, name, value, ttl);
}

/* --- mod_dbd ------------------------------------------------------------- */

/* Standard SQL with the upsert both PostgreSQL (9.5+) and SQLite (3.24+)
 * understand. The README gives the table for an administrator who
 * creates it himself. */
#define DBD_TABLE "oauthclient_cache"
static const char dbd_create[] =
    "CREATE TABLE IF NOT EXISTS " DBD_TABLE " (name VARCHAR(80) PRIMARY "
    "KEY, value TEXT NOT NULL, expires BIGINT NOT NULL)";

typedef struct {
    request_rec *r;
    ap_dbd_t *dbd;
    const char *why;    /* the last failure, for the log */
    /* The database's clock in Unix seconds, as SQL: every node judges
     * expiry by the same clock, so a node whose clock runs ahead does not
     * take a live claim for a lapsed one. */
    const char *now_sql;
} dbd_kv_t;

static int dbd_failed(dbd_kv_t *d, int rv)
{
    d->why = apr_pstrdup(d->r->pool,
                         apr_dbd_error(d->dbd->driver, d->dbd->handle, rv));
    return 1;
}

static void ready_for_query(request_rec *r, ap_dbd_t *dbd);

static int dbd_run(dbd_kv_t *d, const char *sql, int *pnrows)
{
    int nrows = 0, rv;

    rv = apr_dbd_query(d->dbd->driver, d->dbd->handle, &nrows, sql);
    if (rv) {
        return dbd_failed(d, rv);
    }
    if (pnrows) {
        *pnrows = nrows;
    }
    return 0;
}

static const char *dbd_quote(dbd_kv_t *d, const char *s)
{
    return apr_dbd_escape(d->dbd->driver, d->r->pool, s, d->dbd->handle);
}

static oac_kv_e dbd_get(void *baton, apr_pool_t *p, const char *name,
                        char **pvalue)
{
    dbd_kv_t *d = baton;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *value = NULL;
    int rv;

    rv = apr_dbd_select(d->dbd->driver, p, d->dbd->handle, &res,
                        apr_psprintf(p, "SELECT value FROM " DBD_TABLE
                                     " WHERE name = '%s' AND expires > %s",
                                     dbd_quote(d, name), d->now_sql), 1);
    if (rv) {
        dbd_failed(d, rv);
        return OAC_KV_ERROR;
    }
    /* Random access (PQexec), not sequential: pgsql's sequential reads
     * turn a failed query into "no rows" and sleep 100 ms on an empty
     * result (every lookup that finds nothing). Read to the end: the
     * driver frees the results there. */
    while (apr_dbd_get_row(d->dbd->driver, p, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(d->dbd->driver, row, 0);
        if (!value && v) {
            value = apr_pstrdup(p, v);
        }
    }
    if (!value) {
        return OAC_KV_NOTFOUND;
    }
    *pvalue = (char *)value;
    return OAC_KV_OK;
}

static oac_kv_e dbd_add(void *baton, apr_pool_t *p, const char *name,
                        const char *value, apr_int64_t ttl)
{
    dbd_kv_t *d = baton;
    const char *qname = dbd_quote(d, name);
    int nrows = 0;

    /* An entry that lapsed is not a claim; then the insert is the lock:
     * of two nodes, the database lets one row in. */
    if (dbd_run(d, apr_psprintf(p, "DELETE FROM " DBD_TABLE " WHERE name = "
                                "'%s' AND expires <= %s", qname, d->now_sql),
                NULL)
        || dbd_run(d, apr_psprintf(p, "INSERT INTO " DBD_TABLE " (name, "
                                   "value, expires) VALUES ('%s', '%s', %s "
                                   "+ %" APR_INT64_T_FMT ") ON CONFLICT "
                                   "(name) DO NOTHING", qname,
                                   dbd_quote(d, value), d->now_sql, ttl),
                   &nrows)) {
        return OAC_KV_ERROR;
    }
    return nrows == 1 ? OAC_KV_OK : OAC_KV_EXISTS;
}

static oac_kv_e dbd_set(void *baton, apr_pool_t *p, const char *name,
                        const char *value, apr_int64_t ttl)
{
    dbd_kv_t *d = baton;

    if (dbd_run(d, apr_psprintf(p, "INSERT INTO " DBD_TABLE " (name, value, "
                                "expires) VALUES ('%s', '%s', %s + %"
                                APR_INT64_T_FMT ") ON CONFLICT (name) DO "
                                "UPDATE SET value = excluded.value, expires "
                                "= excluded.expires", dbd_quote(d, name),
                                dbd_quote(d, value), d->now_sql, ttl),
                NULL)) {
        return OAC_KV_ERROR;
    }
    /* Entries live a minute: sweeping at each refresh keeps the table
     * at about one minute's refreshes. */
    if (dbd_run(d, apr_psprintf(p, "DELETE FROM " DBD_TABLE " WHERE expires "
                                "< %s", d->now_sql), NULL)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, d->r, "OAuthCache dbd: "
                      "expired entries not removed: %s", d->why);
    }
    return OAC_KV_OK;
}

/* Kept among the connection's statements, as BACKEND_KEY below: the
 * table was made (or found) through this connection. */
#define TABLE_KEY "\001oauthclient table"

/* The request's connection from mod_dbd's pool, with the table made on
 * the connection's first use (each virtual host may name its own
 * database). */
static int dbd_open(dbd_kv_t *d, request_rec *r)
{
    const char *driver;

    d->r = r;
    d->why = NULL;
    d->dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    if (!d->dbd) {
        d->why = "mod_dbd gave no connection (is the database up, and are "
                 "DBDriver and DBDParams set for this virtual host?)";
        return 0;
    }
    ready_for_query(r, d->dbd);
    driver = apr_dbd_name(d->dbd->driver);
    if (!strcmp(driver, "pgsql")) {
        d->now_sql = "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)";
    }
    else if (!strcmp(driver, "sqlite3")) {
        d->now_sql = "CAST(strftime('%s','now') AS INTEGER)";
    }
    else {
        d->why = apr_psprintf(r->pool, "OAuthCache dbd works on PostgreSQL "
                              "(pgsql) and SQLite (sqlite3), not %s", driver);
        return 0;
    }
    if (!apr_hash_get(d->dbd->prepared, TABLE_KEY, APR_HASH_KEY_STRING)) {
        if (dbd_run(d, dbd_create, NULL)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "OAuthCache dbd: "
                          "could not create " DBD_TABLE ": %s", d->why);
        }
        else {
            apr_hash_set(d->dbd->prepared, TABLE_KEY, APR_HASH_KEY_STRING,
                         "");
        }
    }
    return 1;
}

/* --- mod_session_dbd's statements after the database restarted -------- */

typedef struct {
    const char *label;
    const char *sql;
} dbd_statement_t;

/* DBDPrepareSQL, read alongside mod_dbd: after PostgreSQL restarts, the
 * driver reconnects a pooled connection by itself but the statements
 * prepared on the old one are gone, and mod_dbd never prepares them again
 * ("prepared statement ... does not exist" until httpd restarts). Knowing
 * the SQL, the module prepares them again on that connection. */
const char *oac_cmd_dbd_prepare_sql(cmd_parms *cmd, void *dconf,
                                    const char *sql, const char *label)
{
    oac_server_conf *sc = oac_server_config(cmd->server);
    dbd_statement_t *st;

    (void)dconf;
    if (!ap_find_linked_module("mod_dbd.c")) {
        return apr_pstrcat(cmd->pool, "Invalid command '", cmd->cmd->name,
                           "': it belongs to mod_dbd, which is not loaded "
                           "(a2enmod dbd)", NULL);
    }
    if (!sc->dbd_statements) {
        sc->dbd_statements = apr_array_make(cmd->pool, 4, sizeof(*st));
    }
    st = apr_array_push(sc->dbd_statements);
    st->label = label;
    st->sql = sql;
    return NULL;
}

/* Kept among the connection's statements (a key no label can be): the
 * pool of the statements prepared again last time, which lives with the
 * connection. */
#define STATEMENTS_KEY "\001oauthclient statements"

/* Kept among the connection's statements as well: mod_dbd's configuration
 * of the connection's pool, as its post_connect hook gave it (its
 * statements: DBDPrepareSQL, mod_authn_dbd's and any other module's; its
 * DBDInitSQL). */
#define CFG_KEY "\001oauthclient dbd cfg"

/* One statement prepared again on dbd into sp; 1 when it was. One that
 * fails ("already exists" where it was not lost) keeps the statement it
 * had. */
static int prepare_one(ap_dbd_t *dbd, apr_pool_t *sp, const char *label,
                       const char *sql)
{
    apr_dbd_prepared_t *stmt = NULL;

    if (apr_dbd_prepare(dbd->driver, sp, dbd->handle, sql, label, &stmt)
        || !stmt) {
        return 0;
    }
    apr_hash_set(dbd->prepared, label, APR_HASH_KEY_STRING, stmt);
    return 1;
}

/*
 * Prepares the statements of dbd's pool again, as mod_dbd prepared them
 * when it made the connection: every module's (mod_authn_dbd's too), known
 * from mod_dbd's own configuration, or else the DBDPrepareSQL lines read
 * here. Then, when the connection is new to the server (fresh, or some
 * statement was missing), DBDInitSQL, as mod_dbd runs it on a connection it
 * makes (a SET of the session's search_path, time zone, role ...): a
 * connection libpq made again has none of it. How many statements were
 * prepared; *ptotal how many there are.
 */
static int prepare_again(request_rec *r, ap_dbd_t *dbd, int fresh,
                         int *ptotal)
{
    oac_server_conf *sc = oac_server_config(r->server);
    const dbd_cfg_t *cfg = apr_hash_get(dbd->prepared, CFG_KEY,
                                        APR_HASH_KEY_STRING);
    apr_pool_t *sp, *before;
    int i, prepared = 0, total = 0;

    *ptotal = 0;
    /* One pool a time: a connection made again often (an
     * idle_session_timeout) does not pile up pools of dead statements. */
    if (apr_pool_create(&sp, dbd->pool) != APR_SUCCESS) {
        return 0;
    }
    if (cfg && cfg->queries) {
        apr_hash_index_t *hi;

        for (hi = apr_hash_first(sp, cfg->queries); hi;
             hi = apr_hash_next(hi)) {
            const void *label;
            void *sql;

            apr_hash_this(hi, &label, NULL, &sql);
            /* mod_dbd skips an empty one as well */
            if (*(const char *)sql) {
                ++total;
                prepared += prepare_one(dbd, sp, label, sql);
            }
        }
    }
    else if (sc->dbd_statements) {
        for (i = 0; i < sc->dbd_statements->nelts; ++i) {
            const dbd_statement_t *st = &APR_ARRAY_IDX(sc->dbd_statements, i,
                                                       dbd_statement_t);
            ++total;
            prepared += prepare_one(dbd, sp, st->label, st->sql);
        }
    }
    before = apr_hash_get(dbd->prepared, STATEMENTS_KEY, APR_HASH_KEY_STRING);
    if (!prepared) {
        apr_pool_destroy(sp);
    }
    else if (cfg && prepared == total) {
        /* Every statement of the pool's is in sp now, none in the earlier
         * pool any more. Not so with DBDPrepareSQL alone: a pool shared
         * by virtual hosts holds the others' statements too. */
        if (before) {
            apr_pool_destroy(before);
        }
        apr_hash_set(dbd->prepared, STATEMENTS_KEY, APR_HASH_KEY_STRING, sp);
    }
    /* else some of the earlier ones may stay in use: both pools stay, with
     * the connection (a database that lost only some statements; rare) */

    /* A server session that lost every statement is a new one too. Not
     * one that lost some: its settings may be there, and DBDInitSQL is
     * not always safe to run twice. */
    if (cfg && cfg->init_queries && cfg->init_queries->nelts
        && (fresh || (total && prepared == total))) {
        for (i = 0; i < cfg->init_queries->nelts; ++i) {
            int rows = 0;

            /* mod_dbd stops at the first that fails (a SET ROLE that
             * failed must not let the next statements run as another) */
            if (apr_dbd_query(dbd->driver, dbd->handle, &rows,
                              APR_ARRAY_IDX(cfg->init_queries, i,
                                            const char *))) {
                /* By number: the database's message may quote the
                 * statement, and a SET may carry a secret. mod_dbd says
                 * nothing of a failing one. */
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              OAC_LOGNO(00143) "DBDInitSQL statement %d "
                              "of %d failed on a database connection made "
                              "again; the rest were not run", i + 1,
                              cfg->init_queries->nelts);
                break;
            }
        }
    }
    *ptotal = total;
    return prepared;
}

/*
 * Which PostgreSQL server process a connection talks to. libpq's driver
 * reconnects a broken connection by itself (PQreset, in mod_dbd's check
 * when the connection is taken from the pool), silently, with no
 * statement prepared: the server process then differs from the one the
 * connection was made with. Read from the connection, no query; -1 for
 * other drivers. libpq is in the process once apr_dbd_pgsql is.
 */
typedef int (*pq_backend_pid_fn)(const void *conn);

static int backend_of(ap_dbd_t *dbd)
{
    static pq_backend_pid_fn backend_pid;
    void *conn;

    if (strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        return -1;
    }
    if (!backend_pid) {
        *(void **)&backend_pid = dlsym(RTLD_DEFAULT, "PQbackendPID");
        if (!backend_pid) {
            return -1;
        }
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    return conn ? backend_pid(conn) : -1;
}

/* Kept among the connection's statements (a key no label can be), so it
 * lives and dies with the connection. */
#define BACKEND_KEY "\001oauthclient backend"

static apr_status_t note_backend(apr_pool_t *pool, dbd_cfg_t *cfg,
                                 ap_dbd_t *dbd)
{
    int *seen;

    if (backend_of(dbd) < 0 || !dbd->prepared) {
        return APR_SUCCESS;
    }
    if (cfg) {
        apr_hash_set(dbd->prepared, CFG_KEY, APR_HASH_KEY_STRING, cfg);
    }
    if (!(seen = apr_hash_get(dbd->prepared, BACKEND_KEY,
                              APR_HASH_KEY_STRING))) {
        seen = apr_palloc(pool, sizeof(*seen));
        apr_hash_set(dbd->prepared, BACKEND_KEY, APR_HASH_KEY_STRING, seen);
    }
    *seen = backend_of(dbd);
    return APR_SUCCESS;
}

/* r's connection from mod_dbd's pool where DBDPrepareSQL statements are
 * in use, or NULL. Only PostgreSQL's may lose them: the checks its callers
 * make (pq_bad, pq_hung_up, backend_of) pass any other driver's by. */
static ap_dbd_t *session_connection(request_rec *r)
{
    oac_server_conf *sc = oac_server_config(r->server);

    return sc->dbd_statements && dbd_acquire ? dbd_acquire(r) : NULL;
}

/* Whether a PostgreSQL connection was found broken by a query (libpq's
 * CONNECTION_BAD); 0 for other drivers. */
static int pq_bad(ap_dbd_t *dbd)
{
    static int (*conn_status)(const void *conn);
    void *conn;

    if (strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        return 0;
    }
    if (!conn_status) {
        *(void **)&conn_status = dlsym(RTLD_DEFAULT, "PQstatus");
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    return conn_status && conn && conn_status(conn) == 1;
}

/*
 * Whether the server closed a PostgreSQL connection (a restart, an
 * administrator's pg_terminate_backend, idle_session_timeout) while it sat
 * in mod_dbd's pool. libpq learns that only from the next query, which
 * then fails: the user's request would answer 500 for a database that is
 * up. A closed connection's socket is readable (the server's last word,
 * then the end of the stream) with nothing asked: libpq is then given
 * what is there to read, which ends the connection on its side when the
 * stream ended. Anything else an idle connection may be sent (a NOTIFY
 * where someone listens) stays in libpq's buffer, and the connection is
 * kept. No query.
 */
static int pq_hung_up(ap_dbd_t *dbd)
{
    static int (*pq_socket)(const void *conn);
    static int (*pq_consume)(void *conn);
    struct pollfd pfd;
    void *conn;
    int i;

    if (strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        return 0;
    }
    if (!pq_socket || !pq_consume) {
        *(void **)&pq_socket = dlsym(RTLD_DEFAULT, "PQsocket");
        *(void **)&pq_consume = dlsym(RTLD_DEFAULT, "PQconsumeInput");
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if (!pq_socket || !pq_consume || !conn) {
        return 0;
    }
    /* libpq reads once per call: the last word, then the end */
    for (i = 0; i < 4 && !pq_bad(dbd); ++i) {
        if ((pfd.fd = pq_socket(conn)) < 0) {
            return 0;
        }
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, 0) <= 0) {
            return 0;
        }
        pq_consume(conn);
    }
    return pq_bad(dbd);
}

/* ", N of M statements prepared again" for a line of the log. */
static const char *prepared_note(apr_pool_t *p, int prepared, int total)
{
    return total ? apr_psprintf(p, ", %d of %d statements prepared again",
                                prepared, total)
                 : "";
}

/* A connection pq_hung_up() finds closed is made again, with its
 * statements and DBDInitSQL, and the log says so; when the database
 * cannot be reached, the query that follows says that. 1 when it was
 * closed. */
static int made_again_if_closed(request_rec *r, ap_dbd_t *dbd)
{
    static void (*pq_reset)(void *conn);
    void *conn;
    int prepared, total;

    if (!pq_hung_up(dbd)) {
        return 0;
    }
    if (!pq_reset) {
        *(void **)&pq_reset = dlsym(RTLD_DEFAULT, "PQreset");
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if (!pq_reset || !conn) {
        return 1;
    }
    pq_reset(conn);
    if (pq_bad(dbd)) {
        return 1;
    }
    prepared = prepare_again(r, dbd, 1, &total);
    note_backend(dbd->pool, NULL, dbd);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00140)
                  "the database had closed a pooled connection (it "
                  "restarted?): made again before its next query%s",
                  prepared_note(r->pool, prepared, total));
    return 1;
}

/* A connection libpq made again by itself (mod_dbd's check, after a query
 * failed on it: another server process) gets its statements and
 * DBDInitSQL back. */
static void restored_if_made_again(request_rec *r, ap_dbd_t *dbd)
{
    int *seen, now = backend_of(dbd), prepared, total;

    if (now < 0) {
        return;
    }
    seen = apr_hash_get(dbd->prepared, BACKEND_KEY, APR_HASH_KEY_STRING);
    if (seen && *seen == now) {
        return;
    }
    if (seen) {
        prepared = prepare_again(r, dbd, 1, &total);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00110)
                      "a database connection was made again (the database "
                      "restarted?), without its statements%s",
                      prepared_note(r->pool, prepared, total));
    }
    else {
        seen = apr_palloc(dbd->pool, sizeof(*seen));
        apr_hash_set(dbd->prepared, BACKEND_KEY, APR_HASH_KEY_STRING, seen);
    }
    *seen = now;
}

/* Before the first query of a request on a pooled PostgreSQL connection. */
static void ready_for_query(request_rec *r, ap_dbd_t *dbd)
{
    if (!made_again_if_closed(r, dbd)) {
        restored_if_made_again(r, dbd);
    }
}

const char *oac_dbd_broken(request_rec *r)
{
    ap_dbd_t *dbd = session_connection(r);

    if (!dbd || !pq_bad(dbd)) {
        return NULL;
    }
    return apr_psprintf(r->pool, "the connection to the database broke "
                        "during the query: %s",
                        apr_dbd_error(dbd->driver, dbd->handle, 1));
}

void oac_dbd_before_session(request_rec *r)
{
    ap_dbd_t *dbd = session_connection(r);

    if (dbd) {
        ready_for_query(r, dbd);
    }
}

const char *oac_dbd_session_failed(request_rec *r, int *pretry)
{
    oac_server_conf *sc = oac_server_config(r->server);
    ap_dbd_t *dbd;
    const char *why;
    int prepared, total;

    *pretry = 0;
    if (!dbd_acquire || !sc->dbd_statements) {
        return NULL;
    }
    if (!(dbd = dbd_acquire(r))) {
        return "mod_dbd has no connection to the database: it is down, "
               "unreachable or refuses this login (mod_dbd's own lines "
               "say which)";
    }
    /* Reconnects a broken connection, as mod_dbd's next check would. */
    if (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle)
        != APR_SUCCESS) {
        why = apr_dbd_error(dbd->driver, dbd->handle, 1);
        return apr_psprintf(r->pool, "the database connection is lost: %s",
                            why ? why : "no reason given");
    }
    prepared = prepare_again(r, dbd, 0, &total);
    note_backend(dbd->pool, NULL, dbd);
    *pretry = prepared > 0;
    return prepared ? "the database connection had lost its prepared "
                      "statements (the database restarted)"
                    : "a query failed (mod_session_dbd's or mod_dbd's "
                      "lines before say which)";
}

void oac_dbd_register(void)
{
    /* First: mod_dbd's own hook (DBDInitSQL) ends the run when a
     * statement fails, and the connection would then be kept unnoted. */
    APR_OPTIONAL_HOOK(dbd, post_connect, note_backend, NULL, NULL,
                      APR_HOOK_REALLY_FIRST);
}

/* --- coordination -------------------------------------------------------- */

/* A shared cache that failed: said once a minute per child and cache, and
 * again when it works. */
static void say_unreachable(request_rec *r, oac_server_conf *sc,
                            const char *why)
{
    if (oac_util_say_due(&sc->cache_said_at, oac_now(),
                         SAY_AGAIN_SECONDS)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00106)
                      "OAuthCache %s cannot be used (%s): until it can, "
                      "this machine coordinates its own refreshes, and a "
                      "browser's requests spread over other machines may "
                      "refresh the same token again", sc->cache_spec, why);
    }
    apr_atomic_set32(&sc->cache_down, 1);
}

static void say_back(request_rec *r, oac_server_conf *sc)
{
    if (apr_atomic_cas32(&sc->cache_down, 0, 1) == 1) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, OAC_LOGNO(00107)
                      "OAuthCache %s works again", sc->cache_spec);
        apr_atomic_set32(&sc->cache_said_at, 0);
    }
}

/* Runs fn on the virtual host's shared cache; APR_SUCCESS, or the failure
 * logged and APR_EGENERAL (the caller falls back to the machine's table).
 * APR_ENOTIMPL without a shared cache. */
typedef apr_status_t (*kv_fn)(const oac_kv_t *kv, void *arg);

/* A request's memcached connection kept between calls (oac_cache_hold);
 * a request stays in its virtual host, and so with one client. */
typedef struct {
    int on;
    oac_mc_conn_t *conn;
} mc_hold_t;

#define MC_HOLD_KEY "oac-mc-hold"

static mc_hold_t *hold_of(request_rec *r)
{
    void *h = NULL;
    apr_pool_userdata_get(&h, MC_HOLD_KEY, r->pool);
    return h;
}

void oac_cache_hold(request_rec *r, int on)
{
    mc_hold_t *h = hold_of(r);

    if (on) {
        if (!h) {
            h = apr_pcalloc(r->pool, sizeof(*h));
            apr_pool_userdata_setn(h, MC_HOLD_KEY, NULL, r->pool);
        }
        h->on = 1;
    }
    else if (h) {
        if (h->conn) {
            oac_mc_close(h->conn);
        }
        h->conn = NULL;
        h->on = 0;
    }
}

static apr_status_t on_shared(request_rec *r, kv_fn fn, void *arg)
{
    oac_server_conf *sc = oac_server_config(r->server);
    dbd_kv_t d;
    oac_kv_t kv;
    apr_status_t rv;

    if (sc->cache_kind == OAC_CACHE_MEMCACHE) {
        mc_hold_t *h = hold_of(r);
        oac_mc_conn_t *mc;

        if (!sc->cache_client) {
            say_unreachable(r, sc, "no memcache client in this process");
            return APR_EGENERAL;
        }
        /* a connection that failed was closed by the client, and is made
         * again at the next call */
        mc = h && h->on && h->conn ? h->conn
                                   : oac_mc_open(r->pool, sc->cache_client);
        kv = (oac_kv_t){ mc, mc_get, mc_add, mc_set };
        if ((rv = fn(&kv, arg)) != APR_SUCCESS) {
            say_unreachable(r, sc, oac_mc_error(mc));
        }
        if (h && h->on) {
            h->conn = mc;
        }
        else {
            oac_mc_close(mc);
        }
    }
    else if (sc->cache_kind == OAC_CACHE_DBD) {
        if (!dbd_open(&d, r)) {
            say_unreachable(r, sc, d.why);
            return APR_EGENERAL;
        }
        kv = (oac_kv_t){ &d, dbd_get, dbd_add, dbd_set };
        if ((rv = fn(&kv, arg)) != APR_SUCCESS) {
            say_unreachable(r, sc, d.why ? d.why : "unexpected answer");
        }
    }
    else {
        return APR_ENOTIMPL;
    }
    if (rv == APR_SUCCESS) {
        say_back(r, sc);
    }
    return rv;
}

typedef struct {
    request_rec *r;
    const char *key;
    apr_int64_t patience;
    char **presult;
    const char *result;
    oac_handoff_e state;
    int unshared;               /* finish: publish UNSHARED, not result */
} handoff_call_t;

static apr_status_t kv_begin(const oac_kv_t *kv, void *arg)
{
    handoff_call_t *c = arg;
    return oac_handoff_kv_begin(&c->state, c->presult, c->r->pool, kv,
                                c->key, c->patience);
}

static apr_status_t kv_finish(const oac_kv_t *kv, void *arg)
{
    handoff_call_t *c = arg;
    if (c->unshared) {
        return oac_handoff_kv_finish_unshared(c->r->pool, kv, c->key);
    }
    return oac_handoff_kv_finish(c->r->pool, kv, c->key, c->result);
}

/* --- plain entries (service tokens) --------------------------------------- */

typedef struct {
    const char *name;
    const char *value;
    apr_int64_t ttl;
    char **pvalue;
    oac_kv_e rc;
    apr_pool_t *p;
    int add;                    /* a put: only when no live entry has name */
} entry_call_t;

static apr_status_t kv_get_entry(const oac_kv_t *kv, void *arg)
{
    entry_call_t *c = arg;
    c->rc = kv->get(kv->baton, c->p, c->name, c->pvalue);
    return c->rc == OAC_KV_ERROR ? APR_EGENERAL : APR_SUCCESS;
}

static apr_status_t kv_put_entry(const oac_kv_t *kv, void *arg)
{
    entry_call_t *c = arg;
    c->rc = (c->add ? kv->add : kv->set)(kv->baton, c->p, c->name, c->value,
                                         c->ttl);
    return c->rc == OAC_KV_ERROR ? APR_EGENERAL : APR_SUCCESS;
}

int oac_cache_is_shared(request_rec *r)
{
    oac_server_conf *sc = oac_server_config(r->server);
    return sc->cache_kind == OAC_CACHE_MEMCACHE
           || sc->cache_kind == OAC_CACHE_DBD;
}

apr_status_t oac_cache_get(request_rec *r, const char *name, char **pvalue)
{
    entry_call_t c = { name, NULL, 0, pvalue, OAC_KV_ERROR, r->pool, 0 };
    apr_status_t rv = on_shared(r, kv_get_entry, &c);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return c.rc == OAC_KV_OK ? APR_SUCCESS : APR_NOTFOUND;
}

apr_status_t oac_cache_set(request_rec *r, const char *name,
                           const char *value, apr_int64_t ttl)
{
    entry_call_t c = { name, value, ttl, NULL, OAC_KV_ERROR, r->pool, 0 };
    return on_shared(r, kv_put_entry, &c);
}

apr_status_t oac_cache_add(request_rec *r, const char *name,
                           const char *value, apr_int64_t ttl)
{
    entry_call_t c = { name, value, ttl, NULL, OAC_KV_ERROR, r->pool, 1 };
    apr_status_t rv = on_shared(r, kv_put_entry, &c);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return c.rc == OAC_KV_OK ? APR_SUCCESS : APR_EEXIST;
}

/* Slots reused while still needed mean the table is too small for this
 * site's refresh rate: said once a minute per child at most. Called
 * holding the mutex. */
static void report_evictions(request_rec *r)
{
    static apr_uint32_t seen;
    static apr_int64_t said_at;
    apr_uint32_t now_count = oac_handoff_live_evictions(table);

    if (now_count != seen && oac_now() - said_at >= 60) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAC_LOGNO(00066)
                      "more than %d token refreshes a minute on this "
                      "machine: %u refresh results were dropped while "
                      "parallel requests could still need them (those may "
                      "refresh again): raise OAuthCache shm:SLOTS, or use "
                      "memcache or dbd, which have no such limit",
                      shm_slots ? shm_slots : HANDOFF_SLOTS,
                      now_count - seen);
        seen = now_count;
        said_at = oac_now();
    }
}

/* oac_handoff_begin on the machine's table; MINE without one. */
static oac_handoff_e local_begin(request_rec *r, const char *key,
                                 apr_int64_t patience, char **presult)
{
    oac_handoff_e state;

    if (!table || !mutex || apr_global_mutex_lock(mutex) != APR_SUCCESS) {
        return OAC_HANDOFF_MINE;
    }
    state = oac_handoff_begin(presult, r->pool, table, key, oac_now(),
                              patience);
    report_evictions(r);
    apr_global_mutex_unlock(mutex);
    return state;
}

oac_handoff_e oac_cache_begin(request_rec *r, const char *key,
                              apr_int64_t patience, char **presult,
                              oac_cache_claim_t *claim)
{
    handoff_call_t c = { r, key, patience, presult, NULL, OAC_HANDOFF_MINE,
                         0 };
    oac_handoff_e state;
    apr_status_t rv;

    rv = on_shared(r, kv_begin, &c);
    if (rv == APR_SUCCESS) {
        if (c.state == OAC_HANDOFF_WAIT) {
            claim->saw_shared_wait = 1;
        }
        if (c.state != OAC_HANDOFF_MINE) {
            return c.state;
        }
        /* Claimed on the shared cache: on this machine's table too, so
         * that a parallel request here for which the shared cache fails
         * meanwhile waits for this refresh instead of spending the same
         * refresh token again. A refresh this machine made while the
         * shared cache was failing is taken, or waited for, as well. */
        state = local_begin(r, key, patience, presult);
        if (state == OAC_HANDOFF_DONE || state == OAC_HANDOFF_FAILED
            || state == OAC_HANDOFF_UNSHARED) {
            /* That outcome is on this machine only, and the shared claim
             * just taken would send other machines' waiters to refresh
             * again when it lapses: publish it there. */
            c.result = state == OAC_HANDOFF_DONE ? *presult : NULL;
            c.unshared = state == OAC_HANDOFF_UNSHARED;
            on_shared(r, kv_finish, &c);
        }
        return state;
    }
    state = local_begin(r, key, patience, presult);
    if (rv != APR_ENOTIMPL && state == OAC_HANDOFF_MINE
        && claim->saw_shared_wait) {
        /* Another request holds the shared claim and the shared cache
         * failed since: refreshing now would spend the same refresh token
         * twice (a provider that detects reuse revokes the grant), so
         * keep waiting, until the caller's deadline at most. */
        return OAC_HANDOFF_WAIT;
    }
    return state;
}

void oac_cache_finish(request_rec *r, const char *key, const char *result)
{
    handoff_call_t c = { r, key, 0, NULL, result, OAC_HANDOFF_MINE, 0 };

    /* The shared cache first, even for a claim made on this machine only
     * (the shared cache failed then): machines waiting there read it. */
    on_shared(r, kv_finish, &c);
    /* And always this machine's table, where its requests wait when the
     * shared cache fails them. */
    if (table && mutex && apr_global_mutex_lock(mutex) == APR_SUCCESS) {
        oac_handoff_finish(table, key, result, oac_now());
        apr_global_mutex_unlock(mutex);
    }
}
