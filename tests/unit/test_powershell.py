"""Static checks of the PowerShell scripts, with a real PowerShell grammar
(tree-sitter-powershell): every script parses, and the Windows 7 script uses nothing
newer than PowerShell 2.0.

Known limits of the grammar (0.26): a comma list of bare words as command arguments
(`Select-Object Name, Caption`) does not parse; the scripts quote such lists, and a
parse error there says so. Member enumeration (`$rows.Name` over a collection, PS 3+)
cannot be told from a property read without types: the Windows 7 script is written
with ForEach-Object, and no check can prove it here."""

import re
import unicodedata
from pathlib import Path

import pytest
import tree_sitter  # the [test] extra installs both
import tree_sitter_powershell as tsp

from yte_compliance.agent.runner import decode_output

ROOT = Path(__file__).parent.parent.parent
SCRIPTS = sorted(ROOT.glob("agent/windows/*.ps1"))
PS2_SCRIPT = ROOT / "agent/windows/collect-ps2.ps1"
PARSER = tree_sitter.Parser(tree_sitter.Language(tsp.language()))

# PowerShell 3.0 and later: cmdlets (CIM, NetTCPIP, NetSecurity, Storage, Defender, web and
# JSON), type accelerators, operators and variables
PS3_COMMANDS = {
    "convertto-json", "convertfrom-json", "invoke-restmethod", "invoke-webrequest",
    "get-ciminstance", "new-cimsession", "invoke-cimmethod", "get-netfirewallprofile",
    "get-netconnectionprofile", "get-netipaddress", "get-netroute", "get-netadapter",
    "get-disk", "get-partition", "get-physicaldisk", "get-mpcomputerstatus",
    "get-filehash", "new-temporaryfile", "get-computerinfo",
}
PS3_TYPES = {"ordered", "pscustomobject"}
PS3_OPERATORS = {"-in", "-notin", "-shl", "-shr"}
PS3_VARIABLES = {"$psitem"}
PS3_KEYWORDS = {"class", "enum", "using"}


def nodes(node):
    yield node
    for child in node.children:
        yield from nodes(child)


def line(node) -> int:
    return node.start_point.row + 1


def parse_errors(source: bytes) -> list[str]:
    out = []
    for n in nodes(PARSER.parse(source).root_node):
        if n.type == "ERROR" or n.is_missing:
            lines = (n.text or b"").decode("utf-8", "replace").strip().splitlines()
            text = lines[0][:80] if lines else ""
            hint = (" (a bare-word list: quote it, the grammar reads 'A', 'B')"
                    if re.search(r"(^|\s)[A-Za-z]\w*\s*,", text) else "")
            out.append(f"line {line(n)}: {'missing ' + n.type if n.is_missing else 'cannot parse'}"
                       f" {text!r}{hint}")
    return out


def ps3_constructs(source: bytes) -> list[str]:
    """Each construct newer than PowerShell 2.0, as 'line N: what'."""
    found = []
    tree = PARSER.parse(source)
    for n in nodes(tree.root_node):
        text = (n.text or b"").decode("utf-8", "replace")
        low = text.lower()
        if n.type == "command_name" and low in PS3_COMMANDS:
            found.append(f"line {line(n)}: {text} (PowerShell 3.0+)")
        elif n.type == "command_name" and low in ("where-object", "foreach-object", "?", "%"):
            args = n.parent.child_by_field_name("command_elements") if n.parent else None
            elements = args or next((c for c in n.parent.children
                                     if c.type == "command_elements"), None)
            if elements is not None and not any(c.type == "script_block_expression"
                                                for c in nodes(elements)):
                found.append(f"line {line(n)}: {text} without a script block "
                             "(simplified syntax, PowerShell 3.0+)")
        elif n.type == "type_name" and n.parent and n.parent.type == "type_spec" \
                and low in PS3_TYPES:
            found.append(f"line {line(n)}: [{text}] (PowerShell 3.0+)")
        elif n.type == "invokation_expression" and re.search(r"\]::new\s*\(", low):
            found.append(f"line {line(n)}: ::new( (PowerShell 5.0)")
        elif n.child_count == 0 and low in PS3_OPERATORS:
            found.append(f"line {line(n)}: {text} (PowerShell 3.0+)")
        elif n.type == "variable" and low in PS3_VARIABLES:
            found.append(f"line {line(n)}: {text} (PowerShell 3.0+)")
        elif n.child_count == 0 and low in PS3_KEYWORDS and n.type == low:
            found.append(f"line {line(n)}: {text} (PowerShell 5.0)")
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_every_script_parses(script):
    assert parse_errors(script.read_bytes()) == []


