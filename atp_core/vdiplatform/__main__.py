import sys

from atp_core.vdiplatform.cli import main

sys.exit(main())
