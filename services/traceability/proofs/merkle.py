"""Merkle trees as Certificate Transparency builds them (RFC 9162 §2.1): hashes, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


class ProofError(ValueError):
    """A proof that does not verify, or that does not fit the tree sizes it claims."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaves already hashed with leaf_hash; the empty tree's root is SHA-256 of nothing."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    level = list(hashes)
    # Pairing left to right and carrying an odd last node up gives the same tree as RFC 9162's recursive split.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])


class Tree:
    """All levels of a tree over leaf hashes, so that many proofs cost O(log n) each after one O(n) build."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(hashes)]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            self.levels.append(paired)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else hashlib.sha256(b"").digest()

    def _subtree(self, start: int, size: int) -> bytes:
        """MTH of leaves [start, start+size): a node of some level when aligned and whole, else computed."""
        if size & (size - 1) == 0 and start % size == 0:
            return self.levels[size.bit_length() - 1][start // size]
        k = _split(size)
        return node_hash(self._subtree(start, k), self._subtree(start + k, size - k))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ProofError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return self._path(m, start, k) + [self._subtree(start + k, n - k)]
        return self._path(m - k, start + k, n - k) + [self._subtree(start, k)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1."""
        second = self.size if second is None else second
        if not 0 < first <= second <= self.size:
            raise ProofError(f"no consistency proof from {first} to {second} in a tree of {self.size}")
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, n: int, whole: bool) -> list[bytes]:
        if m == n:
            return [] if whole else [self._subtree(start, n)]
        k = _split(n)
        if m <= k:
            return self._subproof(m, start, k, whole) + [self._subtree(start + k, n - k)]
        return self._subproof(m - k, start + k, n - k, False) + [self._subtree(start, k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> None:
    """RFC 9162 §2.1.3.2, for a leaf hash; raises ProofError unless the path leads to expected_root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree needs")
    if r != expected_root:
        raise ProofError(f"leaf {index} does not lead to the signed root")


def verify_consistency(first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree of `second` extends the tree of `first`."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency between sizes {first} and {second}")
    if first == second:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("two checkpoints of the same size have different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is itself the proof's first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the trees need")
    if fr != first_root:
        raise ProofError(f"the proof does not reproduce the root of size {first}")
    if sr != second_root:
        raise ProofError(f"the tree of size {second} does not extend the tree of size {first}")
