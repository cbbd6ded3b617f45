"""EM Lab: student-safe helpers for the Gaussian-mixture labs.

Nothing in this package knows a solution: it loads the course data, draws figures,
runs EM loops built from *your* functions, and gives the visible checks that explain
mistakes in words. No function in it, public or private, computes what a graded exercise
returns (a density, a responsibility, a log-likelihood, a bound, an update):
tests/test_student_safety.py runs every one of them on the hidden cases of every graded
function and fails if the grader would accept an output. What a lab needs of such a
computation is either computed through your own functions, passed in as arguments, or
given in the open in a locked cell of that lab's notebook.

Modules
-------
emlab.data      load_faithful(): the Old Faithful data, checked against its checksum;
                standardise()
emlab.plotting  covariance_ellipse(), responsibility_colours(), plot_gmm_state(),
                gmm_legend_handles(), plot_loglik_history(); LAB_RC (readable font sizes)
emlab.em        run_em(): an EM loop that calls the functions you write, returning an
                EMHistory; kmeans_init(): a seeded k-means start
emlab.visible   the one runner of every visible check (signature, untouched inputs, silenced
                warnings, the case named, the mistake recognised) and its spec objects
emlab.specs     each lab's visible checks as data: specs.labNN.SPECS, one FunctionSpec per
                graded function (cases worked out by hand, relations, named mistakes)
emlab.checking  what the labs share: the mistakes of a responsibility array, gamma_problem(),
                the log-likelihood-never-decreases check
emlab.checks    lab 03's visible checks: check_e_step(), check_m_step(), check_loglik(),
                check_monotone()
emlab.two_means lab 01: simulate_heights(), run_two_means_em(), loglik_surface(), figures
                (plot_heights, plot_em_run, plot_surface, plot_em_path) and its visible checks
                check_e_step(), check_m_step(), check_incomplete_loglik(), check_monotone()
emlab.lower_bound    lab 02: simulate_mixture(), run_em(), bound_along(), mixture_density() (through
                your compute_loglik), figures and visible checks
emlab.saddle_point   lab 04: em_path() (through your grad_ll), gradient_ascent(), alternating_path(),
                optimiser_race(), surfaces, figures and visible checks
emlab.em_in_practice lab 05: make_blobs(), run_em(), run_gradient_descent(), run_em_with_reset() (they
                take the notebook's E step and log-likelihood), figures and visible checks
emlab.split_merge    lab 05: split-and-merge EM, smem(), from your functions and the notebook's E step

Shapes everywhere (as in scikit-learn's sklearn.mixture): N points, D features,
K components; X (N, D), mu (K, D), Sigma (K, D, D), pi (K,), gamma (N, K).
"""

__version__ = "0.1.0"
