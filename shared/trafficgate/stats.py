"""Anytime-valid sequential tests: decide as soon as the evidence suffices, whenever one looks.

Layer L0 (leaves): pure maths on the standard library; no I/O, nothing of ours imported.

Testing by betting (Waudby-Smith and Ramdas, "Estimating means of bounded random variables by
betting", JRSS B 2023; Shafer, "Testing by betting", JRSS A 2021). To show that the mean of
observations in [0, 1] lies above a threshold ``m``, a gambler starts with capital 1 and, before
each observation ``x``, stakes a fraction ``lambda >= 0`` chosen from the past alone:
``capital <- capital * (1 + lambda (x - m))``. While the mean is ``m`` or less, the capital is a
nonnegative supermartingale; by Ville's inequality it *ever* reaches ``1/alpha`` with probability at
most ``alpha``, however often one looks and whenever one stops. So the test may look after every
observation and stop at the first crossing: no correction for peeking, no fixed sample size. The
mirror image (``1 - lambda (x - m)``) shows the mean below ``m``.

The stake follows aGRAPA (approximate growth-rate adaptive predictable plug-in, ibid. §5): about
``(mean - m) / (s^2 + (mean - m)²)`` from the mean and variance seen so far, shrunk towards ``m`` and
capped below ruin. Far from ``m`` the capital grows fast; near ``m`` the bets stay small.

A gate uses both directions on one stream: "above" is evidence of a regression (Failed, at level
``alpha_above``, the false-rollback rate), "below" evidence that the green side is good enough (a
pass, at ``alpha_below``, the missed-regression rate). Neither by the cap: inconclusive.

Assumptions, said once: the observations are independent, or at least their conditional means
given the past stay on the null's side (the supermartingale argument needs no more); they lie in
[0, 1]. The paired comparisons below send each request to green and to blue at the same moment,
so what changes with time (load, caches, a noisy neighbour) hits both sides of a pair alike and
cancels in the difference; concurrency only makes neighbouring pairs share such conditions, which
the pairing absorbs as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["above", "below"]

#: Largest share of the ruin-free stake a bet may take: 1 would risk the whole capital on one
#: observation (one error after many clean requests would end the test for good).
DEFAULT_BET_CAP = 0.95

#: The largest log e-value shown: e**700 is about 1e304, and e**710 overflows a float.
MAX_LOG_EVIDENCE = 700.0
#: Weight, in observations, of the prior guesses (mean ``m``, variance 1/4) behind the first bets.
_PRIOR_WEIGHT = 1.0


def _require_fraction(name: str, value: float, *, closed: bool = False) -> None:
    ok = (0.0 <= value <= 1.0) if closed else (0.0 < value < 1.0)
    if not (isinstance(value, int | float) and math.isfinite(value) and ok):
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")


@dataclass
class _Capital:
    """One gambler: the log of its capital betting that the mean is on ``sign``'s side of ``m``."""

    threshold: float
    sign: int  # +1: the mean is above the threshold; -1: below
    bet_cap: float
    log_capital: float = 0.0

    @property
    def max_bet(self) -> float:
        # 1 + lambda (x - m) >= 0 for every x in [0, 1] needs lambda <= 1/m (above) or lambda <= 1/(1 - m) (below).
        room = self.threshold if self.sign > 0 else 1.0 - self.threshold
        return self.bet_cap / room

    def bet(self, n: int, total: float, squares: float) -> float:
        """aGRAPA's stake from the ``n`` observations so far (their sum and sum of squares)."""
        m = self.threshold
        mean = (total + _PRIOR_WEIGHT * m) / (n + _PRIOR_WEIGHT)
        spread = squares - (total * total / n if n else 0.0)
        variance = (max(spread, 0.0) + _PRIOR_WEIGHT * 0.25) / (n + _PRIOR_WEIGHT)
        gap = self.sign * (mean - m)
        if gap <= 0.0:
            return 0.0
        return min(gap / (variance + gap * gap), self.max_bet)

    def take(self, x: float, stake: float) -> None:
        self.log_capital += math.log1p(self.sign * stake * (x - self.threshold))


