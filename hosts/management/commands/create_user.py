import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from atp_core.errors import InvalidInput
from atp_site.permissions import ROLES


class Command(BaseCommand):
    help = (
        "Create a dashboard user with a role. The password comes from --password-env VAR "
        "(never from the command line, which other users can see) or a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
        parser.add_argument("--token", action="store_true", help="also print a new API token")

    def handle(self, *args, **opts):
        if opts["password_env"]:
            password = os.environ.get(opts["password_env"])
            if not password:
                raise CommandError(f"${opts['password_env']} is empty or not set")
        else:
            password = getpass.getpass("Password: ")
        try:
            user = services.create_user(opts["username"], password, opts["role"], opts["email"])
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {user.username} with role {opts['role']}")
        if opts["token"]:
            from rest_framework.authtoken.models import Token

            self.stdout.write(Token.objects.create(user=user).key)
