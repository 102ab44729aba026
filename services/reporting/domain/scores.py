"""Decision 766/QĐ-TTg point estimates (điểm ước tính) where a formula is known.

The groups, maxima and formulas were reverse-engineered from the national portal (docs/domain.md §3.3). A score
is `estimate=True` unless its rate is counted from recorded facts rather than an assumption: the electronic
result (a signed result file), dossiers digitised and reuse (the scan manifests) and the e-certified copy service
(certification acts). Typical formula: points = min(max, max × rate).
"""

from __future__ import annotations

from dataclasses import dataclass

from .measures import Rate

SATISFACTION_FULL_AT = 0.9  # full points from 90 % satisfied
REUSE_FULL_AT = 0.8  # "reuse of digitised data": full points from 80 % (§3.3)


@dataclass(frozen=True, slots=True)
class Score:
    code: str
    max_points: float
    points: float | None  # None when the underlying rate has no denominator
    basis: str
    estimate: bool = True


def _linear(code: str, max_points: float, rate: Rate, basis: str, estimate: bool = True) -> Score:
    value = rate.value
    points = None if value is None else round(min(max_points, max_points * value), 2)
    return Score(code, max_points, points, basis, estimate)


def _reuse(rate: Rate) -> Score:
    value = rate.value
    points = None if value is None else round(min(2.0, 2.0 * value / REUSE_FULL_AT), 2)
    return Score("REUSE_DIGITISED_DATA", 2, points, "2 at >= 80% of scanned papers reused, linear below",
                 estimate=False)


def _satisfaction(rate: Rate) -> Score:
    value = rate.value
    points = 0.0 if value is None else round(min(6.0, 6.0 * value / SATISFACTION_FULL_AT), 2)  # 0: unrated
    basis = "6 at >= 90% satisfied, linear below, 0 if nobody rated"
    return Score("DOSSIER_RECEIVING_SATISFACTION", 6, points, basis)


def _certified_copy_service(rate: Rate) -> Score:
    points = 2.0 if rate.numerator > 0 else 0.0
    basis = "2 when e-certified copies were issued (service offered)"
    return Score("ELECTRONIC_CERTIFIED_COPY", 2, points, basis, estimate=False)


def scores_766(on_time: Rate, online: Rate, digitised: Rate, electronic: Rate, certified: Rate,
               payment: Rate, satisfaction: Rate, reuse: Rate) -> tuple[Score, ...]:
    return (
        _linear("PROGRESS_ON_TIME", 20, on_time, "20 × on-time rate"),
        _linear("ONLINE_FULL_DOSSIERS", 12, online, "12 × full-online rate"),
        _linear("ONLINE_PAYMENT_DOSSIERS", 6, payment, "6 × online payment rate"),
        _linear("ORIGINAL_RESULT_AVAILABLE", 6, electronic, "6 × signed electronic result rate", estimate=False),
        _linear("SO_HOA_GIAY_TO_GIAI_QUYET", 4, digitised, "4 × dossier digitisation rate (manifests)",
                estimate=False),
        _certified_copy_service(certified),
        _reuse(reuse),
        _satisfaction(satisfaction),
    )
