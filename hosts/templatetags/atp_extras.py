from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ mapping|get_item:key }}`` for dict lookups with a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def iso_datetime(value):
    """An ISO 8601 string stored in a JSON field (``last_verify.checked_at``) as a datetime, so
    that it prints in the site's one time format; anything else is shown as it is."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value
