"""Audit and deploy over SSH: the same probes and agent, driven from one IT laptop."""
