"""`itfuzz fuzz` keeps compiled components on disk by default, and `--no-component-cache` (or
ITFUZZ_DISK_CACHE=0) turns that off."""
from __future__ import annotations

import shutil

import pytest

from itfuzz import cli
from itfuzz.fuzzing import DISK_CACHE_ENV
from itfuzz.ops import libfuzzer

TARGET = "component_roundtrip"


def test_env_turns_the_cache_on_unless_told(monkeypatch):
    monkeypatch.delenv(DISK_CACHE_ENV, raising=False)
    assert libfuzzer.env(disk_cache=True)[DISK_CACHE_ENV] == "1"
    assert DISK_CACHE_ENV not in libfuzzer.env()
    monkeypatch.setenv(DISK_CACHE_ENV, "0")
    assert libfuzzer.env(disk_cache=True)[DISK_CACHE_ENV] == "0"


def test_flag_parses_among_libfuzzer_flags():
    args = cli.parse(["fuzz", TARGET, "-runs=1", "--no-component-cache", "dir"])
    assert args.no_component_cache and args.flags == ["-runs=1", "dir"]
    assert not cli.parse(["fuzz", TARGET]).no_component_cache


@pytest.mark.parametrize("flag", [[], ["--no-component-cache"]])
def test_fuzz_stores_components_unless_the_flag_says(capfd, monkeypatch, repo_root, tmp_path,
                                                       flag):
    monkeypatch.delenv(DISK_CACHE_ENV, raising=False)
    monkeypatch.setenv("ITFUZZ_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in sorted((repo_root / "corpus" / TARGET).iterdir())[:4]:
        shutil.copy(f, corpus)
    rc = cli.main(["fuzz", TARGET, *flag, "-runs=4", f"-artifact_prefix={tmp_path}/",
                   str(corpus)])
    _, err = capfd.readouterr()
    assert rc == 0, err[-3000:]
    stored = list((tmp_path / "cache").rglob("*.blob"))
    assert bool(stored) == (not flag)
