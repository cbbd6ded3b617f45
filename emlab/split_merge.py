"""Split-and-merge EM (Ueda, Nakano, Ghahramani and Hinton, 2000) for isotropic mixtures.

:func:`smem` only calls *your* ``m_step_isotropic``, ``merge_candidates`` and
``split_criterion``, and the E step and log-likelihood the lab's notebook gives
(``e_step=responsibilities``, ``loglik=mixture_loglik``): nothing here computes a density, a
responsibility or a log-likelihood. Shapes as in :mod:`emlab.em_in_practice`: X (N, D),
mu (M, D), sigma2 (M,), pi (M,), gamma (N, M).

One move takes a pair (i, j) to merge and a component k to split, so M stays fixed:

- the merged component goes in slot i: weight pi_i + pi_j, mean and variance the
  weight-averaged ones of i and j;
- k is split into slots j and k: each gets half of pi_k and k's variance, and the means
  move by +-0.5 sigma_k along a random (seeded) direction;
- partial EM updates only these three components, sharing among them the responsibility
  the three held before the move (the other components stay fixed), then full EM;
- the move is kept only if the log-likelihood went up, else the next candidate is tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .em_in_practice import run_em

__all__ = ["Move", "SMEMResult", "candidate_moves", "apply_move", "partial_em", "smem"]


@dataclass
class Move:
    merge: tuple          # (i, j): the pair merged into slot i
    split: int            # k: split into slots j and k
    loglik_before: float
    loglik_after: float

    @property
    def accepted(self) -> bool:
        return self.loglik_after > self.loglik_before + 1e-6


@dataclass
class SMEMResult:
    mu: np.ndarray
    sigma2: np.ndarray
    pi: np.ndarray
    loglik: float
    moves: list = field(default_factory=list)   # every move tried, in order
    E: list = field(default_factory=list)       # -log L after every EM iteration, all runs joined


def candidate_moves(X, mu, sigma2, pi, merge_candidates, split_criterion, max_tries: int = 5, *, e_step):
    """The first ``max_tries`` (i, j, k): merge pairs best first, and for each pair the
    components other than i and j in decreasing order of the split criterion (both computed
    by your functions on gamma = e_step(X, mu, sigma2, pi), (N, M))."""
    gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
    pairs, _ = merge_candidates(gamma)
    J_split = np.asarray(split_criterion(X, gamma, mu, sigma2), float)
    order = np.argsort(-J_split, kind="stable")
    moves = []
    for i, j in np.asarray(pairs, int):
        for k in order:
            if k not in (i, j):
                moves.append((int(i), int(j), int(k)))
    return moves[:max_tries]


def apply_move(X, mu, sigma2, pi, i, j, k, rng):
    """The parameters just after merging (i, j) into i and splitting k into j and k."""
    mu, sigma2, pi = mu.copy(), sigma2.copy(), pi.copy()
    w = pi[i] + pi[j]
    mu_m = (pi[i] * mu[i] + pi[j] * mu[j]) / w
    s_m = (pi[i] * sigma2[i] + pi[j] * sigma2[j]) / w
    direction = rng.standard_normal(mu.shape[1])
    direction /= np.linalg.norm(direction)
    offset = 0.5 * np.sqrt(sigma2[k]) * direction
    mu[i], sigma2[i], pi[i] = mu_m, s_m, w
    mu[j], sigma2[j], pi[j] = mu[k] + offset, sigma2[k], pi[k] / 2
    mu[k], pi[k] = mu[k] - offset, pi[k] / 2
    return mu, sigma2, pi


def partial_em(X, mu, sigma2, pi, changed, mass, m_step, n_iter: int = 20, *, e_step):
    """EM on the components ``changed`` only. ``mass`` (N,) is the responsibility the three
    held before the move: it is shared among them (by ``e_step`` on those components alone,
    gamma (N, 3)), the other components stay fixed."""
    mu, sigma2, pi = mu.copy(), sigma2.copy(), pi.copy()
    changed = list(changed)
    for _ in range(n_iter):
        g = np.asarray(e_step(X, mu[changed], sigma2[changed], pi[changed] / pi[changed].sum()), float)
        m, s, p = (np.asarray(a, float) for a in m_step(X, g * mass[:, None]))
        # m_step's weights are N_j / N with the scaled responsibilities: the absolute weights
        mu[changed], sigma2[changed], pi[changed] = m, s, p
    return mu, sigma2, pi / pi.sum()


def smem(X, mu, sigma2, pi, m_step, merge_candidates, split_criterion, *, e_step, loglik, n_em: int = 60,
         n_partial: int = 20, max_tries: int = 5, max_moves: int = 5, seed: int = 0) -> SMEMResult:
    """Plain EM to convergence, then split-and-merge moves until none of the first
    ``max_tries`` candidates improves the log-likelihood (at most ``max_moves`` accepted).

    ``e_step(X, mu, sigma2, pi)`` -> gamma (N, M) and ``loglik(X, mu, sigma2, pi)`` -> log L in
    nats: the notebook's given ``responsibilities`` and ``mixture_loglik``."""
    rng = np.random.default_rng(seed)
    em = {"e_step": e_step, "loglik": loglik}
    h = run_em(X, mu, sigma2, pi, m_step, n_iter=n_em, **em)
    mu, sigma2, pi, ll = h.mu, h.sigma2, h.pi, -h.E[-1]
    result = SMEMResult(mu, sigma2, pi, ll, E=list(h.E))
    for _ in range(max_moves):
        improved = False
        gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        for i, j, k in candidate_moves(X, mu, sigma2, pi, merge_candidates, split_criterion, max_tries,
                                       e_step=e_step):
            mass = gamma[:, [i, j, k]].sum(1)
            m2, s2, p2 = apply_move(X, mu, sigma2, pi, i, j, k, rng)
            m2, s2, p2 = partial_em(X, m2, s2, p2, (i, j, k), mass, m_step, n_partial, e_step=e_step)
            h2 = run_em(X, m2, s2, p2, m_step, n_iter=n_em, **em)
            move = Move((i, j), k, ll, -h2.E[-1])
            result.moves.append(move)
            if move.accepted:
                mu, sigma2, pi, ll = h2.mu, h2.sigma2, h2.pi, -h2.E[-1]
                result.E += list(h2.E)
                improved = True
                break
        if not improved:
            break
    result.mu, result.sigma2, result.pi, result.loglik = mu, sigma2, pi, ll
    return result

