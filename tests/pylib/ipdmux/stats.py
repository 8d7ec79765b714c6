"""Summary statistics for benchmarks and tests: the one copy (issue 14)."""
import math


def percentile(xs, p):
    """The p-th percentile (0..100) of xs, linearly interpolated between closest ranks; NaN when
    xs is empty."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def nearest_rank(xs, p):
    """The p-th percentile (0..100) of xs as the sample nearest to rank p/100 * (n - 1), no
    interpolation; None when xs is empty."""
    v = sorted(xs)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None
