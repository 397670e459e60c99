"""atp_core.vdiplatform layer."""
