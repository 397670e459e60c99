from django.core.management.base import BaseCommand, CommandError

from hosts import vdi
from hosts.models import VdiEndpoint


class Command(BaseCommand):
    help = "Sync the VMs of VDI endpoints into the inventory; exit 1 if any endpoint failed."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="endpoint names (default: every enabled one)")

    def handle(self, *args, **opts):
        endpoints = VdiEndpoint.objects.filter(enabled=True)
        if opts["names"]:
            endpoints = VdiEndpoint.objects.filter(name__in=opts["names"])
            missing = set(opts["names"]) - set(endpoints.values_list("name", flat=True))
            if missing:
                raise CommandError(f"no such VDI endpoint: {', '.join(sorted(missing))}")
        failed = False
        for endpoint in endpoints:
            r = vdi.sync_endpoint(endpoint)
            if r["ok"]:
                self.stdout.write(f"{endpoint.name}: {r['vms']} VM(s), {r['gone']} gone")
            else:
                failed = True
                self.stdout.write(f"{endpoint.name}: FAILED {r['error']}")
        if failed:
            raise CommandError("some endpoints could not be synced")
