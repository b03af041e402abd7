"""Configuration files an upgrade left unmerged: conflict markers and package leftovers."""
