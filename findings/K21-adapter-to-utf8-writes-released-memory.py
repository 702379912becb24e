#!/usr/bin/env python3
"""Standalone reproducer of [abi-memory|adapter:released:utf16->utf8]

Needs only wasmtime-py: pip install wasmtime==VERSION && python3 THIS.py (any release
from 39.0.0 on). Exit 1 with a FAIL line when Wasmtime disagrees with the Canonical
ABI (CanonicalABI.md, WebAssembly/component-model), 0 when it agrees; a Wasmtime
panic ends the process with the panic message instead.

Found by itfuzz (component_hostile, input findings/K21-adapter-to-utf8-writes-released-memory.bin): guest memory differs at 40 byte(s), first at 0x448: spec 00000000000000000000000000000000, Wasmtime wrote f1ad96b1f0a58795f0a0ac81f09083b5

WIT:
    // composed: caller string-encoding=utf16, callee string-encoding=utf8
    variant t0 {
      case0-b(u32),
      case1-b,
    }
    enum t1 {
      x0-y,
      x1-y,
      x2-y,
    }
    variant t2 {
      q-0-z(u64),
      q-1-z,
      q-2-z(char),
      q-3-z(result),
      q-4-z,
      q-5-z(u16),
    }
    record t3 {
      a-0: option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<option<bool>>>>>>>>>>>>>>>>>>>>>>>>,
      a-1: s32,
    }
    f: func(a-0: t0, a-1: tuple<t1, string, t2, t3>);

direction: adapter (caller utf16 -> callee utf8)
a-0 = ('case0-b', 2422505353)
a-1 = ('x1-y', '\\U0006d5b1𥇕𠬁𐃵\\U00068dfc\\U000cafb0\\U00064a3d\\U000b73b8𡹅\\U00033c48\\U000b5ade\\U000615c0\\U00080200𐀀\\U00080000\\U000544ca\\U000bcaca\\U000bcaca\\U000bca9b\\U000c67c1', ('q-4-z', None), (('none', None), 2130771968))
flat values handed over: [0x400]
memory image at 0x400: 312 bytes: 00000000897f649001000000e8040000280000000000000004000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000017f75d9b1dd54d8d5dd42d801df00d8f5dc63d9fcddebdab0df52d93dde9cdab8df47d845de8fd848dc96dadede45d9c0ddc0d900de00d800dcc0d900dc11d9cadcb2dacadeb2dacadeb2da9bded9dac1df000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000075d9b1dd54d8d5dd42d801df00d8f5dc63d9fcddebdab0df…
mutations: none
realloc answers: fresh=0x400, fresh=0x448, fresh=0x470, old=0x470
spec verdict: value
spec realloc calls: (0x0, 0, 8, 72) -> 0x400, (0x0, 0, 1, 40) -> 0x448, (0x448, 40, 1, 120) -> 0x470, (0x470, 120, 1, 80) -> 0x470
"""
import base64
import hashlib
import math
import struct
import sys

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant

