/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/* Unit tests for src/oac_jose.c */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "oac_test.h"

#include <apr_strings.h>

#include "oac_jose.h"
#include "oac_util.h"

/*
 * Published vectors: RFC 7515 appendices A.1 (HS256), A.2 (RS256), A.3
 * (ES256), A.4 (ES512); RFC 7520 section 4.4 (HS256 with a kid); RFC 8037
 * appendix A.4 (Ed25519). Each was checked with python3-cryptography
 * before being copied here.
 */
#define RFC7515_A2_N \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp" \
    "-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOW" \
    "vG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUs" \
    "LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9k" \
    "G4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2" \
    "PAcDTW9gb54h4FRWyuXpoQ"

#define RFC7515_A2_D \
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_G" \
    "Q5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKV" \
    "RUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9J" \
    "YanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoF" \
    "aFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjn" \
    "czT0QU91p1DhOVRuOopznQ"

#define RFC7515_A2 \
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODA" \
    "sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Ee" \
    "tdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Q" \
    "c_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--" \
    "f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN" \
    "9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6I" \
    "eYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypG" \
    "lUPQGe77Rw"

#define RFC7515_A3 \
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODA" \
    "sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8" \
    "L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqP" \
    "P3-Kg6NU1Q"

#define RFC7515_A4 \
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJb" \
    "LfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwF" \
    "KdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9E" \
    "RBXukOXolLzeO_Jn"

#define RFC7515_A4_X \
    "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvL" \
    "FV1jSfS9tsz4qUxcWceqwQGk"

#define RFC7515_A4_Y \
    "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4K" \
    "kd0AZMaZmh9ubmf63e3kyMj2"

#define RFC7515_A1 \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJ" \
    "leHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp" \
    "0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

#define RFC7515_A1_K \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0i" \
    "PS4hcgUuTwjAzZr1Z9CAow"

#define RFC7520_4_4 \
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVl" \
    "ZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbyw" \
    "gZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5" \
    "kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3d" \
    "pbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkL" \
    "spW1h84VsJZFTsPPqMDA7g1Md7p0"

#define RFC8037_A4 \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il" \
    "_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g" \
    "7sVvpAr_MuM0KAg"

#define RFC7515_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC7520_K "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/*
 * Generated with python3-cryptography for the algorithms the RFCs give no
 * example of, all over the claims below: RS384/512, PS256/384/512 and
 * TOK_RS256_KID_RSA by the RFC 7515 A.2 key; ES256 by the A.3 key; EdDSA
 * (Ed25519) by the RFC 8037 key; ES384 and Ed448 by fresh keys (public
 * halves EC384_X/Y and ED448_X); HS256/384/512 keyed by CLIENT_SECRET.
 * Misfits: an RS256 token naming the P-256 key's kid; one signed by a
 * 1024-bit key; an HS256 token keyed by the RSA key's PEM (and one by its
 * modulus, naming its kid), as in the algorithm confusion attack; PS256
 * with an empty salt; TOK_ID_ES256 an id_token with at_hash of
 * AT_CORE_EXAMPLE.
 */
#define CLIENT_SECRET "client-secret-0123456789"
#define TOK_RS384 \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlJTMzg0In0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.HnS7BPOT0nzDPe-9YHD8HbhPhbKlXWn5KyhnC2cTMufLA0Zslts" \
    "0sDObrwKqtV1PgoHfRK0AiSFMpudnlYfczMpq4p8ABYuhm-Gj1QPVxVeh5DwxZVP" \
    "g4QCJkUG-4nQaZUEen_ArZr6gsXdRaiZCNqiSOx_ySH2m6ueeuv1n1xZFiSsNyN6" \
    "gE_tGTi3yRVajA6Jc1HNU_RJ8XWxE7DD5UOXHxqKSLIwH5a0HDiMWnRSIKwDn1W1" \
    "IEfwdOAdI9eMPgc7cgCJQlrpK8YaMZ09zfp8gjDM1wYQ8kIEWfHgAoCoJ1RuYRrR" \
    "f5rBhKEW2YFHPM_qaKybMruL0N3mHwjSEfw"

#define TOK_RS512 \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlJTNTEyIn0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.P5DGNJhthwPfZPjQpqUX9e3ajwoKskToXcc2AliUJX5a2kUMTmI" \
    "4mOx5xKGEEt9T2QJAFoEHTKljXpwS3icbYQSf7RoQdGtS-yEh0CRTnD8D9bkEUeA" \
    "OSvaRRh7xQoW3UpmY1yzTxjrM6wCJd36cdWX7dgk72JN2DXBHcmqUCBHCRpAQPFK" \
    "c_XDsZpPj_UjzEn7SKUBseP51OJZvtI0WnJ_i985jdpLBpJoqdW7jbWqkLEaDJ1p" \
    "PzdExXpmiEMu5MPxUVchwGcHQqQ_AdEPZPgH9-DQqyYKsrC-wBshpwH4essOMa-o" \
    "9hD3gE_I-Q1I6J15uvFaHwz4azNkFEPa1lA"

#define TOK_PS256 \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlBTMjU2In0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.dZQd9-q9EkaFg62jj09fyaxa5PNIRsnDlAFBA7upsTlzEP557Xb" \
    "rCI_LCK7hBKF-FYrptdj1u6B79oOobcipA3V3ruFuAGtuAxaR7VUiYOxoGpZqvw-" \
    "af1b9uOVqoc86rvezOOLRc3jM4wIy9ToHFCt7_QbToxkWlxYWN8qPLtMs8AYfO0D" \
    "yHOVtnm2tlJm38xPBy-r45-ojPqgHICwNNRNc4EhUDqy_yYWO45q-9AOe3FS3COM" \
    "wTQPZLn3v3sb0cFFtsl6fgCi9dm6kidESSMiw7IFUOCgNa_w0OlKEs9zo_RSpQHm" \
    "gPgX_QUYUcQaCn8PZZufeTuBHF26hopU8MQ"

#define TOK_PS384 \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlBTMzg0In0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.cC4B0gQ9TZiTM4vl_nPTKZu0IGAPSrh7xNSGm3kwQBTsqvmgkk9" \
    "qZ4r-aRy9x9nMDB2HBlNESDfwsu4IJP1HR3r8PxMMOXmxkYK_ppMLaNizCFKaIlC" \
    "c3B3b9NUXQ3WRs-Ykvi-XwUg2hdbrdmrp0zf4fXfoDJmq8n4VmzIC-iA_t19NuPy" \
    "W3gRQKDicayB8EBQ3FLG7shjF3gHHgNnWhceHTbNEQnrL9DavpYrwzZ59CYerNi3" \
    "klmoDPB_JF4pzK-5dUzekKHBELMgTQR19IkFgt06gFXoN4M-ft3e1aoobXn1F4KD" \
    "t0LNNo22JrCtcRcJ-6TFPvjBo-rQkzfF4ww"

#define TOK_PS512 \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlBTNTEyIn0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.nc1WQzSaYyZN_LWHn_6BjcFgKsM9cm2Fqglc-32-ppp9_xaY7EA" \
    "BQTDQ375MsjtWQiKPtQG3cjHK2Og95oYRPw3Fm-JblZ87ULhRydZl_Wj7hUw3KHF" \
    "A2HIKHWh8uGThaWAFl5NRfcjsO6rNh-jB5mUj941AvbxeKc93VPs1DR5TZzeb3rx" \
    "ELHuEsAbapl1Byz18kw2sGSCuqRSzD0VvhIbqoExIYOpNz9CiMmNjPeOa0cxg7FV" \
    "BL3nqeBgT82sG6qCuKnsjERcmAhMNIPRtoxoOgMiOZ2bFLhLTHQsYFZi14Qitbk1" \
    "Q2Twb-0TegqRkxEzkZm1g0ellFMQ-PieAtQ"

#define TOK_ES384 \
    "eyJraWQiOiJlYzM4NC0xIiwiYWxnIjoiRVMzODQifQ.eyJpc3MiOiJodHRwczovL" \
    "29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtM" \
    "SIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiO" \
    "jE3MDAwMDAwMDB9.3zrMvfgKgAabyXCSOdnyd5TIe5ZXW8qJI51UjnqPhRH7oh6f" \
    "upc4-wof7MQ5skXrMv2Uof8_mGf0bgaeduzO0vkzxKbKCf930tFMj7VbphSgHYuW" \
    "Mu2gHPHWIclwEh5N"

#define TOK_ED448 \
    "eyJraWQiOiJlZDQ0OC0xIiwiYWxnIjoiRWQ0NDgifQ.eyJpc3MiOiJodHRwczovL" \
    "29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtM" \
    "SIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiO" \
    "jE3MDAwMDAwMDB9.YOyT7TjbUkymdGmE4WX-rzcO6JTkWFZuohSoyzY99tcrjZTe" \
    "hy1wt0AvF1uSrQ5DBTL7vUS14nkA1lj6134cvDkDVB6F_NVhHKj-aUZtHQatU4lF" \
    "TKAjMKSMzSqX9wXoLZkcugcEAXazYtpAMyLWLhIA"

