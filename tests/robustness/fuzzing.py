"""Hypothesis strategies that damage valid files, shared by the fuzz tests (test_fuzz_readers.py,
test_fuzz_keras_readers.py) and benchmarks/fuzz_readers.py."""
import io
import zipfile

from hypothesis import strategies as st


def mutations(valid, header=64):
    """Byte flips (half of them in the first ``header`` bytes, where the size fields
    live), then maybe a cut, an insertion or a deletion."""
    n = len(valid)
    position = st.one_of(st.integers(0, min(header, n) - 1), st.integers(0, n - 1))
    flips = st.lists(st.tuples(position, st.integers(0, 255)), min_size=1, max_size=6)
    cut = st.one_of(st.none(), st.integers(0, n))
    insert = st.one_of(st.none(), st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=16)))

    def apply(args):
        flips, cut, insert = args
        data = bytearray(valid)
        for i, value in flips:
            data[i] = value
        if insert is not None:
            data[insert[0]:insert[0]] = insert[1]
        if cut is not None:
            data = data[:cut]
        return bytes(data)

    return st.tuples(flips, cut, insert).map(apply)


def member_mutations(n_members):
    """(member index, byte flips, cut) for ``remade_zip``."""
    return st.tuples(st.integers(0, n_members - 1),
                     st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), min_size=1, max_size=4),
                     st.one_of(st.none(), st.integers(0, 300)))


def remade_zip(valid_members, mutation, compression=zipfile.ZIP_STORED):
    """A zip of ``valid_members`` with one member's bytes mutated, re-zipped with correct CRCs:
    the zip layer is sound, so the readers' own checks are what is tested."""
    members = dict(valid_members)
    names = sorted(members)
    index, flips, cut = mutation
    name = names[index % len(names)]
    data = bytearray(members[name])
    for i, value in flips:
        data[i % max(len(data), 1)] = value if data else 0
    members[name] = bytes(data[:cut]) if cut is not None else bytes(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()
