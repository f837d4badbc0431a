"""A Fashion-MNIST MLP built with the Sequential API, written the way *Hands-On Machine Learning* (2nd ed.) chapter 10 writes it.

Mirrors: *Hands-On Machine Learning*, 2nd edition, chapter 10, section "Building an Image Classifier",
github.com/ageron/handson-ml2, 10_neural_nets_with_keras.ipynb (Apache 2.0), which reports
val_accuracy about 0.89 after 30 epochs and test accuracy about 0.88, and whose ``hidden1.name``
is ``'dense'`` because ``keras.backend.clear_session()`` ran before the model was rebuilt.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the section's TensorFlow / Keras calls in the same order, with
``import tinynet as tf`` and ``from tinynet import keras`` in place of TensorFlow's:
``keras.datasets.fashion_mnist.load_data()``; a validation split sliced off the training set;
``keras.models.Sequential()`` grown with ``add(keras.layers.Flatten(input_shape=[28, 28]))`` and
three ``Dense``; ``keras.backend.clear_session()`` with ``np.random.seed`` and ``tf.random.set_seed``;
the same network given as a list; ``model.layers``, ``summary()``, ``model.get_layer(name)``,
``get_weights()``; ``compile(loss="sparse_categorical_crossentropy", optimizer="sgd")``;
``fit(epochs=30, validation_data=)``; ``history.params``, ``history.epoch``, ``history.history``;
``evaluate``; ``predict`` with ``.round(2)`` and ``np.argmax(..., axis=-1)``. The notebook's plotting
cells (matplotlib, pandas, ``plot_model``) call nothing else of Keras and have no counterpart.

Run: python examples/keras_compat/run.py homl2_ch10_fashion_mlp.py [--quick]
"""
import tinynet as tf
from tinynet import keras
import numpy as np

SEED = 3
np.random.seed(SEED)
print("versions:", tf.__version__, keras.__version__)

(X_all, y_all), (X_test, y_test) = keras.datasets.fashion_mnist.load_data()
print("training images:", X_all.shape, X_all.dtype)

# Hold out the first 5,000 training images for validation, and scale grey levels to [0, 1].
N_VALID = 5000
X_val, X_fit = X_all[:N_VALID] / 255., X_all[N_VALID:] / 255.
y_val, y_fit = y_all[:N_VALID], y_all[N_VALID:]
X_test = X_test / 255.
labels = np.array(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
print("first training image is a", labels[y_fit[0]], "- validation", X_val.shape, "- test", X_test.shape)

# Built one layer at a time first...
mlp = keras.models.Sequential()
mlp.add(keras.layers.Flatten(input_shape=[28, 28]))
mlp.add(keras.layers.Dense(300, activation="relu"))
mlp.add(keras.layers.Dense(100, activation="relu"))
mlp.add(keras.layers.Dense(10, activation="softmax"))

# ...then again from a list, after clearing the session so that layer names start from "dense"
# again and reseeding so that the new weights do not depend on the first model.
keras.backend.clear_session()
np.random.seed(SEED)
tf.random.set_seed(SEED)
mlp = keras.models.Sequential([
    keras.layers.Flatten(input_shape=[28, 28]),
    keras.layers.Dense(300, activation="relu"),
    keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
print([layer.name for layer in mlp.layers])
mlp.summary()

first_hidden = mlp.layers[1]
print("get_layer finds it by name:", mlp.get_layer(first_hidden.name) is first_hidden)
kernel, bias = first_hidden.get_weights()
print(first_hidden.name, "kernel", kernel.shape, "bias", bias.shape, "(biases start at zero:", not bias.any(), ")")

mlp.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
training_log = mlp.fit(X_fit, y_fit, epochs=30, validation_data=(X_val, y_val))
print("fit settings:", training_log.params)
print("epochs run:", training_log.epoch, "- logged:", list(training_log.history.keys()))

mlp.evaluate(X_test, y_test)

three = X_test[:3]
print("class probabilities:\n", mlp.predict(three).round(2))
guesses = np.argmax(mlp.predict(three), axis=-1)
print("guessed", labels[guesses], "- labelled", labels[y_test[:3]])
