"""A stand-alone simulator of the OCloudView VDI platform's admin API (``/ocloud/v1``).

``python -m vdisim --port 8088 [--backend memory|libvirt]``; see ``docs/vdi.md``.
"""

from vdisim.errors import SimError
from vdisim.platform import Platform
from vdisim.server import SimServer

__all__ = ["Platform", "SimError", "SimServer"]
