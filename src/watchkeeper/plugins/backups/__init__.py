"""Backups: Bacula and Bareos through bconsole."""
