"""Output warping: make skewed scores look Gaussian enough for a GP, keep failures bad.

Hyperparameter scores are often skewed: a few diverged runs with a loss of 1e6 beside many
near 0.1. A GP fitted to raw values spends its variance on the outliers and models the good
region (the only one that matters) as flat. We therefore

1. scale robustly (median and inter-quartile range) and clip the *bad* tail (larger is
   better, so the low one) at ``median - 5 scale``: a diverged run is bad, how bad is noise;
2. apply a Yeo-Johnson power transform with lambda fitted by maximum likelihood (works for
   values of any sign; HEBO showed power transforms help BO on HPO tasks);
3. standardise.

The map is monotone, so the order of trials — all that EI's incumbent needs — is kept.
Failed trials (NaN) get the worst transformed value, so the model learns to stay away from
them rather than ignoring them.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

_CLIP_SCALES = 5.0  # bad tail clipped this many robust scales below the median
_LAMBDA_RANGE = (-3.0, 5.0)
_FIT_POINTS = 128


def warp_scores(y: np.ndarray) -> np.ndarray | None:
    """Warped, standardised scores (NaN = failed → worst); None when they carry no signal.

    Examples
    --------
    >>> z = warp_scores(np.array([1.0, 2.0, np.nan, 100.0]))
    >>> bool(z[2] == z.min()) and bool(np.argmax(z) == 3)
    True
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2 or np.ptp(y[ok]) <= 1e-12 * max(1.0, float(np.abs(y[ok]).max())):
        return None
    v = y[ok]
    med = float(np.median(v))
    q25, q75 = np.percentile(v, [25.0, 75.0])
    scale = float(q75 - q25) or float(np.std(v)) or 1.0
    u = np.maximum((v - med) / scale, -_CLIP_SCALES)
    z = _yeo_johnson(u)
    std = float(np.std(z))
    z = (z - z.mean()) / (std if std > 1e-12 else 1.0)
    out = np.empty_like(y)
    out[ok] = z
    out[~ok] = z.min()
    return out


def _yj(x: np.ndarray, lam: float) -> np.ndarray:
    """The Yeo-Johnson transform of ``x`` with parameter ``lam``."""
    out = np.empty_like(x)
    pos = x >= 0
    if abs(lam) < 1e-8:
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = np.expm1(lam * np.log1p(x[pos])) / lam
    if abs(lam - 2.0) < 1e-8:
        out[~pos] = -np.log1p(-x[~pos])
    else:
        out[~pos] = -np.expm1((2.0 - lam) * np.log1p(-x[~pos])) / (2.0 - lam)
    return out


def _yeo_johnson(u: np.ndarray) -> np.ndarray:
    """Yeo-Johnson with lambda maximising the Gaussian likelihood (as scipy's normmax does,
    but without its per-call overhead, which was most of a proposal's time)."""
    if np.ptp(u) <= 1e-12:
        return u
    # Lambda from at most _FIT_POINTS evenly spaced quantiles: the same shape, bounded cost.
    sample = u if len(u) <= _FIT_POINTS else np.quantile(u, np.linspace(0, 1, _FIT_POINTS))
    jacobian = float(np.sum(np.sign(sample) * np.log1p(np.abs(sample))))

    def neg_log_lik(lam: float) -> float:
        with np.errstate(all="ignore"):
            var = float(np.var(_yj(sample, lam)))
        if not np.isfinite(var) or var <= 0.0:
            return np.inf
        return 0.5 * len(sample) * np.log(var) - (lam - 1.0) * jacobian

    res = optimize.minimize_scalar(neg_log_lik, bounds=_LAMBDA_RANGE, method="bounded",
                                   options={"xatol": 1e-3})
    lam = float(res.x) if np.isfinite(res.fun) else 1.0
    with np.errstate(all="ignore"):
        z = _yj(u, lam)
    return z if np.isfinite(z).all() else u
