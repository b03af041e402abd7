"""Temperatures, fans, power supplies and other readings, from any source: one value, the same checks."""