#define TOK_EDDSA \
    "eyJraWQiOiJlZDI1NTE5LTEiLCJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczo" \
    "vL29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQ" \
    "tMSIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQ" \
    "iOjE3MDAwMDAwMDB9.Z1W8f-rngI3ewwQHUizfs0_fVNKo3HJ6CHwUMLTQ8h3pBD" \
    "cUW2qFGaezgTpqzBNJSUTOOX1BGq4_MCDW8n2GCw"

#define TOK_EDDSA_448 \
    "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWI" \
    "iOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZ" \
    "fV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.lRBx_e" \
    "alcJm_a18LZos4BgEewsv2swgQo6eRvyL_6uQbwu0wryouwqIIgFplB1Rrf04LU8" \
    "EFD-CAF1RdVAmvFXV-m3A66-9RbZDMAVrx9GCdRXtSXVzYETEYJJRevYoV2uue83" \
    "6xzMS2Z3i3lru3jScA"

#define TOK_HS256 \
    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWI" \
    "iOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZ" \
    "fV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.763Y61" \
    "PknF-2Qq2D8hTR_sY49pc1NjFNekWl6myAS-o"

#define TOK_HS384 \
    "eyJhbGciOiJIUzM4NCJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWI" \
    "iOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZ" \
    "fV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.aHf4Rx" \
    "cMuF4N722sYNh72MfXG0IW34arUTbFt1s9FgM0aeJFJ3GCOf-Af8HOGZWe"

#define TOK_HS512 \
    "eyJhbGciOiJIUzUxMiJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWI" \
    "iOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZ" \
    "fV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.k5ZmvZ" \
    "vYG8xteXeAkyZlTZbIAzydTX9ypB3YCVkSjhgEzy4mgG5NAhafI1fG3wIq-wM81q" \
    "MdAHRYDrIYN9KwNQ"

#define TOK_RS256_KID_RSA \
    "eyJraWQiOiJyc2EtMSIsImFsZyI6IlJTMjU2In0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.WnAPh0Z4_rxyjhcDeDOXJm0Rl6lvqiYz_IHUo-p3jHqLNnYliKk" \
    "bJVeKbJnCuDwKXF-CG3-9h0uar8zlgR129YXsVhFMd57diG-v3l_sd2jztu0pa8O" \
    "6hCAzgJlCndwMOQW4BzqTeZZhQdNzSFjemz_RYYKeqyyJktTRmJg6KGGFAOvZZNH" \
    "tltZLQ5L_DL1EelX4JVoshUJQMXUbbg01NGImFvOWZlsCxFHbrayptIxvrRkxjW3" \
    "xygr5HRKTympbiChNfUfPPqrIQqqYYEW-T7jyamp63tkXszcvdFWsJ3dEW51H_67" \
    "kD7cDsQ27vj1I1gFyFQt45OHxKzBR90E10A"

#define TOK_ES256_KID \
    "eyJraWQiOiJlYzI1Ni0xIiwiYWxnIjoiRVMyNTYifQ.eyJpc3MiOiJodHRwczovL" \
    "29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtM" \
    "SIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiO" \
    "jE3MDAwMDAwMDB9.U-Dd_PYeQJ0Tul5fjidenls9kwXgPTLe8FXNSXl4XG55uRhN" \
    "Zd9TuAN_V7GpvLUu3evg81H2lKka8FyD3oR7-w"

#define TOK_ES256_KID_UNKNOWN \
    "eyJraWQiOiJyb3RhdGVkLWF3YXkiLCJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHR" \
    "wczovL29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGl" \
    "lbnQtMSIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJ" \
    "pYXQiOjE3MDAwMDAwMDB9.QxGyMVjstXq2SAS9MLsIFS1rS4zLZPHb_xR2Iq77V-" \
    "6OTkIt77Bb6mgImM15-X9G-TrMBOF-mMi0iK6Fd7b3jA"

#define TOK_RS256_KID_EC \
    "eyJraWQiOiJlYzI1Ni0xIiwiYWxnIjoiUlMyNTYifQ.eyJpc3MiOiJodHRwczovL" \
    "29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtM" \
    "SIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiO" \
    "jE3MDAwMDAwMDB9.BgKlE6eZi5Q1X7tENXw4uQu8-EdhajVHbl5uEQ-DCf_ltTnn" \
    "by4aOqiF34eUNPFXN2Etk4NhFpalScZhhFSlTLCj7FjQdiM5CEyv_8uyGJy9w5LZ" \
    "rsL41Oh8BQahaPL-OjY_jMPG1OyXEjycB9vbe3pFcv9GocrPG6CZ1KXyF5LKpoPk" \
    "HqS3L6aexLOUX6O2xT5hKu7OrncmE11bAnK112qaBu93tRLSHCbTbGGVGQIYeRlJ" \
    "VQuIsafuqzGw-VZLxcxc0PJrN32_IQirzomuJFhuMzwN-Hfp2UJXlXwp08lfd5IX" \
    "6qF9eQx4paB5WMeTmjM25660-eYT2-mKrOCp9w"

#define TOK_RS256_SMALL \
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS1zbWFsbCJ9.eyJpc3MiOiJodHRwczo" \
    "vL29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQ" \
    "tMSIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQ" \
    "iOjE3MDAwMDAwMDB9.rqhsoLUxn2i6RmGkqT82jbg4ehEqf0FHLpsqrLN5gAkrFR" \
    "LGQz_jMCpQjrR6wNuE8pJW0PGKYFQqCuqwmFYOUXBK1Y4GxRXly-GvctJJ1qjk5A" \
    "Z3hUUTqNAzyfBLK5tBA5tAz48AWXPKOLU7PBQFkJaYz1C8Qf_1X3wC8bFgN9c"

#define TOK_HS256_RSA_PEM \
    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWI" \
    "iOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZ" \
    "fV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDB9.gZ542w" \
    "jm3tUuftygmSuriMe2Uq7o-pQR0vzR2VGm0kY"

#define TOK_HS256_RSA_N_KID \
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIn0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.7tVvQWggnKi7PLHyMdIxdOKD3yksKWdmgV5Tfd_-0EI"

#define TOK_PS256_SALT0 \
    "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYS0xIn0.eyJpc3MiOiJodHRwczovL29w" \
    "LmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhdWQiOiJjbGllbnQtMSIs" \
    "Im5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3" \
    "MDAwMDAwMDB9.UadRFlvRwcsvpaAyohQ40UgFK7XnI7jb_zx7hoq3De75gzMY7Cm" \
    "b4EJzRPXHgN0UBt7tyTZ82GPR-EiQa_bzzqCpefnojEeT4X1X11IdSuFtybU3xml" \
    "2UJ5BTw-Zv9wg0Tpzn1YZL5T5XPPDEOhgs01b93xcsBoVAqCByDzcuRSkJCTMTvB" \
    "942_ny9k6Nu9rLKDGjcjE21M47uMTdlxqZ0caNWbCNeWQh5LgaAX8z3DLZmA48HO" \
    "DIsM4kuSAh3vocFx7acPWCTKdrCXDbcbwhTH228YrP8JqRtAY29wBa71_LgaZxB_" \
    "0qAUBNNc8K4QlhRi7vAbanZa-pNvfLfxqGA"

#define TOK_ID_ES256 \
    "eyJraWQiOiJlYzI1Ni0xIiwidHlwIjoiSldUIiwiYWxnIjoiRVMyNTYifQ.eyJpc" \
    "3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWIiOiIyNDgyODk3NjEwMDEiLCJhd" \
    "WQiOiJjbGllbnQtMSIsIm5vbmNlIjoibi0wUzZfV3pBMk1qIiwiZXhwIjoxNzAwM" \
    "DAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImF0X2hhc2giOiI3N1FtVVB0alBmeld0R" \
    "jJBbnBLOVJRIn0.3WARdXqRJQSMGvrMLdY4L1cIDh4ogIqXqwcTZ9NAkj0x-njPQ" \
    "AeS9LHZpydb7qGrYPTXlG6_MD09AV4idPJ8UQ"

#define EC384_X \
    "uIOrmeCRoAXcucKrOGWsofMqZVv3EzedWJpTzVmP-AYHui8_wrNvx_jK9LK5blSD"

#define EC384_Y \
    "B4-BewQIIHU9rqJ_50ObVOxRc6GOBi3-BR4KZ_2ewmApJrXNZNeqySjhAIPt9uCS"

#define ED448_X \
    "DxSouYCDLuq3ipcXtd0cKAKEqzGRgKezZ6innFgEW0THRDLM2nvA3RJqG4r1eEO4" \
    "1NoKgFT4D5GA"

#define RSA1024_N \
    "1YxTTJ1aYuT1E3Wy3cppDpvjXPkid7K83e6E0eptrT_3SuzhXBuU7_6zCqkxixYd" \
    "_XQpBL4UKIfBODmhE53BARZyC3POLp8aRp1Bx1AW7uW4HPHjVvQMkSd01lWBAIdj" \
    "SMWzWtMVkiAp2hDrqYqe2XaZNuPr-L0Iy6znmFyPYI0"

/* The claims every generated token carries. */
#define ISSUER "https://op.example"
#define CLIENT_ID "client-1"
#define NONCE "n-0S6_WzA2Mj"
#define IAT APR_INT64_C(1700000000)
#define EXP APR_INT64_C(1700003600)
#define NOW (IAT + 100)
#define LEEWAY 60

