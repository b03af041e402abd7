"""The daemon's own set-up: what it changes in its process before it checks anything."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import logging, resource, sys
from watchkeeper.daemon import raise_open_file_limit
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
before, after = raise_open_file_limit()
print(before, after, resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard or hard == resource.RLIM_INFINITY)
"""


def test_the_soft_open_file_limit_is_raised_to_the_hard_one_and_the_log_says_so() -> None:
    # in a child process: the test runner's own limit stays as it is
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    log, figures = result.stdout.strip().rsplit("\n", 1)
    before, after, at_hard = figures.split()
    assert before == "256" and int(after) > 256 and at_hard == "True"
    assert "soft limit raised from 256" in log
