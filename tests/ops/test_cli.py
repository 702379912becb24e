"""The `itfuzz` command line, in process (`itfuzz.cli.main([...])`), output captured."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from itfuzz import cli
from itfuzz.known_findings import KNOWN

TARGET = "component_roundtrip"


def run(capsys, *argv):
    """(exit status, stdout, stderr) of `itfuzz ARGV…`, however the CLI reports an error: a
    returned status or a SystemExit (with a message, which Python prints, as status 1)."""
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:
        rc = e.code
        if isinstance(rc, str):
            sys.stderr.write(rc + "\n")
            rc = 1
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def corpus_file(repo_root):
    files = sorted(p for p in (repo_root / "corpus" / TARGET).iterdir() if p.stat().st_size > 20)
    return files[0]


def test_repro_known_finding_exits_1_with_report(capsys, repo_root):
    k = KNOWN[0]
    rc, out, err = run(capsys, "repro", TARGET, str(repo_root / k.reproducer))
    assert rc == 1, (out, err)
    assert f"FINDING {k.signature}" in out
    assert f"known finding {k.id}" in out
    for section in ("-- signature (WIT) --", "-- values --", "-- component (WAT) --"):
        assert section in out, section
    assert "f: func(" in out and "(component" in out and "x = " in out
    assert "Traceback" not in out + err


def test_repro_corpus_file_exits_0(capsys, corpus_file):
    rc, out, err = run(capsys, "repro", TARGET, str(corpus_file))
    assert rc == 0, (out, err)
    assert f"{corpus_file}: ok" in out
    assert "FINDING" not in out


def test_repro_several_files_reports_the_worst(capsys, repo_root, corpus_file):
    k = KNOWN[1]
    rc, out, _ = run(capsys, "repro", TARGET, str(corpus_file), str(repo_root / k.reproducer))
    assert rc == 1
    assert f"{corpus_file}: ok" in out and f"FINDING {k.signature}" in out


def test_show_prints_wit_calls_and_wat(capsys, corpus_file):
    rc, out, err = run(capsys, "show", TARGET, str(corpus_file))
    assert rc in (0, None)
    assert "-- signature (WIT) --" in out and "f: func(" in out
    assert "-- calls --" in out and "#0: f(" in out
    assert "-- component (WAT) --" in out and "(component" in out
    assert out.rstrip().endswith(")")


def test_show_decodes_empty_and_garbage_files(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(range(256))[::-1] * 3 + b"\xff\x00garbage\xfe")
    for f in (empty, garbage):
        rc, out, err = run(capsys, "show", TARGET, str(f))
        assert rc in (0, None), err
        assert "f: func(" in out and "#0: f(" in out and "(component" in out


def test_repro_empty_file_runs(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    rc, out, err = run(capsys, "repro", TARGET, str(empty))
    assert rc == 0, (out, err)
    assert f"{empty}: ok" in out


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_missing_file_is_a_clear_error(capsys, tmp_path, cmd):
    missing = tmp_path / "nope.bin"
    rc, out, err = run(capsys, cmd, TARGET, str(missing))
    assert rc not in (0, None)
    assert f"{missing}: no such file" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_directory_is_a_clear_error(capsys, tmp_path, cmd):
    rc, out, err = run(capsys, cmd, TARGET, str(tmp_path))
    assert rc not in (0, None)
    assert f"{tmp_path}: is a directory" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("cmd", ["repro", "show"])
def test_unknown_target_is_a_clear_error(capsys, corpus_file, cmd):
    rc, out, err = run(capsys, cmd, "no_such_target", str(corpus_file))
    assert rc not in (0, None)
    assert "unknown target 'no_such_target'" in err and TARGET in err
    assert "Traceback" not in out + err


def test_usage_errors():
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["repro", TARGET])  # no files
    assert e.value.code == 2


def test_errors_have_no_traceback_out_of_process(tmp_path, repo_root):
    env_path = str(repo_root / "src")
    import os
    env = dict(os.environ, PYTHONPATH=env_path)
    p = subprocess.run([sys.executable, "-m", "itfuzz.cli", "repro", TARGET,
                        str(tmp_path / "missing")], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode != 0
    assert "no such file" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout


# -- every verb: --help lists every option; options in any position -----------------------------

def verbs():
    return cli.build_parser()[1]


@pytest.mark.parametrize("verb", sorted(verbs()))
def test_help_lists_every_option(capsys, verb):
    with pytest.raises(SystemExit) as e:
        cli.main([verb, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: itfuzz {verb} ")
    for action in verbs()[verb]._actions:
        assert action.help != argparse.SUPPRESS, f"{verb}: hidden option {action.dest}"
        for option in action.option_strings:
            assert option in out, f"itfuzz {verb} --help does not list {option}"
        if not action.option_strings:  # a positional: its name is shown
            assert (action.metavar or action.dest) in out


def test_top_level_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(f"    {verb}" in out for verb in verbs())


@pytest.mark.parametrize("argv", [
    ["repro", "-q", "T", "a", "--timeout", "3", "b"],
    ["repro", "T", "a", "-q", "b", "--timeout=3"],
    ["repro", "--timeout", "3", "T", "a", "b", "--quiet"],
])
def test_repro_options_anywhere(argv):
    args = cli.parse(argv)
    assert (args.target, args.files, args.quiet, args.timeout) == ("T", ["a", "b"], True, 3.0)


def test_options_anywhere_in_every_verb():
    a = cli.parse(["minimize", "-o", "out", "T", "--max-execs", "5", "f"])
    assert (a.target, a.file, a.output, a.max_execs) == ("T", "f", "out", 5)
    a = cli.parse(["triage", "d1", "--target", "X", "d2", "--timeout", "1"])
    assert (a.paths, a.target, a.timeout) == (["d1", "d2"], "X", 1.0)
    a = cli.parse(["show", "T", "f"])
    assert (a.target, a.file) == ("T", "f")
    a = cli.parse(["spec-test", "-j", "2", "a.wast", "-v", "b.wast", "--fail-under", "90"])
    assert (a.paths, a.jobs, a.verbose, a.fail_under) == (["a.wast", "b.wast"], 2, True, 90.0)
    a = cli.parse(["gen-static", "--count", "3", "--if-stale"])
    assert (a.count, a.if_stale) == (3, True)


def test_fuzz_passes_libfuzzer_flags_through_untouched():
    argv = ["-runs=5", "T", "dir1", "-jobs=2", "-dict=x.dict", "dir2", "-help=1"]
    a = cli.parse(["fuzz", *argv])
    assert a.target == "T"
    assert a.flags == ["-runs=5", "dir1", "-jobs=2", "-dict=x.dict", "dir2", "-help=1"]
    assert cli.parse(["fuzz", "T"]).flags == []


@pytest.mark.parametrize("argv", [
    ["fuzz", "T", "-runs=10", "--timeout", "5"],  # `5` would become a corpus dir
    ["fuzz", "T", "--weird"],
    ["merge", "T", "C", "N", "--max_len=9"],
])
def test_pass_through_verbs_reject_an_unknown_double_dash_option(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.parse(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    bad = next(a for a in argv if a.startswith("--"))
    name = bad.lstrip("-").split("=")[0]
    assert f"unknown option {bad}" in err and f"-{name}=VALUE" in err


@pytest.mark.parametrize("argv, bad", [
    (["repro", "--wasm", "41.0.0", "T", "f"], "--wasm"),
    (["repro", "T", "f", "--quie"], "--quie"),
    (["triage", "d", "--tar", "X"], "--tar"),
    (["minimize", "T", "f", "--max", "5"], "--max"),
    (["sweep", "T", "f", "--vers", "41.0.0..42.0.0"], "--vers"),
    (["merge", "T", "C", "N", "--verb"], "--verb"),
    (["fuzz", "T", "--wasm=41.0.0"], "--wasm=41.0.0"),
])
def test_no_option_is_abbreviated(capsys, argv, bad):
    with pytest.raises(SystemExit) as e:
        cli.parse(argv)
    assert e.value.code == 2
    assert bad in capsys.readouterr().err


def test_every_parser_refuses_abbreviations():
    top, parsers = cli.build_parser()
    assert top.allow_abbrev is False
    assert {v: p.allow_abbrev for v, p in parsers.items()} == {v: False for v in parsers}


@pytest.fixture
def releases_faked(monkeypatch):
    """`run_in_release` recorded instead of run (no environment is made): the calls list."""
    from itfuzz.ops import releases
    calls: list = []
    monkeypatch.setattr(releases, "same_as_running", lambda r: False)
    monkeypatch.setattr(releases, "run_in_release", lambda r, argv: calls.append((r, argv)) or 0)
    return calls


def test_an_abbreviated_wasmtime_does_not_run_on_the_pinned_release(capsys, corpus_file,
                                                                    releases_faked):
    rc, out, err = run(capsys, "repro", "--wasm", "41.0.0", TARGET, str(corpus_file))
    assert rc == 2 and "--wasm" in err and out == ""
    assert releases_faked == []


@pytest.mark.parametrize("verb", ["sweep", "gen-static", "spec-test"])
def test_wasmtime_is_refused_by_verbs_without_it(capsys, corpus_file, releases_faked, verb):
    argv = {"sweep": [verb, TARGET, str(corpus_file)], "gen-static": [verb, "--count", "1"],
            "spec-test": [verb, str(corpus_file)]}[verb]
    rc, out, err = run(capsys, *argv, "--wasmtime", "41.0.0")
    assert rc == 2 and "--wasmtime" in err
    assert releases_faked == []


def test_wasmtime_is_taken_by_the_verbs_with_it(capsys, corpus_file, releases_faked):
    assert set(cli.RELEASE_VERBS) == {
        v for v, p in cli.build_parser()[1].items()
        if any("--wasmtime" in a.option_strings for a in p._actions)}
    rc, _, _ = run(capsys, "repro", TARGET, "--wasmtime", "41.0.0", str(corpus_file))
    assert rc == 0
    assert releases_faked == [("41.0.0", ["repro", TARGET, str(corpus_file)])]


def test_merge_keeps_its_verbose_flag_and_passes_the_rest():
    for argv in (["-v", "T", "C", "N1", "-max_len=9", "N2"],
                 ["T", "C", "N1", "--verbose", "-max_len=9", "N2"],
                 ["T", "-max_len=9", "C", "N1", "N2", "-v"]):
        a = cli.parse(["merge", *argv])
        assert (a.target, a.corpus, a.verbose) == ("T", "C", True), argv
        assert [f for f in a.flags if f.startswith("-")] == ["-max_len=9"]
        assert [f for f in a.flags if not f.startswith("-")] == ["N1", "N2"]
    a = cli.parse(["merge", "T", "C", "N", "-verbosity=2"])
    assert not a.verbose and a.flags == ["N", "-verbosity=2"]


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["repro", TARGET, "f", "--bogus"])
    assert e.value.code == 2
    assert "--bogus" in capsys.readouterr().err


MINI_WAST = """
(module (func (export "one") (result i32) i32.const 1))
(assert_return (invoke "one") (i32.const 1))
(assert_return (invoke "one") (i32.const 2))
"""


@pytest.mark.spec
@pytest.mark.parametrize("where", ["before", "after"])
def test_spec_test_verbose_before_or_after_the_paths(capsys, tmp_path, where):
    wast = tmp_path / "mini.wast"
    wast.write_text(MINI_WAST)
    argv = ["spec-test", "-v", "-j", "1", str(wast)] if where == "before" else \
        ["spec-test", str(wast), "-j", "1", "-v"]
    rc, out, err = run(capsys, *argv)
    assert rc == 1, (out, err)  # one deliberate wrong expectation
    assert f"{wast}:4: assert_return:" in out  # -v: every failure printed
    assert out.rstrip().endswith("2 passed, 1 failed")  # the module and one assertion pass


def test_pass_through_keeps_the_verbs_own_options_with_their_values():
    p = argparse.ArgumentParser()
    p.add_argument("-v", action="store_true")
    p.add_argument("--opt")
    p.add_argument("target")
    mine, theirs = cli.split_passthrough(
        p, ("target",), ["-runs=1", "--opt", "41.0.0", "T", "d", "-v", "--opt=2", "-jobs=2"])
    assert mine == ["--opt", "41.0.0", "T", "-v", "--opt=2"]
    assert theirs == ["-runs=1", "d", "-jobs=2"]
