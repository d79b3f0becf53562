"""Figures of repeated runs: the median of each, with an interval.

Under TCG, instructions per packet vary from run to run by a few percent
(how the emulated cores and the host's load generator interleave), so a
headline figure is the median of N runs with an interval, N stated.

aggregate() combines documents of one shape (each run's `per_io`, its
`total`, or rows a script computes from a run) leaf by leaf:

- a numeric leaf becomes {"median", "low", "high", "n", "values"}: "values"
  holds each run's value in run order (None where a run has none), "n"
  how many runs had one;
- dicts are combined key by key; a key missing in some runs is combined
  over the runs that have it, and its "n" says how many;
- lists are combined element by element when every run's list has the same
  length (per-core lists); otherwise they become {"differs": [each run's]};
- None counts as "no value" beside numbers, dicts and lists;
- any other leaf (text, booleans) is kept when every run agrees, otherwise
  it becomes {"differs": [each run's value]}.

The interval, by default, is the lowest and the highest of the N runs. The
population median lies within [lowest, highest] of N independent runs with
probability 1 - 2 * 0.5**N: 50% at N = 2, 75% at N = 3, 93.8% at N = 5,
98.4% at N = 7 (it fails only if every run falls on the same side of the
median). It assumes nothing about the distribution. method="bootstrap"
gives instead a percentile-bootstrap interval of the median (95% by
default), from a fixed seed so that the same runs give the same interval;
it never reaches beyond the lowest and the highest run.

pick() turns a combined document back into one of the shape of a single
run (the medians, or the lows or the highs), so that code written for one
run reads it unchanged; format_interval() writes a figure as
"median [low–high]".
"""

import math
import random
from collections import Counter

MINMAX = "minmax"
BOOTSTRAP = "bootstrap"
METHODS = (MINMAX, BOOTSTRAP)
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 1
DEFAULT_CONFIDENCE = 0.95
AGGREGATE_KEYS = frozenset({"median", "low", "high", "n", "values"})

_MISSING = object()  # a run without this key (distinct from a None value)


def minmax_coverage(n):
    """Probability that the population median lies within [min, max] of n runs."""
    return 0.0 if n < 2 else 1 - 2 * 0.5 ** n


