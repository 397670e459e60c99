"""atp_core.orchestrator layer."""
