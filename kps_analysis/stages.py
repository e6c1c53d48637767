"""The flow chain's queues: one registry of the stages and the columns that feed and drain them.

A clinic's elective flow has two queues (docs/architecture.md, the flow of data): patients referred and
waiting for a first visit (``new_visit``), and patients decided for treatment and
waiting for it (``treatment``). Every module that works per stage reads the stage's
columns from :data:`STAGES` here, so that a column is named in one place only:

========================  ==============================  ===============================
field                     new_visit                        treatment
========================  ==============================  ===============================
``queue``                 queue_new_visit                  queue_treatment
``over_limit``            waiting_over_90_new_visit        waiting_over_90_treatment
``inflow``                referrals_in                     treatment_decisions
``inflow_minus``          referrals_forwarded              (none)
``own``                   new_visits                       operations_elective
``purchased``             purchased_new_visits             purchased_operations
``other_removals``        removals_new_visit_other         removals_treatment_other
``planned``               planned_new_visits               planned_operations
``capacity``              new_visit_capacity               operation_capacity
``purchase``              purchase_new_visits              purchase_operations
========================  ==============================  ===============================

Flows are counts per period of the data (per week for weekly data, per month for
monthly data) [patients/period]; queues are counts at a period's end [patients].

Examples
--------
>>> from kps_analysis.stages import STAGES
>>> [s.queue for s in STAGES.values()]
['queue_new_visit', 'queue_treatment']
>>> STAGES["treatment"].production
('operations_elective', 'purchased_operations')
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Stage", "STAGES", "STAGE_NAMES", "stage"]


@dataclass(frozen=True)
class Stage:
    """One queue of the flow chain and the canonical columns that belong to it.

    Attributes
    ----------
    name : str
        Stage id: ``"new_visit"`` or ``"treatment"``.
    queue : str
        Patients waiting at a period's end [patients].
    over_limit : str
        Of them, those who have waited more than the guarantee limit [patients].
    inflow : str
        Arrivals to the queue [patients/period].
    inflow_minus : tuple of str
        Arrivals that leave at once (referrals forwarded elsewhere) [patients/period].
    own : str
        In-house production that empties the queue [patients/period].
    purchased : str
        Externally purchased production that empties the queue [patients/period].
    other_removals : str
        Patients removed without care (derived from an extract) [patients/period].
    planned : str
        Planned in-house production (plan mot utfall) [patients/period].
    capacity : str
        The capacity column of :func:`kps_analysis.capacity.capacity_from_resources`
        [patients/week].
    purchase : str
        The plan's column of purchased volume (:func:`kps_analysis.plan.rolling_plan`)
        [patients/period].
    label_sv, label_en : str
        The stage's name in Swedish and English.
    """

    name: str
    queue: str
    over_limit: str
    inflow: str
    inflow_minus: tuple[str, ...]
    own: str
    purchased: str
    other_removals: str
    planned: str
    capacity: str
    purchase: str
    label_sv: str
    label_en: str

    @property
    def production(self) -> tuple[str, str]:
        """Columns that empty the queue by care: own and purchased production."""
        return (self.own, self.purchased)

    @property
    def outflow(self) -> tuple[str, ...]:
        """Columns that empty the queue: own and purchased production, other removals."""
        return (self.own, self.purchased, self.other_removals)

    @property
    def required(self) -> tuple[str, str]:
        """Columns that must be present for the stage to be analysed: inflow and own production."""
        return (self.inflow, self.own)


#: The two stages of the flow chain, in the chain's order (first visit, then treatment).
STAGES = MappingProxyType({
    "new_visit": Stage(
        name="new_visit", queue="queue_new_visit", over_limit="waiting_over_90_new_visit",
        inflow="referrals_in", inflow_minus=("referrals_forwarded",), own="new_visits",
        purchased="purchased_new_visits", other_removals="removals_new_visit_other",
        planned="planned_new_visits", capacity="new_visit_capacity", purchase="purchase_new_visits",
        label_sv="Nybesök", label_en="First visit"),
    "treatment": Stage(
        name="treatment", queue="queue_treatment", over_limit="waiting_over_90_treatment",
        inflow="treatment_decisions", inflow_minus=(), own="operations_elective",
        purchased="purchased_operations", other_removals="removals_treatment_other",
        planned="planned_operations", capacity="operation_capacity", purchase="purchase_operations",
        label_sv="Behandling", label_en="Treatment"),
})

#: The stage ids in the chain's order.
STAGE_NAMES = tuple(STAGES)


def stage(name: str) -> Stage:
    """The :class:`Stage` called ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a stage, naming the known ones.

    Examples
    --------
    >>> stage("new_visit").inflow
    'referrals_in'
    >>> stage("x")
    Traceback (most recent call last):
    ...
    ValueError: stage must be one of ['new_visit', 'treatment'], got 'x'
    """
    try:
        return STAGES[name]
    except (KeyError, TypeError):
        raise ValueError(f"stage must be one of {list(STAGES)}, got {name!r}") from None
