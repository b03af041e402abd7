"""SMART of every disk smartctl can reach, including disks behind a MegaRAID controller:
overall health, reallocated/pending/uncorrectable sectors, SAS grown defects, NVMe wear and
media errors, temperature."""
