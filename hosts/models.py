"""Models of the hosts app."""
