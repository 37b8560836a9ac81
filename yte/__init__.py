"""yte-compliance, installed as the one import package ``yte_compliance``.

In the source tree the subpackages sit in the project's top-level folders
(``agent/``, ``collector/``, ``checks/``, ``exporters/``, ``configs/``) and this folder
(``yte/``) is the package root: ``pyproject.toml``'s package-dir maps them."""

__version__ = "0.1.0"
