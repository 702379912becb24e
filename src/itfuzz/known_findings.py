"""Real bugs already found, by exact finding signature.

`itfuzz fuzz` skips inputs whose finding is listed here (and counts them), so a long run goes on
finding other bugs; `itfuzz repro` still reports them, marked as known. Each entry's reproducer
lives in `findings/` and has an expected-failure test in `tests/test_known_findings.py`.

`seen_in` is the range of releases `itfuzz sweep` showed it on; `fixed_in` the first release that
no longer shows it. On a release at or after `fixed_in` a finding is not known (not skipped): it
would be a regression.
"""
from __future__ import annotations

from dataclasses import dataclass

from itfuzz.versions import parse_version, release


@dataclass(frozen=True)
class Known:
    id: str
    signature: str
    target: str
    title: str
    reproducer: str  # path relative to the repository root
    seen_in: str = ""          # "FIRST..LAST" releases it showed on (`itfuzz sweep`)
    fixed_in: str | None = None  # the first release without it (None: not fixed)
    also: tuple[str, ...] = ()   # other signatures of the same bug (other targets or paths)
    targets: tuple[str, ...] = ()  # the targets it shows in, when more than `target`

    def shows_in(self, target: str) -> bool:
        return target == self.target or target in self.targets

    def fixed_on(self, release: tuple[int, int, int]) -> bool:
        return self.fixed_in is not None and release >= parse_version(self.fixed_in)


