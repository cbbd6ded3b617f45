"""EM Lab: student-safe helpers for the Gaussian-mixture labs.

Nothing in this package knows a solution: it loads the course data, draws figures,
runs an EM loop built from *your* functions, and gives the visible checks that explain
mistakes in words.

Modules
-------
emlab.data      load_faithful(): the Old Faithful data, checked against its checksum;
                standardise()
emlab.plotting  covariance_ellipse(), responsibility_colours(), plot_gmm_state(),
                gmm_legend_handles(), plot_loglik_history(); LAB_RC (readable font sizes)
emlab.em        run_em(): an EM loop that calls the functions you write, returning an
                EMHistory; kmeans_init(): a seeded k-means start
emlab.checking  what every lab's visible checks share (message form, the monotone check)
emlab.checks    visible checks for lab 03's exercises: check_e_step(), check_m_step(),
                check_loglik(), check_monotone()
emlab.two_means lab 01: simulate_heights(), run_two_means_em(), loglik_surface(), figures
                (plot_heights, plot_em_run, plot_surface, plot_em_path) and its visible checks
                check_e_step(), check_m_step(), check_incomplete_loglik(), check_monotone()

Shapes everywhere (as in scikit-learn's sklearn.mixture): N points, D features,
K components; X (N, D), mu (K, D), Sigma (K, D, D), pi (K,), gamma (N, K).
"""

__version__ = "0.1.0"
