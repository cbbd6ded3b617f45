"""EM Lab's trusted grading side: never imported by, nor visible to, a student's kernel.

reference  reference implementations (log-domain, vectorised)
judge      compares one output with the reference and explains differences in words
verdicts   judges a whole autograded notebook from the outputs its kernel recorded
preflight  checks and repairs a submitted notebook against its source
tamper     signs in a submission's code of interference with grading (for flags)
sandbox    the bubblewrap sandbox and resource limits of a grading kernel
execute    nbgrader's Execute, surviving dead and hung kernels
harness    grades one submission end to end
nbgrader_process  runs an nbgrader command in a process forked with nbgrader imported
batch      grades a folder of submissions on every core
report     the grading report (Markdown, HTML, JSON)
__main__   ``python -m emlab_judge autograde``: what ``make autograde`` runs
"""
