"""tinynet vs PyTorch on the CPU, side by side: the ``cca`` MLP and the ``tf2`` CNN (docs/articles.md).

    python benchmarks/compare_torch.py                       # both models, batch 128 and 32, 3 epochs each
    python benchmarks/compare_torch.py --models cca --batch-sizes 128 --epochs 5
    python benchmarks/compare_torch.py --quick               # tiny run: checks the script works
    python benchmarks/compare_torch.py --samples 12000       # "epochs" of the first 12000 images (a busy machine)

Each framework runs in its own worker process (so each one's peak resident memory
is its own), both limited to the same number of threads, float32, data already in
memory. The parent builds the initial weights in tinynet, copies them into the
PyTorch model, draws one batch order per epoch and sends it to both, then has them
train in turns of a tenth of an epoch (tinynet, torch, torch, tinynet, ...), so
both see the same machine state: on a shared machine the speed drifts within seconds,
and alternating whole epochs (10-20 s each for the CNN) measured ratios that moved
by 15 % and more between runs. A framework's epoch time is the sum of its turns.
Reported: median seconds per epoch, predict throughput (batch 1000, median of turns),
peak RSS (after training, and after predict too), test accuracy after the same epochs,
and the ratio tinynet / PyTorch.

torch is optional: without it the script prints tinynet's numbers and how to install
the CPU build (``pip install torch --index-url https://download.pytorch.org/whl/cpu``,
or ``pip install torch==2.13.0`` where a local CPU wheel is provided).
"""
import argparse
import multiprocessing as mp
import os
import resource
import statistics
import time

import numpy as np

MODELS = ("cca", "tf2")
TURNS_PER_EPOCH = 10  # the two frameworks take turns this often per epoch
PREDICT_TURNS = 6     # predict on the test images this many times each, in turns


# ----- data ------------------------------------------------------------------
def load_mnist(quick, samples=None):
    import tinynet
    try:
        (x_train, y_train), (x_test, y_test) = tinynet.datasets.mnist.load_data()
    except Exception:  # noqa: BLE001 - no data: time on random pixels instead
        rng = np.random.default_rng(0)
        x_train, y_train = rng.integers(0, 256, (60000, 28, 28), np.uint8), rng.integers(0, 10, 60000)
        x_test, y_test = rng.integers(0, 256, (10000, 28, 28), np.uint8), rng.integers(0, 10, 10000)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:1000], y_test[:1000]
    elif samples:
        x_train, y_train = x_train[:samples], y_train[:samples]
    def scaled(images):  # one float32 copy (a division then astype would hold two at once)
        images = images.astype(np.float32)
        images /= 255
        return images
    return scaled(x_train), y_train.astype(np.int64), scaled(x_test), y_test.astype(np.int64)


def prepare(model_name, x_train, y_train, x_test, y_test):
    """cca uses the first 54000 flat images (as with validation_split=0.1); tf2 all 60000 images."""
    if model_name == "cca":
        n = int(len(x_train) * 0.9)
        return x_train[:n].reshape(n, 784), y_train[:n], x_test.reshape(len(x_test), 784), y_test
    return x_train, y_train, x_test, y_test


# ----- tinynet -------------------------------------------------------------
def build_tinynet(model_name):
    import seed_models
    return seed_models.cca_mlp() if model_name == "cca" else seed_models.tf2_cnn()


