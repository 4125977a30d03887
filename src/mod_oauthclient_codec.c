/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OAuthSessionPassphrase: a mod_session encoder/decoder with AES-256-GCM
 * (src/oac_codec.c) whose keys are derived once, when the configuration is
 * read, instead of on every request as mod_session_crypto does.
 *
 * mod_session's hooks are registered the way mod_session_crypto registers
 * them, from this module's register_hooks, which httpd runs when it loads
 * the module: mod_session must be loaded first, so that its hook
 * functions resolve. The references are weak, so that a wrong order gives
 * the administrator a sentence at configtest (oac_codec_registered)
 * instead of a dlopen error. Debian reads the *.load files in
 * alphabetical order, "oauthclient" before "session": the module's
 * LoadModule line is in oauthclient.conf, read after every *.load file.
 */
#include "mod_oauthclient_codec.h"
#include "mod_oauthclient_config.h"
#include "mod_oauthclient_cookie.h"

#include "http_request.h"
#include "mod_session.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>

#include "oac_codec.h"

APLOG_USE_MODULE(oauthclient);

#pragma weak ap_hook_session_encode
#pragma weak ap_hook_session_decode

static int registered;

/* Codecs made for .htaccess files, which are read per request: the key
 * derivation is paid once per child and passphrase list, not per request. */
static apr_pool_t *htaccess_pool;
static apr_thread_mutex_t *htaccess_lock;
static apr_hash_t *htaccess_codecs;

/* Codecs of the main configuration, by passphrase list: locations that
 * repeat one list share its keys instead of deriving them again. Reset
 * with each configuration read. */
static apr_hash_t *config_codecs;

/* mod_session decodes a session once, in the first request that loads
 * it, and every internal redirect and subrequest after it reuses what
 * that request decoded (the store keeps the record in the first request's
 * notes). Where OAuthSessionPassphrase covers fewer locations than
 * 'Session On', a plain cookie read outside its scope would reach an
 * ErrorDocument or an SSI include inside it as if it had been decrypted.
 * Which codec decoded a record (or none) is noted in the module's state
 * of the request that keeps the record: pointers compared, nothing
 * formatted on a path every request takes. */
typedef struct {
    const session_rec *z;
    const oac_codec_t *codec;
} oac_decoded_t;

/* What the chain of r noted of z, or NULL. */
static oac_decoded_t *decoded(request_rec *r, const session_rec *z,
                              apr_array_header_t **plist)
{
    oac_request_t *keeper = oac_request_state(oac_session_keeper(r));
    apr_array_header_t *list = keeper->decoded;
    int i;

    for (i = 0; list && i < list->nelts; ++i) {
        oac_decoded_t *d = &APR_ARRAY_IDX(list, i, oac_decoded_t);
        if (d->z == z) {
            return d;
        }
    }
    if (plist) {
        if (!list) {
            list = keeper->decoded = apr_array_make(
                oac_session_keeper(r)->pool, 1, sizeof(oac_decoded_t));
        }
        *plist = list;
    }
    return NULL;
}

static void note_decoder(request_rec *r, const session_rec *z,
                         const oac_codec_t *codec)
{
    apr_array_header_t *list;
    oac_decoded_t *d;

    if (!decoded(r, z, &list)) {
        d = apr_array_push(list);
        d->z = z;
        d->codec = codec;
    }
}

int oac_codec_session_usable(request_rec *r, const session_rec *z)
{
    const oac_dir_conf *dc = oac_dir_config(r);
    const oac_decoded_t *d;

    if (!dc->codec || !z) {
        return 1;
    }
    /* Not noted: nothing came from the browser to decode. */
    d = decoded(r, z, NULL);
    return !d || d->codec == dc->codec;
}

