"""Autograder for the nbgrader assignment ``nn_basics`` (ニューラルネットワークの基本).

One distribution, ``nn-basics-autograder``, serves two kinds of machine (README, "The student
package"). Students' notebooks import only the student modules, which need NumPy, SciPy,
scikit-learn and the student's own TensorFlow/Keras, never the grading stack:

* ``environment`` - the notebook's first cell: are TensorFlow and Keras there and new enough?
* ``data``        - the lesson's data loader (students and graders use the same one).
* ``messages``    - the catalogue of every student-facing text, in Japanese and English.
* ``checks``      - one check per autograder test cell, written once.
* ``cells``       - the one-call entry points that notebook test cells use.

The grader's modules (``course``, ``preprocessors``, ``bulk``, ``feedback``, ...) need the
``[grader]`` extra: nbgrader, Dask, jinja2. Nothing here is imported eagerly, so importing this
package costs nothing and pulls in neither side.
"""
