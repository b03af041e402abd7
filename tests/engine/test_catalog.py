"""The built-in catalog: what plugins declare about themselves holds."""

from __future__ import annotations

from watchkeeper.engine.catalog import builtin_catalog


def test_a_plugin_reads_acknowledgements_exactly_when_it_has_the_parameter_for_them() -> None:
    for plugin in builtin_catalog().plugins:
        has_field = hasattr(plugin.default_params, "acknowledged_at")
        assert plugin.reads_acknowledgements == has_field, plugin.name

