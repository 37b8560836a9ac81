"""A site's LAN in network namespaces: a bridge, five devices, three with agents. The
scanner finds them all; coverage is 3 of 5; a printer leaves the count; the sweep sends
only into the configured subnet and stops within its bound (captured on the bridge)."""

import json
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import need_binary
from tests.fleet import make_bed
from tests.netns import need_root, serve_collector, sh

pytestmark = pytest.mark.integration
SUBNET = "198.18.1.0/24"
SCANNER = "198.18.1.2"
DEVICES = [(f"198.18.1.1{i}", mac) for i, mac in
           enumerate(["00:1b:21:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03",
                      "02:00:00:00:00:04", "02:00:00:00:00:05"], 1)]


class Lan:
    def __init__(self):
        need_root()
        tag = uuid.uuid4().hex[:5]
        self.lan, self.scan = f"yte-lan-{tag}", f"yte-scan-{tag}"
        self.devices = [f"yte-d{i}-{tag}" for i in range(1, 6)]
        self.links = []
        sh("ip", "netns", "add", self.lan)
        sh("ip", "netns", "exec", self.lan, "ip", "link", "add", "br0", "type", "bridge")
        sh("ip", "netns", "exec", self.lan, "ip", "link", "set", "br0", "up")
        for i, (ns, (ip, mac)) in enumerate(zip([self.scan, *self.devices],
                                                [(SCANNER, None), *DEVICES], strict=True)):
            sh("ip", "netns", "add", ns)
            host, port = f"yh{i}{tag}", f"yp{i}{tag}"
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", port)
            sh("ip", "link", "set", port, "netns", self.lan)
            sh("ip", "netns", "exec", self.lan, "ip", "link", "set", port, "master", "br0")
            sh("ip", "netns", "exec", self.lan, "ip", "link", "set", port, "up")
            sh("ip", "link", "set", host, "netns", ns)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", host, "name", "eth0")
            if mac:
                sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "address", mac)
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
            v6 = "fd00:7::2" if ns == self.scan else f"fd00:7::{ip.rsplit('.', 1)[1]}"
            sh("ip", "netns", "exec", ns, "ip", "-6", "addr", "add", f"{v6}/64", "dev", "eth0",
               "nodad")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

    def argv(self, ns, *argv):
        return ["ip", "netns", "exec", ns, *argv]

    def close(self):
        for ns in [self.lan, self.scan, *self.devices]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def sites_yaml(printer: str | None = None) -> str:
    devices = f"    devices:\n      - {{mac: '{printer}', kind: printer}}\n" if printer else ""
    return ("version: 1\nsites:\n  - id: tyt-xa-a\n    name: Trạm Y tế xã A\n"
            "    type: commune_station\n    province: Lâm Đồng\n    district: Đức Trọng\n"
            f"    subnets: ['{SUBNET}', 'fd00:7::/64']\n{devices}")


def start_collector(lan, bed):
    def scanner(*argv):
        return lan.argv(lan.scan, *argv)

    return serve_collector(scanner, scanner, bed.config, f"http://{SCANNER}:{bed.port}")


def devices_of(lan, bed):
    get = ("import urllib.request as u; print(u.urlopen(u.Request("
           f"'http://{SCANNER}:{bed.port}/api/v1/sites/tyt-xa-a/devices', "
           f"headers={{'Authorization': 'Bearer {bed.viewer}'}})).read().decode())")
    return json.loads(subprocess.run(lan.argv(lan.scan, "python3", "-c", get),
                                     capture_output=True, text=True, timeout=30).stdout)


@pytest.fixture
def lan():
    net = Lan()
    yield net
    net.close()


