"""OCloudView ATP engine: transport, protocol, VDI platform client and orchestrator.

Nothing in this package imports Django; it is usable from a plain script or the command line.
"""

__version__ = "0.1.0"
