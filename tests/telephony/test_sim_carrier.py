"""The simulated carrier: deterministic results, the configured distribution, forced results, line settings."""

from __future__ import annotations

from collections import Counter

import pytest

from callbot.errors import ValidationFailed
from callbot.telephony.gateway import DialRequest, DialStatus
from callbot.telephony.sim.carrier import DEFAULT_DISTRIBUTION, SimCarrier


def request(callee: str, attempt: int = 1, **kwargs: object) -> DialRequest:
    return DialRequest(call_id=f"c-{callee}-{attempt}", caller="02100000000", callee=callee, attempt=attempt,
                       **kwargs)  # type: ignore[arg-type]  # fmt: skip


NUMBERS = [f"138{n:08d}" for n in range(4000)]


def test_same_seed_same_results_other_seed_other_results() -> None:
    first = [SimCarrier(seed=7).decide(request(n)) for n in NUMBERS[:200]]
    again = [SimCarrier(seed=7).decide(request(n)) for n in NUMBERS[:200]]
    other = [SimCarrier(seed=8).decide(request(n)) for n in NUMBERS[:200]]
    assert first == again
    assert [d.status for d in first] != [d.status for d in other]


def test_a_redial_draws_a_new_result() -> None:
    carrier = SimCarrier(seed=1)
    changed = sum(carrier.decide(request(n, 1)).status != carrier.decide(request(n, 2)).status for n in NUMBERS[:200])
    assert changed > 60


def test_default_distribution_is_followed() -> None:
    carrier = SimCarrier(seed=3)
    counts = Counter(carrier.decide(request(n)).status for n in NUMBERS)
    for status, share in DEFAULT_DISTRIBUTION.items():
        assert abs(counts[status] / len(NUMBERS) - share) < 0.025, status
    assert 0.40 <= counts[DialStatus.ANSWERED] / len(NUMBERS) <= 0.50


def test_line_distribution_and_ring_times_are_followed() -> None:
    carrier = SimCarrier(seed=3)
    settings = {"sim": {"distribution": {"answered": 70, "BUSY": 30}, "ring_seconds": {"ANSWERED": [2, 4]}}}
    decisions = [carrier.decide(request(n, line_settings=settings)) for n in NUMBERS[:2000]]
    counts = Counter(d.status for d in decisions)
    assert set(counts) == {DialStatus.ANSWERED, DialStatus.BUSY}
    assert abs(counts[DialStatus.ANSWERED] / 2000 - 0.7) < 0.03
    assert all(2 <= d.ring_seconds <= 4 for d in decisions if d.status is DialStatus.ANSWERED)
    assert all(2 <= d.ring_seconds <= 6 for d in decisions if d.status is DialStatus.BUSY)


def test_answer_rate_keeps_the_mix_of_failures() -> None:
    profile = SimCarrier().line_profile({"sim": {"answer_rate": 0.8}})
    assert profile.share(DialStatus.ANSWERED) == pytest.approx(0.8)
    assert profile.share(DialStatus.NO_ANSWER) == pytest.approx(0.2 * 0.20 / 0.55)
    assert sum(s for _, s in profile.distribution) == pytest.approx(1.0)


def test_bad_line_settings_name_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        SimCarrier().line_profile({"sim": {
            "distribution": {"ANSWERD": 1, "BUSY": -1}, "answer_rate": 2, "ring_seconds": {"BUSY": [5, 1]},
            "speed": 3,
        }})  # fmt: skip
    where = [p for p, _ in caught.value.problems]
    assert where == [
        "settings.sim.speed",
        "settings.sim.distribution.ANSWERD",
        "settings.sim.distribution.BUSY",
        "settings.sim.answer_rate",
        "settings.sim.ring_seconds.BUSY",
    ]
    assert "use one of ANSWERED, NO_ANSWER" in caught.value.message
    with pytest.raises(ValidationFailed, match="must not all be 0"):
        SimCarrier().line_profile({"sim": {"distribution": {"BUSY": 0}}})


def test_bad_line_settings_at_dial_time_are_a_system_error_with_the_reason() -> None:
    decision = SimCarrier().decide(request("13800000001", line_settings={"sim": {"distribution": {"X": 1}}}))
    assert decision.status is DialStatus.SYSTEM_ERROR
    assert "settings.sim.distribution.X" in decision.reason


@pytest.mark.parametrize("value", ["BUSY", "busy", " Vacant_Number "])
def test_sim_result_forces_the_result(value: str) -> None:
    carrier = SimCarrier(seed=5)
    decisions = [carrier.decide(request(n, properties={"sim_result": value})) for n in NUMBERS[:50]]
    assert {d.status.value for d in decisions} == {value.strip().upper()}
    assert all(d.reason.startswith("forced by sim_result") for d in decisions)


def test_a_bad_sim_result_is_a_visible_system_error() -> None:
    decision = SimCarrier().decide(request("13800000001", properties={"sim_result": "ANSWER"}))
    assert decision.status is DialStatus.SYSTEM_ERROR
    assert decision.reason.startswith("sim_result 'ANSWER' is not a dial result; use one of ANSWERED")


def test_ring_timeout_turns_a_late_answer_into_no_answer() -> None:
    carrier = SimCarrier(seed=2, distribution={"ANSWERED": 1}, ring_seconds={"ANSWERED": [20, 30]})
    decision = carrier.decide(request("13800000001", ring_timeout_s=10))
    assert (decision.status, decision.ring_seconds) == (DialStatus.NO_ANSWER, 10)
    forced = carrier.decide(request("13800000001", ring_timeout_s=10, properties={"sim_result": "ANSWERED"}))
    assert (forced.status, forced.ring_seconds) == (DialStatus.ANSWERED, 10)


def test_a_line_without_a_caller_number_is_a_from_phone_error() -> None:
    decision = SimCarrier().decide(DialRequest(call_id="c", caller="", callee="13800000001"))
    assert decision.status is DialStatus.FROM_PHONE_ERROR