#: Shares of the ruin-free stake of :class:`_Mixture`'s gamblers: from timid to nearly all in.
MIXTURE_SHARES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass
class _Mixture:
    """Several gamblers with fixed stakes, each given an equal share of the capital: their mean is
    a test supermartingale as each of them is, so Ville's inequality holds for it too.

    Where aGRAPA must first see the mean cross the threshold before it bets (one error after a
    clean start is not yet a trend to it), the bold gamblers here bet from the first observation:
    a green failing every request is shown failing after 2 requests instead of 7, one failing one
    in five after about 16 instead of 44. The price is ``ln(len(shares))`` of evidence, which only
    a long, near-threshold run notices.
    """

    threshold: float
    sign: int
    bet_cap: float
    shares: tuple[float, ...] = MIXTURE_SHARES
    logs: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.logs = [0.0] * len(self.shares)

    @property
    def log_capital(self) -> float:
        top = max(self.logs)
        return top + math.log(sum(math.exp(v - top) for v in self.logs) / len(self.logs))

    def take(self, x: float) -> None:
        room = self.threshold if self.sign > 0 else 1.0 - self.threshold
        for i, share in enumerate(self.shares):
            stake = share * self.bet_cap / room
            self.logs[i] += math.log1p(self.sign * stake * (x - self.threshold))


@dataclass
class SequentialMean:
    """Anytime-valid test of the mean of observations in [0, 1] against ``threshold``.

    Parameters
    ----------
    threshold
        The mean to compare with, in (0, 1).
    alpha_above
        Chance, when the mean is at most ``threshold``, that the test ever says "above"; None: it
        never says "above" (a one-sided test; the evidence is still kept).
    alpha_below
        Chance, when the mean is at least ``threshold``, that the test ever says "below"; None: it
        never says "below".
    bet_cap
        Share of the ruin-free stake a bet may take (see :data:`DEFAULT_BET_CAP`).
    mixture_above
        Show "above" with a mixture of fixed-stake gamblers (:class:`_Mixture`) instead of aGRAPA:
        quicker on a mean far above the threshold, a little slower near it.

    The first direction shown is the decision and stays; if both were shown by the same
    observation, "above" wins (a gate fails closed).
    """

    threshold: float
    alpha_above: float | None
    alpha_below: float | None
    bet_cap: float = DEFAULT_BET_CAP
    mixture_above: bool = False
    n: int = field(default=0, init=False)
    total: float = field(default=0.0, init=False)
    squares: float = field(default=0.0, init=False)
    decision: Direction | None = field(default=None, init=False)
    decided_at: int | None = field(default=None, init=False)
    _above: _Capital | _Mixture = field(init=False, repr=False)
    _below: _Capital = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _require_fraction("threshold", self.threshold)
        for name, level in (("alpha_above", self.alpha_above), ("alpha_below", self.alpha_below)):
            if level is not None:
                _require_fraction(name, level)
        _require_fraction("bet_cap", self.bet_cap)
        self._above = (
            _Mixture(self.threshold, +1, self.bet_cap)
            if self.mixture_above
            else _Capital(self.threshold, +1, self.bet_cap)
        )
        self._below = _Capital(self.threshold, -1, self.bet_cap)

    @property
    def mean(self) -> float | None:
        """The observed mean (None before the first observation)."""
        return self.total / self.n if self.n else None

    @property
    def evidence_above(self) -> float:
        """The e-value against "the mean is at most the threshold" (>= 1/alpha_above: shown above).

        Shown up to e**700 (about 1e304): a long run's capital would overflow a float, and any
        level a gate uses is decided long before.
        """
        return math.exp(min(self._above.log_capital, MAX_LOG_EVIDENCE))

    @property
    def evidence_below(self) -> float:
        """The e-value against "the mean is at least the threshold" (shown up to e**700, as above)."""
        return math.exp(min(self._below.log_capital, MAX_LOG_EVIDENCE))

    def add(self, x: float) -> Direction | None:
        """Take one observation in [0, 1]; the decision once one is shown, else None."""
        _require_fraction("an observation", x, closed=True)
        down = self._below.bet(self.n, self.total, self.squares)
        if isinstance(self._above, _Mixture):
            self._above.take(x)
        else:
            self._above.take(x, self._above.bet(self.n, self.total, self.squares))
        self._below.take(x, down)
        self.n += 1
        self.total += x
        self.squares += x * x
        if self.decision is None:
            if self.alpha_above is not None and self._above.log_capital >= -math.log(self.alpha_above):
                self.decision = "above"
            elif self.alpha_below is not None and self._below.log_capital >= -math.log(self.alpha_below):
                self.decision = "below"
            if self.decision is not None:
                self.decided_at = self.n
        return self.decision

    def extend(self, xs: Iterable[float]) -> Direction | None:
        """:meth:`add` each observation in turn (the decision stays the first one shown)."""
        for x in xs:
            self.add(x)
        return self.decision