KNOWN = (
    Known("K1", "wasmtime-py-untagged|object", "component_roundtrip",
          "wasmtime-py: an untagged variant/option/result whose earlier case payload is itself an "
          "untagged option-like type (its classes include `object`) captures every later case: "
          "a valid value is rejected (ValueError: value not valid for this variant) or lowered "
          "as the wrong case",
          "findings/K1-untagged-object.bin", seen_in="39.0.0, 44.0.0..51.0.0",
          # host_api_misuse: its valid values (the call before or after the misuse) hit it too;
          # component_static: the same wasmtime-py conversion of its typed values
          targets=("component_roundtrip", "component_static", "host_api_misuse")),
    Known("K2", "wasmtime-py-untagged|bool-int", "component_roundtrip",
          "wasmtime-py: in an untagged variant/result, a `bool` payload after an integer payload "
          "is lowered as the integer case (isinstance(True, int)), e.g. result<u32, bool> "
          "err(true) arrives as ok(1)",
          "findings/K2-untagged-bool-int.bin", seen_in="40.0.0..51.0.0",
          targets=("component_roundtrip", "component_static", "host_api_misuse")),
    Known("K12", "wasmtime-py-slow|variant-nesting", "component_roundtrip",
          "wasmtime-py: converting a value recomputes every variant's tagging from its cases' "
          "classes (VariantLikeType._tagged/add_classes, uncached) at each level, so the time "
          "doubles per nested variant/option/result: one round trip of a 20-deep "
          "result<option<…>, string> chain takes ~5 s; the oracle reports it from the type "
          "instead of timing out",
          "findings/K12-wasmtime-py-exponential-variants.bin", seen_in="39.0.0..51.0.0",
          targets=("component_roundtrip", "component_static")),
    # host_api_misuse: invalid host values (see oracles/misuse.py)
    Known("K4", "misuse-accepted|int-range", "host_api_misuse",
          "wasmtime-py: an out-of-range Python int for an integer type is stored into a ctypes "
          "field, which wraps it silently: u8 300 arrives as 44, s64 2**70 as 0 (arguments and "
          "host results alike)",
          "findings/K4-misuse-int-range.bin", seen_in="39.0.0..51.0.0"),
    Known("K5", "misuse-accepted|bool-for-int", "host_api_misuse",
          "wasmtime-py: integer converters test isinstance(val, int), so True/False are "
          "accepted for s8..u64 and arrive as 1/0",
          "findings/K5-misuse-bool-for-int.bin", seen_in="39.0.0..51.0.0"),
    Known("K6", "misuse-accepted|payload-on-empty-case", "host_api_misuse",
          "wasmtime-py: a tagged Variant(tag, payload) whose case has no payload is accepted "
          "and the payload silently dropped (VariantLikeType._lower)",
          "findings/K6-misuse-payload-on-empty-case.bin", seen_in="39.0.0..51.0.0"),
    Known("K7", "misuse-accepted|record-extra-field", "host_api_misuse",
          "wasmtime-py: a Record with an attribute the record type lacks is accepted and the "
          "extra field silently dropped (RecordType.convert_to_c reads only known fields)",
          "findings/K7-misuse-record-extra-field.bin", seen_in="40.0.0..51.0.0"),
    Known("K8", "misuse-abort|char-surrogate", "host_api_misuse",
          "Wasmtime C API + wasmtime-py: a lone surrogate ('\\ud800') for `char` passes "
          "wasmtime-py's len()==1 check and aborts the process: crates/c-api/src/component/"
          "val.rs:304 char::from_u32(..).unwrap() panics (argument and host-result paths)",
          "findings/K8-misuse-char-surrogate-abort.bin", seen_in="39.0.0..50.0.1",
          fixed_in="51.0.0",
          # the C-level twin: the same unwrap for surrogates and values past U+10FFFF
          also=("capi-misuse-abort|char-surrogate", "capi-misuse-abort|char-range")),
    Known("K9", "misuse-store-poisoned|arg:WasmtimeError", "host_api_misuse",
          "Wasmtime: an argument rejected by Wasmtime itself (unknown enum name, unknown flag) "
          "raises WasmtimeError before any guest code runs, yet the store is poisoned: every "
          "later call, even of a fresh instance in that store, fails with 'cannot enter "
          "component instance'",
          "findings/K9-misuse-enum-name-poisons-store.bin", seen_in="40.0.0..41.0.0, 45.0.0..51.0.0"),
    Known("K10", "misuse-wrong-exception|AssertionError", "host_api_misuse",
          "wasmtime-py: a host function of a result-less func that returns a value is caught "
          "by `assert(result is None)` (AssertionError; silently accepted under python -O)",
          "findings/K10-misuse-result-assert.bin", seen_in="39.0.0..51.0.0"),
    Known("K11", "misuse-accepted|wrong-type:bool", "host_api_misuse",
          "wasmtime-py: K1 + K5 together: a bool that fits no case of an untagged variant is "
          "captured by an earlier case whose untagged option payload matches `object`, then "
          "lowered as an integer: for result<option<s16>, f64>, True arrives as ok(some(1))",
          "findings/K11-misuse-bool-through-untagged.bin", seen_in="44.0.0..51.0.0"),
)
# Found by sweeping component_hostile and the seed corpora over older releases.
KNOWN += (
    Known("K13", "host-api-error|ValueError:value not valid for this variant", "component_hostile",
          "wasmtime-py <= 43: VariantType, OptionType and ResultType list ValType before "
          "VariantLikeType among their bases, so ValType's abstract add_classes (adds nothing) "
          "shadows VariantLikeType.add_classes: a variant-like payload of an option/result/"
          "variant adds no classes to the tagging decision, so values lose their case (a guest's "
          "some(a) for option<variant{a}> reaches Python as None, i.e. none) or valid values are "
          "rejected (ValueError: value not valid for this variant); fixed in 44.0.0",
          "findings/K13-wasmtime-py-nested-variant-classes.bin", seen_in="39.0.0..43.0.0",
          fixed_in="44.0.0",
          # the same bug seen through the other targets (a valid value rejected or lost)
          targets=("component_roundtrip", "component_static", "host_api_misuse"),
          also=("abi-host-value|lift-args:ShapeError:expected a Variant, got NoneType None",
                "abi-host-value|lift-result:ShapeError:expected a Variant, got NoneType None",
                "abi-host-value|lift-args:ShapeError:unknown case S",
                "abi-host-value|lift-result:ShapeError:unknown case S",
                "call-error|ValueError:value not valid for this variant",
                "misuse-after-failed|ret-same-store:call-error",
                "misuse-after-failed|ret-fresh-store:call-error",
                "misuse-store-poisoned|arg:ValueError", "misuse-store-poisoned|arg:TypeError")),
    Known("K14", "abort|crates/wasmtime/src/runtime/component/values.rs", "component_hostile",
          "Wasmtime <= 43: lifting a `flags` whose bits go past its last label (a guest returns "
          "flat 0x0fffffff for flags{f0}) panics in the dynamic value path "
          "(runtime/component/values.rs:1031, 'out of bounds index'), aborting the process; "
          "the spec ignores undefined flag bits; fixed in 44.0.0",
          "findings/K14-flags-undefined-bits-panic.bin", seen_in="39.0.0..43.0.0",
          fixed_in="44.0.0"),
    Known("K15", "misuse-abort|ret:string-surrogate", "host_api_misuse",
          "wasmtime-py: when a host function's result cannot be converted (a string with a "
          "lone surrogate raises UnicodeEncodeError), the error path frees a pointer the "
          "converter never set (it marks the result slot first, as K28's resource converter "
          "does): segfault or 'double free or corruption', by allocation luck (the target: 39, "
          "41, 44, 50.0.1, 51.0.0; findings/K15-*.py: 39, 41, 42, 45, 49). Predicted without "
          "running, like K8 (ITFUZZ_MISUSE_RUN_ABORTS=1 runs it: the reproducer aborts on "
          "50.0.1 and 51.0.0)",
          "findings/K15-host-result-surrogate-abort-on-50.0.1.bin",
          seen_in="39.0.0, 41.0.0, 44.0.0, 50.0.1, 51.0.0",
          also=("abort|SIGSEGV", "abort|SIGABRT")),
)
KNOWN += (
    Known("K16", "abi-missing-trap|lift-result:string-misaligned", "component_hostile",
          "Wasmtime <= 43: a utf16 or latin1+utf16 string lifted from an odd pointer is accepted; "
          "the Canonical ABI requires 2-byte alignment and traps (44.0.0 and later: 'string "
          "pointer not aligned to 2')",
          "findings/K16-string-misaligned-accepted.bin", seen_in="39.0.0..43.0.0",
          fixed_in="44.0.0", also=("abi-missing-trap|lift-args:string-misaligned",)),
    Known("K17", "abi-missing-trap|adapter:realloc-oob:grow", "component_hostile",
          "Wasmtime <= 43: the fused adapter's utf8 -> latin1+utf16 transcoder does not check "
          "the callee realloc's answer when it grows the buffer (realloc(0xffd0, 48, 2, 96) -> "
          "0xffd0 ends past a 64 KiB memory): it writes out of bounds and the process segfaults "
          "(standalone script) or the callee is entered (harness); the spec traps; 44.0.0 "
          "traps ('string content out-of-bounds')",
          "findings/K17-adapter-transcode-realloc-oob.bin", seen_in="39.0.0..43.0.0",
          fixed_in="44.0.0"),
    Known("K19", "abi-missing-trap|adapter:realloc-oob:shrink", "component_hostile",
          "Wasmtime <= 44: the fused adapter does not check the answer of the final, shrinking "
          "realloc when it transcodes utf8 -> latin1+utf16 into UTF-16 (realloc(p, 8, 2, 4) -> "
          "0xfffffff8 becomes the string's pointer in the callee); the spec traps; 45.0.0 traps. "
          "Found by component_hostile on 44.0.0 (K17, the growing call, was fixed in 44)",
          "findings/K19-adapter-shrink-realloc-unchecked.bin", seen_in="39.0.0..44.0.0",
          fixed_in="45.0.0"),
    Known("K20", "abi-missing-trap|adapter:realloc-oob:alloc", "component_hostile",
          "Wasmtime <= 44: the fused adapter does not check the callee realloc's answer for the "
          "spilled-parameters tuple (> 16 flat params): an answer whose tuple ends past the "
          "callee's memory is passed on when the bytes written for the values happen to fit "
          "(realloc(0, 0, 1, 19) -> 0xffef); the spec traps; 45.0.0 traps. Found on 44.0.0",
          "findings/K20-adapter-spilled-params-realloc-unchecked.bin", seen_in="40.0.0..44.0.0",
          fixed_in="45.0.0"),
    Known("K21", "abi-memory|adapter:released:utf16->utf8", "component_hostile",
          "Wasmtime <= 44: the fused adapter transcoding utf16 or latin1+utf16 into a utf8 callee "
          "writes non-ASCII output into its first, optimistic buffer before the realloc that "
          "grows it, so memory the callee got back holds bytes the spec never writes (the spec "
          "writes only the prefix that fits); 45.0.0 writes what the spec writes. Found on 44.0.0",
          "findings/K21-adapter-to-utf8-writes-released-memory.bin", seen_in="40.0.0..44.0.0",
          fixed_in="45.0.0", also=("abi-memory|adapter:released:latin1+utf16->utf8",)),
    Known("K18", "abi-memory|adapter:released:utf8->latin1+utf16", "component_hostile",
          "Wasmtime: the fused adapter transcoding a utf8 string of 16 bytes or more into a "
          "latin1+utf16 callee leaves UTF-8 bytes of the source in the callee's buffer past the "
          "Latin-1 text (the part realloc takes back when it shrinks the buffer); the spec "
          "writes only the Latin-1 bytes. The callee sees its caller's encoding of the string "
          "in memory it did not get. Found on 50.0.1 by the layout-agreement run",
          "findings/K18-adapter-latin1-leftover-source-bytes.bin", seen_in="39.0.0..51.0.0"),
    Known("K23", "capi-misuse-abort|string-bad-utf", "host_api_misuse",
          "Wasmtime C API: a string, or an enum, variant-case, record-field or flag name, that "
          "is not UTF-8 in a wasmtime_component_val_t (an argument of "
          "wasmtime_component_func_call or a host function's result) aborts the process: "
          "crates/c-api/src/component/val.rs String::from_utf8(..).unwrap() panics (50.0.1: "
          "lines 306, 316, 124, 179, 214); 51.0.0 returns an error. Found by the C-level twin",
          "findings/K23-capi-non-utf8-string-abort.bin", seen_in="39.0.0..50.0.1",
          fixed_in="51.0.0", also=("capi-misuse-abort|name-bad-utf",)),
)
# Maps (map<K, V>, enabled from Wasmtime 44): component_roundtrip's single shape hands them to the host.
KNOWN += (
    Known("K22", "type-reflection|TypeError:unknown component value type kind",
          "component_roundtrip",
          "wasmtime-py: no release can use a component function whose type holds a map<K, V> "
          "(valtype_from_ptr knows no map kind): Func.type, calling the function and a host "
          "function taking a map all raise TypeError: unknown component value type kind, "
          "although Wasmtime compiles and runs the component once wasm_component_model_map is "
          "on (44.0.0 through the C API, 45.0.0 on as a Config property); findings/K22-*.py",
          "findings/K22-wasmtime-py-map-types.bin", seen_in="44.0.0..51.0.0"),
)
# Resources (own/borrow handles): component_roundtrip's resource inputs.
KNOWN += (
    Known("K24", "guest-resource|other-store-drop", "component_roundtrip",
          "Wasmtime: ResourceAny.drop(store) (wasmtime_component_resource_any_drop) does not "
          "check that the handle belongs to the store: a handle of store A dropped through store "
          "B is accepted when B's host table has a live entry at the same index and generation, "
          "and drops B's resource (B's destructor runs, B's own handle is gone) instead of "
          "raising; findings/K24-*.py",
          "findings/K24-resource-drop-other-store.bin", seen_in="39.0.0..51.0.0",
          targets=("component_roundtrip", "component_static")),  # static: its resource cases
    Known("K25", "call-error|WasmtimeError:BUG: no current scope", "component_roundtrip",
          "Wasmtime: the embedder cannot pass a borrow of a host resource: converting the "
          "ResourceHost borrow to a ResourceAny for the call (wasmtime_component_resource_host_"
          "to_any, as wasmtime-py's BorrowType does) panics and aborts on 39.0.0-43.0.0 and fails "
          "with Wasmtime-internal errors on 44.0.0-49.0.0; fixed in 50.0.1; findings/K25-*.py",
          "findings/K25-host-borrow-argument.bin", seen_in="40.0.0..49.0.0", fixed_in="50.0.1",
          # misuse: in its valid calls; static: its resource cases
          targets=("component_roundtrip", "component_static", "host_api_misuse"),
          also=("abort|crates/wasmtime/src/runtime/vm/component/resources.rs",
                "abort|crates/wasmtime/src/runtime/component/store.rs",
                "call-error|WasmtimeError:out of range integral type conversion attempted",
                "call-error|WasmtimeError:BUG: current thread is not set")),
    Known("K26", "compile|failed to compile: wasm[N]::function[N]", "component_roundtrip",
          "Wasmtime 43.0.0-44.0.0: the fused adapter for a borrow of an imported resource passed "
          "from a caller component to a callee component is invalid Wasm (type mismatch: "
          "expected i32 but nothing on stack), so the component fails to compile; fixed in "
          "45.0.0; findings/K26-*.py",
          "findings/K26-adapter-borrow-invalid-wasm.bin", seen_in="43.0.0..44.0.0",
          fixed_in="45.0.0"),
    Known("K27", "misuse-accepted|other-store", "host_api_misuse",
          "Wasmtime: a host resource handle (ResourceAny) of one store, passed to a component "
          "function of another store (as an argument, or as a host function's result), is not "
          "checked against that store: when the store's host table has a live entry at the same "
          "index and generation it is accepted and names that store's resource (the same root "
          "as K24's drop); also for a store of another engine; findings/K27-*.py",
          "findings/K27-resource-other-store-argument.bin", seen_in="39.0.0..51.0.0",
          also=("misuse-accepted|other-engine",)),
    Known("K28", "misuse-abort|ret:moved-own", "host_api_misuse",
          "wasmtime-py: a host function returning an own handle it cannot convert (a ResourceAny "
          "already passed to Wasm, which wasmtime-py consumed) corrupts memory: OwnType."
          "convert_to_c marks the result slot as a resource before taking the handle's pointer, "
          "that raises ValueError, and the error path frees the slot's garbage pointer ('double "
          "free or corruption', by allocation luck; a hang inside malloc under libFuzzer). "
          "The error path is K15's (String.convert_to_c also marks the slot first), which "
          "50.0.1 still has: findings/K15-host-result-surrogate-abort-on-50.0.1.bin aborts "
          "there. Predicted without running, like K8; findings/K28-*.py",
          "findings/K28-host-result-consumed-handle-abort.bin", seen_in="41.0.0..50.0.1"),
    Known("K29", "compile|failed to parse WebAssembly module: mismatch in page size for memories "
          "(at offset N)", "component_roundtrip",
          "Wasmtime 45.0.0: with custom page sizes enabled, a valid component whose canonical "
          "option `memory` (canon lift or lower) names a core memory of custom page size "
          "(pagesize 1) fails to compile ('mismatch in page size for memories'); every input "
          "on a page-sizes=on configuration shows it. Fixed in 46.0.1; findings/K29-*.py",
          "findings/K29-canon-memory-custom-page-size.bin", seen_in="45.0.0",
          fixed_in="46.0.1",
          # the targets whose components use byte pages on page-sizes=on (not component_hostile)
          targets=("component_roundtrip", "component_static", "host_api_misuse")),
)
BY_SIGNATURE = {sig: k for k in KNOWN for sig in (k.signature, *k.also)}


def known(signature: str, target: str | None = None) -> Known | None:
    """The known finding with this signature (in this target, when given), unless the release
    under test has its fix."""
    k = BY_SIGNATURE.get(signature)
    if k is not None and target is not None and not k.shows_in(target):
        return None
    if k is not None and k.fixed_in is not None:
        if k.fixed_on(release()):
            return None
    return k
