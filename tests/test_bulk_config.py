"""The course configuration is loaded with the environment of the moment, and leaves it alone."""

from __future__ import annotations

import os

from autograder.bulk.course_config import load_course_config


def test_config_sees_the_current_environment_and_keeps_its_changes_to_itself(tmp_path, monkeypatch):
    (tmp_path / "nbgrader_config.py").write_text(
        "import os\nc = get_config()\nos.environ.setdefault('NN_CONFIG_SET', 'from config')\n")
    monkeypatch.setenv("NN_SET_AFTER_IMPORT", "data path")  # e.g. AUTOGRADER_MNIST, set by a script
    monkeypatch.delenv("NN_CONFIG_SET", raising=False)
    loaded = load_course_config(tmp_path)
    assert loaded.env["NN_SET_AFTER_IMPORT"] == "data path"
    assert loaded.env["NN_CONFIG_SET"] == "from config"
    assert "NN_CONFIG_SET" not in os.environ
