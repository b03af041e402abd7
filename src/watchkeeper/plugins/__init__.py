"""Built-in check plugins, one family per directory; each module defines `CheckPlugin` values."""