class TinynetRunner:
    def __init__(self, model_name, batch_size, data, weights):
        self.model = build_tinynet(model_name)
        self.model.set_weights(weights)
        self.batch_size = batch_size
        self.x, self.y, self.x_test, self.y_test = data

    def train(self, indices):
        """Train on x[indices] in that order (whole batches); returns the seconds it took."""
        x, y = self.x[indices], self.y[indices]  # the batch order the parent chose, outside the timing
        start = time.perf_counter()
        self.model.fit(x, y, batch_size=self.batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start

    def predict_seconds(self):
        start = time.perf_counter()
        self.model.predict(self.x_test, batch_size=1000)
        return time.perf_counter() - start

    def accuracy(self):
        return float(np.mean(self.model.predict(self.x_test, batch_size=1000).argmax(1) == self.y_test))


# ----- PyTorch ---------------------------------------------------------------
def build_torch(model_name, weights):
    """The same architecture; tinynet/Keras weights converted to PyTorch's layouts."""
    import torch
    from torch import nn

    def linear(layer, kernel, bias):
        layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
        layer.bias.data = torch.from_numpy(bias.copy())
        return layer

    def conv(layer, kernel, bias):  # (kh, kw, C_in, C_out) -> (C_out, C_in, kh, kw)
        layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
        layer.bias.data = torch.from_numpy(bias.copy())
        return layer

    def batchnorm(layer, gamma, beta, mean, var):
        # Keras momentum 0.99 is PyTorch momentum 0.01; Keras epsilon 1e-3.
        layer.weight.data, layer.bias.data = torch.from_numpy(gamma.copy()), torch.from_numpy(beta.copy())
        layer.running_mean.data, layer.running_var.data = torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())
        return layer

    w = [np.asarray(a, np.float32) for a in weights]
    if model_name == "cca":
        return nn.Sequential(linear(nn.Linear(784, 512), w[0], w[1]), nn.ReLU(),
                             linear(nn.Linear(512, 512), w[2], w[3]), nn.ReLU(),
                             linear(nn.Linear(512, 10), w[4], w[5]))

    class ChannelsLastFlatten(nn.Module):
        """Flatten in (H, W, C) order, as tinynet and Keras do, so the Dense kernel copies over."""

        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1)

    class AddChannel(nn.Module):
        def forward(self, x):
            return x.unsqueeze(1)

    bn = dict(momentum=0.01, eps=1e-3)
    return nn.Sequential(
        AddChannel(),
        conv(nn.Conv2d(1, 16, 3, padding=1), w[0], w[1]), batchnorm(nn.BatchNorm2d(16, **bn), *w[2:6]),
        nn.ReLU(), nn.MaxPool2d(2),
        conv(nn.Conv2d(16, 32, 3, padding=1), w[6], w[7]), batchnorm(nn.BatchNorm2d(32, **bn), *w[8:12]),
        nn.ReLU(), nn.MaxPool2d(2),
        ChannelsLastFlatten(), linear(nn.Linear(7 * 7 * 32, 128), w[12], w[13]),
        batchnorm(nn.BatchNorm1d(128, **bn), *w[14:18]), nn.ReLU(),
        linear(nn.Linear(128, 10), w[18], w[19]))


class TorchRunner:
    def __init__(self, model_name, batch_size, data, weights):
        import torch
        self.torch = torch
        self.model = build_torch(model_name, weights)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        self.loss = torch.nn.CrossEntropyLoss()  # takes logits: the same fused softmax-cross-entropy
        self.batch_size = batch_size
        x, y, x_test, y_test = data
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.x_test, self.y_test = torch.from_numpy(x_test), y_test

    def train(self, indices):
        torch = self.torch
        x, y = self.x[torch.from_numpy(indices)], self.y[torch.from_numpy(indices)]
        self.model.train()
        start = time.perf_counter()
        for i in range(0, len(x), self.batch_size):
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(self.model(x[i:i + self.batch_size]), y[i:i + self.batch_size])
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start

    def _predict(self):
        self.model.eval()
        with self.torch.no_grad():
            return self.torch.cat([self.torch.softmax(self.model(self.x_test[i:i + 1000]), 1)
                                   for i in range(0, len(self.x_test), 1000)])

    def predict_seconds(self):
        start = time.perf_counter()
        self._predict()
        return time.perf_counter() - start

    def accuracy(self):
        return float(np.mean(self._predict().numpy().argmax(1) == self.y_test))


# ----- worker processes ----------------------------------------------------------
def worker(framework, threads, connection):
    """Serve commands from the parent: ('setup', ...), ('train', indices), ('finish',)."""
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
    runner = train_peak_mb = None
    while True:
        command, *args = connection.recv()
        if command == "setup":
            model_name, batch_size, quick, samples, weights = args
            data = prepare(model_name, *load_mnist(quick, samples))
            runner = (TorchRunner if framework == "torch" else TinynetRunner)(model_name, batch_size, data, weights)
            connection.send(len(data[0]))
        elif command == "train":
            connection.send(runner.train(args[0]))
        elif command == "predict":
            # The first predict comes after the last training turn: the peak so far is training's.
            train_peak_mb = train_peak_mb or peak_resident_mb()
            connection.send(runner.predict_seconds())
        elif command == "finish":
            connection.send({"accuracy": runner.accuracy(), "test_images": len(runner.x_test),
                             "train_peak_mb": train_peak_mb, "peak_mb": peak_resident_mb()})
            return


def peak_resident_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def start_worker(framework, threads):
    # spawn, not fork: each worker starts clean, with only its own framework's memory.
    context = mp.get_context("spawn")
    parent_end, child_end = context.Pipe()
    process = context.Process(target=worker, args=(framework, threads, child_end), daemon=True)
    process.start()
    return process, parent_end


def initial_weights(model_name, seed):
    import tinynet
    tinynet.set_random_seed(seed)
    return build_tinynet(model_name).get_weights()


