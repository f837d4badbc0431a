"""Hands-On Machine Learning (2nd edition), chapter 10: the Fashion-MNIST MLP built with the Sequential API.

Source: github.com/ageron/handson-ml2, 10_neural_nets_with_keras.ipynb, section "Building an Image
Classifier" (Apache 2.0). Published: val_accuracy about 0.89 after 30 epochs; test accuracy about 0.88;
``hidden1.name`` prints ``'dense'`` thanks to ``keras.backend.clear_session()``.
The section's code cells, in order.

Changed from the original: the imports only.
    import tensorflow as tf                    -> import tinynet as tf
    from tensorflow import keras               -> from tinynet import keras

Left out: the cells that only draw with matplotlib or pandas (the image grid, the learning curves
``pd.DataFrame(history.history).plot(...)``, the three predicted images), and
``keras.utils.plot_model(...)``, which needs pydot and Graphviz in Keras too.

Run: python examples/keras_compat/run.py homl2_ch10_fashion_mlp.py [--quick]
"""

import tinynet as tf
from tinynet import keras
import numpy as np

# to make this notebook's output stable across runs
np.random.seed(42)

tf.__version__
keras.__version__

fashion_mnist = keras.datasets.fashion_mnist
(X_train_full, y_train_full), (X_test, y_test) = fashion_mnist.load_data()

X_train_full.shape
X_train_full.dtype

X_valid, X_train = X_train_full[:5000] / 255., X_train_full[5000:] / 255.
y_valid, y_train = y_train_full[:5000], y_train_full[5000:]
X_test = X_test / 255.

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

class_names[y_train[0]]

X_valid.shape
X_test.shape

model = keras.models.Sequential()
model.add(keras.layers.Flatten(input_shape=[28, 28]))
model.add(keras.layers.Dense(300, activation="relu"))
model.add(keras.layers.Dense(100, activation="relu"))
model.add(keras.layers.Dense(10, activation="softmax"))

keras.backend.clear_session()
np.random.seed(42)
tf.random.set_seed(42)

model = keras.models.Sequential([
    keras.layers.Flatten(input_shape=[28, 28]),
    keras.layers.Dense(300, activation="relu"),
    keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax")
])

model.layers

model.summary()

hidden1 = model.layers[1]
hidden1.name

model.get_layer(hidden1.name) is hidden1

weights, biases = hidden1.get_weights()

weights

weights.shape

biases

biases.shape

model.compile(loss="sparse_categorical_crossentropy",
              optimizer="sgd",
              metrics=["accuracy"])

history = model.fit(X_train, y_train, epochs=30,
                    validation_data=(X_valid, y_valid))

history.params

print(history.epoch)

history.history.keys()

model.evaluate(X_test, y_test)

X_new = X_test[:3]
y_proba = model.predict(X_new)
y_proba.round(2)

y_pred = np.argmax(model.predict(X_new), axis=-1)  # the notebook's form since TF 2.6 removed predict_classes
y_pred

np.array(class_names)[y_pred]

y_new = y_test[:3]
y_new
