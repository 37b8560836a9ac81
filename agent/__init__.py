"""The agent: probes read a PC's facts; a Report is built, spooled and sent. No targets here."""