/* OpenID Connect Core 1.0 appendix A.3: this access token's RS256
 * at_hash is "77QmUPtjPfzWtF2AnpK9RQ". */
#define AT_CORE_EXAMPLE "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
#define AT_HASH_CORE_EXAMPLE "77QmUPtjPfzWtF2AnpK9RQ"

#define ALL_ALGS "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512," \
                 "EdDSA,Ed25519,Ed448,HS256,HS384,HS512"

#define JWK_RSA_A2 \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"use\":\"sig\",\"n\":\"" \
    RFC7515_A2_N "\",\"e\":\"AQAB\"}"
#define JWK_EC256 \
    "{\"kty\":\"EC\",\"kid\":\"ec256-1\",\"crv\":\"P-256\",\"x\":\"" \
    RFC7515_A3_X "\",\"y\":\"" RFC7515_A3_Y "\"}"

/* What a provider's jwks_uri could serve: one key of each kind. */
#define JWKS_PROVIDER \
    "{\"keys\":[" JWK_RSA_A2 "," JWK_EC256 "," \
    "{\"kty\":\"EC\",\"kid\":\"ec384-1\",\"crv\":\"P-384\",\"x\":\"" \
    EC384_X "\",\"y\":\"" EC384_Y "\"}," \
    "{\"kty\":\"EC\",\"kid\":\"ec521-1\",\"crv\":\"P-521\",\"x\":\"" \
    RFC7515_A4_X "\",\"y\":\"" RFC7515_A4_Y "\"}," \
    "{\"kty\":\"OKP\",\"kid\":\"ed25519-1\",\"crv\":\"Ed25519\",\"x\":\"" \
    RFC8037_X "\"}," \
    "{\"kty\":\"OKP\",\"kid\":\"ed448-1\",\"crv\":\"Ed448\",\"x\":\"" \
    ED448_X "\"}," \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-small\",\"n\":\"" RSA1024_N \
    "\",\"e\":\"AQAB\"}]}"

static const oac_jose_jwks_t *parse_set(apr_pool_t *p, const char *json,
                                        int flags)
{
    oac_jose_jwks_t *jwks = NULL;
    const char *why = "unset";

    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, json, flags),
                     APR_SUCCESS);
    assert_non_null(jwks);
    return jwks;
}

static const oac_jose_jwks_t *provider(apr_pool_t *p)
{
    const oac_jose_jwks_t *jwks = parse_set(p, JWKS_PROVIDER, 0);

    assert_int_equal(oac_jose_jwks_count(jwks), 7);
    return jwks;
}

/* jws with the character in the middle of part (0, 1, 2) changed to
 * another base64url one: the encoding stays valid, the bytes change. */
static const char *tamper(apr_pool_t *p, const char *jws, int part)
{
    char *t = apr_pstrdup(p, jws), *s = t, *end;
    int i;

    for (i = 0; i < part; ++i) {
        s = strchr(s, '.') + 1;
    }
    end = s + strcspn(s, ".");
    s += (end - s) / 2;
    *s = *s == 'A' ? 'B' : 'A';
    return t;
}

/* The payload of a verified jws, its alg as reported. */
static void assert_verifies(apr_pool_t *p, const char *jws,
                            const oac_jose_jwks_t *jwks, const char *allowed,
                            const char *secret, const char *alg,
                            const char *payload)
{
    const char *got, *got_alg = NULL, *why = "unset";
    apr_size_t len = 0;
    int part;

    assert_int_equal(oac_jose_jws_verify(&got, &len, &got_alg, &why, p, jws,
                                         jwks, allowed, secret),
                     OAC_JOSE_OK);
    assert_null(why);
    assert_string_equal(got_alg, alg);
    if (payload) {
        assert_int_equal(len, strlen(payload));
        assert_memory_equal(got, payload, len);
    }
    /* Any change to the signing input or the signature is refused. */
    for (part = 0; part < 3; ++part) {
        assert_int_not_equal(oac_jose_jws_verify(&got, &len, &got_alg, &why,
                                                 p, tamper(p, jws, part),
                                                 jwks, allowed, secret),
                             OAC_JOSE_OK);
        assert_non_null(why);
    }
}

/* jws is refused with e, and a message holding expected, never a part of
 * the token beyond its header. */
static void assert_refused(apr_pool_t *p, const char *jws,
                           const oac_jose_jwks_t *jwks, const char *allowed,
                           const char *secret, oac_jose_e e,
                           const char *expected)
{
    const char *payload = "unset", *alg = "unset", *why = NULL;
    apr_size_t len = 12345;
    const char *dot = jws ? strchr(jws, '.') : NULL;

    assert_int_equal(oac_jose_jws_verify(&payload, &len, &alg, &why, p, jws,
                                         jwks, allowed, secret), e);
    assert_non_null(why);
    if (!strstr(why, expected)) {
        fail_msg("\"%s\" does not say \"%s\"", why, expected);
    }
    if (dot && strlen(dot + 1) > 8) {
        assert_null(strstr(why, apr_pstrndup(p, dot + 1, 8)));
    }
    /* Nothing else is set on failure. */
    assert_string_equal(payload, "unset");
    assert_string_equal(alg, "unset");
    assert_int_equal(len, 12345);
}

/* The set of jwk alone ("" for none, NULL for the provider's). */
static const oac_jose_jwks_t *set_of(apr_pool_t *p, const char *jwk)
{
    return jwk ? parse_set(p, apr_pstrcat(p, "{\"keys\":[", jwk, "]}", NULL),
                           0)
               : provider(p);
}

/* A token refused by the set of jwk (set_of), with e and why. */
typedef struct {
    const char *jws, *jwk, *allowed, *secret;
    oac_jose_e e;
    const char *why;
} refusal_t;

static void assert_all_refused(apr_pool_t *p, const refusal_t *cases,
                               apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        assert_refused(p, cases[i].jws, set_of(p, cases[i].jwk),
                       cases[i].allowed, cases[i].secret, cases[i].e,
                       cases[i].why);
    }
}

#define ALL_REFUSED(p, cases) \
    assert_all_refused(p, cases, sizeof(cases) / sizeof(cases[0]))

/* A compact JWS of the given header and payload texts and signature. */
static const char *make_jws(apr_pool_t *p, const char *header,
                            const char *payload, const char *sig)
{
    return apr_pstrcat(p,
                       oac_util_b64url_encode(p, (const unsigned char *)header,
                                              strlen(header)), ".",
                       oac_util_b64url_encode(p,
                                              (const unsigned char *)payload,
                                              strlen(payload)), ".",
                       sig, NULL);
}

/* ---- published vectors ------------------------------------------------ */

#define RFC7515_PAYLOAD \
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n" \
    " \"http://example.com/is_root\":true}"

/* Each published vector verifies, reports its alg and its payload. */
static void published_vectors(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *jws, *jwks;     /* jwks NULL: the provider's set */
        const char *alg, *reported, *payload;
    } cases[] = {
        /* RFC 7515 A.2, A.3, A.4 */
        { RFC7515_A2, NULL, "RS256", "RS256", RFC7515_PAYLOAD },
        { RFC7515_A3, NULL, "ES256", "ES256", RFC7515_PAYLOAD },
        { RFC7515_A4, NULL, "ES512", "ES512", "Payload" },
        /* RFC 8037 A.4: EdDSA reports the curve that verified (RFC
         * 9864's name for EdDSA on it). */
        { RFC8037_A4, NULL, "EdDSA", "Ed25519",
          "Example of Ed25519 signing" },
        /* RFC 7515 A.1 */
        { RFC7515_A1, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"" RFC7515_A1_K
          "\"}]}", "HS256", "HS256", RFC7515_PAYLOAD },
        /* RFC 7520 4.4, its kid picking its key */
        { RFC7520_4_4, "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"other\","
          "\"k\":\"AAAA\"},{\"kty\":\"oct\",\"kid\":\"018c0ae5-4d9b-471b-"
          "bfd6-eef314bc7037\",\"use\":\"sig\",\"alg\":\"HS256\",\"k\":\""
          RFC7520_K "\"}]}", "HS256", "HS256",
          "It\xe2\x80\x99s a dangerous business, Frodo, going out your door. "
          "You step onto the road, and if you don't keep your feet, "
          "there\xe2\x80\x99s no knowing where you might be swept off to." },
    };
    apr_size_t i;
    json_t *claims = NULL;
    const char *alg, *why;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        assert_verifies(p, cases[i].jws,
                        cases[i].jwks ? parse_set(p, cases[i].jwks,
                                                  OAC_JOSE_JWKS_OCT)
                                      : provider(p),
                        cases[i].alg, NULL, cases[i].reported,
                        cases[i].payload);
    }
    /* As a JWT: the claims of RFC 7515's example. */
    assert_int_equal(oac_jose_verify(&claims, &alg, &why, p, RFC7515_A2,
                                     provider(p), "RS256", NULL),
                     OAC_JOSE_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "iss")),
                        "joe");
    assert_true(json_is_true(json_object_get(claims,
                                             "http://example.com/is_root")));

    /* Read again later without its key (a stored id_token): the same
     * claims, and the same strict parsing, but no signature check. */
    claims = oac_jose_claims_unverified(&why, p, RFC7515_A2);
    assert_non_null(claims);
    assert_string_equal(json_string_value(json_object_get(claims, "iss")),
                        "joe");
    why = NULL;
    assert_null(oac_jose_claims_unverified(&why, p, "eyJhbGciOiJub25lIn0"));
    assert_string_equal(why, "JWS is not three parts");
    why = NULL;
    assert_null(oac_jose_claims_unverified(&why, p, "e30.W10.AA"));
    assert_string_equal(why, "JWT payload is not a JSON object, or has a "
                             "member twice");
    why = NULL;
    assert_null(oac_jose_claims_unverified(&why, p, "e30.e30=.AA"));
    assert_non_null(why);
}

