"""Scenario secrets: set (create or replace), delete, list names, and the values for a run.

Values are encrypted at rest with hosts.secrets and only decrypted in the worker, for the run
(``values_for_run``); nothing here returns a value to a page or to the API.
"""

from __future__ import annotations

import re

from atp_core.errors import InvalidInput
from hosts.secrets import SecretUnreadable, decrypt_secret, encrypt_secret

from .models import ScenarioSecret

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_VALUE_LENGTH = 4096


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput(
            f"secret name {name!r}: letters, digits and '_', starting with a letter or '_',"
            " at most 64 (used as ${secret.NAME})"
        )
    return name


def set_secret(name: str, value: str, user=None, description: str = "") -> ScenarioSecret:
    """Create or replace the secret ``name``."""
    check_name(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("secret value: required (a non-empty text)")
    if len(value) > MAX_VALUE_LENGTH or "\x00" in value:
        raise InvalidInput(f"secret value: at most {MAX_VALUE_LENGTH} characters, no NUL")
    secret = ScenarioSecret.objects.filter(name=name).first() or ScenarioSecret(name=name)
    secret.value_encrypted = encrypt_secret(value)
    secret.description = str(description or "")[:255]
    secret.updated_by = user if getattr(user, "pk", None) else None
    secret.save()
    return secret


def delete_secret(name: str) -> bool:
    return ScenarioSecret.objects.filter(name=name).delete()[0] > 0


def values_for_run() -> dict[str, str]:
    """Every readable secret by name (for the worker; an unreadable one is left out and the
    step using it fails naming the known ones)."""
    values = {}
    for name, token in ScenarioSecret.objects.values_list("name", "value_encrypted"):
        try:
            values[name] = decrypt_secret(token)
        except SecretUnreadable:
            continue
    return values
