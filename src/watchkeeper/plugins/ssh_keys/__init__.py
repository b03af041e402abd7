"""Who may log in with a key: the authorized SSH keys per user, and changes since discovery."""
