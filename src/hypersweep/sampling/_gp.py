"""A small Gaussian process for mixed spaces, in numpy and scipy only.

Kernel: Matérn-5/2 with one lengthscale per dimension (ARD) on the squared distance

    r² = Σ_numeric (x_i - x'_i)² / l_i²  +  Σ_categorical [x_i ≠ x'_i] / l_i²

so numeric dimensions (continuous, log-scaled, integer, quantized and ordinal choices, all
in the unit cube) use distance, categorical ones only equality (a Hamming/overlap term, as
Optuna's GPSampler does). Inactive nested dimensions sit at 0.5 for every trial lacking
them, so they add nothing between two such trials.

The prior mean is a constant (:meth:`GaussianProcess.fit`'s ``prior_mean``, 0 by default):
what the model predicts far from the data. Hyperparameters (lengthscales, signal variance,
noise) are fitted for that mean by maximum a posteriori — the log marginal likelihood plus
log-normal priors — with multi-start L-BFGS-B and analytical gradients; the Cholesky
factorisation retries with growing jitter.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> x = rng.random((20, 2)); y = np.sin(6 * x[:, 0]) + x[:, 1]
>>> gp = GaussianProcess(np.zeros(2, dtype=bool)).fit(x, (y - y.mean()) / y.std(), rng)
>>> mean, var = gp.predict(x[:3])
>>> bool(np.allclose(mean, ((y - y.mean()) / y.std())[:3], atol=0.1))
True
"""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy import linalg, optimize

_SQRT5 = math.sqrt(5.0)
_LOG_L = (math.log(1e-2), math.log(1e2))
_LOG_S2 = (math.log(5e-2), math.log(20.0))
_LOG_NOISE = (math.log(1e-6), math.log(1.0))
_PRIOR_NOISE = (math.log(1e-3), 2.5)  # mean, std of log noise variance (standardised y)
_PRIOR_S2 = (0.0, 1.0)
_PRIOR_L_STD = 1.5


