"""Installed memory: the sum of the modules, or the usable total rounded up to what it comes from."""

import struct

import pytest

from yte_compliance.agent.probes.hardware import GiB, MiB, estimate_installed, installed_memory
from yte_compliance.agent.probes.hardware_linux import parse_meminfo, parse_smbios_memory


@pytest.mark.parametrize(
    ("usable", "installed"),
    [
        (int(7.8 * GiB), 8 * GiB),  # the 8 GB PC: firmware + iGPU keep ~0.2 GiB
        (int(7.6 * GiB), 8 * GiB),
        (int(7.0 * GiB), 8 * GiB),  # 1 GiB shared with integrated graphics
        (int(3.8 * GiB), 4 * GiB),
        (int(15.6 * GiB), 16 * GiB),
        (int(11.7 * GiB), 12 * GiB),  # 8 + 4 modules
        (int(23.54 * GiB), 24 * GiB),
        (8 * GiB, 8 * GiB),  # exact stays exact
        (int(5.9 * GiB), 6 * GiB),
    ],
)
def test_estimate_rounds_up_to_the_installed_size(usable, installed):
    assert estimate_installed(usable) == installed


def test_modules_win_over_the_estimate():
    assert installed_memory([4 * GiB, 4 * GiB], int(7.8 * GiB)) == (8 * GiB, "smbios", None)


def test_estimate_is_marked_as_such():
    assert installed_memory(None, int(7.8 * GiB)) == (8 * GiB, "estimated", None)


def test_nothing_readable_is_unknown_not_zero():
    value, source, reason = installed_memory(None, None)
    assert value is None and source is None and "could be read" in reason


def test_meminfo():
    assert parse_meminfo("MemTotal:        8000000 kB\nMemFree: 1 kB\n") == 8000000 * 1024
    assert parse_meminfo("garbage") is None


# --- SMBIOS: tables built per DMTF DSP0134 3.x (constructed, not captured: this CI VM has
# no DMI table). Type 16 = Physical Memory Array (offset 05h 'Use'), type 17 = Memory Device
# (04h array handle, 0Ch Size, 1Ch Extended Size).


def _struct(kind: int, handle: int, body: bytes, strings: tuple[str, ...] = ()) -> bytes:
    header = struct.pack("<BBH", kind, 4 + len(body), handle)
    tail = b"".join(s.encode() + b"\0" for s in strings) + b"\0" if strings else b"\0\0"
    return header + body + tail


def _array(handle: int, use: int) -> bytes:
    # 04h location, 05h use, 06h error correction, 07h max capacity (dword), 0Bh handle, 0Dh count
    return _struct(16, handle, struct.pack("<BBBIHH", 3, use, 3, 0x2000000, 0xFFFE, 2))


def _device(handle: int, array: int, size_word: int, extended_mb: int = 0) -> bytes:
    body = bytearray(0x28 - 4)
    struct.pack_into("<H", body, 0x04 - 4, array)
    struct.pack_into("<H", body, 0x0C - 4, size_word)
    struct.pack_into("<I", body, 0x1C - 4, extended_mb)
    return _struct(17, handle, bytes(body), ("DIMM_A1", "Samsung"))


END = _struct(127, 0xFFFF, b"")


def test_smbios_two_4gb_modules_and_an_empty_slot():
    table = (_array(0x1000, 3) + _device(0x1100, 0x1000, 4096) + _device(0x1101, 0x1000, 4096)
             + _device(0x1102, 0x1000, 0) + END)
    assert parse_smbios_memory(table) == [4 * GiB, 4 * GiB]


def test_smbios_units_kib_and_extended_size():
    table = (_array(1, 3) + _device(2, 1, 0x8000 | 512 * 1024 // 1024)  # 512 KiB, KB units
             + _device(3, 1, 0x7FFF, extended_mb=64 * 1024) + END)
    assert parse_smbios_memory(table) == [512 * 1024, 64 * GiB]
    assert MiB == 1 << 20


def test_smbios_ignores_non_system_arrays():
    flash = _array(9, 0x06)  # 'Use' 06h = flash memory
    table = _array(1, 3) + flash + _device(2, 1, 8192) + _device(3, 9, 16) + END
    assert parse_smbios_memory(table) == [8 * GiB]


def test_smbios_unknown_size_gives_none_so_the_estimate_is_used():
    assert parse_smbios_memory(_array(1, 3) + _device(2, 1, 0xFFFF) + END) is None
    assert parse_smbios_memory(b"") is None
