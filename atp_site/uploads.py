"""Bounded uploads and images (docs/web.md "Sizes").

- A request whose Content-Length is over ``ATP_REQUEST_MAX_BYTES`` is refused with a 400
  before its body is parsed (``RequestSizeLimitMiddleware``); Django's
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bounds the form fields held in memory the same way.
- An uploaded file is read in chunks and refused as soon as it passes ``ATP_UPLOAD_MAX_BYTES``
  (``read_upload``), never read whole first.
- An image over ``ATP_IMAGE_MAX_PIXELS`` pixels is refused from its header, before it is
  decoded (``check_pixels``); Pillow's own bomb guard is set to the same figure.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from atp_core.errors import InvalidInput


def _limit_text(limit: int, setting: str) -> str:
    return f"the limit is {limit:,} bytes ({setting})"


def read_upload(upload, what: str = "the upload") -> bytes:
    """The bytes of ``upload`` (a Django UploadedFile), read in chunks; InvalidInput naming the
    limit once it passes ATP_UPLOAD_MAX_BYTES."""
    limit = int(settings.ATP_UPLOAD_MAX_BYTES)
    refusal = f"{what} is larger than {limit:,} bytes; " + _limit_text(
        limit, "ATP_UPLOAD_MAX_BYTES"
    )
    if upload.size is not None and upload.size > limit:
        raise InvalidInput(
            f"{what} has {upload.size:,} bytes; " + _limit_text(limit, "ATP_UPLOAD_MAX_BYTES")
        )
    parts, total = [], 0
    for chunk in upload.chunks(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise InvalidInput(refusal)
        parts.append(chunk)
    return b"".join(parts)


def check_pixels(image, what: str = "the image") -> None:
    """InvalidInput when ``image`` (an opened, not yet decoded PIL image) has more pixels than
    ATP_IMAGE_MAX_PIXELS."""
    limit = int(settings.ATP_IMAGE_MAX_PIXELS)
    width, height = image.size
    if width * height > limit:
        raise InvalidInput(
            f"{what} is {width}x{height} = {width * height:,} pixels; the limit is {limit:,} "
            "pixels (ATP_IMAGE_MAX_PIXELS)"
        )


class RequestSizeLimitMiddleware:
    """A body announced larger than ATP_REQUEST_MAX_BYTES is refused with a 400 before it is
    read (JSON under /api/, text elsewhere)."""

    def __init__(self, get_response):
        from PIL import Image

        self.get_response = get_response
        Image.MAX_IMAGE_PIXELS = int(settings.ATP_IMAGE_MAX_PIXELS)  # Pillow's own bomb guard

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = int(settings.ATP_REQUEST_MAX_BYTES)
        if length > limit:
            text = f"request body of {length:,} bytes refused; " + _limit_text(
                limit, "ATP_REQUEST_MAX_BYTES"
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": text}, status=400)
            return HttpResponseBadRequest(text, content_type="text/plain")
        return self.get_response(request)