def _matern(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matérn-5/2 correlation of squared distances, and its derivative in r² (smooth at 0)."""
    r = np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-_SQRT5 * r)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e, -(5.0 / 6.0) * (1.0 + _SQRT5 * r) * e


def _cholesky(k: np.ndarray) -> np.ndarray:
    jitter = 0.0
    for _ in range(8):
        try:
            return linalg.cholesky(k + jitter * np.eye(len(k)), lower=True, check_finite=False)
        except linalg.LinAlgError:
            jitter = 1e-8 if jitter == 0.0 else jitter * 10.0
    raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


class GaussianProcess:
    """GP regression with a Matérn-5/2 ARD + Hamming kernel and a constant prior mean (0 unless
    :meth:`fit` is given one; standardise y first).

    Parameters
    ----------
    categorical : array of bool, shape (d,)
        Which dimensions compare by equality only.
    """

    def __init__(self, categorical: np.ndarray) -> None:
        self.categorical = np.asarray(categorical, dtype=bool)
        self.numeric = ~self.categorical
        d = len(self.categorical)
        # Longer lengthscales in more dimensions keep the prior function's wiggliness in
        # check (Hvarfner et al. 2024); in the unit cube l ~ 0.4 sqrt(d) is a good median.
        self._prior_l = (math.log(0.4 * math.sqrt(max(d, 1))), _PRIOR_L_STD)
        self.theta = self._default_theta()
        self.prior_mean = 0.0
        self.x = np.empty((0, d))
        self.y = np.empty(0)

    # -- hyperparameters -------------------------------------------------------------
    def _default_theta(self) -> np.ndarray:
        d = len(self.categorical)
        return np.concatenate([np.full(d, self._prior_l[0]), [0.0, _PRIOR_NOISE[0]]])

    def _bounds(self) -> list[tuple[float, float]]:
        return [_LOG_L] * len(self.categorical) + [_LOG_S2, _LOG_NOISE]

    def _distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per-dimension squared distances (numeric) or mismatches, shape (n, m, d)."""
        diff = a[:, None, :] - b[None, :, :]
        out = diff * diff
        out[..., self.categorical] = np.abs(diff[..., self.categorical]) > 1e-9
        return out

    def _neg_log_posterior(self, theta: np.ndarray, dist: np.ndarray,
                           y: np.ndarray) -> tuple[float, np.ndarray]:
        d = dist.shape[2]
        inv_l2 = np.exp(-2.0 * theta[:d])
        s2, noise = math.exp(theta[d]), math.exp(theta[d + 1])
        corr, dcorr = _matern(dist @ inv_l2)
        k = s2 * corr
        k[np.diag_indices_from(k)] += noise
        try:
            chol = _cholesky(k)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = linalg.cho_solve((chol, True), y, check_finite=False)
        nll = 0.5 * y @ alpha + np.log(np.diag(chol)).sum() + 0.5 * len(y) * math.log(2 * math.pi)
        k_inv = linalg.cho_solve((chol, True), np.eye(len(y)), check_finite=False)
        w = np.outer(alpha, alpha) - k_inv  # d nll / d K = -w / 2
        grad = np.empty_like(theta)
        grad[:d] = np.einsum("ab,abj->j", w * (s2 * dcorr), dist) * inv_l2
        grad[d] = -0.5 * np.sum(w * (s2 * corr))
        grad[d + 1] = -0.5 * noise * np.trace(w)
        # Log-normal priors: quadratic in the log parameters.
        mu_l, sd_l = self._prior_l
        nlp = 0.5 * float(np.sum(((theta[:d] - mu_l) / sd_l) ** 2))
        grad[:d] += (theta[:d] - mu_l) / sd_l**2
        for i, (mu, sd) in ((d, _PRIOR_S2), (d + 1, _PRIOR_NOISE)):
            nlp += 0.5 * ((float(theta[i]) - mu) / sd) ** 2
            grad[i] += (theta[i] - mu) / sd**2
        return float(nll + nlp), grad

    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
            n_starts: int = 2, maxiter: int = 60, fit_size: int | None = None,
            prior_mean: float = 0.0) -> GaussianProcess:
        """Fit hyperparameters (MAP) on ``x, y`` (or a subset of ``fit_size`` rows) and
        condition on all of ``x, y``, with the constant ``prior_mean`` (kept by
        :meth:`condition` and :meth:`conditioned`): the value expected far from the data."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.prior_mean = prior_mean
        idx = np.arange(len(y))
        if fit_size is not None and len(y) > fit_size:
            idx = np.sort(rng.choice(len(y), fit_size, replace=False))
        dist = self._distances(x[idx], x[idx])
        starts = [self._default_theta()]
        d = x.shape[1]
        starts.append(np.concatenate([np.full(d, math.log(0.2)), [0.0, math.log(1e-4)]]))
        for _ in range(max(0, n_starts - 2)):
            t = self._default_theta()
            t[:d] += rng.normal(0.0, 1.0, d)
            starts.append(t)
        bounds = self._bounds()
        best: tuple[float, np.ndarray] | None = None
        low, high = np.array(bounds).T
        for t0 in starts[:max(1, n_starts)]:
            res = optimize.minimize(self._neg_log_posterior, np.clip(t0, low, high),
                                    args=(dist, y[idx] - prior_mean), jac=True, method="L-BFGS-B",
                                    bounds=bounds, options={"maxiter": maxiter})
            if np.isfinite(res.fun) and (best is None or res.fun < best[0]):
                best = (float(res.fun), res.x)
        self.theta = best[1] if best is not None else self._default_theta()
        return self.condition(x, y)

    def condition(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Condition on ``x, y`` with the current hyperparameters (no refit)."""
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        d = self.x.shape[1]
        self._inv_l2 = np.exp(-2.0 * self.theta[:d])
        self._s2 = math.exp(self.theta[d])
        noise = math.exp(self.theta[d + 1])
        k = self._s2 * _matern(self._r2(self.x, self.x))[0]
        k[np.diag_indices_from(k)] += noise
        self._chol = _cholesky(k)
        self._alpha = linalg.cho_solve((self._chol, True), self.y - self.prior_mean,
                                       check_finite=False)
        return self

    def conditioned(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """A copy with these hyperparameters, conditioned on ``x, y`` (this one unchanged)."""
        other = copy.copy(self)
        return other.condition(x, y)

    # -- prediction ----------------------------------------------------------------
    def _r2(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Weighted squared distances via one matrix product (fast for many candidates)."""
        w = np.sqrt(self._inv_l2)
        num = self.numeric
        fa, fb = a[:, num] * w[num], b[:, num] * w[num]
        r2 = (fa * fa).sum(1)[:, None] + (fb * fb).sum(1)[None, :] - 2.0 * fa @ fb.T
        if self.categorical.any():
            cat = self.categorical
            mismatch = np.abs(a[:, None, cat] - b[None, :, cat]) > 1e-9
            r2 += mismatch @ self._inv_l2[cat]
        return np.maximum(r2, 0.0)

    def predict(self, xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and latent variance at ``xc``, shape (m,) each."""
        ks = self._s2 * _matern(self._r2(xc, self.x))[0]
        mean = ks @ self._alpha + self.prior_mean
        v = linalg.solve_triangular(self._chol, ks.T, lower=True, check_finite=False)
        var = self._s2 - np.einsum("nm,nm->m", v, v)
        return mean, np.maximum(var, 1e-12)

    def predict_grad(self, xc: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients in ``xc`` (zero along categorical dims)."""
        corr, dcorr = _matern(self._r2(xc, self.x))
        ks = self._s2 * corr
        mean = ks @ self._alpha + self.prior_mean
        v = linalg.solve_triangular(self._chol, ks.T, lower=True, check_finite=False)
        var = self._s2 - np.einsum("nm,nm->m", v, v)
        kinv_ks = linalg.solve_triangular(self._chol, v, lower=True, trans="T",
                                          check_finite=False)  # K^-1 ks^T, shape (n, m)
        # d ks / d xc_i = s2 corr'(r2) * 2 (xc_i - x_i) / l_i^2 on numeric dims.
        g = (2.0 * self._s2) * dcorr  # (m, n)
        diff = xc[:, None, :] - self.x[None, :, :]  # (m, n, d)
        diff[..., self.categorical] = 0.0
        dks = g[:, :, None] * diff * self._inv_l2  # (m, n, d)
        dmean = np.einsum("mnd,n->md", dks, self._alpha)
        dvar = -2.0 * np.einsum("mnd,nm->md", dks, kinv_ks)
        return mean, np.maximum(var, 1e-12), dmean, dvar


def training_subset(score: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Indices a GP trains on (``score``: larger is better): all, or the best ``cap / 2``
    plus a random rest, so that fitting stays cheap however long the history."""
    if len(score) <= cap:
        return np.arange(len(score))
    order = np.argsort(-score, kind="stable")
    best = order[: cap // 2]
    rest = rng.choice(order[cap // 2:], cap - cap // 2, replace=False)
    return np.sort(np.concatenate([best, rest]))
