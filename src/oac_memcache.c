/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>
#include <stdlib.h>

#include <apr_network_io.h>
#include <apr_strings.h>

#include "oac_memcache.h"
#include "oac_util.h"

typedef struct {
    const char *name;           /* HOST:PORT, for messages */
    apr_sockaddr_t *addr;
} mc_server_t;

struct oac_mc_t {
    mc_server_t *servers;
    int n;
    apr_interval_time_t timeout;
};

typedef struct {
    apr_socket_t *sock;         /* or NULL */
    char *buf;                  /* what was read and not yet used */
    apr_size_t start, end, cap;
} mc_link_t;

struct oac_mc_conn_t {
    apr_pool_t *p;
    oac_mc_t *mc;
    mc_link_t *links;           /* one per server */
    const char *error;
    /* When the answer to the command being sent must be read by: a server
     * that sends a byte now and then would otherwise hold the request for
     * as long as it likes, each read within the timeout. */
    apr_time_t deadline;
};

apr_status_t oac_mc_make(oac_mc_t **pmc, const char **perr, apr_pool_t *p,
                         const char *list, apr_interval_time_t timeout)
{
    oac_mc_t *mc = apr_pcalloc(p, sizeof(*mc));
    const char *l;
    int cap = 1;

    for (l = list; *l; ++l) {
        cap += *l == ',';
    }
    mc->servers = apr_pcalloc(p, sizeof(*mc->servers) * (apr_size_t)cap);
    mc->timeout = timeout;
    while (*list) {
        apr_size_t len;
        char *one, *host, *scope;
        apr_port_t port;

        list += strspn(list, ", \t");
        len = strcspn(list, ", \t");
        if (!len) {
            break;
        }
        one = apr_pstrmemdup(p, list, len);
        list += len;
        if (apr_parse_addr_port(&host, &scope, &port, one, p) != APR_SUCCESS
            || !host || !port || scope) {
            *perr = apr_psprintf(p, "'%s' is not HOST:PORT", one);
            return APR_EINVAL;
        }
        if (apr_sockaddr_info_get(&mc->servers[mc->n].addr, host,
                                  APR_UNSPEC, port, 0, p) != APR_SUCCESS) {
            *perr = apr_psprintf(p, "'%s': the host name does not resolve",
                                 one);
            return APR_EINVAL;
        }
        mc->servers[mc->n++].name = one;
    }
    if (!mc->n) {
        *perr = "no memcached server is named";
        return APR_EINVAL;
    }
    *pmc = mc;
    return APR_SUCCESS;
}

oac_mc_conn_t *oac_mc_open(apr_pool_t *p, oac_mc_t *mc)
{
    oac_mc_conn_t *c = apr_pcalloc(p, sizeof(*c));
    c->p = p;
    c->mc = mc;
    c->links = apr_pcalloc(p, sizeof(*c->links) * (apr_size_t)mc->n);
    return c;
}

void oac_mc_close(oac_mc_conn_t *c)
{
    int i;
    for (i = 0; i < c->mc->n; ++i) {
        if (c->links[i].sock) {
            apr_socket_close(c->links[i].sock);
            c->links[i].sock = NULL;
        }
    }
}

const char *oac_mc_error(const oac_mc_conn_t *c)
{
    return c->error ? c->error : "no error";
}

/* FNV-1a over the name's last part: the same server for a lock and its
 * result, and for every machine with the same list. */
static int server_of(const oac_mc_t *mc, const char *name)
{
    const char *id = strrchr(name, ':');
    apr_uint32_t h = 2166136261u;

    for (id = id ? id + 1 : name; *id; ++id) {
        h = (h ^ (unsigned char)*id) * 16777619u;
    }
    return (int)(h % (apr_uint32_t)mc->n);
}

static oac_kv_e failed(oac_mc_conn_t *c, mc_link_t *link, const char *op,
                       int server, const char *what, apr_status_t rv)
{
    char buf[120];

    c->error = apr_psprintf(c->p, "%s on %s: %s", op,
                            c->mc->servers[server].name,
                            rv ? apr_strerror(rv, buf, sizeof(buf)) : what);
    /* Whatever the server still sends belongs to a command given up on. */
    if (link->sock) {
        apr_socket_close(link->sock);
        link->sock = NULL;
    }
    link->start = link->end = 0;
    return OAC_KV_ERROR;
}

