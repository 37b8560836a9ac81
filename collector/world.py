"""The configured world of one collector, loaded once and validated whole: its sites,
its targets (the shipped defaults under the province's overrides), and its policy
(declarations, waivers, OS lifecycle data). The server, `yte collector check` and the
year-end report all load it here."""

from __future__ import annotations

from dataclasses import dataclass

from yte_compliance.checks.declarations import load_declarations
from yte_compliance.checks.lifecycle import load_lifecycle
from yte_compliance.checks.policy import Policy
from yte_compliance.checks.targets import Target, load_targets
from yte_compliance.checks.waivers import load_waivers
from yte_compliance.collector.config import CollectorConfig
from yte_compliance.collector.sites import Site, load_sites
from yte_compliance.collector.state import known_facts


@dataclass(frozen=True)
class World:
    sites: dict[str, Site]
    targets: dict[str, Target]
    policy: Policy


def load_world(cfg: CollectorConfig) -> World:
    """Every file of ``cfg``; a typo anywhere is a ConfigError naming file, line, key."""
    sites = load_sites(cfg.sites_file)
    targets = load_targets(cfg.targets_files, known_facts=known_facts())
    waivers = load_waivers(cfg.waivers_file, sites={s.id: s.type for s in sites.values()},
                           targets={t.id: t.scope for t in targets.values()})
    policy = Policy(declarations=load_declarations(cfg.declarations_file, set(sites)),
                    waivers=waivers,
                    lifecycle=load_lifecycle(cfg.os_lifecycle_file),
                    count_unmanaged=cfg.count_unmanaged_pcs)
    return World(sites, targets, policy)
