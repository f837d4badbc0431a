"""``keras.utils.PyDataset`` (Keras 3) and its older name ``keras.utils.Sequence``: a data set you index by batch.

    class MNISTBatches(keras.utils.Sequence):
        def __init__(self, x, y, batch_size):
            super().__init__()
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):                       # batches per epoch
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):            # batch ``index``: (x, y) or (x, y, sample_weight)
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

    model.fit(MNISTBatches(x_train, y_train, 128), epochs=5)

``fit`` asks for batches ``0 .. len - 1`` (in a random order with ``shuffle=True``, as Keras does) and
calls ``on_epoch_end()`` after each epoch. Each batch is read when it is needed, so a Sequence can
load its data from disk batch by batch. ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are
accepted: tinynet reads the batches one after the other in the calling thread.
"""
from ..core.checks import check_bool, check_int


class PyDataset:
    """Base class of a data set indexed by batch: implement ``__len__`` and ``__getitem__``."""

    # Defaults at class level too: Keras 2 Sequences often skip ``super().__init__()``.
    workers, use_multiprocessing, max_queue_size = 1, False, 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = check_int(workers, "workers", 1)
        self.use_multiprocessing = check_bool(use_multiprocessing, "use_multiprocessing")
        self.max_queue_size = check_int(max_queue_size, "max_queue_size", 1)

    def __getitem__(self, index):
        """Batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(self, index): the batch at "
                                  "position index")

    def __len__(self):
        """The number of batches in an epoch."""
        raise NotImplementedError(f"{type(self).__name__} must implement __len__(self): the number of batches")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        """Called before each epoch."""

    def on_epoch_end(self):
        """Called after each epoch (reshuffle here, if you like)."""

    def __iter__(self):
        """The batches of one epoch, in order."""
        for index in range(len(self)):
            yield self[index]


# Keras 2's name; Keras 3 keeps it as an alias.
Sequence = PyDataset
