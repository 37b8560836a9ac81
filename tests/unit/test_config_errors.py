"""A typo in a configuration file names the file, the line and the key."""

from pathlib import Path

import pytest

from yte_compliance.checks.targets import load_targets
from yte_compliance.collector.state import known_facts
from yte_compliance.core.yamlconf import ConfigError

ROOT = Path(__file__).parent.parent.parent
DEFAULTS = ROOT / "configs/targets.yaml"


def test_typo_in_targets_names_file_line_and_key(tmp_path):
    text = DEFAULTS.read_text().replace("    required_ratio: 0.5\n", "    requried_ratio: 0.5\n", 1)
    bad = tmp_path / "targets.yaml"
    bad.write_text(text)
    line = text.splitlines().index("    requried_ratio: 0.5") + 1
    with pytest.raises(ConfigError) as e:
        load_targets([bad])
    assert e.value.file == str(bad) and e.value.line == line
    assert e.value.key == "targets[0].requried_ratio"
    assert "did you mean 'required_ratio'" in str(e.value)


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ("  - id: pc.ipv6\n    required_ratio: 1.5\n", "targets[0].required_ratio", "from 0 to 1"),
        ("  - id: pc.ipv6\n    scope: province\n", "targets[0].scope", "must be one of"),
        ("  - id: pc.new\n    title_vi: x\n", "targets[0].scope", "required key is missing"),
        ("  - id: pc.ipv6\n    site_types: [clinic]\n", "targets[0].site_types", "clinic"),
        ("  - id: pc.ipv6\n    effective_from: 2026-13-01\n", "effective_from", "month must be"),
    ],
)
def test_override_errors(tmp_path, override, key, message):
    f = tmp_path / "province.yaml"
    f.write_text("version: 1\ntargets:\n" + override)
    with pytest.raises(ConfigError) as e:
        load_targets([DEFAULTS, f])
    assert e.value.file == str(f) and e.value.key == key and message in str(e.value)
    assert e.value.line == 4 if "effective_from" in override else e.value.line >= 3


def test_unknown_fact_is_refused_when_facts_are_known(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("version: 1\ntargets:\n  - id: pc.ipv6\n    all_of:\n"
                 "      - {fact: ipv6.has_global_adress, op: eq, value: true}\n")
    with pytest.raises(ConfigError) as e:
        load_targets([DEFAULTS, f], known_facts=known_facts())
    assert e.value.line == 5 and "ipv6.has_global_adress" in str(e.value)


def test_override_changes_only_what_it_names():
    targets = load_targets([DEFAULTS, ROOT / "configs/targets.province.example.yaml"])
    assert targets["pc.ipv6"].required_ratio == 0.6
    assert targets["pc.ipv6"].title_en.startswith("PCs IPv6-ready")
    assert targets["pc.antivirus_signatures"].enabled is True


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ("public_url: yte.soyte.vn\n", "public_url", "absolute http(s) URL"),
        ("public_url: https://yte.soyte.vn/?x=1\n", "public_url", "without a query"),
        ("report:\n  signer_titel: GIÁM ĐỐC\n", "report.signer_titel", "signer_title"),
    ],
)
def test_collector_config_public_url_and_report_errors(tmp_path, extra, key, message):
    from yte_compliance.collector.config import load_collector_config

    f = tmp_path / "collector.yaml"
    f.write_text("database: c.db\nsites_file: s.yaml\nallow_plain_http: true\n" + extra)
    with pytest.raises(ConfigError) as e:
        load_collector_config(f)
    assert e.value.key == key and message in str(e.value)
    assert e.value.line == 4 + ("report" in extra)


def test_collector_config_reads_public_url_and_the_report_heading(tmp_path):
    from yte_compliance.collector.config import load_collector_config

    f = tmp_path / "collector.yaml"
    f.write_text("database: c.db\nsites_file: s.yaml\nallow_plain_http: true\n"
                 "public_url: https://yte.soyte.lamdong.gov.vn/\n"
                 "report:\n  agency: SỞ Y TẾ\n  signer_name: Nguyễn Văn A\n"
                 "  recipients: [Bộ Y tế, UBND tỉnh]\n")
    cfg = load_collector_config(f)
    assert cfg.public_url == "https://yte.soyte.lamdong.gov.vn"
    assert cfg.issuer.signer_name == "Nguyễn Văn A"
    assert cfg.issuer.recipients == ("Bộ Y tế", "UBND tỉnh")
