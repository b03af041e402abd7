"""A plugin run becomes a service outcome: exit code to state, text to summary and details,
perfdata to metrics.

Whatever went wrong is said in the summary and makes the service at least UNKNOWN. A plugin
that said CRIT stays CRIT even when its output was also malformed: a broken message must not
hide an outage.
"""

from __future__ import annotations

import signal as signals

from watchkeeper.checkapi import State, render
from watchkeeper.checkapi.plugin_output import parse_plugin_output, to_metrics
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.plugin_runs import PluginRun

MAX_SUMMARY = 1000


def outcome_of(name: str, run: PluginRun, timeout_s: float) -> Outcome:
    if run.error:
        return Outcome(name, State.UNKNOWN, run.error)
    if run.timed_out:
        escaped = (f" and {run.escaped} processes it had started outside its group" if run.escaped else "")
        return Outcome(name, State.UNKNOWN, f"the plugin gave no result within {timeout_s:g} s and was killed "
                       f"with its process group{escaped}; raise --timeout if it is just slow", _stderr(run))
    if run.signal is not None:
        return Outcome(name, State.UNKNOWN, f"the plugin was killed by {_signal_name(run.signal)}",
                       _stderr(run))
    text, not_utf8 = _decode(run.stdout)
    output = parse_plugin_output(text)
    code = run.exit_code if run.exit_code is not None else 3
    problems = []
    state = State(code) if 0 <= code <= 3 else State.UNKNOWN
    if not 0 <= code <= 3:
        problems.append(f"the plugin exited with status {code}; only 0-3 (OK, WARN, CRIT, UNKNOWN) are defined")
    if not output.summary:
        problems.append(f"the plugin printed nothing (exit status {code})" +
                        (f"; stderr: {_first_line(run.stderr)}" if run.stderr.strip() else ""))
    if run.truncated:
        problems.append(f"the plugin printed more than {render.bytes_(run.limit)}; the rest was dropped")
    if not_utf8:
        problems.append("the output is not UTF-8 (shown as Latin-1); give the plugin a UTF-8 locale or fix it")
    summary = output.summary[:MAX_SUMMARY]
    if problems:
        state = State.worst(state, State.UNKNOWN)
        summary = "; ".join(problems) + (f": {summary}" if summary else "")
    details = output.long_output
    if output.problems:
        details = "\n".join(filter(None, [details, "perfdata ignored: " + "; ".join(output.problems)]))
    if run.escaped:
        details = "\n".join(filter(None, [details, f"{run.escaped} processes the plugin left running outside its "
                                                   "process group held its output open and were killed"]))
    return Outcome(name, state, summary, details, to_metrics(output.perfdata))


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("latin-1"), True


def _first_line(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip().splitlines()[0][:300]


def _stderr(run: PluginRun) -> str:
    return "stderr: " + run.stderr.decode("utf-8", "replace").strip() if run.stderr.strip() else ""


def _signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"
