"""The site's own middleware (login is Django's LoginRequiredMiddleware, see settings)."""

from django.http import HttpResponseBadRequest


class RejectNulBytesMiddleware:
    """A NUL character in a query parameter is refused with a 400 naming the parameter.

    PostgreSQL cannot store or compare text holding NUL, so a filter like ``?host=%00`` would
    otherwise end in a database error; forms and the API's fields already refuse NUL values.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return HttpResponseBadRequest(
                    f"query parameter {name.replace(chr(0), '?')!r}: NUL characters are not "
                    "allowed",
                    content_type="text/plain",
                )
        return self.get_response(request)
