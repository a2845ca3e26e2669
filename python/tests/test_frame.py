"""winnow.dedup_frame on pandas DataFrames."""

import pytest

import winnow

pandas = pytest.importorskip("pandas")

TEXTS = [
    "the quick brown fox jumps over the lazy dog near the river bank",
    "The quick brown fox jumps over the lazy dog, near the river bank.",
    "a completely different story about budgets and ministers today",
    None,
    "the quick brown fox jumps over the lazy dog near the river bank",
]


def frame():
    return pandas.DataFrame({"text": TEXTS, "n": [1, 5, 2, 0, 9]},
                            index=[10, 11, 12, 13, 14])


def test_filtered_frame_and_mask():
    df = frame()
    out = winnow.dedup_frame(df)
    assert list(out.index) == [10, 12]
    assert list(out.columns) == ["text", "n"]
    m = winnow.dedup_frame(df, mask=True)
    assert m.dtype == bool and list(m.index) == list(df.index)
    assert list(m) == [True, False, True, False, False]
    assert df[m].equals(out)


def test_keep_max_column_and_options():
    df = frame()
    out = winnow.dedup_frame(df, keep_max="n")
    assert list(out.index) == [12, 14]
    out = winnow.dedup_frame(df.rename(columns={"text": "body"}),
                             text="body", exact_only=True)
    assert list(out.index) == [10, 12]
    with pytest.raises(winnow.OptionError, match="no column 'body'"):
        winnow.dedup_frame(df, text="body")
    with pytest.raises(winnow.OptionError, match="must be in"):
        winnow.dedup_frame(df, threshold=2)
    with pytest.raises(TypeError):
        winnow.dedup_frame(TEXTS)
