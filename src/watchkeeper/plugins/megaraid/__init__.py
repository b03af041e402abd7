"""Broadcom/LSI MegaRAID controllers through storcli (JSON or text) or the older MegaCli:
virtual drives with the members that failed, physical drives with rebuild progress and error
counters, BBU/CacheVault, and the write cache policy that silently falls back to write-through."""
