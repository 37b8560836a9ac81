"""yte-compliance: shared core (version, report schema, config loading, CLI root)."""

__version__ = "0.1.0"
