"""Run by ``tinynet.io.hdf5`` in a child process: an HDF5 file walked with h5py, written out as plain data.

The HDF5 library is C code that believes the file it reads: one damaged byte can make it
crash (a segmentation fault), loop forever, or allocate gigabytes for a few bytes of file.
So tinynet never lets the library read a file from outside in the user's process: it runs
this script with a memory limit (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU), and reads
back, from the script's standard output, a list of records, each a kind byte, an 8-byte
little-endian length and that many bytes:

    b"A"   one array's bytes (the arrays in the order the tree numbers them)
    b"T"   the tree, as JSON, last: {"nodes": [...], "arrays": [[dtype, shape], ...]},
           or {"error": what went wrong} for a file that cannot be walked at all; and in both
           "usage": the process's peak memory and CPU time, as it measured them

Node 0 is the root group; every node is reached from it by hard links:

    {"parent": 2, "link": "dense",    "kind": "group",   "attrs": {...}, "links": {name: node or link kind}}
    {"parent": 3, "link": "kernel:0", "kind": "dataset", "attrs": {...}, "dtype": "<f4", "shape": [4, 2],
     "array": 0 (or null), "refused": null (or why the data was not read), "outside": null (or where it is)}

An attribute is {"text": str, "bytes": bool} (one string), {"strings": [str, ...], "shape": [...],
"bytes": bool}, {"array": k} (numbers), or {"refused": why}. Bytes travel as latin-1 text.

Before it asks the library for anything, the walk compares what the file declares with the
limits it was given: how many links and attributes, how many strings or bytes an attribute
holds, where a dataset is stored, in how many chunks, and how many bytes of data all
datasets declare (never more than the file's size: Keras does not compress weights).
Whatever the library still gets wrong costs this process only.

This file imports the standard library, NumPy and h5py, never tinynet: the child starts fast.
"""
import json
import math
import os
import sys

try:
    import resource
except ImportError:  # Windows: the parent's wall-clock limit is all there is
    resource = None


# The attributes a Keras file has (and tinynet reads): name lists -- split into layer_names0,
# layer_names1 ... when long -- the configurations and the versions. Every other attribute is only listed.
KERAS_ATTRIBUTES = ("layer_names", "weight_names", "model_config", "training_config", "keras_version", "backend")
NOT_KERAS = "not read (not an attribute Keras writes)"


def is_keras_attribute(name):
    base = name.rstrip("0123456789")
    return name in KERAS_ATTRIBUTES or (base != name and base in ("layer_names", "weight_names"))


class Refused(Exception):
    """The whole file is refused (the parent raises a KerasFileError with this message)."""


def main():
    request = json.loads(sys.argv[1])
    out = sys.stdout.buffer
    limits = request["limits"]
    import numpy as np  # noqa: F401 - imported before the limits are set: its start-up is not the file's cost
    import h5py
    set_limits(limits)
    try:
        tree = Walk(h5py, request["path"], limits, out).run()
    except Refused as error:
        tree = {"error": str(error)}
    except MemoryError:
        tree = {"error": "reading it needs more memory than a file of its size can honestly need"}
    except Exception as error:  # noqa: BLE001 - h5py raises many kinds of error on a damaged file
        tree = {"error": f"cannot be read ({type(error).__name__}: {cut(error)})"}
    tree["usage"] = usage()
    send(out, b"T", json.dumps(tree, ensure_ascii=False).encode("utf-8"))
    out.flush()


def set_limits(limits):
    """The memory limit (what the process has mapped now, plus the allowance) and the first CPU-time limit."""
    allow_cpu(limits["cpu_seconds"])
    if resource is None:
        return
    try:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        return  # no /proc: no memory limit (macOS does not enforce RLIMIT_AS anyway)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (lowest(size + limits["memory_bytes"], hard), hard))


