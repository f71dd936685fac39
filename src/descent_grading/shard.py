"""``SHARD=i/n``: the students a machine grades when n machines grade one class into a shared gradebook.

A student belongs to shard ``1 + h % n``, where ``h`` is a hash of the student id (SHA-256, not Python's ``hash``,
which changes from one process to the next): every machine agrees on it whatever the order of the export's files,
and all of a student's notebooks go to the same machine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        digest = hashlib.sha256(student.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


EVERYONE = Shard(1, 1)


def parse(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4); ValueError naming the value and the valid range otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    index, count = (int(m[1]), int(m[2])) if m else (0, 0)
    if not m or count < 1 or not 1 <= index <= count:
        raise ValueError(f"SHARD={text!r} is not a shard: write i/n with 1 <= i <= n (e.g. 1/4 ... 4/4 for four "
                         "machines)")
    return Shard(index, count)