/* Connected to server, and the answer to the command sent next due within
 * the timeout. */
static apr_status_t link_up(oac_mc_conn_t *c, mc_link_t *link, int server)
{
    apr_sockaddr_t *sa = c->mc->servers[server].addr;
    apr_status_t rv;

    if (link->sock) {
        c->deadline = apr_time_now() + c->mc->timeout;
        apr_socket_timeout_set(link->sock, c->mc->timeout);
        return APR_SUCCESS;
    }
    rv = apr_socket_create(&link->sock, sa->family, SOCK_STREAM,
                           APR_PROTO_TCP, c->p);
    if (rv == APR_SUCCESS) {
        apr_socket_opt_set(link->sock, APR_TCP_NODELAY, 1);
        apr_socket_timeout_set(link->sock, c->mc->timeout);
        rv = apr_socket_connect(link->sock, sa);
    }
    if (rv != APR_SUCCESS && link->sock) {
        apr_socket_close(link->sock);
        link->sock = NULL;
    }
    if (!link->buf) {
        link->cap = 1024;
        link->buf = apr_palloc(c->p, link->cap);
    }
    link->start = link->end = 0;
    c->deadline = apr_time_now() + c->mc->timeout;
    return rv;
}

static apr_status_t send_all(apr_socket_t *sock, const char *data,
                             apr_size_t len)
{
    while (len) {
        apr_size_t n = len;
        apr_status_t rv = apr_socket_send(sock, data, &n);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        data += n;
        len -= n;
    }
    return APR_SUCCESS;
}

/* Makes want bytes available at link->buf + link->start. */
static apr_status_t fill(oac_mc_conn_t *c, mc_link_t *link, apr_size_t want)
{
    while (link->end - link->start < want) {
        apr_interval_time_t left;
        apr_size_t n;
        apr_status_t rv;

        if (link->start + want > link->cap) {
            apr_size_t cap = link->cap * 2 > want + 1024 ? link->cap * 2
                                                         : want + 1024;
            char *buf = apr_palloc(c->p, cap);
            memcpy(buf, link->buf + link->start, link->end - link->start);
            link->end -= link->start;
            link->start = 0;
            link->buf = buf;
            link->cap = cap;
        }
        left = c->deadline - apr_time_now();
        if (left <= 0) {
            return APR_TIMEUP;
        }
        apr_socket_timeout_set(link->sock, left < c->mc->timeout
                                           ? left : c->mc->timeout);
        n = link->cap - link->end;
        rv = apr_socket_recv(link->sock, link->buf + link->end, &n);
        if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n)) {
            return APR_STATUS_IS_EOF(rv) ? APR_ECONNRESET : rv;
        }
        link->end += n;
    }
    return APR_SUCCESS;
}

/* The next line, without its CRLF; NULL at a failure (*prv) or when a
 * line is longer than any answer to these commands. */
static char *read_line(oac_mc_conn_t *c, mc_link_t *link, apr_status_t *prv)
{
    apr_size_t scanned = 0;

    for (;;) {
        char *base = link->buf + link->start, *eol;
        apr_size_t have = link->end - link->start;

        eol = have > scanned ? memchr(base + scanned, '\n', have - scanned)
                             : NULL;
        if (eol) {
            char *line = base;
            apr_size_t len = (apr_size_t)(eol - base);
            link->start += len + 1;
            if (len && line[len - 1] == '\r') {
                --len;
            }
            line[len] = '\0';
            return line;
        }
        if (have > 512) {
            *prv = APR_SUCCESS;
            return NULL;
        }
        scanned = have;
        if ((*prv = fill(c, link, have + 1)) != APR_SUCCESS) {
            return NULL;
        }
    }
}

