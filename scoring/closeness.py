"""Which figures count as "the same": a tolerance learned per property from the claims' spread.

One relative constant cannot serve every kind of number. Census figures either agree to the
person or disagree for a reason (an older count, a vandal), so any tolerance merges figures that
differ; temperatures or prices read at slightly different moments never agree exactly, so a
tolerance of zero would see only disagreement. The spread of the claims tells which kind a
property is.

For each event with at least two claims, the relative median absolute deviation of its figures
from their median: 0 when most of its claims give one figure exactly, about the reporting noise
otherwise. A property's tolerance is ``spread`` times the median of that over its events: 0 for a
property whose events mostly agree exactly, about two noise widths for a noisy one. A property
with fewer than ``min_events`` such events borrows the pooled figure of all properties, and with
too few of those too, ``default``.

Pure numpy: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scoring.arrays import sort_order

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SPREAD = 2.0
MIN_EVENTS = 10
# The tolerance where too few events tell (the reconciler's ``default_tolerance``).
DEFAULT_TOLERANCE = 0.05


def event_relative_spread(event: IntArray, point: FloatArray, n_events: int) -> FloatArray:
    """Per event: median |figure - median| / |median| (NaN for events with fewer than 2)."""
    spread = np.full(n_events, np.nan)
    if event.shape[0] == 0:
        return spread
    order = sort_order(event, point)
    sorted_event = event[order]
    sorted_point = point[order]
    counts = np.bincount(sorted_event, minlength=n_events)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    median = _segment_median(sorted_point, starts, counts)
    deviation = np.abs(sorted_point - median[sorted_event])
    deviation_order = sort_order(sorted_event, deviation)
    mad = _segment_median(deviation[deviation_order], starts, counts)
    scale = np.abs(median)
    several = counts >= 2
    spread[several] = np.divide(
        mad[several], scale[several], out=np.zeros(int(several.sum())), where=scale[several] > 0
    )
    return spread


def _segment_median(values: FloatArray, starts: IntArray, counts: IntArray) -> FloatArray:
    """Median of each sorted segment (NaN for empty ones)."""
    median = np.full(counts.shape[0], np.nan)
    present = counts > 0
    lower = starts[present] + (counts[present] - 1) // 2
    upper = starts[present] + counts[present] // 2
    median[present] = (values[lower] + values[upper]) / 2.0
    return median


def learn_tolerances(
    event: IntArray,
    point: FloatArray,
    event_property: IntArray,
    n_properties: int,
    *,
    default: float,
    ceiling: float,
    spread: float = SPREAD,
    min_events: int = MIN_EVENTS,
) -> FloatArray:
    """The tolerance of each property (see the module docstring), within [0, ceiling]."""
    per_event = event_relative_spread(event, point, event_property.shape[0])
    measured = ~np.isnan(per_event)
    pooled = (
        spread * float(np.median(per_event[measured]))
        if int(measured.sum()) >= min_events
        else default
    )
    tolerances = np.full(n_properties, pooled)
    for prop in range(n_properties):
        mine = measured & (event_property == prop)
        if int(mine.sum()) >= min_events:
            tolerances[prop] = spread * float(np.median(per_event[mine]))
    clipped: FloatArray = np.clip(tolerances, 0.0, ceiling)
    return clipped