static apr_status_t codec_decode(request_rec *r, session_rec *z)
{
    oac_dir_conf *dc = oac_dir_config(r);
    const char *why;
    char *plain;
    apr_size_t len;
    apr_status_t rv;

    if (z->encoded && *z->encoded) {
        note_decoder(r, z, dc->codec);
    }
    if (!dc->codec || !z->encoded || !*z->encoded) {
        return DECLINED;
    }
    /* From the session's pool (the main request's, in a subrequest): the
     * table may keep pointers into the result. */
    if ((rv = oac_codec_decode(&plain, &len, &why,
                               z->pool ? z->pool : r->pool, dc->codec,
                               z->encoded)) != APR_SUCCESS) {
        /* Tampered, truncated, foreign or from a retired passphrase: an
         * empty session, as if the browser had sent no cookie. Only
         * OpenSSL itself failing is the server's problem. */
        ap_log_rerror(APLOG_MARK, rv == APR_EGENERAL ? APLOG_ERR
                                                     : APLOG_DEBUG,
                      0, r, OAC_LOGNO(00090) "session cookie ignored: %s",
                      why);
        z->encoded = NULL;
        return OK;
    }
    if (z->pool && z->entries) {
        apr_int64_t expiry = z->expiry;
        if (oac_codec_split_session(z->entries, &expiry, plain)) {
            /* Taken whole: mod_session's identity decoder, which runs
             * after this hook, sees nothing left to decode. */
            z->expiry = (apr_time_t)expiry;
            z->encoded = NULL;
            return OK;
        }
    }
    z->encoded = plain;
    return OK;
}

static apr_status_t codec_encode(request_rec *r, session_rec *z)
{
    oac_dir_conf *dc = oac_dir_config(r);
    const char *why;
    char *out;

    if (!dc->codec || !z->encoded || !*z->encoded) {
        return DECLINED;
    }
    if (oac_codec_encode(&out, &why, r->pool, dc->codec, z->encoded,
                         strlen(z->encoded)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAC_LOGNO(00091)
                      "cannot encrypt the session: %s", why);
        return APR_EGENERAL;
    }
    z->encoded = out;
    return OK;
}

/* Encrypts last (after mod_session has form-encoded the pairs) and
 * decrypts first, the places mod_session_crypto takes. */
void oac_codec_register(void)
{
    if (ap_hook_session_encode && ap_hook_session_decode) {
        ap_hook_session_encode(codec_encode, NULL, NULL, APR_HOOK_LAST);
        ap_hook_session_decode(codec_decode, NULL, NULL, APR_HOOK_FIRST);
        registered = 1;
    }
}

int oac_codec_registered(void)
{
    return registered;
}

void oac_codec_child_init(apr_pool_t *pchild)
{
    if (apr_pool_create(&htaccess_pool, pchild) == APR_SUCCESS
        && apr_thread_mutex_create(&htaccess_lock, APR_THREAD_MUTEX_DEFAULT,
                                   htaccess_pool) == APR_SUCCESS) {
        htaccess_codecs = apr_hash_make(htaccess_pool);
    }
}

/* The cache key: a digest of the passphrase list, so the passphrases
 * themselves are not kept as hash keys. 0 when it cannot be made. */