oac_kv_e oac_mc_get(oac_mc_conn_t *c, const char *name, char **pvalue)
{
    int server = server_of(c->mc, name);
    mc_link_t *link = &c->links[server];
    apr_status_t rv;
    char *line, *flags, *end;
    apr_size_t bytes, digits;
    const char *data;

    if ((rv = link_up(c, link, server)) != APR_SUCCESS
        || (rv = send_all(link->sock, apr_pstrcat(c->p, "get ", name,
                                                  "\r\n", NULL),
                          strlen(name) + 6)) != APR_SUCCESS
        || !(line = read_line(c, link, &rv))) {
        return failed(c, link, "get", server, "an answer too long", rv);
    }
    if (!strcmp(line, "END")) {
        return OAC_KV_NOTFOUND;
    }
    /* VALUE <name> <flags> <bytes>: the name asked for, flags and a
     * length of digits (the module stores flags 0), nothing more, then the
     * value followed by CRLF; anything else means the stream is not where
     * it should be, and nothing on it is taken. */
    if (strncmp(line, "VALUE ", 6) || strncmp(line + 6, name, strlen(name))
        || line[6 + strlen(name)] != ' ') {
        return failed(c, link, "get", server, "an unexpected answer", 0);
    }
    flags = line + 6 + strlen(name) + 1;
    digits = strspn(flags, "0123456789");
    end = flags + digits;
    if (!digits || digits > 10 || *end != ' '
        || !(digits = strspn(end + 1, "0123456789")) || digits > 7
        || end[1 + digits]
        || (bytes = (apr_size_t)strtoul(end + 1, NULL, 10)) > 1024 * 1024) {
        return failed(c, link, "get", server, "an unexpected answer", 0);
    }
    if ((rv = fill(c, link, bytes + 2)) != APR_SUCCESS) {
        return failed(c, link, "get", server, NULL, rv);
    }
    data = link->buf + link->start;
    if (memcmp(data + bytes, "\r\n", 2)) {
        return failed(c, link, "get", server, "an unexpected answer", 0);
    }
    *pvalue = apr_pstrmemdup(c->p, data, bytes);
    link->start += bytes + 2;
    if (!(line = read_line(c, link, &rv)) || strcmp(line, "END")) {
        return failed(c, link, "get", server, "an unexpected answer", rv);
    }
    return OAC_KV_OK;
}

/* The longest expiry memcached reads as seconds from now: 30 days. */
#define MC_RELATIVE_MAX 2592000

static oac_kv_e store(oac_mc_conn_t *c, const char *op, const char *name,
                      const char *value, apr_int64_t ttl)
{
    int server = server_of(c->mc, name);
    mc_link_t *link = &c->links[server];
    apr_size_t len = strlen(value);
    char *cmd;
    char *line;
    apr_status_t rv;

    /* memcached reads an expiry up to 30 days as relative seconds, and a
     * longer one as a Unix time (one in 1970: gone at once); an entry for
     * longer lives 30 days, and is then made again */
    if (ttl > MC_RELATIVE_MAX) {
        ttl = MC_RELATIVE_MAX;
    }
    cmd = apr_psprintf(c->p, "%s %s 0 %" APR_INT64_T_FMT " %" APR_SIZE_T_FMT
                       "\r\n%s\r\n", op, name, ttl < 1 ? 1 : ttl, len, value);
    if ((rv = link_up(c, link, server)) != APR_SUCCESS
        || (rv = send_all(link->sock, cmd, strlen(cmd))) != APR_SUCCESS
        || !(line = read_line(c, link, &rv))) {
        return failed(c, link, op, server, "an answer too long", rv);
    }
    if (!strcmp(line, "STORED")) {
        return OAC_KV_OK;
    }
    if (!strcmp(line, "NOT_STORED")) {
        return OAC_KV_EXISTS;
    }
    return failed(c, link, op, server,
                  apr_psprintf(c->p, "memcached answered '%s'",
                               oac_util_sanitize(c->p, line, 80)), 0);
}

oac_kv_e oac_mc_add(oac_mc_conn_t *c, const char *name, const char *value,
                    apr_int64_t ttl)
{
    return store(c, "add", name, value, ttl);
}

oac_kv_e oac_mc_set(oac_mc_conn_t *c, const char *name, const char *value,
                    apr_int64_t ttl)
{
    return store(c, "set", name, value, ttl);
}
