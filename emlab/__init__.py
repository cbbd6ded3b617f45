"""EM Lab: student-safe helpers for the Gaussian-mixture labs.

Nothing in this package knows a solution: it loads the course data, draws figures,
runs an EM loop built from *your* functions, and gives the visible checks that explain
mistakes in words.

Modules
-------
emlab.data      load_faithful(): the Old Faithful data, checked against its checksum
emlab.plotting  covariance ellipses, responsibility colours, EM-history figures
emlab.em        run_em(): an EM loop that calls the functions you write
emlab.checks    visible checks for each lab's exercises
"""

__version__ = "0.1.0"
