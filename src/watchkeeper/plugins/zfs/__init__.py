"""ZFS pools: state, faulted or erroring devices named, resilver and scrub progress with ETA,
age of the last scrub, fill with time-until-full and compression ratio. Reads OpenZFS and
the older zfs-fuse/Solaris output alike."""
