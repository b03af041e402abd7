"""Ceph: health with every check named, redundancy (degraded, misplaced, unfound objects) with
recovery rate and ETA, and pool fill with time-until-full, from `ceph ... --format json`."""
