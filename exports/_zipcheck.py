"""A strict reading of a package zip, so that no byte of the file escapes `dsar verify`.

The signed index.json hashes what each member holds, not the zip around it:
local headers, the central directory, extra fields, comments and the end
records are not covered, and zip readers trust different copies of them (a
name or a size in the central directory versus the local header, data
hidden before the first entry or after the end). Rebuilding the whole zip
and comparing would need the builder's exact zlib, which a requester's
machine need not have. So we accept only the one layout that
`exports.package` writes with Python's zipfile, and check every byte of it:

- the file is local entries back to back from offset 0 (each optionally
  followed by its data descriptor), the central directory in the same order,
  the zip64 end record and locator if present, and the end record: nothing
  before, between or after, no comments, no extra fields but zip64's;
- every field that a local header shares with the central directory
  (versions, flags, method, time, CRC, sizes, name) is equal in both copies;
- every field with a single copy has the one value the builder writes
  (made by Unix, a regular rw-r--r-- file, one disk, exact counts and
  offsets);
- each member's data inflates to exactly its stated size and CRC and ends
  exactly where its entry ends.

A changed byte therefore breaks the structure, makes two copies disagree, or
changes a member's content, which its sha256 in the signed index.json
catches. What inflating cannot see: deflate's padding bits (after a stored
block's 3-bit header, and after the last block) are skipped by every
inflater, so a change confined to them alters no byte that any reader
extracts; a change to any other bit of that byte is caught.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from exports.errors import PackageInvalid

ZIP = "(zip)"
CENTRAL = "(central directory)"
END = "(end of central directory)"

_LOCAL = struct.Struct("<4sHHHHHLLLHH")  # sig, needed, flags, method, time, date, crc, csize, size, name, extra
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")  # sig, made by, needed, ... comment, disk, int/ext attr, offset
_END = struct.Struct("<4sHHHHLLH")  # sig, disk, cd disk, entries here, entries, cd size, cd offset, comment
_END64 = struct.Struct("<4sQHHLLQQQQ")  # sig, record size, made by, needed, disks, entries x2, cd size, offset
_LOCATOR = struct.Struct("<4sLQL")  # sig, disk of end64, end64 offset, total disks
_DESCRIPTOR = {False: struct.Struct("<4sLLL"), True: struct.Struct("<4sLQQ")}  # sig, crc, csize, size

_ZIP64_EXTRA = 0x0001
_FFFF, _FFFFFFFF = 0xFFFF, 0xFFFFFFFF
_DATA_DESCRIPTOR, _UTF8 = 0x0008, 0x0800
_STORED, _DEFLATED = 0, 8
_UNIX = 3
_REGULAR_FILE_RW_R_R = 0o100644 << 16
_VERSIONS = (20, 45)  # what zipfile writes: 2.0, or 4.5 when zip64 fields are present
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Member:
    name: str
    method: int
    crc: int
    compressed: int
    size: int
    data_offset: int
    date_time: tuple[int, int, int, int, int, int]  # as zipfile.ZipInfo.date_time: DOS time, seconds even


@dataclass(frozen=True)
class _Entry:
    """A central directory entry, its fields as written (placeholders resolved)."""

    name: str
    raw_name: bytes
    needed: int
    flags: int
    method: int
    time: int
    date: int
    crc: int
    compressed: int
    size: int
    offset: int


def _read(f: BinaryIO, offset: int, size: int, where: str) -> bytes:
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise PackageInvalid(where, "truncated")
    return data


def _zip64_values(extra: bytes, fields: list[int], where: str) -> list[int]:
    """Resolve 0xFFFFFFFF placeholders from the zip64 extra field, the only extra field allowed."""
    wanted = [i for i, value in enumerate(fields) if value == _FFFFFFFF]
    if not wanted:
        if extra:
            raise PackageInvalid(where, "has an extra field")
        return fields
    if len(extra) != 4 + 8 * len(wanted) or struct.unpack_from("<HH", extra) != (_ZIP64_EXTRA, 8 * len(wanted)):
        raise PackageInvalid(where, "malformed zip64 extra field")
    values = list(struct.unpack_from(f"<{len(wanted)}Q", extra, 4))
    resolved = list(fields)
    for i, value in zip(wanted, values, strict=True):
        resolved[i] = value
    return resolved


def _decode_name(raw: bytes, flags: int, where: str) -> str:
    try:
        # zipfile flags a name UTF-8 exactly when it is not ASCII.
        return raw.decode("utf-8") if flags & _UTF8 and not raw.isascii() else raw.decode("ascii")
    except UnicodeDecodeError:
        raise PackageInvalid(where, "member name is not flagged UTF-8 correctly") from None


def _end_records(f: BinaryIO, size: int) -> tuple[int, int, int, int]:
    """(entries, central directory offset and size, where the central directory must end)."""
    if size < _END.size:
        raise PackageInvalid(ZIP, "not a zip file")
    end = size - _END.size
    sig, disk, cd_disk, here, entries, cd_size, cd_offset, comment = _END.unpack(_read(f, end, _END.size, END))
    if sig != b"PK\x05\x06":
        raise PackageInvalid(ZIP, "not a zip file, or bytes follow its end record")
    if disk or cd_disk or here != entries or comment:
        raise PackageInvalid(END, "unexpected disk numbers, counts or comment")
    end64 = end - _LOCATOR.size - _END64.size
    if end64 < 0 or _read(f, end - _LOCATOR.size, 4, END) != b"PK\x06\x07":
        if entries == _FFFF or _FFFFFFFF in (cd_size, cd_offset):
            raise PackageInvalid(END, "zip64 end record missing")
        return entries, cd_offset, cd_size, end
    _, locator_disk, locator_offset, disks = _LOCATOR.unpack(_read(f, end - _LOCATOR.size, _LOCATOR.size, END))
    if locator_disk or disks != 1 or locator_offset != end64:
        raise PackageInvalid(END, "zip64 locator is wrong")
    sig, record, made_by, needed, disk, cd_disk, here64, entries64, size64, offset64 = _END64.unpack(
        _read(f, end64, _END64.size, END))
    if (sig, record, made_by, needed, disk, cd_disk) != (b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0):
        raise PackageInvalid(END, "zip64 end record is wrong")
    # zipfile writes the plain record's fields capped at their placeholders.
    if here64 != entries64 or (entries, cd_size, cd_offset) != (
            min(entries64, _FFFF), min(size64, _FFFFFFFF), min(offset64, _FFFFFFFF)):
        raise PackageInvalid(END, "zip64 and plain end records disagree")
    return entries64, offset64, size64, end64


def _central_directory(f: BinaryIO, entries: int, offset: int, end: int) -> list[_Entry]:
    found: list[_Entry] = []
    seen: set[str] = set()
    for _ in range(entries):
        if offset + _CENTRAL.size > end:
            raise PackageInvalid(CENTRAL, "fewer entries than the end record counts")
        (sig, made_by, needed, flags, method, time, date, crc, compressed, size, name_len, extra_len, comment_len,
         disk, internal, external, local) = _CENTRAL.unpack(_read(f, offset, _CENTRAL.size, CENTRAL))
        if sig != b"PK\x01\x02":
            raise PackageInvalid(CENTRAL, "entry signature is wrong")
        raw = _read(f, offset + _CENTRAL.size, name_len, CENTRAL)
        name = _decode_name(raw, flags, CENTRAL)
        extra = _read(f, offset + _CENTRAL.size + name_len, extra_len, name)
        size, compressed, local = _zip64_values(extra, [size, compressed, local], name)
        if made_by != (_UNIX << 8 | needed) or needed not in _VERSIONS or disk or internal or comment_len:
            raise PackageInvalid(name, "central directory entry has unexpected versions, disk or comment")
        if external != _REGULAR_FILE_RW_R_R:
            raise PackageInvalid(name, "is not a regular rw-r--r-- file")
        if flags & ~(_DATA_DESCRIPTOR | _UTF8) or method not in (_STORED, _DEFLATED):
            raise PackageInvalid(name, "encrypted, or an unexpected compression method or flag")
        if method == _STORED and compressed != size:
            raise PackageInvalid(name, "stored with two different sizes")
        if name in seen:
            raise PackageInvalid(name, "appears twice in the zip")
        seen.add(name)
        found.append(_Entry(name, raw, needed, flags, method, time, date, crc, compressed, size, local))
        offset += _CENTRAL.size + name_len + extra_len
    if offset != end:
        raise PackageInvalid(CENTRAL, "holds more bytes than its entries")
    return found


def _local_entry(f: BinaryIO, e: _Entry, offset: int) -> tuple[Member, int]:
    """Check one local header (and data descriptor) against its central entry; the member and where it ends."""
    if e.offset != offset:
        raise PackageInvalid(e.name, "local header is not where the central directory says")
    sig, needed, flags, method, time, date, crc, compressed, size, name_len, extra_len = _LOCAL.unpack(
        _read(f, offset, _LOCAL.size, e.name))
    raw = _read(f, offset + _LOCAL.size, name_len, e.name)
    extra = _read(f, offset + _LOCAL.size + name_len, extra_len, e.name)
    if sig != b"PK\x03\x04" or (needed, flags, method, time, date, raw) != (
            e.needed, e.flags, e.method, e.time, e.date, e.raw_name):
        raise PackageInvalid(e.name, "local header differs from the central directory")
    zip64 = bool(extra)
    if zip64 and (size, compressed) != (_FFFFFFFF, _FFFFFFFF):  # zipfile writes both sizes or neither
        raise PackageInvalid(e.name, "local header has an extra field")
    size, compressed = _zip64_values(extra, [size, compressed], e.name)
    data = offset + _LOCAL.size + name_len + extra_len
    end = data + e.compressed
    if e.flags & _DATA_DESCRIPTOR:
        # Written to a stream that cannot seek back: zeros here, the values in a descriptor after the data.
        descriptor = _DESCRIPTOR[zip64]
        if (crc, compressed, size) != (0, 0, 0) or descriptor.unpack(_read(f, end, descriptor.size, e.name)) != (
                b"PK\x07\x08", e.crc, e.compressed, e.size):
            raise PackageInvalid(e.name, "data descriptor differs from the central directory")
        end += descriptor.size
    elif (crc, compressed, size) != (e.crc, e.compressed, e.size):
        raise PackageInvalid(e.name, "local header differs from the central directory")
    return Member(e.name, e.method, e.crc, e.compressed, e.size, data, _dos_date_time(e.date, e.time)), end


def read_structure(f: BinaryIO) -> list[Member]:
    """Every member of the zip in `f` (seekable), in file order, once the whole layout has been checked."""
    size = f.seek(0, 2)
    entries, cd_offset, cd_size, cd_end = _end_records(f, size)
    if cd_offset + cd_size != cd_end:
        raise PackageInvalid(CENTRAL, "not where the end record says")
    members, offset = [], 0
    for entry in _central_directory(f, entries, cd_offset, cd_end):
        member, offset = _local_entry(f, entry, offset)
        members.append(member)
    if offset != cd_offset:
        raise PackageInvalid(ZIP, "bytes between the last member and the central directory")
    return members


def _check_padding(before: Any, last: int, output: bytes, name: str) -> None:
    """Reject set padding bits after the stream's last block: zlib writes zeros there and inflaters skip them.

    `before` is the inflater just before the stream's last byte, `output` what
    that byte gave. Padding is the top bits of the byte, just above the
    end-of-block code (any change to that code alters the output), so we flip
    bits from the top down while the result stays the same.
    """
    for bit in (0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02):
        probe = before.copy()
        try:
            same = probe.decompress(bytes([last ^ bit])) + probe.flush() == output
        except zlib.error:
            return
        if not same or not probe.eof or probe.unused_data:
            return
        if last & bit:
            raise PackageInvalid(name, "compressed data has stray bits after its end")


def member_chunks(f: BinaryIO, m: Member) -> Iterator[bytes]:
    """The content of member `m`, 64 KiB at a time; raises PackageInvalid when it does not match its entry."""
    f.seek(m.data_offset)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if m.method == _DEFLATED else None
    remaining, produced, crc = m.compressed, 0, 0

    def checked(out: bytes) -> bytes:
        nonlocal produced, crc
        produced += len(out)
        if produced > m.size:
            raise PackageInvalid(m.name, "inflates to more bytes than its entry says")
        crc = zlib.crc32(out, crc)
        return out

    def inflated(data: bytes) -> Iterator[bytes]:
        assert inflater is not None
        while data:  # bounded output per call, so a zip bomb cannot fill memory
            yield checked(inflater.decompress(data, _CHUNK))
            data = inflater.unconsumed_tail

    try:
        while remaining:
            pending = f.read(min(_CHUNK, remaining))
            if not pending:
                raise PackageInvalid(m.name, "truncated")
            remaining -= len(pending)
            if inflater is None:
                yield checked(pending)
                continue
            if remaining:
                yield from inflated(pending)
                continue
            yield from inflated(pending[:-1])
            before = inflater.copy()
            # One byte of input: its output is small (a few matches at most).
            last_output = b"".join(inflated(pending[-1:])) + checked(inflater.flush())
            _check_padding(before, pending[-1], last_output, m.name)
            yield last_output
        if inflater is not None and (not inflater.eof or inflater.unused_data):
            raise PackageInvalid(m.name, "compressed data does not end where its entry ends")
    except zlib.error:
        raise PackageInvalid(m.name, "compressed data is corrupt") from None
    if produced != m.size or crc != m.crc:
        raise PackageInvalid(m.name, "content does not match its size and CRC")


def _dos_date_time(date: int, time: int) -> tuple[int, int, int, int, int, int]:
    return ((date >> 9) + 1980, (date >> 5) & 0xF, date & 0x1F, time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2)
