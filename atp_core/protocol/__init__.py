"""atp_core.protocol layer."""