def confidence_interval(
    xs: Sequence[float], alpha: float, *, bet_cap: float = DEFAULT_BET_CAP, halvings: int = 40
) -> tuple[float, float]:
    """A ``1 - alpha`` confidence interval for the mean of ``xs`` (in [0, 1]), valid at this sample size
    whatever the stopping rule that produced it.

    The means whose betting capital, each side at ``alpha/2``, stands below ``2/alpha`` after the
    last observation (Ville's inequality holds at any stopping time, so this is valid however the
    sample size was chosen); found by bisection, the capital falling as the threshold moves towards
    the observed mean. Wider than a fixed-sample interval: the price of having looked along the way.
    Each of the ``halvings`` replays ``xs`` once per side (40: bounds to 1e-12; 20: to 1e-6).
    """
    _require_fraction("alpha", alpha)
    if not xs:
        return (0.0, 1.0)
    for x in xs:
        _require_fraction("an observation", x, closed=True)
    target = -math.log(alpha / 2.0)
    mean = sum(xs) / len(xs)

    def rejected(m: float, sign: int) -> bool:
        if not 0.0 < m < 1.0:
            return False
        capital = _Capital(m, sign, bet_cap)
        total = squares = 0.0
        for n, x in enumerate(xs):
            capital.take(x, capital.bet(n, total, squares))
            total += x
            squares += x * x
        return capital.log_capital >= target

    def boundary(inside: float, outside: float, sign: int) -> float:
        # ``inside`` is not rejected, ``outside`` is (or is the edge of [0, 1]); each halving halves the gap.
        for _ in range(halvings):
            middle = (inside + outside) / 2.0
            if rejected(middle, sign):
                outside = middle
            else:
                inside = middle
        return inside

    low = boundary(mean, 0.0, +1) if mean > 0.0 else 0.0
    high = boundary(mean, 1.0, -1) if mean < 1.0 else 1.0
    return (low, high)


# --- the observations a gate feeds these tests ------------------------------------------------


def error_pair(green_failed: bool, blue_failed: bool) -> float:
    """One interleaved pair as an observation in [0, 1]: (green - blue + 1) / 2, so 0.5 is a tie.

    Its mean is ``(p_green - p_blue + 1) / 2``: see :func:`error_threshold`.
    """
    return (float(green_failed) - float(blue_failed) + 1.0) / 2.0


def error_threshold(margin: float) -> float:
    """The threshold on :func:`error_pair` means for "green fails ``margin`` more often than blue"."""
    return (1.0 + margin) / 2.0


def slower_pair(green_ms: float, blue_ms: float, *, ratio: float, floor_ms: float) -> float:
    """1.0 when green took longer than ``ratio`` times blue's time *and* ``floor_ms`` more; else 0.0.

    Its mean is the chance that green is slower than blue by more than the allowed increase. Above
    1/2, green is slower in the sense of stochastic order (Mann-Whitney's effect with blue scaled by
    ``ratio``); a green exactly ``ratio`` times slower sits at 1/2. The floor keeps differences too
    small to matter (a fresh connection against a kept-alive one) from ever counting.
    """
    return 1.0 if green_ms > allowed_ms(blue_ms, ratio=ratio, floor_ms=floor_ms) else 0.0


#: The threshold on :func:`slower_pair` means: green slower than allowed more often than not.
SLOWER_THRESHOLD = 0.5

#: Where :func:`slowdown_pair` saturates, in natural log: green e (about 2.7) times slower or
#: faster than allowed scores as much as anything further out, so one outlier cannot decide alone.
SLOWDOWN_CLIP = 1.0
#: Times below this (ms) count as this: a clock that read 0 must not take a log of 0.
_SHORTEST_MS = 1e-6


def allowed_ms(blue_ms: float, *, ratio: float, floor_ms: float) -> float:
    """The longest green may take against ``blue_ms``: ``ratio`` times it, or ``floor_ms`` more if that is later."""
    return max(ratio * blue_ms, blue_ms + floor_ms)