WAT = r"""(component
  (type $T0 (variant (case "case0-b" u32) (case "case1-b")))
  (import "t0" (type $t0 (eq $T0)))
  (type $T1 (enum "x0-y" "x1-y" "x2-y"))
  (import "t1" (type $t1 (eq $T1)))
  (type $T2 (variant (case "q-0-z" u64) (case "q-1-z") (case "q-2-z" char) (case "q-3-z" (result)) (case "q-4-z") (case "q-5-z" u16)))
  (import "t2" (type $t2 (eq $T2)))
  (type $a0 (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option bool))))))))))))))))))))))))
  (type $T3 (record (field "a-0" (option $a0)) (field "a-1" s32)))
  (import "t3" (type $t3 (eq $T3)))
  (import "entered" (func $entered))
  (component $Callee
    (type $T0 (variant (case "case0-b" u32) (case "case1-b")))
    (import "t0" (type $t0 (eq $T0)))
    (type $T1 (enum "x0-y" "x1-y" "x2-y"))
    (import "t1" (type $t1 (eq $T1)))
    (type $T2 (variant (case "q-0-z" u64) (case "q-1-z") (case "q-2-z" char) (case "q-3-z" (result)) (case "q-4-z") (case "q-5-z" u16)))
    (import "t2" (type $t2 (eq $T2)))
    (type $a0 (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option bool))))))))))))))))))))))))
    (type $T3 (record (field "a-0" (option $a0)) (field "a-1" s32)))
    (import "t3" (type $t3 (eq $T3)))
    (import "entered" (func $entered))
    (core module $Libc
      (memory (export "memory") 1 1)
      (memory $scratch (export "scratch") 16 16)
      (global $heap (mut i32) (i32.const 524288))
      (func (export "scratch_realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $p) (local.get 3)))
        (if (i32.gt_u (global.get $heap) (i32.const 1048576)) (then unreachable))
        (local.get $p))
      (func $nibble (param $c i32) (result i32)
        (select (i32.sub (local.get $c) (i32.const 48)) (i32.sub (local.get $c) (i32.const 87))
                (i32.le_u (local.get $c) (i32.const 57))))
      (func $unhex (param $src i32) (param $len i32) (param $dst i32)
        (local $i i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)))
          (i32.store8 $scratch (i32.add (local.get $dst) (i32.shr_u (local.get $i) (i32.const 1)))
            (i32.or (i32.shl (call $nibble (i32.load8_u $scratch (i32.add (local.get $src) (local.get $i))))
                             (i32.const 4))
                    (call $nibble (i32.load8_u $scratch (i32.add (local.get $src)
                                                                 (i32.add (local.get $i) (i32.const 1)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $next))))
      (func $hexdigit (param $n i32) (result i32)
        (select (i32.add (local.get $n) (i32.const 48)) (i32.add (local.get $n) (i32.const 87))
                (i32.lt_u (local.get $n) (i32.const 10))))
      (func (export "init") (param $img i32) (param $imglen i32) (param $flat i32) (param $flatlen i32)
                            (param $ans i32) (param $anslen i32)
        (call $unhex (local.get $img) (local.get $imglen) (i32.const 65536))
        (memory.copy 0 $scratch (i32.const 1024) (i32.const 65536)
                     (i32.shr_u (local.get $imglen) (i32.const 1)))
        (call $unhex (local.get $flat) (local.get $flatlen) (i32.const 49152))
        (call $unhex (local.get $ans) (local.get $anslen) (i32.const 32768))
        (i32.store $scratch (i32.const 16) (i32.const 0))
        (i32.store $scratch (i32.const 20) (i32.shr_u (local.get $anslen) (i32.const 3))))
      (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32)
                               (result i32)
        (local $k i32) (local $r i32) (local $n i32) (local $e i32)
        (local.set $k (i32.load $scratch (i32.const 16)))
        (if (i32.lt_u (local.get $k) (i32.load $scratch (i32.const 20)))
          (then (local.set $r (i32.load $scratch (i32.add (i32.const 32768)
                                                          (i32.shl (local.get $k) (i32.const 2)))))))
        (if (i32.lt_u (local.get $k) (i32.const 1024))
          (then
            (local.set $e (i32.add (i32.const 256) (i32.mul (local.get $k) (i32.const 20))))
            (i32.store $scratch (local.get $e) (local.get $old))
            (i32.store $scratch offset=4 (local.get $e) (local.get $osz))
            (i32.store $scratch offset=8 (local.get $e) (local.get $al))
            (i32.store $scratch offset=12 (local.get $e) (local.get $nsz))
            (i32.store $scratch offset=16 (local.get $e) (local.get $r))))
        (i32.store $scratch (i32.const 16) (i32.add (local.get $k) (i32.const 1)))
        (local.set $n (select (local.get $osz) (local.get $nsz)
                              (i32.lt_u (local.get $osz) (local.get $nsz))))
        (if (i32.and
              (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.ne (local.get $r) (local.get $old)))
              (i32.and (i32.ne (local.get $n) (i32.const 0))
                (i32.and
                  (i64.le_u (i64.add (i64.extend_i32_u (local.get $old)) (i64.extend_i32_u (local.get $n)))
                            (i64.const 65536))
                  (i64.le_u (i64.add (i64.extend_i32_u (local.get $r)) (i64.extend_i32_u (local.get $n)))
                            (i64.const 65536)))))
          (then (memory.copy 0 0 (local.get $r) (local.get $old) (local.get $n))))
        (local.get $r))
      (func (export "report") (result i32)
        (local $i i32) (local $b i32)
        (memory.copy $scratch 0 (i32.const 65536) (i32.const 0) (i32.const 65536))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (i32.const 131056)))
          (local.set $b (i32.load8_u $scratch (i32.add (i32.const 16) (local.get $i))))
          (i32.store8 $scratch (i32.add (i32.const 131072) (i32.shl (local.get $i) (i32.const 1)))
                      (call $hexdigit (i32.shr_u (local.get $b) (i32.const 4))))
          (i32.store8 $scratch (i32.add (i32.const 131073) (i32.shl (local.get $i) (i32.const 1)))
                      (call $hexdigit (i32.and (local.get $b) (i32.const 15))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.store $scratch (i32.const 0) (i32.const 131072))
        (i32.store $scratch (i32.const 4) (i32.const 262112))
        (i32.const 0)))
    (core instance $libc (instantiate $Libc))
    (core func $entered_low (canon lower (func $entered)))
    (core module $Main
      (import "libc" "memory" (memory 1 1))
      (import "libc" "scratch" (memory $scratch 16 16))
      (import "host" "entered" (func $entered))
      (func (export "f") (param i32) (call $entered) (i64.store $scratch (i32.const 64) (i64.extend_i32_u (local.get 0)))))
    (core instance $main (instantiate $Main (with "libc" (instance $libc))
        (with "host" (instance (export "entered" (func $entered_low))))))
    (func $init (param "image" string) (param "flat" string) (param "answers" string)
      (canon lift (core func $libc "init") (memory (core memory $libc "scratch"))
        (realloc (core func $libc "scratch_realloc"))))
    (export "init" (func $init))
    (func $report (result string) (canon lift (core func $libc "report") (memory (core memory $libc "scratch"))))
    (export "report" (func $report))
    (func $f (param "a-0" $t0) (param "a-1" (tuple $t1 string $t2 $t3))
      (canon lift (core func $main "f") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")) string-encoding=utf8))
    (export "f" (func $f))
  )
  (component $Caller
    (type $T0 (variant (case "case0-b" u32) (case "case1-b")))
    (import "t0" (type $t0 (eq $T0)))
    (type $T1 (enum "x0-y" "x1-y" "x2-y"))
    (import "t1" (type $t1 (eq $T1)))
    (type $T2 (variant (case "q-0-z" u64) (case "q-1-z") (case "q-2-z" char) (case "q-3-z" (result)) (case "q-4-z") (case "q-5-z" u16)))
    (import "t2" (type $t2 (eq $T2)))
    (type $a0 (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option (option bool))))))))))))))))))))))))
    (type $T3 (record (field "a-0" (option $a0)) (field "a-1" s32)))
    (import "t3" (type $t3 (eq $T3)))
    (import "g" (func $g (param "a-0" $t0) (param "a-1" (tuple $t1 string $t2 $t3))))
    (core module $Libc
      (memory (export "memory") 1 1)
      (memory $scratch (export "scratch") 16 16)
      (global $heap (mut i32) (i32.const 524288))
      (func (export "scratch_realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $heap (i32.add (local.get $p) (local.get 3)))
        (if (i32.gt_u (global.get $heap) (i32.const 1048576)) (then unreachable))
        (local.get $p))
      (func $nibble (param $c i32) (result i32)
        (select (i32.sub (local.get $c) (i32.const 48)) (i32.sub (local.get $c) (i32.const 87))
                (i32.le_u (local.get $c) (i32.const 57))))
      (func $unhex (param $src i32) (param $len i32) (param $dst i32)
        (local $i i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)))
          (i32.store8 $scratch (i32.add (local.get $dst) (i32.shr_u (local.get $i) (i32.const 1)))
            (i32.or (i32.shl (call $nibble (i32.load8_u $scratch (i32.add (local.get $src) (local.get $i))))
                             (i32.const 4))
                    (call $nibble (i32.load8_u $scratch (i32.add (local.get $src)
                                                                 (i32.add (local.get $i) (i32.const 1)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $next))))
      (func $hexdigit (param $n i32) (result i32)
        (select (i32.add (local.get $n) (i32.const 48)) (i32.add (local.get $n) (i32.const 87))
                (i32.lt_u (local.get $n) (i32.const 10))))
      (func (export "init") (param $img i32) (param $imglen i32) (param $flat i32) (param $flatlen i32)
                            (param $ans i32) (param $anslen i32)
        (call $unhex (local.get $img) (local.get $imglen) (i32.const 65536))
        (memory.copy 0 $scratch (i32.const 1024) (i32.const 65536)
                     (i32.shr_u (local.get $imglen) (i32.const 1)))
        (call $unhex (local.get $flat) (local.get $flatlen) (i32.const 49152))
        (call $unhex (local.get $ans) (local.get $anslen) (i32.const 32768))
        (i32.store $scratch (i32.const 16) (i32.const 0))
        (i32.store $scratch (i32.const 20) (i32.shr_u (local.get $anslen) (i32.const 3))))
      (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32)
                               (result i32)
        (local $k i32) (local $r i32) (local $n i32) (local $e i32)
        (local.set $k (i32.load $scratch (i32.const 16)))
        (if (i32.lt_u (local.get $k) (i32.load $scratch (i32.const 20)))
          (then (local.set $r (i32.load $scratch (i32.add (i32.const 32768)
                                                          (i32.shl (local.get $k) (i32.const 2)))))))
        (if (i32.lt_u (local.get $k) (i32.const 1024))
          (then
            (local.set $e (i32.add (i32.const 256) (i32.mul (local.get $k) (i32.const 20))))
            (i32.store $scratch (local.get $e) (local.get $old))
            (i32.store $scratch offset=4 (local.get $e) (local.get $osz))
            (i32.store $scratch offset=8 (local.get $e) (local.get $al))
            (i32.store $scratch offset=12 (local.get $e) (local.get $nsz))
            (i32.store $scratch offset=16 (local.get $e) (local.get $r))))
        (i32.store $scratch (i32.const 16) (i32.add (local.get $k) (i32.const 1)))
        (local.set $n (select (local.get $osz) (local.get $nsz)
                              (i32.lt_u (local.get $osz) (local.get $nsz))))
        (if (i32.and
              (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.ne (local.get $r) (local.get $old)))
              (i32.and (i32.ne (local.get $n) (i32.const 0))
                (i32.and
                  (i64.le_u (i64.add (i64.extend_i32_u (local.get $old)) (i64.extend_i32_u (local.get $n)))
                            (i64.const 65536))
                  (i64.le_u (i64.add (i64.extend_i32_u (local.get $r)) (i64.extend_i32_u (local.get $n)))
                            (i64.const 65536)))))
          (then (memory.copy 0 0 (local.get $r) (local.get $old) (local.get $n))))
        (local.get $r))
      (func (export "report") (result i32)
        (local $i i32) (local $b i32)
        (memory.copy $scratch 0 (i32.const 65536) (i32.const 0) (i32.const 65536))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (i32.const 131056)))
          (local.set $b (i32.load8_u $scratch (i32.add (i32.const 16) (local.get $i))))
          (i32.store8 $scratch (i32.add (i32.const 131072) (i32.shl (local.get $i) (i32.const 1)))
                      (call $hexdigit (i32.shr_u (local.get $b) (i32.const 4))))
          (i32.store8 $scratch (i32.add (i32.const 131073) (i32.shl (local.get $i) (i32.const 1)))
                      (call $hexdigit (i32.and (local.get $b) (i32.const 15))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.store $scratch (i32.const 0) (i32.const 131072))
        (i32.store $scratch (i32.const 4) (i32.const 262112))
        (i32.const 0)))
    (core instance $libc (instantiate $Libc))
    (core func $g_low (canon lower (func $g) (memory (core memory $libc "memory")) string-encoding=utf16))
    (core module $Main
      (import "libc" "memory" (memory 1 1))
      (import "libc" "scratch" (memory $scratch 16 16))
      (import "host" "g" (func $g (param i32)))
      (func (export "run") (i32.load $scratch (i32.const 49152)) (call $g)))
    (core instance $main (instantiate $Main (with "libc" (instance $libc))
        (with "host" (instance (export "g" (func $g_low))))))
    (func $init (param "image" string) (param "flat" string) (param "answers" string)
      (canon lift (core func $libc "init") (memory (core memory $libc "scratch"))
        (realloc (core func $libc "scratch_realloc"))))
    (export "init" (func $init))
    (func $run (canon lift (core func $main "run")))
    (export "run" (func $run))
  )
  (instance $callee (instantiate $Callee (with "t0" (type $t0)) (with "t1" (type $t1)) (with "t2" (type $t2)) (with "t3" (type $t3)) (with "entered" (func $entered))))
  (instance $caller (instantiate $Caller (with "t0" (type $t0)) (with "t1" (type $t1)) (with "t2" (type $t2)) (with "t3" (type $t3)) (with "g" (func $callee "f"))))
  (alias export $caller "run" (func $run))
  (export "run" (func $run))
  (alias export $caller "init" (func $caller_init))
  (export "caller-init" (func $caller_init))
  (alias export $callee "init" (func $callee_init))
  (export "callee-init" (func $callee_init))
  (alias export $callee "report" (func $callee_report))
  (export "callee-report" (func $callee_report))
)"""
COMPONENT = base64.b64decode('AGFzbQ0AAQAHGAFxAgdjYXNlMC1iAXkAB2Nhc2UxLWIAAAoIAQACdDADAAAHEgFtAwR4MC15BHgxLXkEeDIteQoIAQACdDEDAAIHOgJqAABxBgVxLTAtegF3AAVxLTEtegAABXEtMi16AXQABXEtMy16AQQABXEtNC16AAAFcS01LXoBewAKCAEAAnQyAwAFBz0Za39rB2sIawlrCmsLawxrDWsOaw9rEGsRaxJrE2sUaxVrFmsXaxhrGWsaaxtrHGsdcgIDYS0wHgNhLTF6CggBAAJ0MwMAHwcFAUAAAQAKDAEAB2VudGVyZWQBIQSWDQBhc20NAAEABxgBcQIHY2FzZTAtYgF5AAdjYXNlMS1iAAAKCAEAAnQwAwAABxIBbQMEeDAteQR4MS15BHgyLXkKCAEAAnQxAwACBzoCagAAcQYFcS0wLXoBdwAFcS0xLXoAAAVxLTItegF0AAVxLTMtegEEAAVxLTQtegAABXEtNS16AXsACggBAAJ0MgMABQc9GWt/awdrCGsJawprC2sMaw1rDmsPaxBrEWsSaxNrFGsVaxZrF2sYaxlrGmsbaxxrHXICA2EtMB4DYS0xegoIAQACdDMDAB8HBQFAAAEACgwBAAdlbnRlcmVkASEB8QYAYXNtAQAAAAEhBWAEf39/fwF/YAF/AX9gA39/fwBgBn9/f39/fwBgAAF/AwgHAAECAQMABAUHAgEBAQEQEAYIAX8BQYCAIAsHQAYGbWVtb3J5AgAHc2NyYXRjaAIBD3NjcmF0Y2hfcmVhbGxvYwAABGluaXQABAdyZWFsbG9jAAUGcmVwb3J0AAYKiwQHKQEBfyMAIAJBAWtqQQAgAmtxIQQgBCADaiQAIwBBgIDAAEsEQAALIAQLEwAgAEEwayAAQdcAayAAQTlNGwtGAQF/AkADQCADQQFqIAFPDQEgAiADQQF2aiAAIANqLUABABABQQR0IAAgA0EBamotQAEAEAFyOkABACADQQJqIQMMAAsLCxMAIABBMGogAEHXAGogAEEKSRsLQwAgACABQYCABBACQYAIQYCABCABQQF2/AoAASACIANBgIADEAIgBCAFQYCAAhACQRBBADZCAQBBFCAFQQN2NkIBAAu1AQEEf0EQKEIBACEEIARBFChCAQBJBEBBgIACIARBAnRqKEIBACEFCyAEQYAISQRAQYACIARBFGxqIQcgByAANkIBACAHIAE2QgEEIAcgAjZCAQggByADNkIBDCAHIAU2QgEQC0EQIARBAWo2QgEAIAEgAyABIANJGyEGIABBAEcgBSAAR3EgBkEARyAArSAGrXxCgIAEWCAFrSAGrXxCgIAEWHFxcQRAIAUgACAG/AoAAAsgBQt1AQJ/QYCABEEAQYCABPwKAQACQANAIABB8P8HTw0BQRAgAGotQAEAIQFBgIAIIABBAXRqIAFBBHYQAzpAAQBBgYAIIABBAXRqIAFBD3EQAzpAAQAgAEEBaiEADAALC0EAQYCACDZCAQBBBEHg/w82QgEAQQALANYBBG5hbWUABQRMaWJjARoDAQZuaWJibGUCBXVuaGV4AwhoZXhkaWdpdAJ4BwABBAFwAQEAAWMCBAADc3JjAQNsZW4CA2RzdAMBaQMBAAFuBAYAA2ltZwEGaW1nbGVuAgRmbGF0AwdmbGF0bGVuBANhbnMFBmFuc2xlbgUIAANvbGQBA29zegICYWwDA25zegQBawUBcgYBbgcBZQYCAAFpAQFiAx0CAgIABGRvbmUBBG5leHQGAgAEZG9uZQEEbmV4dAYKAQEHc2NyYXRjaAcHAQAEaGVhcAIEAQAAAAgFAQEAAAABiAEAYXNtAQAAAAEIAmAAAGABfwACMQMEbGliYwZtZW1vcnkCAQEBBGxpYmMHc2NyYXRjaAIBEBAEaG9zdAdlbnRlcmVkAAADAgEBBwUBAWYAAQoQAQ4AEABBwAAgAK03QwEACwAkBG5hbWUABQRNYWluAQoBAAdlbnRlcmVkBgoBAQdzY3JhdGNoAh4CAQEHZW50ZXJlZAAAAAECBGxpYmMSAARob3N0EgEHGwFAAwVpbWFnZXMEZmxhdHMHYW5zd2Vyc3MBAAYqAwAAAQAEaW5pdAACAQAHc2NyYXRjaAAAAQAPc2NyYXRjaF9yZWFsbG9jCAoBAAABAgMABAIiCwoBAARpbml0AQEABwUBQAAAcwYYAgAAAQAGcmVwb3J0AAIBAAdzY3JhdGNoCAgBAAADAQMBIwsMAQAGcmVwb3J0AQMABxUCbwQDcwYgQAIDYS0wAQNhLTEkAQAGHgMAAAECAWYAAgEABm1lbW9yeQAAAQAHcmVhbGxvYwgLAQAABAMDAgQFACULBwEAAWYBBQAAkgEOY29tcG9uZW50LW5hbWUABwZDYWxsZWUBEAAAAQALZW50ZXJlZF9sb3cBDwARAgAETGliYwEETWFpbgEPABICAARsaWJjAgRtYWluARwBBAAHZW50ZXJlZAEEaW5pdAMGcmVwb3J0BQFmASYDCQACVDABAnQwAgJUMQMCdDEFAlQyBgJ0Mh0CYTAfAlQzIAJ0MwSrDABhc20NAAEABxgBcQIHY2FzZTAtYgF5AAdjYXNlMS1iAAAKCAEAAnQwAwAABxIBbQMEeDAteQR4MS15BHgyLXkKCAEAAnQxAwACBzoCagAAcQYFcS0wLXoBdwAFcS0xLXoAAAVxLTItegF0AAVxLTMtegEEAAVxLTQtegAABXEtNS16AXsACggBAAJ0MgMABQc9GWt/awdrCGsJawprC2sMaw1rDmsPaxBrEWsSaxNrFGsVaxZrF2sYaxlrGmsbaxxrHXICA2EtMB4DYS0xegoIAQACdDMDAB8HFQJvBANzBiBAAgNhLTABA2EtMSEBAAoGAQABZwEiAfEGAGFzbQEAAAABIQVgBH9/f38Bf2ABfwF/YAN/f38AYAZ/f39/f38AYAABfwMIBwABAgEDAAQFBwIBAQEBEBAGCAF/AUGAgCALB0AGBm1lbW9yeQIAB3NjcmF0Y2gCAQ9zY3JhdGNoX3JlYWxsb2MAAARpbml0AAQHcmVhbGxvYwAFBnJlcG9ydAAGCosEBykBAX8jACACQQFrakEAIAJrcSEEIAQgA2okACMAQYCAwABLBEAACyAECxMAIABBMGsgAEHXAGsgAEE5TRsLRgEBfwJAA0AgA0EBaiABTw0BIAIgA0EBdmogACADai1AAQAQAUEEdCAAIANBAWpqLUABABABcjpAAQAgA0ECaiEDDAALCwsTACAAQTBqIABB1wBqIABBCkkbC0MAIAAgAUGAgAQQAkGACEGAgAQgAUEBdvwKAAEgAiADQYCAAxACIAQgBUGAgAIQAkEQQQA2QgEAQRQgBUEDdjZCAQALtQEBBH9BEChCAQAhBCAEQRQoQgEASQRAQYCAAiAEQQJ0aihCAQAhBQsgBEGACEkEQEGAAiAEQRRsaiEHIAcgADZCAQAgByABNkIBBCAHIAI2QgEIIAcgAzZCAQwgByAFNkIBEAtBECAEQQFqNkIBACABIAMgASADSRshBiAAQQBHIAUgAEdxIAZBAEcgAK0gBq18QoCABFggBa0gBq18QoCABFhxcXEEQCAFIAAgBvwKAAALIAULdQECf0GAgARBAEGAgAT8CgEAAkADQCAAQfD/B08NAUEQIABqLUABACEBQYCACCAAQQF0aiABQQR2EAM6QAEAQYGACCAAQQF0aiABQQ9xEAM6QAEAIABBAWohAAwACwtBAEGAgAg2QgEAQQRB4P8PNkIBAEEACwDWAQRuYW1lAAUETGliYwEaAwEGbmliYmxlAgV1bmhleAMIaGV4ZGlnaXQCeAcAAQQBcAEBAAFjAgQAA3NyYwEDbGVuAgNkc3QDAWkDAQABbgQGAANpbWcBBmltZ2xlbgIEZmxhdAMHZmxhdGxlbgQDYW5zBQZhbnNsZW4FCAADb2xkAQNvc3oCAmFsAwNuc3oEAWsFAXIGAW4HAWUGAgABaQEBYgMdAgICAARkb25lAQRuZXh0BgIABGRvbmUBBG5leHQGCgEBB3NjcmF0Y2gHBwEABGhlYXACBAEAAAAGDAEAAgEABm1lbW9yeQgIAQEAAAIDAAEBfABhc20BAAAAAQgCYAF/AGAAAAIrAwRsaWJjBm1lbW9yeQIBAQEEbGliYwdzY3JhdGNoAgEQEARob3N0AWcAAAMCAQEHBwEDcnVuAAEKDgEMAEGAgAMoQgEAEAALAB4EbmFtZQAFBE1haW4BBAEAAWcGCgEBB3NjcmF0Y2gCGAIBAQFnAAAAAQIEbGliYxIABGhvc3QSAQcbAUADBWltYWdlcwRmbGF0cwdhbnN3ZXJzcwEABioDAAABAARpbml0AAIBAAdzY3JhdGNoAAABAA9zY3JhdGNoX3JlYWxsb2MICgEAAAECAwEEAiMLCgEABGluaXQBAQAHBQFAAAEABgkBAAABAgNydW4IBgEAAAMAJAsJAQADcnVuAQMAAIABDmNvbXBvbmVudC1uYW1lAAcGQ2FsbGVyAQoAAAEABWdfbG93AQ8AEQIABExpYmMBBE1haW4BDwASAgAEbGliYwIEbWFpbgEQAQMAAWcBBGluaXQDA3J1bgEmAwkAAlQwAQJ0MAICVDEDAnQxBQJUMgYCdDIdAmEwHwJUMyACdDMFIgEAAAUCdDADAQJ0MQMDAnQyAwYCdDMDIAdlbnRlcmVkAQAGBgEBAAABZgUcAQABBQJ0MAMBAnQxAwMCdDIDBgJ0MwMgAWcBAQYIAQEAAQNydW4LCQEAA3J1bgECAAYJAQEAAQRpbml0CxEBAAtjYWxsZXItaW5pdAEEAAYJAQEAAARpbml0CxEBAAtjYWxsZWUtaW5pdAEGAAYLAQEAAAZyZXBvcnQLEwEADWNhbGxlZS1yZXBvcnQBCAAAmgEOY29tcG9uZW50LW5hbWUBOQEFAAdlbnRlcmVkAgNydW4EC2NhbGxlcl9pbml0BgtjYWxsZWVfaW5pdAgNY2FsbGVlX3JlcG9ydAEmAwkAAlQwAQJ0MAICVDEDAnQxBQJUMgYCdDIdAmEwHwJUMyACdDMBEgQCAAZDYWxsZWUBBkNhbGxlcgESBQIABmNhbGxlZQEGY2FsbGVy')
DIRECTION = 'adapter'
REPORT_START, COUNT_AT, PARAMS_AT, LOG_AT, MAX_LOG = 16, 16, 64, 256, 1024
MEMORY_SIZE = 65536
IMAGE, FLAT, ANSWERS = '00000000897f649001000000e8040000280000000000000004000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000017f75d9b1dd54d8d5dd42d801df00d8f5dc63d9fcddebdab0df52d93dde9cdab8df47d845de8fd848dc96dadede45d9c0ddc0d900de00d800dcc0d900dc11d9cadcb2dacadeb2dacadeb2da9bded9dac1df000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000075d9b1dd54d8d5dd42d801df00d8f5dc63d9fcddebdab0df52d93dde9cdab8df47d845de8fd848dc96dadede45d9c0ddc0d900de00d800dcc0d900dc11d9cadcb2dacadeb2dacadeb2da9bded9dac1df', '0004000000000000', '00040000480400007004000070040000'
SPEC_TRAPS = None  # the spec's verdict: None (a value) or why it traps