def test_a_broken_script_is_named_by_line():
    errors = parse_errors(b"$a = 1\nif ($a) {\n  Write-Output 'x'\n")
    assert errors and errors[0].startswith("line ")
    hint = parse_errors(b"Get-Service | Select-Object Name, Status\n")
    assert any("bare-word list" in e for e in hint)


def test_the_windows_7_script_uses_powershell_2_only():
    assert ps3_constructs(PS2_SCRIPT.read_bytes()) == []


def test_the_ps2_check_finds_each_later_construct():
    snippet = b"""$a = [ordered]@{ x = 1 }
$b = [PSCustomObject]@{ y = 2 }
$c = [Text.StringBuilder]::new()
if ($x -in $list) { $PSItem }
$d = Get-CimInstance Win32_OperatingSystem | ConvertTo-Json
Get-Service | Where-Object Status -eq 'Running'
$e = 1 -shl 2
"""
    found = "\n".join(ps3_constructs(snippet))
    for construct in ("line 1: [ordered]", "line 2: [PSCustomObject]", "line 3: ::new(",
                      "line 4: -in", "line 4: $PSItem", "line 5: Get-CimInstance",
                      "line 5: ConvertTo-Json", "line 6: Where-Object without a script block",
                      "line 7: -shl"):
        assert construct in found, (construct, found)
    assert ps3_constructs(b"Get-Service | Where-Object { $_.Status -eq 'Running' }\n") == []


def test_the_collect_script_sets_utf8_output_and_the_ps2_script_writes_utf8():
    assert "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false" in \
        (ROOT / "agent/windows/collect.ps1").read_text(encoding="utf-8")
    ps2 = PS2_SCRIPT.read_text(encoding="utf-8")
    assert "$Utf8.GetBytes(" in ps2 and "OpenStandardOutput" in ps2


def test_the_ps2_send_loop_finds_the_http_status_on_an_inner_exception():
    """Only static evidence (no PowerShell 2.0 here): the catch must look through
    InnerException for the WebException, not catch [Net.WebException] directly, where
    $_.Exception.Response is always null and a rejected report blocks the spool."""
    ps2 = PS2_SCRIPT.read_text(encoding="utf-8")
    assert "catch [Net.WebException]" not in ps2
    assert re.search(r"while \(\$e -ne \$null -and -not \(\$e -is \[Net\.WebException\]\)\) "
                     r"\{ \$e = \$e\.InnerException \}", ps2)
    assert "Move-Item -Force $pending.FullName $rejected" in ps2


TONES = "\u0300\u0301\u0303\u0309\u0323"  # Vietnamese tone marks: cp1258 sends them apart


def as_cp1258(text: str) -> bytes:
    """What Windows' code page 1258 makes of Vietnamese text: the letter with its vowel
    mark precomposed where the code page has it (Â, Ă, Ơ…), the tone mark combining."""
    out = []
    for ch in text:
        nfd = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in nfd if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONES)) + tones)
    return "".join(out).encode("cp1258")


def test_output_is_read_as_utf8_and_netsh_words_survive_code_page_1258():
    from yte_compliance.agent.probes.firewall_windows import parse_netsh_state

    text = "Trạng thái                            BẬT\n"
    assert decode_output(text.encode("utf-8")) == text
    legacy = "\n".join(["Cài đặt Hồ sơ Miền:", "Trạng thái                            BẬT",
                        "Cài đặt Hồ sơ Riêng:", "Trạng thái                            TẮT",
                        "Cài đặt Hồ sơ Công cộng:", "Trạng thái                            BẬT"])
    raw = as_cp1258(legacy)
    decoded = decode_output(raw, fallback="cp1258")  # not UTF-8: the code page's reading
    assert "B\u00c2\u0323T" in decoded  # "BẬT" as B, Â, combining dot below, T
    states = parse_netsh_state(decoded)
    assert [states[p].enabled for p in ("Domain", "Private", "Public")] == [True, False, True]


def test_the_ps2_json_writer_escapes_every_control_character():
    """Static evidence (no PowerShell 2.0 here): the writer goes character by character
    and writes any code below 32 (and U+2028/U+2029) as \\u00XX; the collector side of the
    same case is the fixture win7-sp1-ps2-control-characters-in-wmi."""
    ps2 = PS2_SCRIPT.read_text(encoding="utf-8")
    writer = ps2[ps2.index("function ConvertTo-YteJson"):ps2.index("function Row(")]
    assert "ToCharArray()" in writer
    assert "elseif ($n -lt 32 -or $n -eq 0x2028 -or $n -eq 0x2029) " \
           "{ [void]$sb.Append('\\u' + $n.ToString('x4')) }" in writer
    assert ".Replace(\"`r\", '\\r')" not in writer  # the old five-character escape is gone
