"""The VMs list's filters (one FilterSet for the /vms/ page, /api/vms/ and its OpenAPI)."""

from __future__ import annotations

import django_filters

from atp_site.filters import AllowedChoiceFilter, AllTagsFilter, ListFilterSet
from atp_site.tags import filter_tagged

from .models import VirtualMachine

SOURCES = [(VirtualMachine.SOURCE_LIBVIRT, "libvirt"), (VirtualMachine.SOURCE_VDI, "VDI platform")]


class VmFilter(ListFilterSet):
    """``q``: name contains; ``tag``: has that tag (repeat: all of them); ``host``, ``name``:
    exactly; ``source``: libvirt or vdi."""

    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="name contains"
    )
    tag = AllTagsFilter(method="tagged", help_text="has this tag (repeat: all of them)")
    host = django_filters.CharFilter(field_name="host__name", help_text="host name, exactly")
    name = django_filters.CharFilter(field_name="name", help_text="VM name, exactly")
    source = AllowedChoiceFilter(choices=SOURCES, help_text="where the VM was found")

    class Meta:
        model = VirtualMachine
        fields = ["q", "tag", "host", "name", "source"]

    def tagged(self, qs, name, value: list[str]):
        for tag in value:
            qs = filter_tagged(qs, tag)
        return qs