def compare(model_name, batch_size, epochs, quick, threads, with_torch, samples=None):
    frameworks = ["tinynet"] + (["torch"] if with_torch else [])
    workers = {name: start_worker(name, threads) for name in frameworks}
    weights = initial_weights(model_name, seed=0)
    for _, connection in workers.values():
        connection.send(("setup", model_name, batch_size, quick, samples, weights))
    sizes = {name: connection.recv() for name, (_, connection) in workers.items()}
    orders = np.random.default_rng(1)
    seconds = {name: [] for name in frameworks}
    batches = -(-sizes["tinynet"] // batch_size)
    turn_batches = -(-batches // TURNS_PER_EPOCH)
    for epoch in range(epochs):
        order = orders.permutation(sizes["tinynet"])
        spent = dict.fromkeys(frameworks, 0.0)
        for turn, start in enumerate(range(0, len(order), turn_batches * batch_size)):
            indices = order[start:start + turn_batches * batch_size]
            # Alternate who goes first, so neither always runs on a machine warmed (or heated) by the other.
            for name in frameworks if turn % 2 == 0 else frameworks[::-1]:
                workers[name][1].send(("train", indices))
                spent[name] += workers[name][1].recv()
        for name in frameworks:
            seconds[name].append(spent[name])
    predict = {name: [] for name in frameworks}
    for turn in range(PREDICT_TURNS):
        for name in frameworks if turn % 2 == 0 else frameworks[::-1]:
            workers[name][1].send(("predict",))
            predict[name].append(workers[name][1].recv())
    results = {}
    for name, (process, connection) in workers.items():
        connection.send(("finish",))
        result = connection.recv()
        result["images_per_second"] = result["test_images"] / statistics.median(predict[name])
        results[name] = {**result, "seconds": seconds[name]}
        process.join()
    return results


def memory(result):
    return f"{result['train_peak_mb']:.0f}/{result['peak_mb']:.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[128, 32])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2000 training images, 2 epochs")
    parser.add_argument("--samples", type=int, help="train on the first SAMPLES images only (shorter epochs)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    try:
        import torch  # noqa: F401
        with_torch = True
    except ImportError:
        with_torch = False
        print("PyTorch is not installed, so only tinynet's numbers are shown. To compare, install the CPU "
              "build: pip install torch --index-url https://download.pytorch.org/whl/cpu")

    header = (f"{'model':6} {'batch':>5} | {'tinynet s/epoch':>15} {'torch s/epoch':>13} {'ratio':>6} | "
              f"{'tinynet img/s':>13} {'torch img/s':>11} {'ratio':>6} | {'tinynet MB':>10} {'torch MB':>10} | "
              f"{'tinynet acc':>11} {'torch acc':>9}")
    rows = []
    for model_name in args.models:
        for batch_size in args.batch_sizes:
            r = compare(model_name, batch_size, epochs, args.quick, args.threads, with_torch, args.samples)
            t = r["tinynet"]
            t_epoch = statistics.median(t["seconds"])
            if with_torch:
                p = r["torch"]
                p_epoch = statistics.median(p["seconds"])
                rows.append(f"{model_name:6} {batch_size:>5} | {t_epoch:>15.2f} {p_epoch:>13.2f} {t_epoch / p_epoch:>6.2f} | "
                            f"{t['images_per_second']:>13.0f} {p['images_per_second']:>11.0f} "
                            f"{t['images_per_second'] / p['images_per_second']:>6.2f} | {memory(t):>10} "
                            f"{memory(p):>10} | {t['accuracy']:>11.4f} {p['accuracy']:>9.4f}")
            else:
                rows.append(f"{model_name:6} {batch_size:>5} | {t_epoch:>15.2f} {'-':>13} {'-':>6} | "
                            f"{t['images_per_second']:>13.0f} {'-':>11} {'-':>6} | {memory(t):>10} {'-':>10} | "
                            f"{t['accuracy']:>11.4f} {'-':>9}")
            print(f"  {model_name} batch {batch_size}: epochs (s): tinynet " + ", ".join(f"{s:.2f}" for s in t["seconds"]) +
                  ("; torch " + ", ".join(f"{s:.2f}" for s in r["torch"]["seconds"]) if with_torch else ""),
                  flush=True)
            if with_torch:
                # Each epoch's ratio (its turns ran side by side): how much the machine moved the result.
                ratios = [a / b for a, b in zip(t["seconds"], r["torch"]["seconds"])]
                print(f"  {model_name} batch {batch_size}: ratio per epoch " + ", ".join(f"{q:.2f}" for q in ratios) +
                      f" (min {min(ratios):.2f}, median {statistics.median(ratios):.2f}, max {max(ratios):.2f})",
                      flush=True)
    images = f" of the first {args.samples} images" if args.samples and not args.quick else ""
    print(f"\n{epochs} epochs{images} each, {args.threads} threads, float32; ratio = tinynet / PyTorch "
          "(seconds: lower is better for tinynet; img/s: higher is better); MB: peak resident memory "
          "after training / after predict too")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