def slowdown_pair(
    green_ms: float, blue_ms: float, *, ratio: float, floor_ms: float, clip: float = SLOWDOWN_CLIP
) -> float:
    """How much slower than allowed green was in one pair, as an observation in [0, 1]: the log of
    green's time over the allowed time (:func:`allowed_ms`), clipped to ``[-clip, clip]`` and mapped
    onto [0, 1], so 0.5 is "exactly the allowed time".

    The latency test bets on its mean against 1/2. When green is no slower than allowed in the
    sense of stochastic order (green's time, given the pair's conditions, is no later than the
    allowed time of an independent blue answer), the clipped log-ratio is the difference of two
    independent variables, the first stochastically smaller, through a monotone clip: its mean is
    at most that of a symmetric difference, 0. So a mean above 1/2 shows green slower than
    allowed. Unlike the sign of the difference (:func:`slower_pair`), it also weighs by how much:
    a green 1.5 times slower than blue (allowed: 1.25) is shown in about 130 pairs instead of 220.
    """
    allowed = max(allowed_ms(blue_ms, ratio=ratio, floor_ms=floor_ms), _SHORTEST_MS)
    log_ratio = math.log(max(green_ms, _SHORTEST_MS) / allowed)
    return (min(max(log_ratio, -clip), clip) + clip) / (2.0 * clip)