/* ---- every algorithm -------------------------------------------------- */

static void every_algorithm_verifies(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *jws, *alg, *reported;
    } cases[] = {
        { TOK_RS256_KID_RSA, "RS256", "RS256" },
        { TOK_RS384, "RS384", "RS384" },
        { TOK_RS512, "RS512", "RS512" },
        { TOK_PS256, "PS256", "PS256" },
        { TOK_PS384, "PS384", "PS384" },
        { TOK_PS512, "PS512", "PS512" },
        { TOK_ES256_KID, "ES256", "ES256" },
        { TOK_ES384, "ES384", "ES384" },
        { TOK_EDDSA, "EdDSA", "Ed25519" },
        { TOK_EDDSA_448, "EdDSA", "Ed448" },
        { TOK_ED448, "Ed448", "Ed448" },
        { TOK_HS256, "HS256", "HS256" },
        { TOK_HS384, "HS384", "HS384" },
        { TOK_HS512, "HS512", "HS512" },
    };
    const oac_jose_jwks_t *jwks = provider(p);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        json_t *claims = NULL;
        const char *alg = NULL, *why = "unset";

        assert_verifies(p, cases[i].jws, jwks, cases[i].alg, CLIENT_SECRET,
                        cases[i].reported, NULL);
        assert_int_equal(oac_jose_verify(&claims, &alg, &why, p,
                                         cases[i].jws, jwks, ALL_ALGS,
                                         CLIENT_SECRET), OAC_JOSE_OK);
        assert_string_equal(alg, cases[i].reported);
        assert_int_equal(oac_jose_check_id_token(&why, p, claims, ISSUER,
                                                 CLIENT_ID, NONCE, NOW,
                                                 LEEWAY, NULL, alg),
                         APR_SUCCESS);
    }
}

static void allow_list_is_exact_names(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = provider(p);

    assert_verifies(p, RFC7515_A2, jwks, " ES256 ,\tRS256 ", NULL, "RS256",
                    NULL);
    assert_verifies(p, RFC7515_A2, jwks, "RS256,", NULL, "RS256", NULL);
    assert_refused(p, RFC7515_A2, jwks, "RS2566,rs256,RS25,S256",
                   NULL, OAC_JOSE_INVALID, "alg RS256 is not allowed");
    assert_refused(p, RFC7515_A2, jwks, "", NULL, OAC_JOSE_INVALID,
                   "not allowed");
    assert_refused(p, RFC7515_A2, jwks, NULL, NULL, OAC_JOSE_INVALID,
                   "not allowed");
}

/* A private JWK is used for its public half only. */
static void private_members_are_ignored(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = parse_set(p,
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\","
        "\"e\":\"AQAB\",\"d\":\"" RFC7515_A2_D "\",\"alg\":\"RS256\"}]}", 0);

    assert_int_equal(oac_jose_jwks_count(jwks), 1);
    assert_verifies(p, RFC7515_A2, jwks, "RS256", NULL, "RS256", NULL);
}

/* ---- refused tokens --------------------------------------------------- */

static void alg_none_is_always_refused(void **state)
{
    apr_pool_t *p = *state;
    const char *none = make_jws(p, "{\"alg\":\"none\"}", "{\"iss\":\"joe\"}",
                                "");

    assert_refused(p, none, provider(p), "none", NULL, OAC_JOSE_INVALID,
                   "alg none");
    assert_refused(p, none, provider(p), ALL_ALGS ",none", CLIENT_SECRET,
                   OAC_JOSE_INVALID, "alg none");
    assert_refused(p, make_jws(p, "{\"alg\":\"none\"}", "{}", "c2ln"),
                   provider(p), "none", NULL, OAC_JOSE_INVALID, "alg none");
    /* Other spellings are no algorithm at all. */
    assert_refused(p, make_jws(p, "{\"alg\":\"None\"}", "{}", ""),
                   provider(p), "None", NULL, OAC_JOSE_INVALID,
                   "not supported");
}

static void alg_not_allowed(void **state)
{
    static const refusal_t cases[] = {
        { RFC7515_A2, NULL, "ES256,PS256", NULL, OAC_JOSE_INVALID,
          "alg RS256 is not allowed" },
        { TOK_HS256, NULL, "RS256", CLIENT_SECRET, OAC_JOSE_INVALID,
          "alg HS256 is not allowed" },
        /* {"alg":"ES256K"} */
        { "eyJhbGciOiJFUzI1NksifQ.e30.c2ln", NULL, "ES256K", NULL,
          OAC_JOSE_INVALID, "alg ES256K is not supported" },
    };

    ALL_REFUSED(*state, cases);
}

/* The classic attack: HS256 keyed by the public key's bytes. */
static void hs256_keyed_by_the_rsa_public_key(void **state)
{
    apr_pool_t *p = *state;
    static const refusal_t cases[] = {
        { TOK_HS256_RSA_PEM, NULL, "RS256,HS256", CLIENT_SECRET,
          OAC_JOSE_INVALID, "signature does not verify (1 key" },
        { TOK_HS256_RSA_PEM, NULL, "RS256,HS256", NULL, OAC_JOSE_INVALID,
          "alg HS256 needs the client secret" },
        /* Naming the RSA key does not make it a secret, nor an unknown
         * kid. */
        { TOK_HS256_RSA_N_KID, NULL, "RS256,HS256", NULL, OAC_JOSE_INVALID,
          "alg HS256 needs a key of kty oct, not RSA" },
        { TOK_HS256_RSA_N_KID, NULL, "RS256,HS256", CLIENT_SECRET,
          OAC_JOSE_INVALID, "signature does not verify" },
    };

    ALL_REFUSED(p, cases);
    /* Without OAC_JOSE_JWKS_OCT an oct key is not even kept. */
    assert_int_equal(oac_jose_jwks_count(set_of(p,
        "{\"kty\":\"oct\",\"k\":\"" RFC7515_A1_K "\"}")), 0);
}

/* A key that does not fit the token's alg is never used, whatever kid. */
static void keys_that_do_not_fit(void **state)
{
    apr_pool_t *p = *state;
    static const refusal_t cases[] = {
        /* RS256 with an EC key: by kid, or the only key there is */
        { TOK_RS256_KID_EC, NULL, "RS256", NULL, OAC_JOSE_INVALID,
          "needs a key of kty RSA, not EC" },
        /* (no kid: the keys may have rotated, NO_KEY_VERIFIES) */
        { RFC7515_A2, JWK_EC256, "RS256,ES256", NULL,
          OAC_JOSE_NO_KEY_VERIFIES, "no key of kty RSA for alg RS256" },
        { RFC7515_A2, "", "RS256", NULL, OAC_JOSE_NO_KEY_VERIFIES,
          "no key of kty RSA for alg RS256" },
        /* each ES alg has its curve, and Ed448 names its own */
        { RFC7515_A3, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" EC384_X
          "\",\"y\":\"" EC384_Y "\"}", "ES256", NULL,
          OAC_JOSE_NO_KEY_VERIFIES,
          "alg ES256 needs a key on P-256, not P-384" },
        { TOK_ES384, "{\"kty\":\"EC\",\"kid\":\"ec384-1\",\"crv\":\"P-256\","
          "\"x\":\"" RFC7515_A3_X "\",\"y\":\"" RFC7515_A3_Y "\"}", "ES384",
          NULL, OAC_JOSE_INVALID, "needs a key on P-384, not P-256" },
        { TOK_ED448, "{\"kty\":\"OKP\",\"kid\":\"ed448-1\",\"crv\":"
          "\"Ed25519\",\"x\":\"" RFC8037_X "\"}", "Ed448", NULL,
          OAC_JOSE_INVALID, "needs a key on Ed448, not Ed25519" },
        /* the key's own alg must be the header's */
        { RFC7515_A2, "{\"kty\":\"RSA\",\"alg\":\"RS512\",\"n\":\""
          RFC7515_A2_N "\",\"e\":\"AQAB\"}", "RS256,RS512", NULL,
          OAC_JOSE_NO_KEY_VERIFIES,
          "the key is for alg RS512, the JWS is RS256" },
        { TOK_PS256, "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"alg\":\"RS256\","
          "\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}", "PS256", NULL,
          OAC_JOSE_INVALID, "the key is for alg RS256, the JWS is PS256" },
        /* RFC 7518 3.3: RSA keys of 2048 bits at least */
        { TOK_RS256_SMALL, NULL, "RS256", NULL, OAC_JOSE_INVALID,
          "RSA key of 1024 bits, fewer than 2048" },
        /* RFC 7518 3.5: the PSS salt is as long as the hash */
        { TOK_PS256_SALT0, NULL, "PS256", NULL, OAC_JOSE_INVALID,
          "signature does not verify" },
    };

    ALL_REFUSED(p, cases);
    /* A key with its own alg verifies what is its. */
    assert_verifies(p, TOK_RS512, set_of(p, "{\"kty\":\"RSA\",\"kid\":"
                                         "\"rsa-1\",\"alg\":\"RS512\",\"n\":"
                                         "\"" RFC7515_A2_N "\",\"e\":"
                                         "\"AQAB\"}"),
                    "RS512", NULL, "RS512", NULL);
}

