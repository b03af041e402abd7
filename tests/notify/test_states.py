from watchkeeper.model.alerts import AlertPolicy, AlertState
from watchkeeper.model.states import CRIT, OK, STALE, WARN
from watchkeeper.notify.states import advance, flap_percent

POLICY = AlertPolicy(max_attempts=3)


def feed(alert: AlertState, states: list[int], policy: AlertPolicy = POLICY) -> list[list[str]]:
    return [[f"{t.kind} {t.previous}>{t.state}" for t in advance(alert, s, float(i), policy)]
            for i, s in enumerate(states, start=1)]


def test_a_problem_becomes_hard_on_the_third_result_in_a_row() -> None:
    alert = AlertState()
    assert feed(alert, [CRIT, CRIT, CRIT]) == [[], [], ["HARD 0>2"]]
    assert alert.hard == CRIT and alert.attempt == 3 and alert.hard_since == 3.0


def test_a_soft_problem_that_recovers_is_never_hard() -> None:
    alert = AlertState()
    assert feed(alert, [CRIT, CRIT, OK, CRIT, CRIT, OK]) == [[]] * 6
    assert alert.hard == OK


def test_warn_then_crit_count_as_attempts_of_one_problem() -> None:
    assert feed(AlertState(), [WARN, CRIT, CRIT]) == [[], [], ["HARD 0>2"]]


def test_a_change_between_problems_while_hard_is_hard_at_once() -> None:
    alert = AlertState()
    assert feed(alert, [WARN, WARN, WARN, CRIT])[-1] == ["HARD 1>2"]


def test_a_recovery_from_a_hard_problem_is_hard_at_once() -> None:
    assert feed(AlertState(), [CRIT, CRIT, CRIT, OK])[-1] == ["HARD 2>0"]


def test_one_attempt_makes_every_problem_hard_at_once() -> None:
    assert feed(AlertState(), [CRIT], AlertPolicy(max_attempts=1)) == [["HARD 0>2"]]


def test_stale_is_its_own_hard_state_at_once() -> None:
    alert = AlertState()
    assert feed(alert, [STALE]) == [["HARD 0>4"]]
    assert alert.hard == STALE


def test_a_service_changing_on_every_check_starts_flapping_and_stops_when_it_settles() -> None:
    alert = AlertState()
    results = feed(alert, [CRIT, OK] * 4 + [OK] * 20, AlertPolicy(max_attempts=1))
    starts = [i for i, r in enumerate(results) if any("FLAPPING_START" in t for t in r)]
    stops = [i for i, r in enumerate(results) if any("FLAPPING_STOP" in t for t in r)]
    assert len(starts) == 1 and len(stops) == 1 and starts[0] < 8 < stops[0]
    assert not alert.flapping


def test_flap_percent_weighs_recent_changes_more() -> None:
    assert flap_percent(0) == 0.0
    assert round(flap_percent((1 << 20) - 1), 6) == 100.0
    assert flap_percent(1) > flap_percent(1 << 19)  # newest vs oldest
    assert round(flap_percent(1), 2) == 6.0 and round(flap_percent(1 << 19), 2) == 4.0


def test_a_steady_ok_service_costs_nothing() -> None:
    alert = AlertState()
    assert advance(alert, OK, 1.0, POLICY) == [] and alert == AlertState()