def slowdown_of(score: float, *, clip: float = SLOWDOWN_CLIP) -> float:
    """Back from a mean of :func:`slowdown_pair` observations to a ratio: green's (clipped,
    geometric-mean) time over the allowed time; 1.0 is exactly the allowed time."""
    return math.exp((2.0 * score - 1.0) * clip)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` by linear interpolation (numpy's default); None when empty."""
    _require_fraction("q", q, closed=True)
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def clean_run_to_pass(
    max_rate: float, alpha: float, *, bet_cap: float = DEFAULT_BET_CAP, limit: int = 1_000_000
) -> int:
    """How many requests in a row without an error show the error rate below ``max_rate`` at ``alpha``.

    The sequential price of a pass: the exact fixed-sample answer ("rule of three" at 95 %) is
    ``ln(1/alpha) / max_rate``, about 300 for 1 % at 95 %; betting, which also had to be ready to
    stop at every earlier look, needs a little more.
    """
    test = SequentialMean(max_rate, alpha_above=alpha, alpha_below=alpha, bet_cap=bet_cap)
    while test.n < limit:
        if test.add(0.0) == "below":
            return test.n
    raise ValueError(f"no pass within {limit} clean requests for max_rate={max_rate!r}, alpha={alpha!r}")


def failing_run_to_fail(
    max_rate: float, alpha: float, *, bet_cap: float = DEFAULT_BET_CAP, mixture: bool = True, limit: int = 1_000_000
) -> int:
    """How many failed requests in a row show the error rate above ``max_rate`` at ``alpha``.

    The fewest observations in which the sequential test can fail at all: a burst capped below
    this could never show a dead green dead.
    """
    test = SequentialMean(max_rate, alpha_above=alpha, alpha_below=alpha, bet_cap=bet_cap, mixture_above=mixture)
    while test.n < limit:
        if test.add(1.0) == "above":
            return test.n
    raise ValueError(f"no fail within {limit} failed requests for max_rate={max_rate!r}, alpha={alpha!r}")


# --- green against blue, pair by pair ------------------------------------------------------------

Verdict = Literal["fail", "pass"]


#: Share of the comparison's false-rollback level ``alpha`` given to the error test; the latency
#: test has the rest. Errors are the scarce evidence (a 3-point regression shows itself only in a
#: few dozen discordant pairs), while a latency regression is seen in every pair.
ERROR_ALPHA_SHARE = 0.8


@dataclass
class PairedComparison:
    """Green against blue on interleaved request pairs: is green worse, or shown good enough?

    The two tests split the false-rollback level ``alpha`` (:data:`ERROR_ALPHA_SHARE` to errors, the
    rest to latency; together at most ``alpha``), and each shows "good enough" at ``beta``:

    - errors: fail once green is shown to fail more often than blue (null: green's error rate is
      no higher than blue's, level ``alpha * ERROR_ALPHA_SHARE``) *and* the observed increase
      exceeds ``max_error_increase`` (absolute); pass once the increase is shown below
      ``detect_error_increase`` (null: green is at least that much worse, level ``beta``);
    - latency, on the pairs where both answered: fail once green is shown slower than
      ``max_latency_ratio`` times blue and ``min_latency_increase_ms`` more, as stochastic order
      (:func:`slowdown_pair`: the clipped log of green's time over the allowed time, mean above
      0); pass once shown below.

    The comparison fails at the first regression shown, passes once both tests passed, and is
    open (``None``) until then.

    The error test is an indifference-zone design, as a power analysis sizes a fixed-sample test:
    a green as good as blue is rolled back with probability at most ``alpha`` (whenever one looks),
    and a green ``detect_error_increase`` or more worse passes with probability at most ``beta``.
    Between the two lies the zone where either answer is acceptable: the tolerated increase
    ``max_error_increase`` sits in it, and a green near it is failed only when its observed increase
    exceeds it (a shown but small increase does not fail the deployment), passed when the evidence
    allows, and otherwise left open. Neither side is put at the margin itself: showing "green fails
    no more than 1 point more often than blue" takes at least ln(1/beta)/0.01, some 300 pairs, even
    for a green with no errors at all, and showing "more than 1 point worse" of a 3-point
    regression needs about twice the pairs of showing "worse than blue".
    """

    max_error_increase: float = 0.01
    detect_error_increase: float = 0.025
    max_latency_ratio: float = 1.25
    min_latency_increase_ms: float = 5.0
    alpha: float = 0.01
    beta: float = 0.05
    bet_cap: float = DEFAULT_BET_CAP
    errors: SequentialMean = field(init=False)
    within: SequentialMean = field(init=False)
    latency: SequentialMean = field(init=False)
    pairs: int = field(default=0, init=False)
    green_errors: int = field(default=0, init=False)
    blue_errors: int = field(default=0, init=False)
    verdict: Verdict | None = field(default=None, init=False)
    decided_at: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        _require_fraction("max_error_increase", self.max_error_increase)
        _require_fraction("detect_error_increase", self.detect_error_increase)
        if self.detect_error_increase < self.max_error_increase:
            raise ValueError(
                f"detect_error_increase must be at least max_error_increase ({self.max_error_increase!r}), "
                f"got {self.detect_error_increase!r}"
            )
        _require_fraction("alpha", self.alpha)
        _require_fraction("beta", self.beta)
        if not (math.isfinite(self.max_latency_ratio) and self.max_latency_ratio >= 1.0):
            raise ValueError(f"max_latency_ratio must be a number >= 1, got {self.max_latency_ratio!r}")
        if not (math.isfinite(self.min_latency_increase_ms) and self.min_latency_increase_ms >= 0.0):
            raise ValueError(f"min_latency_increase_ms must be a number >= 0, got {self.min_latency_increase_ms!r}")
        to_errors, to_latency = self.error_alpha, self.latency_alpha
        # Worse than blue at all (above 1/2), one-sided: a "better than blue" side could decide
        # first (blue erring in a burst early on) and, decisions being final, keep a green that
        # degrades later from ever failing on errors.
        self.errors = SequentialMean(0.5, alpha_above=to_errors, alpha_below=None, bet_cap=self.bet_cap)
        # Less than the detectable increase worse (below its threshold), one-sided likewise.
        self.within = SequentialMean(
            error_threshold(self.detect_error_increase),
            alpha_above=None,
            alpha_below=self.beta,
            bet_cap=self.bet_cap,
        )
        self.latency = SequentialMean(
            SLOWER_THRESHOLD, alpha_above=to_latency, alpha_below=self.beta, bet_cap=self.bet_cap
        )

    @property
    def error_alpha(self) -> float:
        """The error test's share of ``alpha`` (its false-rollback level)."""
        return self.alpha * ERROR_ALPHA_SHARE

    @property
    def latency_alpha(self) -> float:
        """The latency test's share of ``alpha``: the rest."""
        return self.alpha - self.error_alpha

    @property
    def error_increase(self) -> float:
        """Green's observed error rate minus blue's."""
        return (self.green_errors - self.blue_errors) / self.pairs if self.pairs else 0.0

    def add(self, green_ms: float | None, blue_ms: float | None) -> Verdict | None:
        """One pair: each side's response time, or None when that side's request failed."""
        green_failed, blue_failed = green_ms is None, blue_ms is None
        self.pairs += 1
        self.green_errors += green_failed
        self.blue_errors += blue_failed
        x = error_pair(green_failed, blue_failed)
        worse = self.errors.add(x) == "above"
        within = self.within.add(x) == "below"
        slower = faster = False
        if green_ms is not None and blue_ms is not None:
            decision = self.latency.add(
                slowdown_pair(
                    green_ms, blue_ms, ratio=self.max_latency_ratio, floor_ms=self.min_latency_increase_ms
                )
            )
            slower, faster = decision == "above", decision == "below"
        else:
            slower, faster = self.latency.decision == "above", self.latency.decision == "below"
        if self.verdict is None:
            if (worse and self.error_increase > self.max_error_increase) or slower:
                self.verdict = "fail"
            elif within and faster:
                self.verdict = "pass"
            if self.verdict is not None:
                self.decided_at = self.pairs
        return self.verdict


# --- whose errors: green's share of the errors against its share of the requests -------------------


@dataclass
class ErrorShareTest:
    """Anytime-valid one-sided test that green answers errors more often than blue, from counts alone.

    Both target groups serve the same production traffic, split by the listener rule's weights.
    In a stretch of time (a minute) where green served ``n_g`` requests and blue ``n_b``, and they
    answered ``k`` errors between them, each error came from green with probability
    ``q = n_g p_g / (n_g p_g + n_b p_b)`` (Poisson counts, conditioned on their total). When green's
    error rate is no higher than blue's (``p_g <= p_b``), ``q`` is at most green's share of the
    requests ``s = n_g / (n_g + n_b)``: each error is a Bernoulli observation whose mean is at most
    ``s`` under the null, whatever the rates themselves are (a busy minute, a failing dependency
    hitting both sides alike cancel out).

    Gamblers with fixed stakes (the shares of :data:`MIXTURE_SHARES` of the ruin-free stake ``1/s``)
    bet on "from green", each minute at that minute's ``s``; their mean capital is a test
    supermartingale, so by Ville's inequality it ever reaches ``1/alpha`` with probability at most
    ``alpha`` under the null, however many minutes are added and whenever one looks. Fixed stakes
    make a minute's factor depend on its counts only, not on the order of its errors.

    Parameters
    ----------
    alpha
        The chance, for a green no worse than blue, that the test ever says "worse".
    bet_cap
        Share of the ruin-free stake the boldest gambler takes (see :data:`DEFAULT_BET_CAP`).
    """

    alpha: float
    bet_cap: float = DEFAULT_BET_CAP
    shares: tuple[float, ...] = MIXTURE_SHARES
    green_errors: int = field(default=0, init=False)
    errors: int = field(default=0, init=False)
    #: Green errors expected if each error came from green with its minute's request share.
    expected_green: float = field(default=0.0, init=False)
    worse: bool = field(default=False, init=False)
    _logs: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _require_fraction("alpha", self.alpha)
        _require_fraction("bet_cap", self.bet_cap)
        self._logs = [0.0] * len(self.shares)

    @property
    def log_evidence(self) -> float:
        """The log of the gamblers' mean capital (>= ln(1/alpha): green shown worse)."""
        top = max(self._logs)
        return top + math.log(sum(math.exp(v - top) for v in self._logs) / len(self._logs))

    @property
    def evidence(self) -> float:
        """The e-value against "green's error rate is no higher than blue's" (shown up to e**700)."""
        return math.exp(min(self.log_evidence, MAX_LOG_EVIDENCE))

    def add(self, green_errors: int, blue_errors: int, share: float) -> bool:
        """One stretch of time: each side's error count and green's share of its requests.

        A stretch where one side served nothing (share 0 or 1) says nothing about whose errors
        they are and is skipped. Returns whether green has been shown worse (it stays shown).
        """
        for name, count in (("green_errors", green_errors), ("blue_errors", blue_errors)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{name} must be a count (an integer >= 0), got {count!r}")
        _require_fraction("share", share, closed=True)
        if not 0.0 < share < 1.0:
            return self.worse
        for i, fraction in enumerate(self.shares):
            stake = fraction * self.bet_cap / share
            self._logs[i] += green_errors * math.log1p(stake * (1.0 - share)) + blue_errors * math.log1p(-stake * share)
        self.green_errors += green_errors
        self.errors += green_errors + blue_errors
        self.expected_green += (green_errors + blue_errors) * share
        if not self.worse and self.log_evidence >= -math.log(self.alpha):
            self.worse = True
        return self.worse
