"""EM Lab's trusted grading side: never imported by, nor visible to, a student's kernel.

What is right (never runs student code)
  reference*    reference implementations (log-domain, vectorised), one module per lab
  compare       tolerances and the comparison helpers every lab's judge uses
  judge, labs/  compares one output with the reference and names known mistakes in words
  verdicts      judges a whole autograded notebook from the outputs its kernel recorded;
                partial credit per hidden case
  judge_step    the judge as a step of nbgrader's pipeline, on the notebook in memory
  hidden_first  test cells run their hidden checks before their visible ones

What a submission may do (reads it, never trusts it)
  safe_fs       file access that follows no link and reads within bounds
  preflight     checks and repairs a submitted notebook against its source
  tamper        signs in a submission's code of interference with grading (for flags)
  sanitize      student HTML and markdown made safe to show
  text          submission text bounded: cut at a word, valid UTF-8
  lateness      collect through no link; lateness from a time the student cannot write

Where student code runs
  sandbox, cgroup    the bubblewrap sandbox, its limits and control group
  kernel_forkserver  warm kernels, forked into each sandbox from a server
  execute            nbgrader's Execute, surviving dead and hung kernels
  slots              a sandbox uid per grading slot, and killing what it left

The grading run, stage by stage (harness: the sequence)
  course, course_files, workspace, fingerprint, stage, nbgrader_run, nbgrader_process,
  autograde, apply_verdicts, manual_grades, results, gradebook, gradebook_sync
  batch         grades a folder of submissions on every core
  report, grade_report, export   the run report, the grade report, CSV exports
  feedback      make feedback: every lab with graded work, a page for each ungradable submission
  nbgrader_hook, nbgrader_fixes  every nbgrader way of autograding goes through the harness
  __main__      ``python -m emlab_judge autograde``: what ``make autograde`` runs
"""
