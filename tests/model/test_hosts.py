"""Host options are typed and checked once, when a host is made, with errors that say what fits."""

from __future__ import annotations

import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.model.hosts import DEFAULT_TIMEOUT_S, HostConfig


def test_options_are_read_into_their_types() -> None:
    host = HostConfig("nas1", "ssh://root@nas1", 30.0, {"timeout_s": 5, "agent_command": ["cat", "/tmp/out"],
                                                        "labels": {"role": "storage"}, "max_attempts": 5})
    assert host.opts.timeout_s == 5.0 and isinstance(host.opts.timeout_s, float)
    assert host.opts.agent_command == ("cat", "/tmp/out") and host.opts.labels == {"role": "storage"}
    assert host.opts.max_attempts == 5 and host.retry_interval_s == 30.0
    assert HostConfig("web1", "local").opts.timeout_s == DEFAULT_TIMEOUT_S
    assert HostConfig("web1", "local", 10.0).retry_interval_s == 10.0


@pytest.mark.parametrize(("options", "message"), [
    ({"timeout": 5}, "unknown host option(s) timeout; known: action_url, address, agent_command"),
    ({"timeout_s": "5"}, "option timeout_s must be a number of seconds"),
    ({"timeout_s": True}, "option timeout_s must be a number of seconds"),
    ({"max_output_bytes": -1}, "option max_output_bytes must be a whole number of bytes"),
    ({"agent_command": "cat /tmp/out; rm -rf /"}, "agent_command must be a list of arguments, not a shell string"),
    ({"agent_command": []}, "agent_command must be a list of arguments"),
    ({"labels": {"role": 5}}, "labels must be a JSON object of strings"),
    ({"max_attempts": 0}, "max_attempts must be a whole number from 1 to 100"),
    ({"notes": "two\nlines"}, "notes must be one line of text"),
    ({"address": "x" * 3000}, "address must be one line of text"),
    ({"os": "windows"}, "option os must be linux or freebsd"),
])
def test_an_option_that_does_not_fit_is_refused_with_the_reason(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HostConfig("nas1", "local", options=options)


def test_the_typed_view_does_not_make_two_equal_hosts_differ() -> None:
    assert HostConfig("nas1", "local", options={"timeout_s": 5}) == HostConfig("nas1", "local",
                                                                                options={"timeout_s": 5.0})
