(** Abstract syntax of modules. Function bodies are kept flat, as in the binary format:
    [Block]/[Loop]/[If] open a structured instruction, [Else] and [End] delimit it. *)

open Types

type blocktype = BlockEmpty | BlockVal of valtype | BlockType of int

type memarg = { align : int; offset : int }  (** offset is a u32 *)

type iunop = Clz | Ctz | Popcnt | Extend8S | Extend16S | Extend32S
type ibinop = Add | Sub | Mul | DivS | DivU | RemS | RemU | And | Or | Xor
            | Shl | ShrS | ShrU | Rotl | Rotr
type irelop = Eq | Ne | LtS | LtU | GtS | GtU | LeS | LeU | GeS | GeU
type funop = Abs | Neg | Sqrt | Ceil | Floor | Trunc | Nearest
type fbinop = FAdd | FSub | FMul | FDiv | FMin | FMax | FCopysign
type frelop = FEq | FNe | FLt | FGt | FLe | FGe

type cvtop =
  | I32WrapI64 | I64ExtendI32S | I64ExtendI32U
  | I32TruncF32S | I32TruncF32U | I32TruncF64S | I32TruncF64U
  | I64TruncF32S | I64TruncF32U | I64TruncF64S | I64TruncF64U
  | I32TruncSatF32S | I32TruncSatF32U | I32TruncSatF64S | I32TruncSatF64U
  | I64TruncSatF32S | I64TruncSatF32U | I64TruncSatF64S | I64TruncSatF64U
  | F32ConvertI32S | F32ConvertI32U | F32ConvertI64S | F32ConvertI64U | F32DemoteF64
  | F64ConvertI32S | F64ConvertI32U | F64ConvertI64S | F64ConvertI64U | F64PromoteF32
  | I32ReinterpretF32 | I64ReinterpretF64 | F32ReinterpretI32 | F64ReinterpretI64

type loadop =
  | I32Load | I64Load | F32Load | F64Load
  | I32Load8S | I32Load8U | I32Load16S | I32Load16U
  | I64Load8S | I64Load8U | I64Load16S | I64Load16U | I64Load32S | I64Load32U

type storeop =
  | I32Store | I64Store | F32Store | F64Store
  | I32Store8 | I32Store16 | I64Store8 | I64Store16 | I64Store32

type instr =
  | Unreachable | Nop
  | Block of blocktype | Loop of blocktype | If of blocktype | Else | End
  | Br of int | BrIf of int | BrTable of int array * int | Return
  | Call of int | CallIndirect of int * int  (** type index, table index *)
  | Drop | Select of valtype array option  (** typed select carries its annotation *)
  | LocalGet of int | LocalSet of int | LocalTee of int
  | GlobalGet of int | GlobalSet of int
  | TableGet of int | TableSet of int | TableSize of int | TableGrow of int
  | TableFill of int | TableCopy of int * int  (** dst, src *)
  | TableInit of int * int  (** table, elem *) | ElemDrop of int
  | Load of loadop * memarg | Store of storeop * memarg
  | MemorySize | MemoryGrow | MemoryFill | MemoryCopy | MemoryInit of int | DataDrop of int
  | RefNull of reftype | RefIsNull | RefFunc of int
  | I32Const of int32 | I64Const of int64 | F32Const of int32 | F64Const of int64
  | I32Eqz | I64Eqz
  | I32Compare of irelop | I64Compare of irelop | F32Compare of frelop | F64Compare of frelop
  | I32Unary of iunop | I64Unary of iunop | F32Unary of funop | F64Unary of funop
  | I32Binary of ibinop | I64Binary of ibinop | F32Binary of fbinop | F64Binary of fbinop
  | Convert of cvtop

(** A function body: [body] ends with the final [End]; [opcodes.(i)] is the opcode of
    [body.(i)], with 0xFC-prefixed ones as [0xFC00 + n]. *)
type func = { ftype : int; locals : valtype array; body : instr array; opcodes : int array }

type const_expr = instr array  (** without the final [End] *)

type import_desc =
  | FuncImport of int | TableImport of tabletype | MemoryImport of memtype
  | GlobalImport of globaltype
type import = { imodule : string; iname : string; idesc : import_desc }

type export_desc = FuncExport of int | TableExport of int | MemoryExport of int
                 | GlobalExport of int
type export = { ename : string; edesc : export_desc }

type global = { gtype : globaltype; ginit : const_expr }

type elem_mode = Passive | Active of int * const_expr | Declarative
type elem = { etype : reftype; einit : const_expr array; emode : elem_mode }

type data_mode = DPassive | DActive of int * const_expr
type data = { dinit : string; dmode : data_mode }

type module_ = {
  types : functype array;
  imports : import array;
  funcs : func array;
  tables : tabletype array;
  mems : memtype array;
  globals : global array;
  elems : elem array;
  datas : data array;
  start : int option;
  exports : export array;
}
