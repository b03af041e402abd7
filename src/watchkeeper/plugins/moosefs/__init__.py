"""MooseFS: chunk redundancy per goal, chunkservers and their disks, cluster space, per-path guarantees."""
