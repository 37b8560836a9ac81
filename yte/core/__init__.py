"""Shared core: the wire schema, strict YAML loading, files shipped in the package.
Imports nothing else of the project."""
