"""Processes: how many, zombies, and the ones a rule says must be running."""
