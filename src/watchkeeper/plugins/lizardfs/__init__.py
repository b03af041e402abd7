"""LizardFS: the MooseFS checks over a LizardFS master's state, read from `lizardfs-admin`."""
