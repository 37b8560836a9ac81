"""Windows decoding rules: productState, netsh text in two languages, names and dates."""

import pytest

from yte_compliance.agent.probes.antivirus_windows import decode_product_state
from yte_compliance.agent.probes.firewall_windows import judge, parse_netsh_state, profile_states
from yte_compliance.agent.probes.hardware import GiB, installed_memory
from yte_compliance.agent.probes.hardware_windows import os_name, parse_os_disk
from yte_compliance.agent.probes.windows import parse_time

# productState = 0xTTRSDD read as six hex digits: under 0xF000 the running state
# (0 off, 1 on, 2 snoozed, 3 expired), under 0x0F00 the owner (1 = Microsoft),
# under 0x00F0 the signatures (0 current, 1 out of date).
PRODUCT_STATES = [
    # value,  hex,        running,   current, microsoft   product
    (397568, 0x061100, "on", True, True),        # Defender on, up to date
    (397584, 0x061110, "on", False, True),       # Defender on, definitions out of date
    (393472, 0x060100, "off", True, True),       # Defender off (another product active)
    (393488, 0x060110, "off", False, True),      # Defender off and out of date
    (401664, 0x062100, "snoozed", True, True),   # Defender snoozed
    (405760, 0x063100, "expired", True, True),   # Defender expired (trial/licence)
    (266240, 0x041000, "on", True, False),       # Kaspersky / ESET on, current
    (266256, 0x041010, "on", False, False),      # Bkav on, definitions out of date
    (262144, 0x040000, "off", True, False),      # third party off
    (262160, 0x040010, "off", False, False),     # third party off, out of date
    (270336, 0x042000, "snoozed", True, False),  # third party snoozed
    (274432, 0x043000, "expired", True, False),  # third party expired licence
    (331776, 0x051000, "on", True, False),       # product type 0x05 (AV + firewall), on
]


@pytest.mark.parametrize(("value", "hexval", "running", "current", "microsoft"), PRODUCT_STATES)
def test_product_state(value, hexval, running, current, microsoft):
    assert value == hexval  # the comment's arithmetic, checked
    state = decode_product_state(value)
    assert (state.running, state.signatures_current, state.microsoft) == (running, current, microsoft)


ENGLISH_NETSH = """
Domain Profile Settings:
----------------------------------------------------------------------
State                                 ON

Private Profile Settings:
----------------------------------------------------------------------
State                                 ON

Public Profile Settings:
----------------------------------------------------------------------
State                                 OFF
Ok.

"""


def test_netsh_english_and_vietnamese_agree():
    en = parse_netsh_state(ENGLISH_NETSH)
    vi_text = (ENGLISH_NETSH.replace("State", "Trạng thái").replace("ON", "BẬT")
               .replace("OFF", "TẮT").replace("Domain Profile Settings", "Cài đặt Hồ sơ Miền"))
    vi = parse_netsh_state(vi_text)
    assert en == vi
    assert {k: v.enabled for k, v in en.items()} == {"Domain": True, "Private": True, "Public": False}


def test_netsh_unknown_word_is_unknown_and_garbage_is_an_error():
    odd = ENGLISH_NETSH.replace("OFF", "ПОЛ")
    assert parse_netsh_state(odd)["Public"].enabled is None
    with pytest.raises(ValueError):
        parse_netsh_state("The following command was not found: advfirewall.")


def test_firewall_numbers_as_raw_cim_prints_them():
    rows = [{"Name": "Domain", "Enabled": 1, "DefaultInboundAction": 4},
            {"Name": "Private", "Enabled": 1, "DefaultInboundAction": 0},
            {"Name": "Public", "Enabled": 0, "DefaultInboundAction": 4}]
    states = profile_states(rows)
    assert {k: v.filters for k, v in states.items()} == {"Domain": True, "Private": True,
                                                         "Public": False}
    assert judge(states, ["Private"]).inbound_filtering is True
    assert judge(states, []).inbound_filtering is False  # nothing known active: all must hold


def test_on_but_allowing_inbound_is_not_off_and_does_not_filter():
    rows = [{"Name": n, "Enabled": "True", "DefaultInboundAction": "Allow"}
            for n in ("Domain", "Private", "Public")]
    facts = judge(profile_states(rows), ["Domain"])
    assert facts.inbound_filtering is False and facts.profiles_off == []


def test_windows_11_by_build_number():
    assert os_name("Microsoft Windows 10 Pro", "22631") == "Windows 11 Pro"
    assert os_name("Microsoft Windows 10 Pro", "19045") == "Windows 10 Pro"
    assert os_name("Microsoft Windows Server 2022 Standard", "20348") == "Windows Server 2022 Standard"


def test_media_type_numbers_and_virtual_models():
    row = {"DiskNumber": 0, "Model": "Samsung SSD 980", "BusType": 17,
           "Physical": [{"MediaType": 4, "BusType": 17}]}
    (disk,) = parse_os_disk(row)
    assert (disk.bus, disk.rotational, disk.virtual) == ("nvme", False, False)
    vmware = {"DiskNumber": 0, "Model": "VMware Virtual disk SCSI Disk Device", "BusType": "SAS",
              "Physical": [{"MediaType": "SSD", "BusType": "SAS"}]}
    assert parse_os_disk(vmware)[0].virtual is True


def test_memory_rule_is_the_shared_one():
    # Windows uses the same function as Linux: modules win, else the estimate.
    assert installed_memory([4 * GiB, 4 * GiB], int(7.86 * GiB)) == (8 * GiB, "smbios", None)
    assert installed_memory(None, int(7.86 * GiB)) == (8 * GiB, "estimated", None)


def test_dates():
    assert parse_time("2026-11-22T21:14:03.1234567Z") == pytest.approx(1795382043.123456)
    assert parse_time("/Date(1795339200000)/") == 1795339200.0
    assert parse_time("") is None and parse_time("not a date") is None