def record(*fields):
    r = Record()
    for name, value in fields:
        setattr(r, name, value)
    return r


def nan(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


ARGS = [2422505353, ('x1-y', '\U0006d5b1𥇕𠬁𐃵\U00068dfc\U000cafb0\U00064a3d\U000b73b8𡹅\U00033c48\U000b5ade\U000615c0\U00080200𐀀\U00080000\U000544ca\U000bcaca\U000bcaca\U000bca9b\U000c67c1', Variant('q-4-z', None), record(('a-0', Variant('none', None)), ('a-1', 2130771968)))]
EXPECTED = None
EXPECTED_REALLOCS = [(0, 0, 8, 72, 1024), (0, 0, 1, 40, 1096), (1096, 40, 1, 120, 1136), (1136, 120, 1, 80, 1136)]
EXPECTED_FLAT = [1024]
EXPECTED_MEMORY_SHA256 = '129b89cf1a3509c7e7345dfd60f0714409c812f6d9cfa270270268ec4d1f0b34'


def same(a, b):
    """Strict equality of wasmtime-py values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Record):
        return vars(a).keys() == vars(b).keys() and all(
            same(v, getattr(b, k)) for k, v in vars(a).items())
    if isinstance(a, Variant):
        return a.tag == b.tag and same(a.payload, b.payload)
    return a == b

def call(store, func, *args):
    out = func(store, *args)
    func.post_return(store)  # needed before Wasmtime ran post-return itself; harmless after
    return out


def fail(check, what):
    print(f"FAIL[{check}] {what}")
    return 1


def main():
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = Linker(engine)
    host = {"calls": [], "entered": 0}
    if DIRECTION == "lift-args":
        linker.root().add_func("g", lambda store, *a: host["calls"].append(list(a)))
    if DIRECTION == "adapter":
        def entered(store):
            host["entered"] += 1
        linker.root().add_func("entered", entered)
    instance = linker.instantiate(store, Component(engine, COMPONENT))
    get = lambda name: instance.get_func(store, name)
    if DIRECTION == "adapter":
        call(store, get("caller-init"), IMAGE, FLAT, "")
        call(store, get("callee-init"), "", "", ANSWERS)
    else:
        call(store, get("init"), IMAGE, FLAT, ANSWERS)
    name = {"lift-result": "f", "lift-args": "run", "lower-args": "f", "adapter": "run"}[DIRECTION]
    print(f"calling {name} ({DIRECTION}); the spec says: "
          + (f"trap ({SPEC_TRAPS})" if SPEC_TRAPS else "a value"), flush=True)
    try:
        out = call(store, get(name), *(ARGS if DIRECTION == "lower-args" else []))
    except wasmtime.WasmtimeError as e:
        if SPEC_TRAPS is None:
            return fail("abi-extra-trap", f"Wasmtime trapped where the spec gives a value: {e}")
        if host["calls"] or host["entered"]:
            return fail("abi-missing-trap", "Wasmtime trapped, but only after the callee ran")
        print(f"OK: both trap (spec: {SPEC_TRAPS})")
        return 0
    if SPEC_TRAPS is not None:
        return fail("abi-missing-trap", f"the spec traps ({SPEC_TRAPS}) but Wasmtime returned "
                    f"{out!r} (host calls {host['calls']!r}, callee entered {host['entered']})")
    if DIRECTION == "lift-result" and not same(EXPECTED, out):
        return fail("abi-value", f"got {out!r}, the spec says {EXPECTED!r}")
    if DIRECTION == "lift-args" and (len(host["calls"]) != 1
                                     or not same(EXPECTED, host["calls"][0])):
        return fail("abi-value", f"the host got {host['calls']!r}, the spec says {EXPECTED!r}")
    if DIRECTION in ("lower-args", "adapter"):
        text = call(store, get("callee-report" if DIRECTION == "adapter" else "report"))
        report = bytes.fromhex(text)  # scratch memory from REPORT_START: count, params, log, memory
        word = lambda at: int.from_bytes(report[at - REPORT_START:at - REPORT_START + 4], "little")
        n = word(COUNT_AT)
        log = [tuple(word(LOG_AT + 20 * k + 4 * j) for j in range(5)) for k in range(min(n, MAX_LOG))]
        log += [(-1,) * 5] * (n - len(log))  # calls past MAX_LOG are counted, not logged
        want = [tuple(c) for c in EXPECTED_REALLOCS]
        want = want[:MAX_LOG] + [(-1,) * 5] * (len(want) - MAX_LOG)
        if log != want:
            return fail("abi-realloc-log", f"realloc calls {log}, the spec: {EXPECTED_REALLOCS}")
        at = PARAMS_AT - REPORT_START
        flat = [int.from_bytes(report[at + 8 * i:at + 8 + 8 * i], "little")
                for i in range(len(EXPECTED_FLAT))]
        if flat != EXPECTED_FLAT:
            return fail("abi-flat", f"the guest got flat params {flat}, the spec: {EXPECTED_FLAT}")
        memory = report[-MEMORY_SIZE:]
        if EXPECTED_MEMORY_SHA256 and hashlib.sha256(memory).hexdigest() != EXPECTED_MEMORY_SHA256:
            return fail("abi-memory", "the guest memory differs from the spec's")
    print("OK: Wasmtime did what the spec says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
