"""Autograder for the nbgrader assignment ``nn_basics`` (ニューラルネットワークの基本).

Roles are split by module, like otter-grader's assign/check/grade split:

* ``data``      - the lesson's data loader (students and graders use the same one).
* ``messages``  - the catalogue of every student-facing text, in Japanese and English.
* ``checks``    - one check per autograder test cell, written once.
* ``cells``     - the one-call entry points that notebook test cells use.
"""