static void tampered_payload_and_signature(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = provider(p);
    /* Without a kid and with a public-key alg, a signature no key
     * verifies may be the keys' rotation: NO_KEY_VERIFIES, which the
     * caller may fetch again for (and refuses all the same). */
    static const struct {
        const char *jws;
        oac_jose_e e;
    } tokens[] = {
        { RFC7515_A2, OAC_JOSE_NO_KEY_VERIFIES },
        { RFC7515_A3, OAC_JOSE_NO_KEY_VERIFIES },
        { RFC8037_A4, OAC_JOSE_NO_KEY_VERIFIES },
        { TOK_PS256, OAC_JOSE_INVALID },
        { TOK_ES384, OAC_JOSE_INVALID },
        { TOK_ED448, OAC_JOSE_INVALID },
        { TOK_HS256, OAC_JOSE_INVALID },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); ++i) {
        assert_refused(p, tamper(p, tokens[i].jws, 1), jwks, ALL_ALGS,
                       CLIENT_SECRET, tokens[i].e,
                       "signature does not verify");
        assert_refused(p, tamper(p, tokens[i].jws, 2), jwks, ALL_ALGS,
                       CLIENT_SECRET, tokens[i].e,
                       "signature does not verify");
    }
    /* A signature of another token with the same key. */
    assert_refused(p, apr_pstrcat(p, apr_pstrndup(p, TOK_RS384,
                                      strrchr(TOK_RS384, '.') - TOK_RS384),
                                  strrchr(TOK_RS512, '.'), NULL),
                   jwks, ALL_ALGS, NULL, OAC_JOSE_INVALID,
                   "signature does not verify");
}

/* ES256's signature is R || S, 64 bytes: not 63, not 65, not DER. */
static void es256_signature_length(void **state)
{
    apr_pool_t *p = *state;
    const char *input = apr_pstrndup(p, RFC7515_A3,
                                     strrchr(RFC7515_A3, '.') - RFC7515_A3);
    const char *err;
    unsigned char *sig, *longer;
    apr_size_t len;

    assert_int_equal(oac_util_b64url_decode(&sig, &len, &err, p,
                                            strrchr(RFC7515_A3, '.') + 1),
                     APR_SUCCESS);
    assert_int_equal(len, 64);
    assert_refused(p, apr_pstrcat(p, input, ".",
                                  oac_util_b64url_encode(p, sig, 63), NULL),
                   provider(p), "ES256", NULL, OAC_JOSE_NO_KEY_VERIFIES,
                   "signature does not verify");
    longer = apr_pcalloc(p, 65);
    memcpy(longer + 1, sig, 64);
    assert_refused(p, apr_pstrcat(p, input, ".",
                                  oac_util_b64url_encode(p, longer, 65), NULL),
                   provider(p), "ES256", NULL, OAC_JOSE_NO_KEY_VERIFIES,
                   "signature does not verify");
    /* The DER form OpenSSL itself takes (R and S have their high bit set
     * in this vector? whatever: the length alone is wrong). */
    {
        unsigned char der[72];
        apr_size_t n = 0;

        der[n++] = 0x30;
        der[n++] = 68;
        der[n++] = 0x02;
        der[n++] = 32;
        memcpy(der + n, sig, 32);
        n += 32;
        der[n++] = 0x02;
        der[n++] = 32;
        memcpy(der + n, sig + 32, 32);
        n += 32;
        assert_refused(p, apr_pstrcat(p, input, ".",
                                      oac_util_b64url_encode(p, der, n),
                                      NULL),
                       provider(p), "ES256", NULL,
                       OAC_JOSE_NO_KEY_VERIFIES,
                       "signature does not verify");
    }
}

static void unknown_kid(void **state)
{
    apr_pool_t *p = *state;
    static const refusal_t cases[] = {
        { TOK_ES256_KID_UNKNOWN, NULL, "ES256", NULL, OAC_JOSE_UNKNOWN_KID,
          "kid \"rotated-away\" names no key" },
        { TOK_ES256_KID_UNKNOWN, "", "ES256", NULL, OAC_JOSE_UNKNOWN_KID,
          "names no key" },
        /* A key without kid does not answer a kid. */
        { TOK_ES256_KID, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\""
          RFC7515_A3_X "\",\"y\":\"" RFC7515_A3_Y "\"}", "ES256", NULL,
          OAC_JOSE_UNKNOWN_KID, "names no key" },
        /* The client secret has no kid: refetching would not help.
         * {"alg":"HS256","kid":"k9"} */
        { "eyJhbGciOiJIUzI1NiIsImtpZCI6Ims5In0.e30.c2ln", NULL, "HS256",
          CLIENT_SECRET, OAC_JOSE_INVALID, "signature does not verify" },
    };

    ALL_REFUSED(p, cases);
    assert_verifies(p, TOK_ES256_KID, provider(p), "ES256", NULL, "ES256",
                    NULL);
}

static void not_three_parts(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = provider(p);
    const char *two = apr_pstrndup(p, RFC7515_A2,
                                   strrchr(RFC7515_A2, '.') - RFC7515_A2);

    assert_refused(p, two, jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "not three parts");
    assert_refused(p, apr_pstrcat(p, RFC7515_A2, ".", NULL), jwks, "RS256",
                   NULL, OAC_JOSE_INVALID, "not three parts");
    assert_refused(p, apr_pstrcat(p, RFC7515_A2, ".e30", NULL), jwks,
                   "RS256", NULL, OAC_JOSE_INVALID, "not three parts");
    assert_refused(p, "", jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "not three parts");
    assert_refused(p, "..", jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "header is not a JSON object");
    assert_refused(p, NULL, jwks, "RS256", NULL, OAC_JOSE_INVALID, "no JWS");
}

static void strict_base64url(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = provider(p);
    /* RFC7515_A2's header "eyJhbGciOiJSUzI1NiJ9" less its last character
     * has an impossible length; with a padding '=' it is the same bytes. */
    const char *rest = strchr(RFC7515_A2, '.');

    assert_refused(p, apr_pstrcat(p, "eyJhbGciOiJSUzI1NiJ9=", rest, NULL),
                   jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "outside base64url");
    assert_refused(p, apr_pstrcat(p, "eyJhbGciOiJSUzI1NiJ9", rest, "=",
                                  NULL),
                   jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "outside base64url");
    assert_refused(p, apr_pstrcat(p, "eyJhbGciOiJSUzI1Ni+9", rest, NULL),
                   jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "outside base64url");
    assert_refused(p, apr_pstrcat(p, " ", RFC7515_A2, NULL), jwks, "RS256",
                   NULL, OAC_JOSE_INVALID, "outside base64url");
    assert_refused(p, apr_pstrcat(p, RFC7515_A2, "\n", NULL), jwks, "RS256",
                   NULL, OAC_JOSE_INVALID, "outside base64url");
    assert_refused(p, apr_pstrcat(p, "eyJhbGciOiJSUzI1NiJ9A", rest, NULL),
                   jwks, "RS256", NULL, OAC_JOSE_INVALID,
                   "header is not base64url");
    /* A.3's signature, 64 bytes in 86 characters, ends in 4 unused zero
     * bits ("...NU1Q"); "...NU1R" sets one of them. */
    assert_refused(p, apr_pstrcat(p, apr_pstrndup(p, RFC7515_A3,
                                                  strlen(RFC7515_A3) - 1),
                                  "R", NULL),
                   jwks, "ES256", NULL, OAC_JOSE_INVALID,
                   "signature is not base64url");
    assert_refused(p, apr_pstrcat(p, RFC7515_A2, "AAA", NULL), jwks,
                   "RS256", NULL, OAC_JOSE_INVALID,
                   "signature is not base64url");
}

