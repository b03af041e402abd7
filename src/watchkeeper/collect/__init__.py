"""Fetching agent output and splitting it into sections; never interprets a section."""
