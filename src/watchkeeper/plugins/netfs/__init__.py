"""Network filesystems (NFS, CIFS): mounted, answering, and how full."""
