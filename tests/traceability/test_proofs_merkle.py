"""RFC 9162 Merkle trees: the RFC 6962 test vectors, and every proof of every small tree checked both ways."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.traceability.proofs import merkle
from services.traceability.proofs.merkle import ProofError

# The leaves and roots of the RFC 6962 reference tests (certificate-transparency-go, merkle/rfc6962).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSIONS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
]  # fmt: skip
CONSISTENCIES = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def tree_of(leaves: list[bytes]) -> merkle.Tree:
    return merkle.Tree([merkle.leaf_hash(leaf) for leaf in leaves])


def test_the_empty_tree_has_the_hash_of_nothing_as_its_root():
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_rfc_6962_vectors(size):
    assert merkle.root(LEAVES[:size]).hex() == ROOTS[size - 1]
    assert tree_of(LEAVES[:size]).root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSIONS)
def test_inclusion_proofs_match_the_rfc_6962_vectors(index, size, path):
    proof = tree_of(LEAVES).inclusion_proof(index, size)

    assert [p.hex() for p in proof] == path
    merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCIES)
def test_consistency_proofs_match_the_rfc_6962_vectors(first, second, path):
    proof = tree_of(LEAVES).consistency_proof(first, second)

    assert [p.hex() for p in proof] == path
    merkle.verify_consistency(first, second, proof, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]))


def leaves_of(n: int) -> list[bytes]:
    return [f"event {i}".encode() for i in range(n)]


def test_every_inclusion_proof_of_every_tree_up_to_70_leaves_verifies_and_no_other_leaf_does():
    leaves = leaves_of(70)
    tree = tree_of(leaves)
    for size in range(1, 71):
        expected = reference_root(leaves[:size])
        assert merkle.Tree(tree.levels[0][:size]).root() == expected
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, size, proof, expected)
            with pytest.raises(ProofError):
                merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, proof, expected)
            if size > 1:
                with pytest.raises(ProofError):  # the same leaf claimed at another position
                    merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), (index + 1) % size, size, proof, expected)


def test_every_consistency_proof_between_trees_up_to_50_leaves_verifies_and_a_rewritten_past_does_not():
    leaves = leaves_of(50)
    tree = tree_of(leaves)
    roots = [b""] + [reference_root(leaves[:n]) for n in range(1, 51)]
    for second in range(1, 51):
        for first in range(1, second + 1):
            proof = tree.consistency_proof(first, second)
            merkle.verify_consistency(first, second, proof, roots[first], roots[second])
            rewritten = reference_root([b"rewritten"] + leaves[1:first])
            with pytest.raises(ProofError):
                merkle.verify_consistency(first, second, proof, rewritten, roots[second])


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 3000), data=st.data())
def test_proofs_verify_in_large_trees_of_any_size(size, data):
    leaves = leaves_of(size)
    tree = tree_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size))
    assert tree.root() == merkle.root(leaves)

    merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, size, tree.inclusion_proof(index), tree.root())
    first_root = merkle.Tree(tree.levels[0][:first]).root()
    merkle.verify_consistency(first, size, tree.consistency_proof(first), first_root, tree.root())


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 200), data=st.data())
def test_a_proof_with_one_node_changed_dropped_or_added_fails(size, data):
    tree = tree_of(leaves_of(size))
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index)
    leaf = tree.levels[0][index]
    where = data.draw(st.integers(0, len(proof) - 1))
    changed = [*proof[:where], hashlib.sha256(proof[where]).digest(), *proof[where + 1 :]]
    for bad in (changed, proof[:-1], [*proof, proof[0]]):
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, index, size, bad, tree.root())


def test_impossible_sizes_are_refused():
    tree = tree_of(leaves_of(4))
    with pytest.raises(ProofError):
        tree.inclusion_proof(4)
    with pytest.raises(ProofError):
        tree.consistency_proof(0, 3)
    with pytest.raises(ProofError):
        merkle.verify_consistency(3, 2, [], b"", b"")
    with pytest.raises(ProofError):
        merkle.verify_consistency(2, 2, [], tree.root(), merkle.root(leaves_of(2)))
