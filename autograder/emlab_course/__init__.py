"""``emlab-grade``: the course's instructor commands from a plain shell (see :mod:`.cli`).

Only finds the course and sets its environment; the grading itself is ``emlab_judge``'s,
run in a new process. Installed into ``.venv`` by ``make`` as the ``emlab-grade`` command.
"""
