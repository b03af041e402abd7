"""OpenNebula clouds, read from the frontend's XML-RPC API: hosts, VMs, datastores, free capacity."""
