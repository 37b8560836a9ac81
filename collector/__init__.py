"""The collector: receives, authenticates, validates and stores reports; serves the API and /metrics."""
