import json

from django.core.management.base import BaseCommand, CommandError

from hosts import services
from hosts.models import Host


class Command(BaseCommand):
    help = "Refresh health and VMs (with thumbnails) of hosts; exit 1 if any host failed."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="host names (default: every enabled host)")
        parser.add_argument("--no-thumbnails", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args, **opts):
        hosts = Host.objects.filter(enabled=True)
        if opts["names"]:
            hosts = Host.objects.filter(name__in=opts["names"])
            missing = set(opts["names"]) - set(hosts.values_list("name", flat=True))
            if missing:
                raise CommandError(f"no such host: {', '.join(sorted(missing))}")
        results = [services.sync_host(h, thumbnails=not opts["no_thumbnails"]) for h in hosts]
        if opts["json"]:
            self.stdout.write(json.dumps(results, indent=2))
        else:
            for r in results:
                if r["ok"]:
                    self.stdout.write(
                        f"{r['host']}: {r['vms']} VM(s), {r.get('thumbnails', 0)} thumbnail(s)"
                    )
                else:
                    self.stdout.write(f"{r['host']}: FAILED {r['error']}")
        if any(not r["ok"] for r in results):
            raise CommandError("some hosts could not be synced")
