"""systemd: units that failed."""
