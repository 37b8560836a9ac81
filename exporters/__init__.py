"""Turns state and results into what people and tools read: metrics, tables, reports."""