def median(values):
    """The median; of an even number of values, the mean of the middle two, kept a whole
    number when it is one (a core number stays 0, not 0.0)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    low, high = ordered[middle - 1], ordered[middle]
    if low == high:
        return low
    mean = (low + high) / 2
    if isinstance(low, int) and isinstance(high, int) and mean.is_integer():
        return int(mean)
    return mean


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def is_aggregate(value):
    """A combined numeric leaf: {"median", "low", "high", "n", "values"}."""
    return isinstance(value, dict) and value.keys() == AGGREGATE_KEYS


def is_differs(value):
    """A leaf on which the runs disagree: {"differs": [each run's value]}."""
    return isinstance(value, dict) and value.keys() == {"differs"}


class Interval:
    """How low and high are chosen: the runs' range, or a bootstrap of the median."""

    def __init__(self, method=MINMAX, confidence=DEFAULT_CONFIDENCE,
                 resamples=DEFAULT_RESAMPLES, seed=DEFAULT_SEED):
        if method not in METHODS:
            raise ValueError(f"interval method {method!r}: one of {', '.join(METHODS)}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence {confidence}: between 0 and 1")
        if resamples < 1:
            raise ValueError(f"resamples {resamples}: at least 1")
        self.method = method
        self.confidence = confidence
        self.resamples = resamples
        self.seed = seed

    def bounds(self, values):
        if self.method == MINMAX or len(values) < 2:
            return min(values), max(values)
        # A fresh generator per figure: a figure's interval depends on its own values and
        # the seed only, not on how many figures came before it in the document.
        rng = random.Random(self.seed)
        medians = sorted(median(rng.choices(values, k=len(values)))
                         for _ in range(self.resamples))
        tail = (1 - self.confidence) / 2
        low = medians[min(len(medians) - 1, math.floor(tail * len(medians)))]
        high = medians[max(0, math.ceil((1 - tail) * len(medians)) - 1)]
        return low, high

    def describe(self, n):
        """One sentence for a table: what N is and what the brackets mean."""
        runs = f"N = {n} run{'s' if n != 1 else ''}"
        if n == 0:
            return f"{runs}: no figures"
        if n == 1:
            return f"{runs}: a single value, no interval"
        if self.method == MINMAX:
            return (f"{runs}; each figure is median [lowest–highest] of the runs: the "
                    f"population median lies in that range with probability "
                    f"{minmax_coverage(n):.1%} (1 − 2·0.5^{n})")
        return (f"{runs}; each figure is median [{self.confidence:.0%} percentile-bootstrap "
                f"interval of the median, {self.resamples:,} resamples, seed {self.seed}]")

    def to_json(self, n):
        doc = {"method": self.method, "n": n, "text": self.describe(n)}
        if self.method == MINMAX:
            doc["coverage"] = round(minmax_coverage(n), 6)
        else:
            doc.update({"confidence": self.confidence, "resamples": self.resamples,
                        "seed": self.seed})
        return doc


def aggregate(docs, interval=None):
    """Combines documents of one shape (one per run; None for a run without one) leaf by
    leaf, as the module's docstring says. Returns None when no run has a document."""
    interval = interval or Interval()
    combined = _combine([_MISSING if d is None else d for d in docs], interval)
    return None if combined is _MISSING else combined


def _combine(values, interval):
    present = [v for v in values if v is not _MISSING]
    if not present:
        return _MISSING
    shaped = [v for v in present if v is not None]
    if shaped and all(isinstance(v, dict) for v in shaped):
        return _combine_dicts([v if isinstance(v, dict) else _MISSING for v in values],
                              interval)
    if shaped and all(isinstance(v, list) for v in shaped):
        if len({len(v) for v in shaped}) == 1:
            length = len(shaped[0])
            lists = [v if isinstance(v, list) else None for v in values]
            return [_none_if_missing(_combine([lst[i] if lst is not None else _MISSING
                                               for lst in lists], interval))
                    for i in range(length)]
        return _differs(values)
    if shaped and all(is_number(v) for v in shaped):
        aligned = [v if is_number(v) else None for v in values]
        numbers = [v for v in aligned if v is not None]
        low, high = interval.bounds(numbers)
        return {"median": median(numbers), "low": low, "high": high,
                "n": len(numbers), "values": aligned}
    if all(v == present[0] for v in present):
        return present[0]
    return _differs(values)


def _combine_dicts(dicts, interval):
    keys = []
    for d in dicts:
        if d is not _MISSING:
            keys.extend(k for k in d if k not in keys)
    out = {}
    for key in keys:
        value = _combine([d.get(key, _MISSING) if d is not _MISSING else _MISSING
                          for d in dicts], interval)
        if value is not _MISSING:
            out[key] = value
    return out


def _none_if_missing(value):
    return None if value is _MISSING else value


def _differs(values):
    return {"differs": [_none_if_missing(v) for v in values]}


def pick(doc, which="median"):
    """A combined document as one of a single run's shape: every numeric leaf replaced by
    its median (or "low", or "high"); where the runs disagree, the most common value
    (the earliest run's among equally common ones)."""
    if which not in ("median", "low", "high"):
        raise ValueError(f"pick {which!r}: median, low or high")
    if is_aggregate(doc):
        return doc[which]
    if is_differs(doc):
        seen = [v for v in doc["differs"] if v is not None]
        if not seen:
            return None
        counts = Counter(_hashable(v) for v in seen)
        best = max(counts.values())
        return next(v for v in seen if counts[_hashable(v)] == best)
    if isinstance(doc, dict):
        return {k: pick(v, which) for k, v in doc.items()}
    if isinstance(doc, list):
        return [pick(v, which) for v in doc]
    return doc


def _hashable(value):
    return repr(value) if isinstance(value, (dict, list)) else value


# --- formatting ----------------------------------------------------------------------------


def auto_decimals(*numbers):
    """Decimals that show a figure to about three significant digits, and whole numbers
    (instructions) without any."""
    numbers = [x for x in numbers if x is not None]
    if all(float(x).is_integer() for x in numbers):
        return 0
    largest = max(abs(x) for x in numbers)
    if largest >= 100:
        return 0
    if largest >= 10:
        return 1
    if largest >= 0.1:
        return 2
    return 3


def format_number(value, decimals=None):
    """1234567.8 -> '1,234,568'; None -> '-'."""
    if value is None:
        return "-"
    if decimals is None:
        decimals = auto_decimals(value)
    return f"{value:,.{decimals}f}"


def format_interval(leaf, decimals=None, runs=None):
    """An aggregate as 'median [low–high]' (thousands separators, one rounding for all
    three), with '(n=K)' when only K of the `runs` runs had the figure. A plain number is
    formatted alone; None is '-'."""
    if leaf is None:
        return "-"
    if not is_aggregate(leaf):
        if is_number(leaf):
            return format_number(leaf, decimals)
        return str(leaf)
    if decimals is None:
        decimals = auto_decimals(leaf["median"], leaf["low"], leaf["high"])
    text = (f"{format_number(leaf['median'], decimals)} "
            f"[{format_number(leaf['low'], decimals)}–{format_number(leaf['high'], decimals)}]")
    if runs is not None and leaf["n"] < runs:
        text += f" (n={leaf['n']})"
    return text
