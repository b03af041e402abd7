"""Linux software RAID from /proc/mdstat: degraded arrays with the failed members named and the
redundancy left, and recovery, resync, reshape or check progress with an ETA."""