static void header_must_be_a_json_object_with_alg(void **state)
{
    apr_pool_t *p = *state;
    const oac_jose_jwks_t *jwks = provider(p);
    static const struct {
        const char *header, *why;
    } cases[] = {
        { "RS256", "header is not a JSON object" },
        { "[\"RS256\"]", "header is not a JSON object" },
        { "{\"alg\":\"RS256\"", "header is not a JSON object" },
        { "{\"alg\":\"RS256\"} x", "header is not a JSON object" },
        { "{\"alg\":\"none\",\"alg\":\"RS256\"}", "has a member twice" },
        { "{}", "header has no alg" },
        { "{\"alg\":256}", "header has no alg" },
        { "{\"alg\":null}", "header has no alg" },
        { "{\"alg\":\"RS256\",\"kid\":7}", "kid is not a string" },
        { "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}", "crit" },
        { "{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}", "crit" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        assert_refused(p, make_jws(p, cases[i].header, "{}", "c2ln"), jwks,
                       "RS256", NULL, OAC_JOSE_INVALID, cases[i].why);
    }
}

/* Keys in the header are not trusted: only the set's. */
static void header_keys_are_ignored(void **state)
{
    apr_pool_t *p = *state;
    const char *h = "{\"alg\":\"RS256\",\"jwk\":" JWK_RSA_A2 ","
                    "\"jku\":\"https://evil.example/jwks\"}";

    assert_refused(p, make_jws(p, h, "{}", "c2ln"), NULL, "RS256", NULL,
                   OAC_JOSE_NO_KEY_VERIFIES, "no key of kty RSA");
}

static void too_long(void **state)
{
    apr_pool_t *p = *state;
    char *big = apr_palloc(p, OAC_JOSE_MAX_JWS + 2);

    memset(big, 'A', OAC_JOSE_MAX_JWS + 1);
    big[OAC_JOSE_MAX_JWS + 1] = '\0';
    assert_refused(p, big, provider(p), "RS256", NULL, OAC_JOSE_INVALID,
                   "longer than 65536 bytes");
}

static void jwt_payload_must_be_a_json_object(void **state)
{
    apr_pool_t *p = *state;
    json_t *claims = NULL;
    const char *alg = "unset", *why;

    assert_int_equal(oac_jose_verify(&claims, &alg, &why, p, RFC8037_A4,
                                     provider(p), "EdDSA", NULL),
                     OAC_JOSE_INVALID);
    assert_string_equal(why, "JWT payload is not a JSON object, or has a "
                        "member twice");
    assert_null(claims);
    assert_string_equal(alg, "unset");
}

/* ---- JWK Set ----------------------------------------------------------- */

static void jwks_skips_unusable_keys(void **state)
{
    apr_pool_t *p = *state;
    oac_jose_jwks_t *jwks = NULL;
    const char *why = NULL;
    /* Good keys, first and last; each one between is skipped. */
    const char *json =
        "{\"keys\":[" JWK_RSA_A2 ","
        "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\""
        RFC7515_A2_N "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"],\"n\":\"" RFC7515_A2_N
        "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\"},"
        "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQ==\"},"
        "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQ\"},"
        "{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":\"AQAB\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"},"
        "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" RFC7515_A3_X
        "\",\"y\":\"" RFC7515_A3_Y "\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
        "\",\"y\":\"" EC384_Y "\"},"
        /* A.3's y with its last character changed: not on the curve */
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
        "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"},"
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC8037_X "\"},"
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED448_X "\"},"
        "{\"kty\":\"oct\",\"k\":\"" RFC7515_A1_K "\"},"
        "{\"kty\":\"RSA\",\"kid\":7,\"n\":\"" RFC7515_A2_N
        "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"RSA\",\"alg\":[],\"n\":\"" RFC7515_A2_N
        "\",\"e\":\"AQAB\"},"
        "{\"kty\":\"dsa\"},{},\"RSA\",null,"
        JWK_EC256 "]}";

    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, json, 0),
                     APR_SUCCESS);
    assert_int_equal(oac_jose_jwks_count(jwks), 2);
    assert_non_null(why);
    assert_string_equal(why, "19 of 21 keys skipped; key 2 (kid \"enc\"): "
                        "use is not \"sig\"");
    /* And the two kept work. */
    assert_verifies(p, RFC7515_A2, jwks, "RS256", NULL, "RS256", NULL);
    assert_verifies(p, TOK_ES256_KID, jwks, "ES256", NULL, "ES256", NULL);
}

#define N_57 "_________________________________________________________"
#define N_456 N_57 N_57 N_57 N_57 N_57 N_57 N_57 N_57
#define BIG_N N_456 N_456 N_456

static void jwks_reasons(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *key, *why;
    } cases[] = {
        { "{\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"]}", "key_ops without" },
        { "{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "without base64url n and e" },
        { "{\"kty\":\"RSA\",\"n\":\"AAAB\",\"e\":\"AQAB\"}", "" },
        { "{\"kty\":\"RSA\",\"n\":\"AAAC\",\"e\":\"AQAB\"}", "not odd" },
        { "{\"kty\":\"RSA\",\"n\":\"AAAB\",\"e\":\"AQAA\"}", "exponent" },
        { "{\"kty\":\"RSA\",\"n\":\"AAAB\",\"e\":\"AQ\"}", "exponent" },
        { "{\"kty\":\"RSA\",\"n\":\"AAAB\",\"e\":\"AQAAAAAAAAAB\"}",
          "exponent" },
        /* 33 bits of e: the cost of a verification grows with them */
        { "{\"kty\":\"RSA\",\"n\":\"AAAB\",\"e\":\"AQAAAAE\"}",
          "3 to 32 bits" },
        /* 8208 bits of modulus (1026 bytes of 0xff) */
        { "{\"kty\":\"RSA\",\"n\":\"" BIG_N "\",\"e\":\"AQAB\"}",
          "more than 8192 bits" },
        { "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X "\"}",
          "without x and y" },
        { "{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}",
          "not on P-256" },
        { "{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"" RFC8037_X "\"}",
          "not on Ed25519 or Ed448" },
        { "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" RFC8037_X "\"}",
          "without x of its curve's size" },
        { "{\"kty\":\"oct\",\"k\":\"\"}", "without a base64url k" },
        { "{\"kty\":\"oct\",\"k\":\"A+\"}", "without a base64url k" },
        { "{\"kty\":\"\\u0001\"}", "kty \"?\" is not used" },
        { "{\"use\":\"sig\"}", "no kty" },
        { "{\"kty\":\"RSA\",\"use\":null}", "use is not" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        oac_jose_jwks_t *jwks = NULL;
        const char *why = NULL;

        assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p,
                                             apr_pstrcat(p, "{\"keys\":[",
                                                         cases[i].key, "]}",
                                                         NULL),
                                             OAC_JOSE_JWKS_OCT),
                         APR_SUCCESS);
        if (!*cases[i].why) {
            /* A tiny odd modulus is a key, refused when used. */
            assert_int_equal(oac_jose_jwks_count(jwks), 1);
            continue;
        }
        assert_int_equal(oac_jose_jwks_count(jwks), 0);
        assert_non_null(why);
        if (!strstr(why, cases[i].why)) {
            fail_msg("key %d: \"%s\" does not say \"%s\"", (int)i, why,
                     cases[i].why);
        }
    }
}

static void jwks_document_errors(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "", "null", "[]", "{}", "{\"keys\":{}}", "{\"keys\":\"x\"}",
        "{\"keys\":[]", "{\"keys\":[],\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kty\":\"EC\"}]}",
    };
    apr_size_t i;
    oac_jose_jwks_t *jwks = NULL;
    const char *why = NULL;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        why = NULL;
        assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, bad[i], 0),
                         APR_EGENERAL);
        assert_non_null(why);
    }
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, NULL, 0),
                     APR_EGENERAL);
    assert_int_equal(oac_jose_jwks_count(NULL), 0);
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, "{\"keys\":[]}", 0),
                     APR_SUCCESS);
    assert_null(why);
    assert_int_equal(oac_jose_jwks_count(jwks), 0);
}

static void jwks_keeps_at_most_max_keys(void **state)
{
    apr_pool_t *p = *state;
    oac_jose_jwks_t *jwks = NULL;
    const char *why = NULL, *json = "{\"keys\":[" JWK_EC256;
    int i;

    for (i = 1; i < OAC_JOSE_MAX_KEYS + 3; ++i) {
        json = apr_pstrcat(p, json, ",", JWK_EC256, NULL);
    }
    json = apr_pstrcat(p, json, "]}", NULL);
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, json, 0),
                     APR_SUCCESS);
    assert_int_equal(oac_jose_jwks_count(jwks), OAC_JOSE_MAX_KEYS);
    assert_non_null(strstr(why, "3 of 67 keys skipped"));
    assert_non_null(strstr(why, "more keys than the set may have"));
}

/* A set listing a great many entries is held in memory by the keys it
 * keeps: its array was once made with a slot per entry, and a provider's
 * 1 MiB set of "{}" held ~33 MiB per child for as long as it was cached. */
static void jwks_room_follows_kept_keys(void **state)
{
    apr_pool_t *p = *state;
    oac_jose_jwks_t *jwks = NULL;
    const char *why = NULL;
    enum { ENTRIES = 19000 };   /* under OAC_JSON_MAX_VALUES' marks */
    char *json = apr_palloc(p, sizeof(JWK_EC256) + 16 + 3 * ENTRIES);
    char *o = json;
    int i;

    o += sprintf(o, "{\"keys\":[" JWK_EC256);
    for (i = 1; i < ENTRIES; ++i) {
        memcpy(o, ",{}", 3);
        o += 3;
    }
    strcpy(o, "]}");
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p, json, 0),
                     APR_SUCCESS);
    assert_int_equal(oac_jose_jwks_count(jwks), 1);
    assert_non_null(strstr(why, "18999 of 19000 keys skipped"));
    assert_in_range(oac_jose_jwks_room(jwks), 1, OAC_JOSE_MAX_KEYS + 1);

    /* and 100,000 are not parsed at all (Jansson's 224 bytes each) */
    json = apr_palloc(p, sizeof(JWK_EC256) + 16 + 3 * 100000);
    o = json + sprintf(json, "{\"keys\":[" JWK_EC256);
    for (i = 1; i < 100000; ++i) {
        memcpy(o, ",{}", 3);
        o += 3;
    }
    strcpy(o, "]}");
    assert_int_not_equal(oac_jose_jwks_parse(&jwks, &why, p, json, 0),
                         APR_SUCCESS);
    assert_non_null(strstr(why, "more than 40000 values"));

    /* and a small set is not given 64 slots either */
    assert_int_equal(oac_jose_jwks_parse(&jwks, &why, p,
                                         "{\"keys\":[" JWK_EC256 "]}", 0),
                     APR_SUCCESS);
    assert_in_range(oac_jose_jwks_room(jwks), 1, 2);
}

