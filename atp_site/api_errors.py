"""One answer to invalid input across the API (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

Services and the engine refuse bad input with ``InvalidInput``, whose message already says
what is wrong, where (the field, ``targets[0]``, line and column) and what is allowed. Raised
anywhere in an API view it becomes a 400 ``{"detail": message}``; a scenario that does not
validate also carries its ``issues`` (line, column, path, allowed) under ``content``/``issues``,
and a Django ``ValidationError`` (a model's clean) answers like DRF's own, per field. Views call
services without catching these; everything else is DRF's default handling.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from atp_core.errors import InvalidInput
from scenarios.services import ScenarioInvalid


def as_validation_error(exc: Exception) -> Exception:
    """``exc`` as the DRF ValidationError the API answers with (others unchanged)."""
    if isinstance(exc, InvalidInput):
        return ValidationError({"detail": str(exc)})
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return ValidationError(exc.message_dict)
        return ValidationError({"detail": " ".join(exc.messages)})
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ScenarioInvalid):  # issues as they are: line and column stay numbers
        set_rollback()
        return Response(
            {"content": [str(exc)], "issues": exc.issues}, status=status.HTTP_400_BAD_REQUEST
        )
    return drf_exception_handler(as_validation_error(exc), context)
