"""IPython config file that turns a starting kernel into the zygote (see ``zygote.py`` here).

IPython executes it while initializing the kernel; it returns only in a forked kernel. The
zygote module is loaded from its file, not imported through the package, so the kernel's
``sys.modules`` does not gain the grader's own package (Dask, nbgrader) along the way.
"""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_nn_autograder_zygote", Path(__file__).with_name("zygote.py"))
_zygote = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_zygote)
_zygote.run_from_config()