static int list_digest(unsigned char md[32], const apr_array_header_t *list)
{
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int i, ok;

    ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (i = 0; ok && i < list->nelts; ++i) {
        const char *s = APR_ARRAY_IDX(list, i, const char *);
        ok = EVP_DigestUpdate(ctx, s, strlen(s) + 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* An .htaccess file is read at every request under it: its codec is
 * looked up by a digest made on the stack, and only a new one is kept in
 * the child's pool (a copy per request was a leak for the child's life). */
static const char *codec_for_htaccess(cmd_parms *cmd, oac_dir_conf *dc,
                                      const apr_array_header_t *list)
{
    unsigned char md[32];
    const char *why;
    oac_codec_t *codec;

    if (!htaccess_codecs) {
        return "OAuthSessionPassphrase in .htaccess: the module was not "
               "initialised for this child";
    }
    if (!list_digest(md, list)) {
        return apr_psprintf(cmd->pool, "%s: cannot digest the passphrases",
                            cmd->cmd->name);
    }
    /* The passphrases of the configuration around it: its codec, since a
     * session one request decoded is usable in another of its chain
     * only under the same codec (oac_codec_session_usable). That table
     * is only read once the children run. */
    if (config_codecs
        && (codec = apr_hash_get(config_codecs, md, sizeof(md)))) {
        dc->codec = codec;
        return NULL;
    }
    OAC_LOCK(htaccess_lock);
    codec = apr_hash_get(htaccess_codecs, md, sizeof(md));
    if (!codec) {
        if (oac_codec_create(&codec, &why, htaccess_pool, list)
            != APR_SUCCESS) {
            OAC_UNLOCK(htaccess_lock);
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
        }
        apr_hash_set(htaccess_codecs, apr_pmemdup(htaccess_pool, md,
                                                  sizeof(md)),
                     sizeof(md), codec);
    }
    OAC_UNLOCK(htaccess_lock);
    dc->codec = codec;
    return NULL;
}

static const char *set_codec(cmd_parms *cmd, oac_dir_conf *dc,
                             apr_array_header_t *list)
{
    unsigned char md[32];
    const char *why, *key;
    oac_codec_t *codec;
    int i;

    for (i = 0; oac_reading_main_config() && i < list->nelts; ++i) {
        if (oac_codec_passphrase_weak(APR_ARRAY_IDX(list, i,
                                                    const char *))) {
            /* Said at every start (and by configtest), not refused: see
             * oac_codec.c. The passphrase is not quoted. */
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         OAC_LOGNO(00161) "%s at %s:%d: passphrase %d is "
                         "shorter than 16 characters: anyone holding a "
                         "session cookie can test guesses offline, and "
                         "what falls to one is every session's tokens; "
                         "use a long random one (openssl rand -base64 "
                         "24), with the short one after it until the "
                         "sessions it sealed have expired",
                         cmd->cmd->name, cmd->directive->filename,
                         cmd->directive->line_num, i + 1);
        }
    }

    if (!oac_reading_main_config()) {
        return codec_for_htaccess(cmd, dc, list);
    }
    if (!config_codecs) {
        config_codecs = apr_hash_make(cmd->pool);
    }
    /* Keys are derived here, once per configuration read and list. */
    key = list_digest(md, list) ? apr_pmemdup(cmd->pool, md, sizeof(md))
                                : NULL;
    codec = key ? apr_hash_get(config_codecs, key, 32) : NULL;
    if (!codec) {
        if (oac_codec_create(&codec, &why, cmd->pool, list) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
        }
        if (key) {
            apr_hash_set(config_codecs, key, 32, codec);
        }
    }
    dc->codec = codec;
    return NULL;
}

void oac_codec_pre_config(void)
{
    /* The previous read's pool is gone: start a new cache. */
    config_codecs = NULL;
}

/* The first ${NAME} in s (a name httpd would have replaced had it been
 * defined), or NULL: a "${" not followed by a name and "}" is text. */
static const char *undefined_var(const char *s)
{
    const char *v;

    for (v = strstr(s, "${"); v; v = strstr(v + 2, "${")) {
        apr_size_t n = strspn(v + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (n && v[2 + n] == '}') {
            return v;
        }
    }
    return NULL;
}

const char *oac_cmd_session_passphrase(cmd_parms *cmd, void *dconf,
                                       int argc, char *const argv[])
{
    apr_array_header_t *list = apr_array_make(cmd->temp_pool, argc,
                                              sizeof(const char *));
    int i;
    if (argc < 1) {
        return "OAuthSessionPassphrase needs at least one passphrase (the "
               "first encrypts; every one listed decrypts)";
    }
    for (i = 0; i < argc; ++i) {
        const char *var = undefined_var(argv[i]);
        if (var) {
            /* httpd leaves an undefined ${VAR} as written (and only warns,
             * AH00111): its text, which anyone can read in the README,
             * would be a passphrase that seals sessions here. Its name is
             * said, never what surrounds it. */
            return apr_psprintf(cmd->pool, "%s: passphrase %d holds %.*s, "
                                "which is not defined: define it (Define, "
                                "or the environment httpd starts with, "
                                "e.g. a root-only file sourced by "
                                "/etc/apache2/envvars), or leave it out",
                                cmd->cmd->name, i + 1,
                                (int)(strcspn(var, "}") + 1), var);
        }
        APR_ARRAY_PUSH(list, const char *) = argv[i];
    }
    return set_codec(cmd, dconf, list);
}

/* One passphrase per line; blank lines and lines starting with # skipped. */
const char *oac_cmd_session_passphrase_file(cmd_parms *cmd, void *dconf,
                                            const char *arg)
{
    const char *path = ap_server_root_relative(cmd->temp_pool, arg);
    apr_array_header_t *list = apr_array_make(cmd->temp_pool, 2,
                                              sizeof(const char *));
    ap_configfile_t *f;
    char line[MAX_STRING_LEN];
    apr_status_t rv;

    if (!path || (rv = ap_pcfg_openfile(&f, cmd->temp_pool, path))
                     != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "OAuthSessionPassphraseFile '%s' "
                            "cannot be opened", arg);
    }
    while (ap_cfg_getline(line, sizeof(line), f) == APR_SUCCESS) {
        if (line[0] && line[0] != '#') {
            APR_ARRAY_PUSH(list, const char *) = apr_pstrdup(cmd->temp_pool,
                                                             line);
        }
    }
    ap_cfg_closefile(f);
    if (!list->nelts) {
        return apr_psprintf(cmd->pool, "OAuthSessionPassphraseFile '%s' "
                            "holds no passphrase", arg);
    }
    {
        /* as for client key files (OAC00132): said, not refused */
        apr_finfo_t fi;
        if (oac_reading_main_config()
            && apr_stat(&fi, path, APR_FINFO_PROT, cmd->temp_pool)
               == APR_SUCCESS && (fi.protection & APR_WREAD)) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         OAC_LOGNO(00154) "%s:%d: OAuthSessionPassphraseFile "
                         "%s can be read by every user of this machine: "
                         "whoever reads it can seal sessions for any user; "
                         "make it readable by root only (chmod 600 %s)",
                         cmd->directive->filename, cmd->directive->line_num,
                         path, path);
        }
    }
    return set_codec(cmd, dconf, list);
}

