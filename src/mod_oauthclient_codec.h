/* Licensed under the Apache License, Version 2.0 (see LICENSE) */

/*
 * OAuthSessionPassphrase: the session codec's hooks and directives
 * (mod_oauthclient_codec.c).
 */
#ifndef MOD_OAUTHCLIENT_CODEC_H
#define MOD_OAUTHCLIENT_CODEC_H

#include "mod_oauthclient_private.h"
#include "mod_session.h"

/* From register_hooks: the codec's mod_session hooks, when mod_session
 * was loaded before this module (oac_codec_registered says whether). */
void oac_codec_register(void);
int oac_codec_registered(void);
void oac_codec_pre_config(void);
void oac_codec_child_init(apr_pool_t *pchild);
/* !OK (logged) for a codec configuration that cannot work; *pused says
 * whether any location encrypts. */
int oac_codec_check_config(apr_pool_t *ptemp, int *pused);
/* 0 when r's location has a codec and z was decoded without it (or with
 * another): by an earlier request of the chain outside its scope. */
int oac_codec_session_usable(request_rec *r, const session_rec *z);
const char *oac_cmd_session_passphrase(cmd_parms *cmd, void *dconf,
                                       int argc, char *const argv[]);
const char *oac_cmd_session_passphrase_file(cmd_parms *cmd, void *dconf,
                                            const char *arg);

#endif
