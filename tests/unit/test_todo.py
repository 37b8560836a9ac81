"""A PC's to-do list in plain words, from the same clauses that judge it."""

from __future__ import annotations

from yte_compliance.checks.targets import load_targets
from yte_compliance.checks.todo import host_todo, ipv6_step_vi

GiB = 1 << 30
NOW = 1_790_000_000.0
TARGETS = load_targets([])


def texts(check: str, facts: dict) -> list[tuple[str, str]]:
    return [(x.kind, x.vi) for x in host_todo(TARGETS[check], facts, NOW)]


def test_ram_and_ssd_say_which_of_the_two_and_the_figure_now():
    assert texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 4 * GiB,
                                "hardware.os_disk_media": "ssd"}) == [
        ("fix", "Nâng RAM lên 8 GB (hiện 4 GB)")]
    assert texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 16 * GiB,
                                "hardware.os_disk_media": "hdd"}) == [
        ("fix", "Thay ổ chứa hệ điều hành bằng SSD (hiện ổ cứng HDD)")]
    assert len(texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 3.5 * GiB,
                                    "hardware.os_disk_media": "hdd"})) == 2
    assert texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 8 * GiB,
                                "hardware.os_disk_media": "ssd"}) == []


def test_a_fact_that_could_not_be_read_is_a_thing_to_check_not_to_fix():
    out = texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 8 * GiB})
    assert out == [("verify", "Kiểm tra: " + TARGETS["pc.ram_ssd"].title_vi
                    + " (chưa đọc được hardware.os_disk_media)")]
    # a clause that fails wins over one that is unknown: the fix is certain
    assert texts("pc.ram_ssd", {"hardware.memory_installed_bytes": 4 * GiB})[0][0] == "fix"


def test_antivirus_names_the_product_that_is_off():
    facts = {"antivirus.any_running": False,
             "antivirus.products": [{"name": "Kaspersky Endpoint Security", "running": False}]}
    assert texts("pc.antivirus", facts) == [
        ("fix", "Bật phần mềm diệt virus (Kaspersky Endpoint Security đang tắt)")]
    assert texts("pc.antivirus", {"antivirus.any_running": False}) == [
        ("fix", "Cài phần mềm diệt virus")]


def test_firewall_os_and_ipv6_in_vietnamese():
    assert texts("pc.firewall", {"firewall.inbound_filtering": False}) == [
        ("fix", "Bật tường lửa")]
    assert texts("pc.os_supported", {"os.supported": False, "os.release": "Windows 7 SP1",
                                     "os.support_ends_on": "2020-01-14"}) == [
        ("fix", "Nâng cấp hệ điều hành: Windows 7 SP1 hết hỗ trợ từ 14/01/2020")]
    step = "the endpoint is not reachable over IPv6: connection refused"
    assert texts("pc.ipv6", {"ipv6.ready": False, "ipv6.failing_step": step}) == [
        ("fix", "Sửa kết nối IPv6: chưa kết nối được máy chủ qua IPv6 (connection refused)")]
    assert ipv6_step_vi("no default route") == "chưa có tuyến mặc định IPv6"
    assert ipv6_step_vi("something new") == "something new"  # unknown steps kept as sent
