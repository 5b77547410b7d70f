"""What a program file says about itself, read without running it: the
macOS wheels' programs cannot run here, so their tests read them.

`macho(data)` reads a 64-bit Mach-O executable (the format of macOS
programs): its CPU, the libraries it loads, the oldest macOS it is built
for, and whether its code signature covers the file as it is. Apple
silicon Macs refuse to run arm64 code without a valid signature (an ad-hoc
one is enough), so `signature_ok` recomputes every page hash of the code
directory and compares.

`pe_imports(data)` lists the DLLs a Windows program imports.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

MH_MAGIC_64 = 0xFEEDFACF
CPU_X86_64 = 0x01000007
CPU_ARM64 = 0x0100000C
LC_CODE_SIGNATURE = 0x1D
LC_BUILD_VERSION = 0x32
LC_VERSION_MIN_MACOSX = 0x24
DYLIB_COMMANDS = {
    0x0C: "load",  # LC_LOAD_DYLIB
    0x80000018: "weak",  # LC_LOAD_WEAK_DYLIB
    0x8000001F: "reexport",  # LC_REEXPORT_DYLIB
    0x20: "lazy",  # LC_LAZY_LOAD_DYLIB
    0x80000023: "upward",  # LC_LOAD_UPWARD_DYLIB
}
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_HASHTYPE_SHA256 = 2
CS_ADHOC = 0x2


@dataclass
class MachO:
    cpu: str
    dylibs: list[str]
    min_macos: tuple[int, int, int] | None
    signed: bool
    adhoc: bool
    signature_ok: bool
    signature_problem: str


def _version(packed: int) -> tuple[int, int, int]:
    return packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF


def _code_directory(data: bytes, offset: int, size: int) -> tuple[bool, bool, str]:
    """(covers the file, ad hoc, what is wrong) for the embedded signature
    at OFFSET. The signature's structures are big-endian."""
    blob = data[offset : offset + size]
    magic, _length, count = struct.unpack_from(">III", blob, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        return False, False, f"signature magic {magic:#x}"
    for i in range(count):
        _kind, at = struct.unpack_from(">II", blob, 12 + 8 * i)
        if struct.unpack_from(">I", blob, at)[0] != CSMAGIC_CODEDIRECTORY:
            continue
        (_m, _l, _version, flags, hash_offset, _ident, _special, n_code, code_limit) = struct.unpack_from(
            ">IIIIIIIII", blob, at
        )
        hash_size, hash_type, _platform, page_log2 = struct.unpack_from(">BBBB", blob, at + 36)
        if hash_type != CS_HASHTYPE_SHA256 or hash_size != 32:
            return False, bool(flags & CS_ADHOC), f"hash type {hash_type} of size {hash_size}"
        page = 1 << page_log2
        if code_limit != offset:
            return False, bool(flags & CS_ADHOC), f"code limit {code_limit} is not the signature's offset {offset}"
        for slot in range(n_code):
            start = slot * page
            expected = blob[at + hash_offset + 32 * slot : at + hash_offset + 32 * (slot + 1)]
            actual = hashlib.sha256(data[start : min(start + page, code_limit)]).digest()
            if actual != expected:
                return False, bool(flags & CS_ADHOC), f"page {slot} (at {start}) does not match its hash"
        if n_code * page < code_limit:
            return False, bool(flags & CS_ADHOC), "the code slots do not cover the file"
        return True, bool(flags & CS_ADHOC), ""
    return False, False, "no code directory"


def macho(data: bytes) -> MachO:
    magic, cputype, _sub, _filetype, ncmds, _size, _flags, _reserved = struct.unpack_from("<IiiIIIII", data, 0)
    if magic != MH_MAGIC_64:
        raise ValueError(f"not a 64-bit Mach-O file (magic {magic:#x})")
    cpu = {CPU_X86_64: "x86_64", CPU_ARM64: "arm64"}.get(cputype & 0xFFFFFFFF, hex(cputype))
    dylibs, min_macos = [], None
    signed = adhoc = signature_ok = False
    problem = "not signed"
    at = 32
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", data, at)
        if cmd in DYLIB_COMMANDS:
            name_offset = struct.unpack_from("<I", data, at + 8)[0]
            raw = data[at + name_offset : at + cmdsize]
            dylibs.append(raw.split(b"\0", 1)[0].decode())
        elif cmd == LC_BUILD_VERSION:
            min_macos = _version(struct.unpack_from("<I", data, at + 12)[0])
        elif cmd == LC_VERSION_MIN_MACOSX:
            min_macos = _version(struct.unpack_from("<I", data, at + 8)[0])
        elif cmd == LC_CODE_SIGNATURE:
            signed = True
            offset, size = struct.unpack_from("<II", data, at + 8)
            signature_ok, adhoc, problem = _code_directory(data, offset, size)
        at += cmdsize
    return MachO(cpu, dylibs, min_macos, signed, adhoc, signature_ok, problem)


def pe_imports(data: bytes) -> list[str]:
    """The DLL names in a PE32+ program's import directory."""
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe : pe + 4] != b"PE\0\0":
        raise ValueError("not a PE file")
    sections_count = struct.unpack_from("<H", data, pe + 6)[0]
    optional_size = struct.unpack_from("<H", data, pe + 20)[0]
    optional = pe + 24
    if struct.unpack_from("<H", data, optional)[0] != 0x20B:
        raise ValueError("not a PE32+ (64-bit) program")
    import_rva = struct.unpack_from("<I", data, optional + 120)[0]
    sections = []
    for i in range(sections_count):
        s = optional + optional_size + 40 * i
        vsize, vaddr, _rawsize, rawptr = struct.unpack_from("<IIII", data, s + 8)
        sections.append((vaddr, max(vsize, _rawsize), rawptr))

    def at(rva: int) -> int:
        for vaddr, size, rawptr in sections:
            if vaddr <= rva < vaddr + size:
                return rawptr + rva - vaddr
        raise ValueError(f"RVA {rva:#x} is in no section")

    names = []
    entry = at(import_rva)
    while True:
        name_rva = struct.unpack_from("<I", data, entry + 12)[0]
        if name_rva == 0:
            break
        start = at(name_rva)
        names.append(data[start : data.index(b"\0", start)].decode())
        entry += 20
    return names