static int is_passphrase(const ap_directive_t *d, int ours)
{
    return ours ? (!strcasecmp(d->directive, "OAuthSessionPassphrase")
                   || !strcasecmp(d->directive, "OAuthSessionPassphraseFile"))
                : (!strcasecmp(d->directive, "SessionCryptoPassphrase")
                   || !strcasecmp(d->directive, "SessionCryptoPassphraseFile"));
}

static void collect(const ap_directive_t *d, apr_array_header_t *ours,
                    apr_array_header_t *crypto)
{
    for (; d; d = d->next) {
        if (is_passphrase(d, 1)) {
            APR_ARRAY_PUSH(ours, const ap_directive_t *) = d;
        }
        else if (is_passphrase(d, 0)) {
            APR_ARRAY_PUSH(crypto, const ap_directive_t *) = d;
        }
        collect(d->first_child, ours, crypto);
    }
}

/* 1 if section a is b or encloses it (NULL is the top level). */
static int encloses(const ap_directive_t *a, const ap_directive_t *b)
{
    for (; b; b = b->parent) {
        if (a == b) {
            return 1;
        }
    }
    return a == NULL;
}

/* Both codecs on one location would encrypt twice: refused at configtest,
 * when one is set in a section that contains (or is) the other's. */
int oac_codec_check_config(apr_pool_t *ptemp, int *pused)
{
    apr_array_header_t *ours = apr_array_make(ptemp, 2, sizeof(void *));
    apr_array_header_t *crypto = apr_array_make(ptemp, 2, sizeof(void *));
    int i, j;

    collect(ap_conftree, ours, crypto);
    *pused = ours->nelts > 0;
    for (i = 0; i < ours->nelts; ++i) {
        const ap_directive_t *o = APR_ARRAY_IDX(ours, i,
                                                const ap_directive_t *);
        for (j = 0; j < crypto->nelts; ++j) {
            const ap_directive_t *c = APR_ARRAY_IDX(crypto, j,
                                                    const ap_directive_t *);
            if (encloses(o->parent, c->parent)
                || encloses(c->parent, o->parent)) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                             OAC_LOGNO(00092) "%s at %s:%d and %s at %s:%d "
                             "would encrypt the same session twice; keep "
                             "one of them", o->directive, o->filename,
                             o->line_num, c->directive, c->filename,
                             c->line_num);
                return !OK;
            }
        }
    }
    return OK;
}
