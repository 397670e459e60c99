"""atp_core.transport layer."""
