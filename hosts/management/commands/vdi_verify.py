import json

from django.core.management.base import BaseCommand, CommandError

from hosts import vdi
from hosts.models import VdiEndpoint


class Command(BaseCommand):
    help = "vdi verify: the platform's VMs vs libvirt, both directions. Exit 1 on inconsistency."

    def add_arguments(self, parser):
        parser.add_argument("name", help="VDI endpoint name")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        endpoint = VdiEndpoint.objects.filter(name=opts["name"]).first()
        if endpoint is None:
            raise CommandError(f"no such VDI endpoint: {opts['name']}")
        r = vdi.verify_endpoint(endpoint)
        if not r["ok"]:
            raise CommandError(f"verify failed: {r['error']}")
        if opts["json"]:
            self.stdout.write(json.dumps(r, indent=2))
        else:
            for row in r["rows"]:
                mark = "OK " if row["consistent"] else "!! "
                self.stdout.write(
                    f"{mark}{row['vm_name']}: platform {row['platform_label']}"
                    f" / libvirt {row['libvirt_label']}"
                    + (f" - {row['problem']}" if row["problem"] else "")
                )
            self.stdout.write(
                f"{r['total']} VM(s), {r['inconsistent']} inconsistent"
                + (f"; unreachable: {r['hosts_unreachable']}" if r["hosts_unreachable"] else "")
            )
        if not r["consistent"]:
            raise CommandError("the platform and libvirt disagree")
