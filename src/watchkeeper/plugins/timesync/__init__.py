"""Time synchronisation: chrony, ntpd or systemd-timesyncd, whichever the host runs."""