def allow_cpu(seconds):
    """At most ``seconds`` more of CPU time from now, in whole seconds: the kernel stops the process
    (SIGXCPU) after between ``seconds`` - 1 and ``seconds``. The walk calls this before each object,
    so one call into the library that never returns is stopped, however long the honest walk is."""
    if resource is None:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    until = math.floor(used.ru_utime + used.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (lowest(until, hard), hard))


def lowest(value, present):
    """``value``, or a limit the process already has if that is lower."""
    return value if present == resource.RLIM_INFINITY else min(value, present)


def usage():
    """This process's peak resident memory (Linux: VmHWM, counted from the exec) and CPU time."""
    report = {}
    try:
        used = resource.getrusage(resource.RUSAGE_SELF)
        report["cpu_seconds"] = used.ru_utime + used.ru_stime
        with open("/proc/self/status") as status:
            report["peak_rss"] = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (AttributeError, OSError, StopIteration):  # AttributeError: no resource module
        pass
    return report


def send(out, kind, data):
    out.write(kind + len(data).to_bytes(8, "little"))
    out.write(data)


class Walk:
    """One pass over the file from its root, following hard links, each object visited once.

    Two budgets: the bytes of data all datasets may declare (the file's size), and the size of
    the tree (names and attributes, as JSON) the parent will have to hold.
    """

    def __init__(self, h5py, path, limits, out):
        self.h5py, self.path, self.limits, self.out = h5py, path, limits, out
        self.nodes, self.arrays, self.seen = [], [], {}
        self.data_budget = os.path.getsize(path)
        self.tree_budget = limits["tree_bytes"]
        self.n_attributes = 0

    def run(self):
        h5py = self.h5py
        try:
            file = h5py.File(self.path, "r")
        except Exception as error:  # noqa: BLE001 - whatever h5py raises, the file is not one it reads
            raise Refused(f"is not a readable HDF5 file ({cut(error)})") from None
        with file:
            pending = [self.new_node(file["/"], None, "", self.identity(file))]
            while pending:
                reference, index = pending.pop()
                allow_cpu(self.limits["cpu_seconds"])
                try:
                    obj = file[reference]
                except Exception as error:  # noqa: BLE001
                    raise Refused(f"cannot be read: {self.where(index)} is damaged ({cut(error)})") from None
                node = self.nodes[index]
                node["attrs"] = self.attributes(obj, index)
                if isinstance(obj, h5py.Group):
                    node["kind"], node["links"] = "group", {}
                    pending += self.links(obj, index, node["links"])
                else:
                    node.update(kind="dataset", **self.charge(self.dataset(obj)))
        return {"nodes": self.nodes, "arrays": self.arrays}

    def new_node(self, obj, parent, link, address):
        """Number an object the first time it is reached; it is walked later."""
        if len(self.nodes) >= self.limits["max_nodes"]:
            raise Refused(f"has more than {self.limits['max_nodes']:,} groups and datasets (a Keras model file "
                          "has a few per layer)")
        self.seen[address] = len(self.nodes)
        self.nodes.append(self.charge({"parent": parent, "link": link}))
        # An object reference, not the open object: a group of 5,000 members would otherwise keep
        # 5,000 objects open in the library (kilobytes each) until they are walked.
        return obj.ref, len(self.nodes) - 1

    def identity(self, obj):
        """The object's address in the file (two hard links to one object share it)."""
        try:
            return self.h5py.h5o.get_info(obj.id).addr
        except Exception as error:  # noqa: BLE001
            raise Refused(f"cannot be read: an object header is damaged ({cut(error)})") from None

    def where(self, index, link=None):
        names = [] if link is None else [link]
        while index:
            names.append(self.nodes[index]["link"])
            index = self.nodes[index]["parent"]
        return cut("/" + "/".join(reversed(names)), 200)

    def charge(self, record, strings=0):
        """Count ``record`` against the tree's size: its JSON, and 64 bytes for each string in it (what the
        parent's Python objects cost beyond the characters). Returns ``record``."""
        self.tree_budget -= len(json.dumps(record, ensure_ascii=False).encode("utf-8")) + 64 * (strings + 1)
        if self.tree_budget < 0:
            raise Refused(f"holds more than {self.limits['tree_bytes']:,} bytes of names and attributes")
        return record

    # ----- groups and links
    def links(self, group, index, table):
        """Record every link of ``group`` in ``table`` (name -> node number, or the kind of a link not
        followed); return the objects reached for the first time, to walk."""
        h5py, limits = self.h5py, self.limits
        try:
            if len(self.nodes) + group.id.get_num_objs() > limits["max_nodes"]:
                raise Refused(f"has more than {limits['max_nodes']:,} groups and datasets (a Keras model file "
                              "has a few per layer)")
            names = list(group)
        except Refused:
            raise
        except Exception as error:  # noqa: BLE001
            raise Refused(f"cannot be read: the group {self.where(index)} is damaged ({cut(error)})") from None
        todo = []
        for name in names:
            key = to_text(name)
            if len(key) > limits["max_name_chars"]:
                raise Refused(f"has a link name of {len(key):,} characters under {self.where(index)}")
            try:
                link = group.get(name, getlink=True)
                if isinstance(link, h5py.HardLink):
                    obj = group[name]
                    address = self.identity(obj)
                    seen = self.seen.get(address)
            except Exception as error:  # noqa: BLE001
                raise Refused(f"cannot be read: the link {self.where(index, key)} is damaged ({cut(error)})") \
                    from None
            if not isinstance(link, h5py.HardLink):  # soft, external: recorded, not followed
                table[key] = type(link).__name__
            elif seen is not None:  # a second hard link to an object already reached (or a cycle)
                table[key] = seen
            else:
                todo.append(self.new_node(obj, index, key, address))
                table[key] = todo[-1][1]
            self.charge([key, table[key]])
        return todo

    # ----- attributes
    def attributes(self, obj, index):
        h5py, limits = self.h5py, self.limits
        try:
            self.n_attributes += h5py.h5o.get_info(obj.id).num_attrs
            if self.n_attributes > limits["max_attributes"]:
                raise Refused(f"has more than {limits['max_attributes']:,} attributes")
            names = list(obj.attrs)
        except Refused:
            raise
        except Exception as error:  # noqa: BLE001
            raise Refused(f"cannot be read: the attributes of {self.where(index)} are damaged ({cut(error)})") \
                from None
        records = {}
        for name in names:
            text = to_text(name)
            # Only what Keras writes is read: any other attribute, however large or aliased, costs its name.
            record = self.attribute(obj, name) if is_keras_attribute(text) else {"refused": NOT_KERAS}
            records[text] = record
            self.charge([text, record], strings=len(record.get("strings", ())))
        return records

    def attribute(self, obj, name):
        """One attribute, its declared size checked before the library reads it."""
        h5py, limits = self.h5py, self.limits
        try:
            attribute = obj.attrs.get_id(name)
            shape, kind = attribute.shape, attribute.get_type()
            type_class = kind.get_class()
        except Exception as error:  # noqa: BLE001
            return {"refused": f"cannot be read ({cut(error)})"}
        if shape is None:
            return {"refused": "is empty (no dataspace)"}
        count = math.prod(shape)
        if type_class not in (h5py.h5t.STRING, h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.ENUM):
            return {"refused": f"is of an HDF5 type tinynet does not read (class {type_class})"}
        if type_class == h5py.h5t.STRING and count > limits["max_strings"]:
            return {"refused": f"holds {count:,} strings, more than the {limits['max_strings']:,} tinynet reads"}
        # A variable-length string's size is known only once read: the memory limit bounds it.
        if not (type_class == h5py.h5t.STRING and kind.is_variable_str()) \
                and count * kind.get_size() > limits["attribute_bytes"]:
            return {"refused": f"declares {count * kind.get_size():,} bytes, more than the "
                               f"{limits['attribute_bytes']:,} tinynet reads"}
        try:
            value = obj.attrs[name]
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001
            return {"refused": f"cannot be read ({cut(error)})"}
        return self.attribute_value(value, shape)

    def attribute_value(self, value, shape):
        np = sys.modules["numpy"]
        if isinstance(value, (str, bytes)):
            items, record = [value], {"text": to_text(value), "bytes": isinstance(value, bytes)}
        else:
            value = np.asarray(value)
            if value.dtype.kind not in "SOU":
                if value.dtype.kind not in "biuf" or value.dtype.itemsize > 8:
                    return {"refused": f"holds {cut(value.dtype, 60)}, which tinynet does not read"}
                if value.nbytes > self.data_budget:
                    return {"refused": f"declares {value.nbytes:,} bytes, more than the file holds"}
                self.data_budget -= value.nbytes
                return {"array": self.add_array(value)}
            items = value.ravel().tolist()
            if not all(isinstance(item, (str, bytes)) for item in items):
                return {"refused": "holds something other than strings"}
            record = {"strings": [to_text(item) for item in items], "shape": list(shape),
                      "bytes": any(isinstance(item, bytes) for item in items)}
        size = sum(map(len, items))
        if size > self.limits["attribute_bytes"]:
            return {"refused": f"holds {size:,} characters, more than the {self.limits['attribute_bytes']:,} "
                               "tinynet reads"}
        return record

    # ----- datasets
    def dataset(self, dataset):
        """The dataset's description, and its values when they pass the checks."""
        h5py, np = self.h5py, sys.modules["numpy"]
        record = {"dtype": None, "shape": None, "array": None, "refused": None, "outside": None}
        try:
            plist = dataset.id.get_create_plist()
            layout = plist.get_layout()
            if plist.get_external_count() or layout == h5py.h5d.VIRTUAL:
                return {**record, "outside": "is stored outside the file"}
            dtype, shape = dataset.dtype, dataset.shape
        except Exception as error:  # noqa: BLE001
            return {**record, "refused": f"cannot be read ({cut(error)})"}
        if shape is None:
            return {**record, "refused": "is empty (no dataspace)"}
        record["shape"] = list(shape)
        if dtype.kind not in "biuf" or dtype.itemsize > 8:
            return {**record, "dtype": cut(dtype, 60), "refused": f"holds {cut(dtype, 60)}"}
        record["dtype"] = dtype.str
        nbytes = math.prod(shape) * dtype.itemsize
        if layout == h5py.h5d.CHUNKED:
            chunks = math.prod(-(-size // step) for size, step in zip(shape, dataset.chunks))
            if chunks > self.limits["max_chunks"]:
                return {**record, "refused": f"is stored in {chunks:,} chunks, more than the "
                                             f"{self.limits['max_chunks']:,} tinynet reads"}
        if nbytes > self.data_budget:
            return {**record, "refused": f"declares {nbytes:,} bytes, more than the file holds"}
        self.data_budget -= nbytes
        try:
            values = np.asarray(dataset[()])
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001
            return {**record, "refused": f"cannot be read ({cut(error)})"}
        return {**record, "array": self.add_array(values)}

    def add_array(self, values):
        self.arrays.append(self.charge([values.dtype.str, list(values.shape)]))
        send(self.out, b"A", memoryview(np_contiguous(values).reshape(-1).view("u1")))
        return len(self.arrays) - 1


def np_contiguous(values):
    return values if values.flags.c_contiguous else values.copy()


def to_text(value):
    """A str the parent can receive as JSON: bytes (a string attribute's, or a name h5py could not
    decode) as latin-1; a str holding undecodable bytes (h5py's surrogate escapes) with them replaced."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cut(value, limit=200):
    """``str(value)`` (an error message, a dtype: they may quote the file) cut short, JSON-safe."""
    text = to_text(str(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


if __name__ == "__main__":
    main()
