#!/usr/bin/python3
"""The module's codec (src/oac_codec.c), for tests that must make or read
what only the module makes: a session cookie as an earlier version wrote
it, a shared cache entry.

    session_codec.py open PASSPHRASE VALUE   prints the plain text
    session_codec.py seal PASSPHRASE TEXT    prints a value sealed under it

A value is base64url of a header (version 1 and a key id), a nonce, the
AES-256-GCM ciphertext and its tag, the header authenticated with them;
an OAuthSessionPassphrase's key is PBKDF2-HMAC-SHA256 of it under a fixed
salt (600,000 iterations, ~0.3 s here).
"""
import base64
import hashlib
import hmac
import os
import sys

SALT = b"mod_oauthclient session codec v1"
ITERATIONS = 600000


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key_of(passphrase):
    """The key an OAuthSessionPassphrase gives."""
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), SALT, ITERATIONS, 32)


def header(key):
    """Version 1 and the key id, as oac_codec_encode() writes them."""
    return b"\x01" + hmac.new(key, b"mod_oauthclient session key id v1",
                              hashlib.sha256).digest()[:4]


def seal(key, plain):
    """What oac_codec_encode() makes of plain (bytes) under key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = os.urandom(12)
    head = header(key)
    return b64url(head + nonce + AESGCM(key).encrypt(nonce, plain, head))


def unseal(key, value):
    """What oac_codec_decode() makes of a value sealed under key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    head, nonce, sealed = raw[:5], raw[5:17], raw[17:]
    if head != header(key):
        raise ValueError("not sealed under this key")
    return AESGCM(key).decrypt(nonce, sealed, head)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("open", "seal"):
        sys.stderr.write(__doc__)
        return 2
    key = key_of(argv[2])
    if argv[1] == "open":
        sys.stdout.write(unseal(key, argv[3]).decode())
    else:
        sys.stdout.write(seal(key, argv[3].encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
