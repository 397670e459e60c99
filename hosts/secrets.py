"""Secrets at rest (VDI passwords): Fernet with a key derived from SECRET_KEY.

Rotating SECRET_KEY makes stored secrets unreadable; ``decrypt_secret`` then raises
``SecretUnreadable`` and the operator re-enters the password.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from atp_core.errors import InvalidInput


class SecretUnreadable(InvalidInput):
    """A stored secret cannot be decrypted with the current SECRET_KEY."""


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ocloudview-atp", info=b"vdi-secrets"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(raw: str) -> str:
    return _fernet().encrypt(raw.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the stored password cannot be decrypted (SECRET_KEY changed?); enter it again"
        ) from None
