/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

#include <string.h>

#include "oac_redirect.h"
#include "oac_util.h"

/*
 * Decoding rounds checked: one is what the browser sees; more catch a
 * backend that decodes again before redirecting ("/%252F%252Fevil").
 */
#define OAC_REDIRECT_DECODE_ROUNDS 3

typedef enum {
    DECODED_OK,
    DECODED_NUL,        /* "%00": never part of a path */
    DECODED_MALFORMED   /* a '%' not followed by two hex digits */
} decode_e;

/* Percent-decodes in into out (at least strlen(in) + 1 bytes). '+' stays
 * '+': it is not a space in a path. */
static decode_e pct_decode(char *out, const char *in)
{
    while (*in) {
        int hi, lo;

        if (*in != '%') {
            *out++ = *in++;
            continue;
        }
        /* in[1] may be the NUL, which oac_util_hex_value rejects before in[2]. */
        if ((hi = oac_util_hex_value((unsigned char)in[1])) < 0
            || (lo = oac_util_hex_value((unsigned char)in[2])) < 0) {
            return DECODED_MALFORMED;
        }
        if (hi == 0 && lo == 0) {
            return DECODED_NUL;
        }
        *out++ = (char)((hi << 4) | lo);
        in += 3;
    }
    *out = '\0';
    return DECODED_OK;
}

/* What the raw string may contain: printable ASCII without '\'. Space,
 * controls and non-ASCII are refused outright (browsers strip TAB/CR/LF
 * and some normalise non-ASCII look-alikes of '/'). */
static int raw_chars_ok(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Checks on a decoded form: decoded bytes may be any non-control byte
 * (UTF-8, space), but never a control character or '\', and the path must
 * still not start with two slashes. */
static int decoded_ok(const char *s)
{
    const char *c;

    if (s[0] == '/' && s[1] == '/') {
        return 0;
    }
    for (c = s; *c; ++c) {
        unsigned char ch = (unsigned char)*c;
        if (ch < 0x20 || ch == 0x7f || ch == '\\') {
            return 0;
        }
    }
    return 1;
}

int oac_redirect_is_local(const char *next)
{
    char buf[2][OAC_REDIRECT_MAX_LEN + 1];
    const char *cur = next;
    size_t len;
    int round;

    if (!next) {
        return 0;
    }
    len = strlen(next);
    if (len == 0 || len > OAC_REDIRECT_MAX_LEN) {
        return 0;
    }
    if (next[0] != '/' || next[1] == '/' || next[1] == '\\') {
        return 0;
    }
    if (!raw_chars_ok(next)) {
        return 0;
    }
    for (round = 0; round < OAC_REDIRECT_DECODE_ROUNDS; ++round) {
        char *out = buf[round % 2];
        decode_e d;

        if (!strchr(cur, '%')) {
            break;
        }
        d = pct_decode(out, cur);
        if (d == DECODED_NUL) {
            return 0;
        }
        if (d == DECODED_MALFORMED) {
            /* What the browser gets must be valid; a later round that no
             * longer decodes is just data ("/100%25" is "/100%"). */
            if (round == 0) {
                return 0;
            }
            break;
        }
        if (!decoded_ok(out)) {
            return 0;
        }
        cur = out;
    }
    return 1;
}
