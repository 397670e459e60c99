from django.core.management.base import BaseCommand, CommandError

from atp_core.errors import InvalidInput
from hosts import services


class Command(BaseCommand):
    help = "Register a libvirt host and test its connection (exit 1 when unreachable)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("uri", help="libvirt URI, e.g. qemu:///system or qemu+ssh://u@h/system")
        parser.add_argument("--description", default="")
        parser.add_argument("--credentials-ref", default="")
        parser.add_argument("--tag", action="append", default=[], dest="tags")
        parser.add_argument("--slots", type=int, default=4)

    def handle(self, *args, **opts):
        try:
            host = services.add_host(
                opts["name"],
                opts["uri"],
                description=opts["description"],
                credentials_ref=opts["credentials_ref"],
                tags=opts["tags"],
                slots=opts["slots"],
            )
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        services.test_host_connection(host)
        if not host.reachable:
            raise CommandError(f"added {host.name}, but it is unreachable: {host.last_error}")
        self.stdout.write(
            f"added {host.name}: libvirt {host.libvirt_version}, "
            f"{host.running_domains} running domain(s)"
        )
