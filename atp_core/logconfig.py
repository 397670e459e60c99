"""Log levels per layer from the environment: ``ATP_LOG=info,atp_core.transport=debug``.

The value is a comma-separated list: a bare level sets the root logger's, ``logger=level``
sets one logger's (and its children's). The web (``atp_site.settings``), the worker (the same
settings) and the engine's CLI (``python -m atp_core``) read it the same way.

>>> parse_log_spec("info,atp_core.transport=debug, atp_core.protocol=warning")
('INFO', {'atp_core.transport': 'DEBUG', 'atp_core.protocol': 'WARNING'})
>>> parse_log_spec("")
('INFO', {})
>>> parse_log_spec("loud")
Traceback (most recent call last):
...
ValueError: ATP_LOG: 'loud' is not a level (use debug, info, warning, error or critical)
"""

from __future__ import annotations

import os

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _level(text: str) -> str:
    level = text.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LEVELS:
        raise ValueError(
            f"ATP_LOG: {text.strip()!r} is not a level "
            "(use debug, info, warning, error or critical)"
        )
    return level


def parse_log_spec(spec: str | None, default: str = "INFO") -> tuple[str, dict[str, str]]:
    """``(root level, {logger name: level})`` of an ``ATP_LOG`` value."""
    root = default
    loggers: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, level = part.partition("=")
        if sep:
            if not name.strip():
                raise ValueError(f"ATP_LOG: {part.strip()!r} names no logger (logger=level)")
            loggers[name.strip()] = _level(level)
        else:
            root = _level(name)
    return root, loggers


def logging_dict(spec: str | None = None, default: str = "INFO") -> dict:
    """A ``logging.config.dictConfig`` dict for ``spec`` (default: ``$ATP_LOG``)."""
    root, loggers = parse_log_spec(os.environ.get("ATP_LOG") if spec is None else spec, default)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": root},
        "loggers": {name: {"level": level} for name, level in loggers.items()},
    }


def configure_logging(spec: str | None = None, default: str = "WARNING") -> None:
    """Set up logging from ``spec`` (default: ``$ATP_LOG``) for a script or the CLI."""
    import logging.config

    logging.config.dictConfig(logging_dict(spec, default))
    logging.captureWarnings(True)


__all__ = ["configure_logging", "logging_dict", "parse_log_spec"]
