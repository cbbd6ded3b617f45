"""Figures for the labs: covariance ellipses, responsibility colours, EM histories.

Every function draws on an ``ax`` you pass in and returns what it drew, so the figures
can be combined freely. Labels default to the Old Faithful data standardised with
:func:`emlab.data.standardise` (unit: one standard deviation of that column).

Shapes (N points, D = 2 features, K components)::

    X (N, 2)   mu (K, 2)   Sigma (K, 2, 2)   gamma (N, K)
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse

__all__ = [
    "LAB_RC",
    "COMPONENT_COLOURS",
    "covariance_ellipse",
    "responsibility_colours",
    "plot_gmm_state",
    "gmm_legend_handles",
    "plot_loglik_history",
]

# Readable defaults for the lab's figures: plt.rcParams.update(LAB_RC).
LAB_RC = {
    "figure.dpi": 90,
    "savefig.dpi": 90,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "figure.titlesize": 14,
}

# Component k is drawn in COMPONENT_COLOURS[k]: red and blue first, as in Bishop's
# figure 9.8, then a qualitative palette (matplotlib's tab10 without its red and blue).
COMPONENT_COLOURS = ("#d62728", "#1f5fbf", "#2ca02c", "#ff7f0e", "#9467bd",
                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

XLABEL = "standardised eruption time"
YLABEL = "standardised waiting time"


def covariance_ellipse(ax, mean, cov, n_std: float = 2.0, **kw) -> Ellipse:
    """Draw the ellipse {x : (x - mean)^T cov^(-1) (x - mean) = n_std^2} on ``ax``.

    Its axes point along the eigenvectors of ``cov``, with half-lengths ``n_std``
    times the square roots of the eigenvalues (the standard deviations along those
    directions). For a 2-D Gaussian the ellipse holds a fraction 1 - exp(-n_std^2 / 2)
    of the probability: 39% for 1, 86% for 2, 99% for 3.

    Parameters
    ----------
    ax : matplotlib Axes
    mean : array of shape (2,)
        The centre, in data units.
    cov : array of shape (2, 2)
        A symmetric positive semi-definite covariance matrix, in data units squared.
    n_std : float
        Size of the ellipse in standard deviations.
    **kw
        Passed to :class:`matplotlib.patches.Ellipse` (``edgecolor``, ``linewidth``,
        ``label``, ...). By default the ellipse is not filled.

    Returns
    -------
    matplotlib.patches.Ellipse (already added to ``ax``)
    """
    mean = np.asarray(mean, dtype=float).reshape(-1)
    cov = np.asarray(cov, dtype=float)
    if mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(f"covariance_ellipse draws 2-D Gaussians: mean (2,) and cov (2, 2); "
                         f"got {mean.shape} and {cov.shape}.")
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))  # ascending eigenvalues
    vals = np.clip(vals, 0.0, None)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))  # direction of the largest
    kw.setdefault("facecolor", "none")
    kw.setdefault("linewidth", 2.0)
    ell = Ellipse(xy=mean, width=2 * n_std * np.sqrt(vals[1]), height=2 * n_std * np.sqrt(vals[0]),
                  angle=angle, **kw)
    ax.add_patch(ell)
    return ell


def responsibility_colours(gamma, colours=COMPONENT_COLOURS) -> np.ndarray:
    """One RGB colour per point: the components' colours mixed in proportion to gamma.

    With K = 2 a point that belongs surely to component 0 is red, surely to component 1
    blue, and a point shared half and half is purple, as in Bishop's figure 9.8.

    Parameters
    ----------
    gamma : array of shape (N, K)
        Responsibilities, each row non-negative and summing to 1.
    colours : sequence of at least K matplotlib colours
        Colour of each component (default :data:`COMPONENT_COLOURS`).

    Returns
    -------
    array of shape (N, 3): RGB values in [0, 1].
    """
    gamma = np.asarray(gamma, dtype=float)
    if gamma.ndim != 2:
        raise ValueError(f"gamma should have shape (N, K); got {gamma.shape}.")
    K = gamma.shape[1]
    if K > len(colours):
        raise ValueError(f"{K} components but only {len(colours)} colours; pass more colours.")
    palette = np.array([to_rgb(c) for c in colours[:K]])  # (K, 3)
    weights = np.clip(np.nan_to_num(gamma), 0.0, None)
    weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
    return np.clip(weights @ palette, 0.0, 1.0)


def plot_gmm_state(ax, X, mu, Sigma, gamma=None, title: str | None = None, *, n_std: float = 2.0,
                   xlabel: str = XLABEL, ylabel: str = YLABEL, legend: bool = True,
                   lim: tuple[float, float] | None = (-2.6, 2.6), point_size: float = 14,
                   colours=COMPONENT_COLOURS):
    """Draw a 2-D mixture: the points, each component's mean and covariance ellipse.

    Parameters
    ----------
    ax : matplotlib Axes
    X : array of shape (N, 2)
        The data.
    mu : array of shape (K, 2)
        Component means.
    Sigma : array of shape (K, 2, 2)
        Component covariances; each is drawn as its ``n_std`` ellipse.
    gamma : array of shape (N, K), optional
        Responsibilities; points are coloured by :func:`responsibility_colours`. If
        None, points are grey.
    title : str, optional
    n_std : float
        Ellipse size in standard deviations (2: about 86% of a component's mass).
    xlabel, ylabel : str
        Axis labels (default: the standardised Old Faithful columns).
    legend : bool
        Add a legend naming the components (and the colour code of the points).
    lim : (low, high) or None
        Limits of both axes (equal aspect); None keeps matplotlib's.
    point_size : float
        Marker area of the points, in points squared.
    colours : sequence of matplotlib colours
        Colour of each component.

    Returns
    -------
    ax
    """
    X = np.asarray(X, dtype=float)
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    K = mu.shape[0]
    if X.ndim != 2 or X.shape[1] != 2 or mu.shape != (K, 2) or Sigma.shape != (K, 2, 2):
        raise ValueError(f"plot_gmm_state draws 2-D data: X (N, 2), mu (K, 2), Sigma (K, 2, 2); got "
                         f"{X.shape}, {mu.shape}, {Sigma.shape}.")
    face = responsibility_colours(gamma, colours) if gamma is not None else "0.55"
    ax.scatter(X[:, 0], X[:, 1], s=point_size, c=face, edgecolors="none", alpha=0.85, zorder=2)
    for k in range(K):
        colour = colours[k % len(colours)]
        covariance_ellipse(ax, mu[k], Sigma[k], n_std=n_std, edgecolor=colour, linewidth=2.0, zorder=4)
        ax.plot(*mu[k], marker="X", markersize=10, color=colour, markeredgecolor="white", zorder=5)
    if lim is not None:
        ax.set_xlim(*lim)
        ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(handles=gmm_legend_handles(K, n_std=n_std, shared=gamma is not None and K == 2,
                                             colours=colours), loc="lower right", framealpha=0.9)
    return ax


def gmm_legend_handles(K: int, *, n_std: float = 2.0, shared: bool = True, colours=COMPONENT_COLOURS) -> list:
    """Legend entries for :func:`plot_gmm_state`: one per component, and (K = 2) a shared point.

    Use them for one legend for a whole grid of panels:
    ``fig.legend(handles=gmm_legend_handles(2), loc="outside lower center", ncol=3)``.

    Parameters
    ----------
    K : int
        Number of components.
    n_std : float
        Ellipse size in standard deviations, for the labels.
    shared : bool
        With K = 2, add the purple of a point shared half and half.
    colours : sequence of matplotlib colours

    Returns
    -------
    list of matplotlib Line2D handles
    """
    handles = [Line2D([], [], color=colours[k % len(colours)], linewidth=2, marker="X", markersize=8,
                      markeredgecolor="white", label=f"component {k + 1}: mean and {n_std:g}σ ellipse")
               for k in range(K)]
    if shared and K == 2:
        mixed = responsibility_colours(np.array([[0.5, 0.5]]), colours)[0]
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, color=mixed,
                              label="point shared half and half"))
    return handles


def plot_loglik_history(ax, history, *, start: int = 0, label: str | None = None,
                        title: str | None = "Log-likelihood during EM", marker: str = "o", **kw):
    """Plot the log-likelihood l(theta_t) against the iteration t.

    Parameters
    ----------
    ax : matplotlib Axes
    history : EMHistory or sequence of float
        The log-likelihoods l(theta_0), l(theta_1), ... in nats.
    start : int
        First iteration to show (``start=1`` leaves out the starting point, whose much
        lower value would squash the rest of the curve).
    label : str, optional
        Legend label of the curve (a legend is added when given).
    title : str or None
    marker : str
        Matplotlib marker of each iteration.
    **kw
        Passed to ``ax.plot``.

    Returns
    -------
    list of Line2D (what ``ax.plot`` returned)
    """
    values = np.asarray(getattr(history, "loglik", history), dtype=float)
    t = np.arange(len(values))
    kw.setdefault("markersize", 3.5)
    lines = ax.plot(t[start:], values[start:], marker=marker, label=label, **kw)
    ax.set_xlabel("iteration t (0 = the starting parameters)")
    ax.set_ylabel(r"log-likelihood $\ell(\theta_t)$ (nats)")
    if title:
        ax.set_title(title)
    if label is not None:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return lines
