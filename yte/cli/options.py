"""Options shared by several commands, defined once."""

from __future__ import annotations

import click

collector_config = click.option("--config", "-c", "config_path", required=True,
                                type=click.Path(dir_okay=False), help="collector YAML file")
agent_config = click.option("--config", "-c", type=click.Path(dir_okay=False), required=True,
                            help="agent YAML file")
platform = click.option("--platform", "platform_name", type=click.Choice(["linux", "windows"]),
                        help="plan for this platform (default: this machine's)")