/* ---- id_token claims --------------------------------------------------- */

/* The claims of the generated tokens, less what a test adds. */
#define BASE "\"iss\":\"" ISSUER "\",\"sub\":\"248289761001\"," \
             "\"iat\":1700000000,\"exp\":1700003600"

/* oac_jose_check_id_token on claims (JSON text): NULL when they pass,
 * else why not, which must never hold the nonce or the access token. */
static const char *check(apr_pool_t *p, const char *claims, const char *nonce,
                         apr_int64_t now, apr_int64_t leeway,
                         const char *access_token, const char *alg)
{
    json_error_t jerr;
    json_t *c = json_loads(claims, 0, &jerr);
    const char *why = "unset";
    apr_status_t rv;

    if (!c) {
        fail_msg("test claims are not JSON: %s", claims);
    }
    rv = oac_jose_check_id_token(&why, p, c, ISSUER, CLIENT_ID, nonce, now,
                                 leeway, access_token, alg);
    json_decref(c);
    assert_int_equal(rv, why ? APR_EGENERAL : APR_SUCCESS);
    if (why) {
        assert_null(strstr(why, NONCE));
        assert_null(strstr(why, "n-0S6"));
        if (access_token) {
            assert_null(strstr(why, access_token));
        }
    }
    return why;
}

/* Fails unless why is a message holding expected. */
static void assert_says(const char *why, const char *expected)
{
    if (!why || !strstr(why, expected)) {
        fail_msg("\"%s\" does not say \"%s\"", why ? why : "(passed)",
                 expected);
    }
}

static void claims_pass(void **state)
{
    apr_pool_t *p = *state;

    assert_null(check(p, "{" BASE ",\"aud\":\"client-1\",\"nonce\":\"" NONCE
                      "\"}", NONCE, NOW, LEEWAY, NULL, "RS256"));
    /* aud as an array of one; azp equal to client_id; other claims. */
    assert_null(check(p, "{" BASE ",\"aud\":[\"client-1\"],\"azp\":"
                      "\"client-1\",\"email\":\"a@b.example\",\"nbf\":"
                      "1700000000,\"auth_time\":1699999999}", NULL, NOW,
                      LEEWAY, NULL, NULL));
    /* Real-valued NumericDates (RFC 7519 allows them). */
    assert_null(check(p, "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":"
                      "\"client-1\",\"iat\":1700000000.5,\"exp\":"
                      "1700003600.25}", NULL, NOW, LEEWAY, NULL, NULL));
}

static void claims_required(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *claims, *why;
    } cases[] = {
        { "{\"sub\":\"s\",\"aud\":\"client-1\",\"iat\":1700000000,"
          "\"exp\":1700003600}", "id_token has no iss" },
        { "{\"iss\":\"" ISSUER "\",\"aud\":\"client-1\","
          "\"iat\":1700000000,\"exp\":1700003600}", "id_token has no sub" },
        { "{" BASE "}", "id_token has no aud" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":\"client-1\","
          "\"iat\":1700000000}", "id_token has no exp" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":\"client-1\","
          "\"exp\":1700003600}", "id_token has no iat" },
        { "{\"iss\":7,\"sub\":\"s\",\"aud\":\"client-1\","
          "\"iat\":1700000000,\"exp\":1700003600}", "iss is not a string" },
        { "{\"iss\":[\"" ISSUER "\"],\"sub\":\"s\",\"aud\":\"client-1\","
          "\"iat\":1700000000,\"exp\":1700003600}", "iss is not a string" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":\"\",\"aud\":\"client-1\","
          "\"iat\":1700000000,\"exp\":1700003600}", "sub is not a non-empty" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":248289761001,\"aud\":"
          "\"client-1\",\"iat\":1700000000,\"exp\":1700003600}",
          "sub is not a non-empty string" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":\"client-1\","
          "\"iat\":1700000000,\"exp\":\"1700003600\"}",
          "exp is not a number" },
        { "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":\"client-1\","
          "\"iat\":null,\"exp\":1700003600}", "iat is not a number" },
        { "{" BASE ",\"aud\":7}", "aud is not a string or an array" },
        { "{" BASE ",\"aud\":[]}", "aud is not a string or an array" },
        { "{" BASE ",\"aud\":[\"client-1\",7]}", "not a string" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        assert_says(check(p, cases[i].claims, NULL, NOW, LEEWAY, NULL, NULL),
                    cases[i].why);
    }
    assert_says(check(p, "[]", NULL, NOW, LEEWAY, NULL, NULL),
                "not a JSON object");
}

static void wrong_issuer(void **state)
{
    apr_pool_t *p = *state;

    assert_says(check(p, "{\"iss\":\"https://evil.example\",\"sub\":\"s\","
                      "\"aud\":\"client-1\",\"iat\":1700000000,"
                      "\"exp\":1700003600}", NULL, NOW, LEEWAY, NULL, NULL),
                "id_token iss \"https://evil.example\" is not the issuer "
                "\"https://op.example\"");
    /* Exact: no trailing slash, no case folding. */
    assert_says(check(p, "{\"iss\":\"https://op.example/\",\"sub\":\"s\","
                      "\"aud\":\"client-1\",\"iat\":1700000000,"
                      "\"exp\":1700003600}", NULL, NOW, LEEWAY, NULL, NULL),
                "is not the issuer");
    assert_says(check(p, "{\"iss\":\"https://OP.example\",\"sub\":\"s\","
                      "\"aud\":\"client-1\",\"iat\":1700000000,"
                      "\"exp\":1700003600}", NULL, NOW, LEEWAY, NULL, NULL),
                "is not the issuer");
}

static void no_issuer_or_client_to_check_against(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = json_loads("{" BASE ",\"aud\":\"client-1\"}", 0, NULL);
    const char *why;

    assert_int_equal(oac_jose_check_id_token(&why, p, c, NULL, CLIENT_ID,
                                             NULL, NOW, LEEWAY, NULL, NULL),
                     APR_EGENERAL);
    assert_int_equal(oac_jose_check_id_token(&why, p, c, ISSUER, NULL,
                                             NULL, NOW, LEEWAY, NULL, NULL),
                     APR_EGENERAL);
    assert_says(why, "no issuer or client_id");
    assert_int_equal(oac_jose_check_id_token(&why, p, NULL, ISSUER,
                                             CLIENT_ID, NULL, NOW, LEEWAY,
                                             NULL, NULL), APR_EGENERAL);
    json_decref(c);
}

static void audience_and_azp(void **state)
{
    apr_pool_t *p = *state;

    assert_says(check(p, "{" BASE ",\"aud\":\"client-2\"}", NULL, NOW, LEEWAY,
                      NULL, NULL),
                "aud does not contain client_id \"client-1\"");
    assert_says(check(p, "{" BASE ",\"aud\":[\"client-2\",\"api\"],"
                      "\"azp\":\"client-1\"}", NULL, NOW, LEEWAY, NULL, NULL),
                "aud does not contain client_id");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1x\"}", NULL, NOW,
                      LEEWAY, NULL, NULL), "aud does not contain");
    /* Several audiences need azp, and azp must be the client. */
    assert_says(check(p, "{" BASE ",\"aud\":[\"client-1\",\"api\"]}", NULL,
                      NOW, LEEWAY, NULL, NULL),
                "several audiences and no azp");
    assert_null(check(p, "{" BASE ",\"aud\":[\"api\",\"client-1\"],"
                      "\"azp\":\"client-1\"}", NULL, NOW, LEEWAY, NULL,
                      NULL));
    assert_says(check(p, "{" BASE ",\"aud\":[\"client-1\",\"api\"],"
                      "\"azp\":\"api\"}", NULL, NOW, LEEWAY, NULL, NULL),
                "azp \"api\" is not client_id \"client-1\"");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"azp\":\"other\"}",
                      NULL, NOW, LEEWAY, NULL, NULL),
                "azp \"other\" is not client_id");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"azp\":null}",
                      NULL, NOW, LEEWAY, NULL, NULL), "azp is not a string");
}

