import sys

from atp_core.cli import main

sys.exit(main())
