#!/usr/bin/env python3
"""Reference fits for tocsin-forecast's elastic net, computed with scikit-learn.

Writes tests/fixtures/enet_reference.json: a small logistic problem and, for several
(alpha, lambda), the coefficients of

    -(1/n) sum_i [y_i eta_i - log(1 + exp(eta_i))] + lambda * sum_j [alpha |b_j| + (1-alpha)/2 b_j^2]

over standardised predictors (mean 0, standard deviation with divisor n, as glmnet), the
intercept unpenalised, reported on the standardised and the original scale.

scikit-learn minimises  C * sum_i loss_i + l1_ratio * |w|_1 + (1 - l1_ratio)/2 * |w|_2^2.
Dividing by n*C gives the objective above with  alpha = l1_ratio  and  lambda = 1/(n*C),
so C = 1/(n*lambda). SAGA leaves the intercept unpenalised. Its tolerance is set tight and
every fit is checked against an independent proximal-gradient (FISTA) solution in NumPy, so
the fixture is accurate well beyond the 1e-4 the Rust test asks for.

Run from the crate directory:  pip install scikit-learn && python3 scripts/reference.py
The Rust tests read the committed fixture and need no Python.
"""

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "enet_reference.json")

# (alpha, lambda): ridge-like, balanced, lasso with zeros, light penalty.
CASES = [(0.5, 0.05), (0.1, 0.2), (1.0, 0.03), (0.9, 0.004), (0.5, 0.0005)]


def problem():
    rng = np.random.RandomState(20251127)
    n, p = 80, 5
    base = rng.normal(size=(n, p))
    # Correlated predictors on different scales, one of them binary.
    x = np.empty((n, p))
    x[:, 0] = base[:, 0] * 3.0 + 10.0
    x[:, 1] = 0.6 * base[:, 0] + 0.8 * base[:, 1]
    x[:, 2] = (base[:, 2] > 0.3).astype(float)
    x[:, 3] = base[:, 3] * 0.01 + 1960.0
    x[:, 4] = base[:, 4]
    z = (x - x.mean(0)) / x.std(0)
    eta = -0.7 + 1.2 * z[:, 0] - 0.8 * z[:, 1] + 0.5 * z[:, 2] + 0.0 * z[:, 3] + 0.3 * z[:, 4]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return x, y


def objective(b0, b, z, y, alpha, lam):
    eta = b0 + z @ b
    nll = np.mean(np.logaddexp(0, eta) - y * eta)
    return nll + lam * (alpha * np.abs(b).sum() + (1 - alpha) / 2 * (b @ b))


def fista(z, y, alpha, lam, iters=200000):
    """Proximal gradient with Nesterov momentum on the same objective."""
    n, p = z.shape
    step = 1.0 / (0.25 * (np.linalg.norm(np.c_[np.ones(n), z], 2) ** 2 / n) + lam * (1 - alpha))
    w = np.zeros(p + 1)
    v = w.copy()
    t = 1.0
    for _ in range(iters):
        eta = v[0] + z @ v[1:]
        r = 1 / (1 + np.exp(-eta)) - y
        g = np.r_[r.mean(), z.T @ r / n + lam * (1 - alpha) * v[1:]]
        u = v - step * g
        nw = u.copy()
        nw[1:] = np.sign(u[1:]) * np.maximum(np.abs(u[1:]) - step * lam * alpha, 0.0)
        nt = (1 + np.sqrt(1 + 4 * t * t)) / 2
        v = nw + (t - 1) / nt * (nw - w)
        if np.max(np.abs(nw - w)) < 1e-15:
            w = nw
            break
        w, t = nw, nt
    return w[0], w[1:]


def main():
    # scikit-learn 1.8 deprecates `penalty`; the explicit form is kept for older versions.
    warnings.filterwarnings("ignore", category=FutureWarning)
    x, y = problem()
    n = len(y)
    mean, sd = x.mean(0), x.std(0)
    z = (x - mean) / sd
    cases = []
    for alpha, lam in CASES:
        clf = LogisticRegression(
            penalty="elasticnet",
            solver="saga",
            l1_ratio=alpha,
            C=1.0 / (n * lam),
            tol=1e-14,
            max_iter=2_000_000,
            fit_intercept=True,
        )
        clf.fit(z, y)
        b0, b = float(clf.intercept_[0]), clf.coef_[0].astype(float)
        f0, fb = fista(z, y, alpha, lam)
        gap = max(abs(b0 - f0), np.max(np.abs(b - fb)))
        obj_s, obj_f = objective(b0, b, z, y, alpha, lam), objective(f0, fb, z, y, alpha, lam)
        print(f"alpha={alpha} lambda={lam}: sklearn vs FISTA max diff {gap:.2e}, "
              f"objective {obj_s:.12f} vs {obj_f:.12f}, nonzero {int(np.sum(b != 0))}")
        if gap > 1e-6:
            sys.exit(f"sklearn and FISTA disagree by {gap}")
        coef = b / sd
        cases.append({
            "alpha": alpha,
            "lambda": lam,
            "intercept_std": b0,
            "coef_std": b.tolist(),
            "intercept": float(b0 - coef @ mean),
            "coef": coef.tolist(),
            "objective": float(obj_s),
        })
    fixture = {
        "generator": "crates/tocsin-forecast/scripts/reference.py",
        "sklearn_version": sklearn.__version__,
        "note": "C = 1/(n*lambda), l1_ratio = alpha on predictors standardised with divisor n",
        "x": x.tolist(),
        "y": y.tolist(),
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