def test_five_seen_three_covered_then_a_printer_leaves_the_count(lan, tmp_path):
    tcpdump = need_binary("tcpdump")
    bed = make_bed(tmp_path / "c", sites_yaml=sites_yaml(), site_ids=("tyt-xa-a",))
    bed.config.write_text(bed.config.read_text().replace("listen: 127.0.0.1:",
                                                         f"listen: {SCANNER}:"))
    collector = start_collector(lan, bed)
    try:
        token = tmp_path / "token"
        token.write_text(bed.tokens["tyt-xa-a"])
        token.chmod(0o600)
        for i, ns in enumerate(lan.devices[:3], 1):  # three PCs run the agent
            cfg = tmp_path / f"agent{i}.yaml"
            cfg.write_text(f"site: tyt-xa-a\ncollector_url: http://{SCANNER}:{bed.port}\n"
                           f"token_file: {token}\nspool_dir: {tmp_path / f'spool{i}'}\n"
                           f"host_id: pc-{i}\n")
            done = subprocess.run(lan.argv(ns, sys.executable, "-m", "yte_compliance", "agent", "run",
                                           "--once", "--config", str(cfg)),
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        pcap = tmp_path / "bridge.pcap"
        capture = subprocess.Popen(lan.argv(lan.lan, tcpdump, "-i", "br0", "-U", "-w", str(pcap)),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        scanner_cfg = tmp_path / "scanner.yaml"
        scanner_cfg.write_text(f"site: tyt-xa-a\ncollector_url: http://{SCANNER}:{bed.port}\n"
                               f"token_file: {token}\nhost_id: scanner\n")
        bound = 20.0
        started = time.monotonic()
        done = subprocess.run(lan.argv(lan.scan, sys.executable, "-m", "yte_compliance", "discover",
                                       "--config", str(scanner_cfg), "--interface", "eth0",
                                       "--rate", "200", "--timeout", str(bound)),
                              capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
        time.sleep(1)
        capture.terminate()
        capture.wait(timeout=10)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["seconds"] <= bound and took <= bound + 15  # interpreter start aside
        assert {(d["ip"], d["mac"]) for d in result["devices"]} == set(DEVICES)
        assert {d["mac"]: d["vendor"] for d in result["devices"]}["00:1b:21:00:00:01"] == \
            "Intel Corporate"

        listed = devices_of(lan, bed)
        assert listed["coverage"] == {"devices": 5, "covered": 3, "ratio": 0.6}
        unmanaged = sorted((d["ip"], d["mac"]) for d in listed["devices"]
                           if d["state"] == "unmanaged")
        assert unmanaged == DEVICES[3:]

        # what the sweep sent: ARP requests into the configured subnet, nothing else from it
        from scapy.layers.inet import IP  # imported before reading: frames are dissected
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import ARP, Ether
        from scapy.utils import rdpcap

        scanner_mac = next(p[Ether].src for p in rdpcap(str(pcap))
                           if p.haslayer(ARP) and p[ARP].op == 1 and p[ARP].psrc == SCANNER)
        sent = [p for p in rdpcap(str(pcap)) if p[Ether].src == scanner_mac]
        requests = [p for p in sent if p.haslayer(ARP) and p[ARP].op == 1]
        from netaddr import IPAddress, IPNetwork

        assert 200 <= len(requests) <= 254 + 10
        assert all(IPAddress(p[ARP].pdst) in IPNetwork(SUBNET) for p in requests)
        on_link = [IPNetwork("ff02::/16"), IPNetwork("fe80::/10"), IPNetwork("fd00:7::/64")]
        echoes = [p for p in sent if p.haslayer(IPv6) and p[IPv6].dst == "ff02::1"]
        assert echoes  # the IPv6 link was asked too
        for p in sent:  # nothing left the site: ARP and IPv4 inside the subnet, IPv6 on the
            if p.haslayer(ARP):  # link (multicast, link-local, the site's IPv6 subnet)
                assert IPAddress(p[ARP].pdst) in IPNetwork(SUBNET)
            elif p.haslayer(IP):
                assert IPAddress(p[IP].dst) in IPNetwork(SUBNET), p.summary()
            elif p.haslayer(IPv6):
                assert any(IPAddress(p[IPv6].dst) in n for n in on_link), p.summary()
            else:
                raise AssertionError(f"unexpected frame from the scanner: {p.summary()}")
    finally:
        collector.terminate()
        collector.wait(timeout=10)

    # the fifth device is a printer: it leaves the denominator (the sites file says so)
    (bed.folder / "sites.yaml").write_text(sites_yaml(printer=DEVICES[4][1]))
    collector = start_collector(lan, bed)
    try:
        listed = devices_of(lan, bed)
        assert listed["coverage"] == {"devices": 4, "covered": 3, "ratio": 0.75}
    finally:
        collector.terminate()
        collector.wait(timeout=10)