static void expiry_with_leeway(void **state)
{
    apr_pool_t *p = *state;
    const char *c = "{" BASE ",\"aud\":\"client-1\"}";

    /* Valid until exp + leeway, exclusive. */
    assert_null(check(p, c, NULL, EXP - 1, 0, NULL, NULL));
    assert_says(check(p, c, NULL, EXP, 0, NULL, NULL),
                "id_token expired 0 s ago (leeway 0 s)");
    assert_null(check(p, c, NULL, EXP + LEEWAY - 1, LEEWAY, NULL, NULL));
    assert_says(check(p, c, NULL, EXP + LEEWAY, LEEWAY, NULL, NULL),
                "expired 60 s ago (leeway 60 s)");
    assert_says(check(p, c, NULL, EXP + 3600, LEEWAY, NULL, NULL),
                "expired 3600 s ago");
    /* A negative leeway is none. */
    assert_says(check(p, c, NULL, EXP, -30, NULL, NULL), "expired");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"exp\":-1e300}",
                      NULL, NOW, LEEWAY, NULL, NULL),
                "expired more than 10^12 s ago");
}

static void issued_in_the_future(void **state)
{
    apr_pool_t *p = *state;
    const char *c = "{" BASE ",\"aud\":\"client-1\"}";

    assert_null(check(p, c, NULL, IAT - LEEWAY, LEEWAY, NULL, NULL));
    assert_says(check(p, c, NULL, IAT - LEEWAY - 1, LEEWAY, NULL, NULL),
                "id_token iat is 61 s in the future (leeway 60 s)");
    assert_says(check(p, c, NULL, IAT - 1, 0, NULL, NULL),
                "iat is 1 s in the future");
    /* nbf, when there is one, likewise. */
    assert_null(check(p, "{" BASE ",\"aud\":\"client-1\",\"nbf\":1700000160}",
                      NULL, NOW, LEEWAY, NULL, NULL));
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"nbf\":1700000161}",
                      NULL, NOW, LEEWAY, NULL, NULL), "nbf");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"nbf\":\"0\"}",
                      NULL, NOW, LEEWAY, NULL, NULL), "nbf");
}

static void nonce_must_be_the_one_sent(void **state)
{
    apr_pool_t *p = *state;
    const char *with = "{" BASE ",\"aud\":\"client-1\",\"nonce\":\"" NONCE
                       "\"}";
    const char *without = "{" BASE ",\"aud\":\"client-1\"}";

    assert_null(check(p, with, NONCE, NOW, LEEWAY, NULL, NULL));
    assert_says(check(p, with, "n-0S6_WzA2Mk", NOW, LEEWAY, NULL, NULL),
                "id_token nonce is not the one sent");
    assert_says(check(p, with, "n-0S6_WzA2M", NOW, LEEWAY, NULL, NULL),
                "nonce is not the one sent");
    assert_says(check(p, without, NONCE, NOW, LEEWAY, NULL, NULL),
                "id_token has no nonce");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"nonce\":7}", NONCE,
                      NOW, LEEWAY, NULL, NULL), "nonce is not a string");
    /* Nothing was sent: nothing to check. */
    assert_null(check(p, with, NULL, NOW, LEEWAY, NULL, NULL));
    assert_null(check(p, without, NULL, NOW, LEEWAY, NULL, NULL));
}

/* The access token of the oidc-token-hash package's README, and its
 * at_hash for each hash; its Ed448 value is SHAKE256 with 114 bytes. */
#define AT_PANVA "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K" \
                 "_x8UIHj1osisS57f5DduL-ar_qw5jl3lthwpMjm283aVMQXDmoqqqydD" \
                 "SqJfbhptzw8rUVwkuQbolw"

static const char *with_at_hash(apr_pool_t *p, const char *at_hash)
{
    return apr_pstrcat(p, "{" BASE ",\"aud\":\"client-1\",\"at_hash\":\"",
                       at_hash, "\"}", NULL);
}

static void at_hash_vectors(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *token, *alg, *at_hash;
    } cases[] = {
        { AT_CORE_EXAMPLE, "RS256", AT_HASH_CORE_EXAMPLE },
        { AT_CORE_EXAMPLE, "PS256", AT_HASH_CORE_EXAMPLE },
        { AT_CORE_EXAMPLE, "ES256", AT_HASH_CORE_EXAMPLE },
        { AT_CORE_EXAMPLE, "HS256", AT_HASH_CORE_EXAMPLE },
        { AT_PANVA, "RS256", "x7vk7f6BvQj0jQHYFIk4ag" },
        { AT_PANVA, "HS384", "ups_76_7CCye_J1WIyGHKVG7AAs2olYm" },
        { AT_PANVA, "ES512", "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ" },
        { AT_PANVA, "Ed25519", "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ" },
        { AT_PANVA, "Ed448", "jxsy68_eG9-91VnHsZ2VnCr_WqDMv4nspiSuUPRdNZnv1y5"
                             "lNV3rPVYYWNiY_TbUB1JRwlgiDTzZ" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        assert_null(check(p, with_at_hash(p, cases[i].at_hash), NULL, NOW,
                          LEEWAY, cases[i].token, cases[i].alg));
    }
}

static void at_hash_mismatch(void **state)
{
    apr_pool_t *p = *state;
    const char *c = with_at_hash(p, AT_HASH_CORE_EXAMPLE);

    assert_says(check(p, c, NULL, NOW, LEEWAY, AT_PANVA, "RS256"),
                "id_token at_hash does not match the access token");
    /* The same token under another alg's hash. */
    assert_says(check(p, c, NULL, NOW, LEEWAY, AT_CORE_EXAMPLE, "RS384"),
                "at_hash does not match");
    /* The full hash is not its left half. */
    assert_says(check(p, with_at_hash(p, "77QmUPtjPfzWtF2AnpK9RWpXrWlrec"
                                         "dbLUyJDIb7S6Q"), NULL, NOW,
                      LEEWAY, AT_CORE_EXAMPLE, "RS256"),
                "at_hash does not match");
    assert_says(check(p, "{" BASE ",\"aud\":\"client-1\",\"at_hash\":7}",
                      NULL, NOW, LEEWAY, AT_CORE_EXAMPLE, "RS256"),
                "at_hash is not a string");
    /* EdDSA alone does not tell the hash: refused, not skipped. */
    assert_says(check(p, c, NULL, NOW, LEEWAY, AT_CORE_EXAMPLE, "EdDSA"),
                "at_hash cannot be checked for alg EdDSA");
    assert_says(check(p, c, NULL, NOW, LEEWAY, AT_CORE_EXAMPLE, NULL),
                "cannot be checked");
    /* Without an access token, or without at_hash, nothing to check. */
    assert_null(check(p, c, NULL, NOW, LEEWAY, NULL, "RS256"));
    assert_null(check(p, "{" BASE ",\"aud\":\"client-1\"}", NULL, NOW,
                      LEEWAY, AT_CORE_EXAMPLE, "RS256"));
}

/* What the callback does: verify, then check, at_hash included. */
static void id_token_end_to_end(void **state)
{
    apr_pool_t *p = *state;
    json_t *claims = NULL;
    const char *alg = NULL, *why = "unset";

    assert_int_equal(oac_jose_verify(&claims, &alg, &why, p, TOK_ID_ES256,
                                     provider(p), "RS256,ES256", NULL),
                     OAC_JOSE_OK);
    assert_string_equal(alg, "ES256");
    assert_int_equal(oac_jose_check_id_token(&why, p, claims, ISSUER,
                                             CLIENT_ID, NONCE, NOW, LEEWAY,
                                             AT_CORE_EXAMPLE, alg),
                     APR_SUCCESS);
    assert_null(why);
    assert_int_equal(oac_jose_check_id_token(&why, p, claims, ISSUER,
                                             CLIENT_ID, NONCE, NOW, LEEWAY,
                                             AT_PANVA, alg),
                     APR_EGENERAL);
    assert_says(why, "at_hash");
    assert_int_equal(oac_jose_check_id_token(&why, p, claims, ISSUER,
                                             CLIENT_ID, NONCE,
                                             EXP + LEEWAY, LEEWAY,
                                             AT_CORE_EXAMPLE, alg),
                     APR_EGENERAL);
    assert_says(why, "expired");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(published_vectors),
        T(every_algorithm_verifies),
        T(allow_list_is_exact_names),
        T(private_members_are_ignored),
        T(alg_none_is_always_refused),
        T(alg_not_allowed),
        T(hs256_keyed_by_the_rsa_public_key),
        T(keys_that_do_not_fit),
        T(tampered_payload_and_signature),
        T(es256_signature_length),
        T(unknown_kid),
        T(not_three_parts),
        T(strict_base64url),
        T(header_must_be_a_json_object_with_alg),
        T(header_keys_are_ignored),
        T(too_long),
        T(jwt_payload_must_be_a_json_object),
        T(jwks_skips_unusable_keys),
        T(jwks_reasons),
        T(jwks_document_errors),
        T(jwks_keeps_at_most_max_keys),
        T(jwks_room_follows_kept_keys),
        T(claims_pass),
        T(claims_required),
        T(wrong_issuer),
        T(no_issuer_or_client_to_check_against),
        T(audience_and_azp),
        T(expiry_with_leeway),
        T(issued_in_the_future),
        T(nonce_must_be_the_one_sent),
        T(at_hash_vectors),
        T(at_hash_mismatch),
        T(id_token_end_to_end),
    };

    return OAC_RUN_TESTS("oac_jose", tests);
}
