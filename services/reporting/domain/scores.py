"""Decision 766/QĐ-TTg point estimates (điểm ước tính) where a formula is known.

The groups, maxima and formulas were reverse-engineered from the national portal (DOMAIN §3.3), so every
score is marked `estimate=True`. Typical formula: points = min(max, max × rate).
"""

from __future__ import annotations

from dataclasses import dataclass

from .measures import Rate

SATISFACTION_FULL_AT = 0.9  # full points from 90 % satisfied


@dataclass(frozen=True, slots=True)
class Score:
    code: str
    max_points: float
    points: float | None  # None when the underlying rate has no denominator
    basis: str
    estimate: bool = True


def _linear(code: str, max_points: float, rate: Rate, basis: str) -> Score:
    value = rate.value
    points = None if value is None else round(min(max_points, max_points * value), 2)
    return Score(code, max_points, points, basis)


def _satisfaction(rate: Rate) -> Score:
    value = rate.value
    points = 0.0 if value is None else round(min(6.0, 6.0 * value / SATISFACTION_FULL_AT), 2)  # 0: unrated
    basis = "6 at >= 90% satisfied, linear below, 0 if nobody rated"
    return Score("DOSSIER_RECEIVING_SATISFACTION", 6, points, basis)


def _certified_copy_service(rate: Rate) -> Score:
    points = 2.0 if rate.numerator > 0 else 0.0
    basis = "2 when e-certified copies were issued (service offered)"
    return Score("ELECTRONIC_CERTIFIED_COPY", 2, points, basis)


def scores_766(on_time: Rate, online: Rate, digitised: Rate, electronic: Rate, certified: Rate,
               payment: Rate, satisfaction: Rate) -> tuple[Score, ...]:
    return (
        _linear("PROGRESS_ON_TIME", 20, on_time, "20 × on-time rate"),
        _linear("ONLINE_FULL_DOSSIERS", 12, online, "12 × full-online rate"),
        _linear("ONLINE_PAYMENT_DOSSIERS", 6, payment, "6 × online payment rate"),
        _linear("ORIGINAL_RESULT_AVAILABLE", 6, electronic, "6 × electronic result rate"),
        _linear("SO_HOA_GIAY_TO_GIAI_QUYET", 4, digitised, "4 × dossier digitisation rate"),
        _certified_copy_service(certified),
        _satisfaction(satisfaction),
    )
