"""libvirt hypervisors (KVM, and anything else libvirt drives): the node's capacity and each domain."""
