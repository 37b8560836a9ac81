"""Every shipped example configuration loads as it is."""

from pathlib import Path

from yte_compliance.agent.config import load_agent_config
from yte_compliance.checks.declarations import load_declarations
from yte_compliance.checks.targets import load_targets
from yte_compliance.checks.waivers import load_waivers
from yte_compliance.collector.config import load_collector_config
from yte_compliance.collector.sites import load_sites
from yte_compliance.collector.state import known_facts

CONFIGS = Path(__file__).parent.parent.parent / "configs"


def test_examples_load():
    cfg = load_collector_config(CONFIGS / "collector.example.yaml")
    sites = load_sites(cfg.sites_file)
    assert cfg.targets_files == (CONFIGS / "targets.province.example.yaml",)
    targets = load_targets(cfg.targets_files, known_facts=known_facts())
    decl = load_declarations(cfg.declarations_file, set(sites))
    assert {"bv-tinh", "tyt-xa-a"} <= set(sites) and "pc.ram_ssd" in targets
    assert targets["pc.ipv6"].required_ratio == 0.6  # the province's override over the default
    assert decl.site_facts("tyt-xa-a", 2026)["budget.security_ratio"] is None
    # line items written "1.020" and "200,5" in the Vietnamese way: 380.5 of 3,200.5
    assert decl.site_facts("bv-tinh", 2026)["budget.security_ratio"] == 380.5 / 3200.5
    assert decl.plan_of("bv-tinh", 2026).id == "KH-CDS-2026-2030"
    bandwidth = targets["site.bandwidth"]
    assert bandwidth.for_site_type("commune_station").all_of[0].value == 10_000_000
    assert bandwidth.for_site_type("hospital").all_of[0].value == 80_000_000
    assert bandwidth.for_site_type("other") is None
    waivers = load_waivers(cfg.waivers_file, sites={s.id: s.type for s in sites.values()},
                           targets={t.id: t.scope for t in targets.values()})
    assert {(w.site, w.check, w.host) for w in waivers.entries} == {
        ("tyt-xa-a", "site.bandwidth", None), ("bv-tinh", "pc.os_supported", "pacs-console-01")}
    assert cfg.count_unmanaged_pcs is True
    agent = load_agent_config(CONFIGS / "agent.example.yaml")
    assert agent.site == "tyt-xa-a" and agent.interval_seconds == 900
