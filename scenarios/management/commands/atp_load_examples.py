"""Load example scenarios and reference images into the library (``make demo`` does this)."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from scenarios.services import load_examples


class Command(BaseCommand):
    help = "Load *.yaml scenarios and references/*.png of a directory (default: examples/)."

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(settings.BASE_DIR / "examples"))
        parser.add_argument("--user", default="admin", help="author of the revisions")

    def handle(self, *args, directory, user, **options):
        path = Path(directory)
        if not path.is_dir():
            raise CommandError(f"{path}: not a directory")
        author = get_user_model().objects.filter(username=user).first()
        loaded = load_examples(path, author)
        self.stdout.write(
            f"{len(loaded['scenarios'])} scenarios, {len(loaded['references'])} references"
        )
        for error in loaded["errors"]:
            self.stderr.write(error)
        if loaded["errors"]:
            raise CommandError(f"{len(loaded['errors'])} file(s) could not be loaded")
