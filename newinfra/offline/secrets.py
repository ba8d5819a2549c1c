"""`secure:` stack config values, decrypted as the Pulumi CLI's passphrase secrets provider does.

The stack file's ``encryptionsalt`` is ``v1:<base64 salt>:<a check value>``; the key is PBKDF2-SHA256 of the
passphrase over that salt (1,000,000 iterations, 32 bytes) and each value is ``v1:<base64 nonce>:<base64
AES-256-GCM ciphertext with its tag>``; the check value decrypts to ``pulumi`` when the passphrase is right
(pulumi/pulumi pkg/secrets/passphrase and sdk/go/common/resource/config/crypt.go). Without a passphrase,
or with another secrets provider (a cloud KMS, Pulumi Cloud), a value cannot be decrypted offline: the
program gets an unknown secret instead, as a preview shows a value it cannot know.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32
CHECK_PLAINTEXT = "pulumi"


class SecretError(ValueError):
    """The passphrase is given but wrong, or a value is malformed; the message names the file."""


def passphrase_from_env() -> str | None:
    """PULUMI_CONFIG_PASSPHRASE, else the contents of PULUMI_CONFIG_PASSPHRASE_FILE (trimmed, as Pulumi does)."""
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        return os.environ["PULUMI_CONFIG_PASSPHRASE"]
    path = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as e:
            raise SecretError(f"PULUMI_CONFIG_PASSPHRASE_FILE: cannot read {path}: {e.strerror}") from None
    return None


def derive_key(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, iterations=PBKDF2_ITERATIONS)
    return kdf.derive(passphrase.encode())


def decrypt_value(key: bytes, value: str) -> str:
    """One ``v1:<nonce>:<ciphertext>`` value; ValueError when it is malformed or the key is wrong."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise ValueError("not a v1 ciphertext")
    try:
        nonce, sealed = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
        return AESGCM(key).decrypt(nonce, sealed, None).decode()
    except (InvalidTag, ValueError) as e:
        raise ValueError("wrong key or damaged ciphertext") from e


def encrypt_value(key: bytes, plaintext: str, nonce: bytes) -> str:
    """The inverse of decrypt_value (tests build stack files with it)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def make_salt(passphrase: str, salt: bytes, nonce: bytes) -> str:
    """An ``encryptionsalt`` line as `pulumi stack init --secrets-provider passphrase` writes it."""
    check = encrypt_value(derive_key(passphrase, salt), CHECK_PLAINTEXT, nonce)
    return f"v1:{base64.b64encode(salt).decode()}:{check}"


def passphrase_key(stack_file: Path, encryption_salt: str) -> bytes | None:
    """The passphrase provider's key for this stack, or None when no passphrase is set.

    A passphrase that does not open the salt's check value is an error (as `pulumi preview` stops too):
    decrypting to unknown values would hide a typo in CI's secret.
    """
    passphrase = passphrase_from_env()
    if passphrase is None:
        return None
    parts = encryption_salt.split(":", 2)
    if len(parts) != 3 or parts[0] != "v1":
        raise SecretError(f"{stack_file}: encryptionsalt is not a v1 passphrase salt")
    try:
        salt = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise SecretError(f"{stack_file}: encryptionsalt's salt is not base64") from None
    key = derive_key(passphrase, salt)
    try:
        ok = decrypt_value(key, parts[2]) == CHECK_PLAINTEXT
    except ValueError:
        ok = False
    if not ok:
        raise SecretError(f"{stack_file}: incorrect passphrase (PULUMI_CONFIG_PASSPHRASE or _FILE) for its "
                          "encryptionsalt")
    return key
