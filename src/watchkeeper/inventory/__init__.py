"""Inventory sources make, change, retire and remove hosts (`model/inventory.py` says how)."""
