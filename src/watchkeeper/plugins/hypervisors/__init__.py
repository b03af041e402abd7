"""Hypervisors (libvirt, Xen): free capacity for more domains, and each domain."""
