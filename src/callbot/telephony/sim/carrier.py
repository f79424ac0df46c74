"""The simulated carrier (模拟运营商): which dial result a call gets, and after how long.

A result is drawn from a distribution per line, deterministically from (seed, callee, attempt): the
same campaign gives the same results on every run, and a redial (the next attempt) draws afresh. The
default distribution is a plausible one for Chinese outbound calling to a bought or cold list.

A line configures its own carrier in `line.settings["sim"]` (every key optional)::

    {"sim": {
        "distribution": {"ANSWERED": 60, "NO_ANSWER": 25, "BUSY": 15},  # weights, normalised; unlisted = 0
        "answer_rate": 0.6,            # or: keep the (default) mix of failures, set ANSWERED's share
        "ring_seconds": {"ANSWERED": [2, 8], "NO_ANSWER": [40, 55]},   # per result, [min, max] seconds
    }}

A customer property `sim_result` forces the result (a name of `DialStatus`, any case). A value that
is not a result does not raise: the call gets SYSTEM_ERROR with a reason naming the bad value, so it
shows in the call record where the user looks, rather than killing the dialer. A line without a
caller number gets FROM_PHONE_ERROR. A result whose ring time is longer than the request's ring
timeout becomes NO_ANSWER at the timeout (a forced result keeps its status and is cut to the timeout).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callbot.errors import ValidationFailed
from callbot.telephony.gateway import DialRequest, DialStatus
from callbot.telephony.sim.draw import unit

__all__ = [
    "DEFAULT_DISTRIBUTION",
    "DEFAULT_RING_SECONDS",
    "CarrierProfile",
    "DialDecision",
    "SimCarrier",
]

_NAMES = ", ".join(s.value for s in DialStatus)

# Shares of each result (they sum to 1). Roughly what outbound teams see on a cold list: under half
# answered, then no answer, busy and switched-off phones, and a tail of dead or unreachable numbers.
DEFAULT_DISTRIBUTION: Mapping[DialStatus, float] = {
    DialStatus.ANSWERED: 0.45,
    DialStatus.NO_ANSWER: 0.20,
    DialStatus.BUSY: 0.08,
    DialStatus.POWER_OFF: 0.08,
    DialStatus.OUT_OF_SERVICE: 0.05,
    DialStatus.REFUSED: 0.05,
    DialStatus.VACANT_NUMBER: 0.04,
    DialStatus.CAN_NOT_CONNECT: 0.03,
    DialStatus.FROM_PHONE_ERROR: 0.01,
    DialStatus.SYSTEM_ERROR: 0.01,
}

# Seconds from dialling to the result: ringing until the pick-up, or until the network's announcement
# (关机/空号/停机 come within seconds; 拒接 after some ringing; 无人接听 when the network gives up).
DEFAULT_RING_SECONDS: Mapping[DialStatus, tuple[float, float]] = {
    DialStatus.ANSWERED: (3.0, 15.0),
    DialStatus.NO_ANSWER: (40.0, 48.0),
    DialStatus.BUSY: (2.0, 6.0),
    DialStatus.POWER_OFF: (2.0, 5.0),
    DialStatus.OUT_OF_SERVICE: (2.0, 5.0),
    DialStatus.REFUSED: (5.0, 20.0),
    DialStatus.VACANT_NUMBER: (1.0, 4.0),
    DialStatus.CAN_NOT_CONNECT: (5.0, 15.0),
    DialStatus.FROM_PHONE_ERROR: (0.2, 1.0),
    DialStatus.SYSTEM_ERROR: (0.2, 1.0),
}

_SETTING_KEYS = ("distribution", "answer_rate", "ring_seconds")


@dataclass(frozen=True, slots=True)
class DialDecision:
    """What the carrier decided for one dial: `status` after `ring_seconds`, and why when unusual."""

    status: DialStatus
    ring_seconds: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CarrierProfile:
    """A validated carrier configuration: result shares (summing to 1) and ring-time ranges."""

    distribution: tuple[tuple[DialStatus, float], ...]
    ring_seconds: Mapping[DialStatus, tuple[float, float]]

    @classmethod
    def default(cls) -> CarrierProfile:
        return cls(tuple(DEFAULT_DISTRIBUTION.items()), dict(DEFAULT_RING_SECONDS))

    def share(self, status: DialStatus) -> float:
        return dict(self.distribution).get(status, 0.0)

    def pick(self, u: float) -> DialStatus:
        """The result at point `u` in [0, 1) of the cumulative distribution."""
        total = 0.0
        chosen = self.distribution[-1][0]
        for status, share in self.distribution:
            total += share
            if u < total and share > 0:
                return status
            if share > 0:
                chosen = status
        return chosen  # float rounding at the top end

    def with_settings(self, settings: Mapping[str, Any], where: str = "settings.sim") -> CarrierProfile:
        """This profile changed by a line's `settings["sim"]` dict; `ValidationFailed` lists every problem."""
        problems: list[tuple[str, str]] = []
        if not isinstance(settings, Mapping):
            raise ValidationFailed(
                "invalid sim line settings",
                [(where, "must be an object with distribution / answer_rate / ring_seconds")],
            )
        for key in settings:
            if key not in _SETTING_KEYS:
                problems.append((f"{where}.{key}", f"unknown setting; use {', '.join(_SETTING_KEYS)}"))
        distribution = dict(self.distribution)
        if "distribution" in settings:
            given = _weights(settings["distribution"], f"{where}.distribution", problems)
            if given is not None:
                distribution = given
        if "answer_rate" in settings:
            rate = settings["answer_rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                problems.append((f"{where}.answer_rate", f"must be a number from 0 to 1, got {rate!r}"))
            else:
                distribution = _with_answer_rate(distribution, float(rate), f"{where}.answer_rate", problems)
        ring = dict(self.ring_seconds)
        if "ring_seconds" in settings:
            ring.update(_ranges(settings["ring_seconds"], f"{where}.ring_seconds", problems))
        if problems:
            raise ValidationFailed(
                "invalid sim line settings: " + "; ".join(f"{p}: {m}" for p, m in problems), problems
            )
        return CarrierProfile(tuple((s, distribution.get(s, 0.0)) for s in DialStatus), ring)


def _status(name: object) -> DialStatus | None:
    if not isinstance(name, str):
        return None
    try:
        return DialStatus(name.strip().upper())
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _weights(value: object, where: str, problems: list[tuple[str, str]]) -> dict[DialStatus, float] | None:
    if not isinstance(value, Mapping) or not value:
        problems.append((where, "must be a non-empty object of result name -> weight"))
        return None
    weights: dict[DialStatus, float] = {}
    for name, raw in value.items():
        status = _status(name)
        weight = _number(raw)
        if status is None:
            problems.append((f"{where}.{name}", f"unknown dial result; use one of {_NAMES}"))
        elif weight is None or weight < 0:
            problems.append((f"{where}.{name}", f"weight must be a number >= 0, got {raw!r}"))
        else:
            weights[status] = weights.get(status, 0.0) + weight
    total = sum(weights.values())
    if len(weights) == len(value) and total <= 0:
        problems.append((where, "weights must not all be 0"))
        return None
    return {s: w / total for s, w in weights.items()} if total > 0 else None


def _with_answer_rate(
    distribution: Mapping[DialStatus, float], rate: float, where: str, problems: list[tuple[str, str]]
) -> dict[DialStatus, float]:
    failures = {s: w for s, w in distribution.items() if s is not DialStatus.ANSWERED and w > 0}
    rest = sum(failures.values())
    if rate < 1 and rest <= 0:
        problems.append((where, "the distribution has no result other than ANSWERED to fill the rest"))
        return dict(distribution)
    scaled: dict[DialStatus, float] = {s: (1 - rate) * w / rest for s, w in failures.items()} if rest > 0 else {}
    scaled[DialStatus.ANSWERED] = rate
    return scaled


def _ranges(value: object, where: str, problems: list[tuple[str, str]]) -> dict[DialStatus, tuple[float, float]]:
    if not isinstance(value, Mapping):
        problems.append((where, "must be an object of result name -> [min, max] seconds"))
        return {}
    ranges: dict[DialStatus, tuple[float, float]] = {}
    for name, raw in value.items():
        status = _status(name)
        if status is None:
            problems.append((f"{where}.{name}", f"unknown dial result; use one of {_NAMES}"))
            continue
        pair = _pair(raw)
        if pair is None:
            problems.append((f"{where}.{name}", f"must be [min, max] seconds with 0 <= min <= max, got {raw!r}"))
            continue
        ranges[status] = pair
    return ranges


def _pair(raw: object) -> tuple[float, float] | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = [raw, raw]
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != 2:
        return None
    low, high = _number(raw[0]), _number(raw[1])
    if low is None or high is None or not 0 <= low <= high:
        return None
    return low, high


class SimCarrier:
    """Decides dial results. Pure and stateless apart from its configuration: safe for every call at once.

    `seed` makes one campaign's results differ from another's; `distribution` (weights by result name)
    and `ring_seconds` (ranges by result name) replace the defaults for every line, and each line can
    change them again through its settings.
    """

    def __init__(
        self,
        seed: int | str = 0,
        distribution: Mapping[str, float] | None = None,
        ring_seconds: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.seed = seed
        overrides: dict[str, Any] = {}
        if distribution is not None:
            overrides["distribution"] = distribution
        if ring_seconds is not None:
            overrides["ring_seconds"] = ring_seconds
        self.profile = CarrierProfile.default().with_settings(overrides, where="carrier")

    def line_profile(self, line_settings: Mapping[str, Any]) -> CarrierProfile:
        """The profile for a line (its `settings["sim"]` over this carrier's); `ValidationFailed` if invalid."""
        sim = line_settings.get("sim")
        if sim is None:
            return self.profile
        return self.profile.with_settings(sim)

    def decide(self, request: DialRequest) -> DialDecision:
        """The result of dialling `request`: deterministic in (seed, callee, attempt) and the line's profile."""
        forced = request.properties.get("sim_result")
        try:
            profile = self.line_profile(request.line_settings)
        except ValidationFailed as exc:
            return DialDecision(DialStatus.SYSTEM_ERROR, 0.0, f"line {request.caller}: {exc.message}")
        if not request.caller.strip():
            return DialDecision(DialStatus.FROM_PHONE_ERROR, self._ring(profile, DialStatus.FROM_PHONE_ERROR, request),
                                "the line has no caller number")  # fmt: skip
        reason = ""
        if forced is not None and str(forced).strip():
            status = _status(forced)
            if status is None:
                return DialDecision(
                    DialStatus.SYSTEM_ERROR, 0.0, f"sim_result {forced!r} is not a dial result; use one of {_NAMES}"
                )
            reason = f"forced by sim_result={status.value}"
        else:
            status = profile.pick(unit(self.seed, "result", request.callee, request.attempt))
        ring = self._ring(profile, status, request)
        if ring > request.ring_timeout_s:
            ring = max(0.0, request.ring_timeout_s)
            if not reason and status is not DialStatus.NO_ANSWER:
                return DialDecision(DialStatus.NO_ANSWER, ring, f"{status.value} came after the ring timeout")
        return DialDecision(status, round(ring, 2), reason)

    def _ring(self, profile: CarrierProfile, status: DialStatus, request: DialRequest) -> float:
        low, high = profile.ring_seconds[status]
        return low + (high - low) * unit(self.seed, "ring", request.callee, request.attempt)
