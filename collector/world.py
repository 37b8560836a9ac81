"""The configured world of one collector, loaded once and validated whole: its sites,
its targets (the shipped defaults under the province's overrides) and declarations. The
server, `yte collector check` and the year-end report all load it here."""

from __future__ import annotations

from dataclasses import dataclass

from yte_compliance.checks.declarations import Declarations, load_declarations
from yte_compliance.checks.targets import Target, load_targets
from yte_compliance.collector.config import CollectorConfig
from yte_compliance.collector.sites import Site, load_sites
from yte_compliance.collector.state import known_facts


@dataclass(frozen=True)
class World:
    sites: dict[str, Site]
    targets: dict[str, Target]
    declarations: Declarations


def load_world(cfg: CollectorConfig) -> World:
    """Every file of ``cfg``; a typo anywhere is a ConfigError naming file, line, key."""
    sites = load_sites(cfg.sites_file)
    targets = load_targets(cfg.targets_files, known_facts=known_facts())
    return World(sites, targets, load_declarations(cfg.declarations_file, set(sites)))
