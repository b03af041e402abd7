"""LVM: volume groups (free space, missing PVs, partial LVs, snapshot fill) and thin pools
with their own levels for data and metadata, each with time-until-full."""
