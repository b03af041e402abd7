"""VirtualBox guest additions inside a VM."""
