"""MNIST with logits and a softmax wrapper, written the way TensorFlow's beginner quickstart is written.

Mirrors: TensorFlow 2 quickstart for beginners, github.com/tensorflow/docs,
site/en/tutorials/quickstart/beginner.ipynb, commit 01284fc39d29e7e78832c9fdf3fd177279ae132b
(Apache 2.0; tensorflow.org/tutorials/quickstart/beginner), which reports about 98 % test accuracy
after 5 epochs.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the same TensorFlow calls in the same order, with ``import tinynet as tf`` in place
of ``import tensorflow as tf``: ``tf.__version__``, ``tf.keras.datasets.mnist.load_data()``,
``tf.keras.models.Sequential([Flatten(input_shape=), Dense, Dropout, Dense(10)])``, calling the
untrained model on one image and ``.numpy()`` on the result, ``tf.nn.softmax(...).numpy()``, a
``tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` object called on labels and
logits, ``compile(optimizer='adam', loss=<that object>, metrics=['accuracy'])``, ``fit(epochs=5)``,
``evaluate(verbose=2)``, and ``tf.keras.Sequential([model, tf.keras.layers.Softmax()])`` called on images.

Run: python examples/keras_compat/run.py tf_quickstart_beginner.py [--quick]
"""
import tinynet as tf

print("tinynet, standing in for TensorFlow", tf.__version__)

digits = tf.keras.datasets.mnist
(train_images, train_labels), (test_images, test_labels) = digits.load_data()
train_images, test_images = train_images / 255.0, test_images / 255.0

# The last layer has no activation: the model outputs one logit per class.
logits_model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10),
])

# Before training: logits for one image, and the near-uniform probabilities they give.
first_logits = logits_model(train_images[:1]).numpy()
print("logits of the first image:", first_logits)
print("as probabilities:", tf.nn.softmax(first_logits).numpy())

cross_entropy = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
# About -log(1/10) = 2.3 while the classes are equally likely.
print("untrained loss on it:", cross_entropy(train_labels[:1], first_logits).numpy())

logits_model.compile(optimizer='adam', loss=cross_entropy, metrics=['accuracy'])
logits_model.fit(train_images, train_labels, epochs=5)
logits_model.evaluate(test_images, test_labels, verbose=2)

# Wrap the trained model so that calling it gives probabilities.
softmax_model = tf.keras.Sequential([logits_model, tf.keras.layers.Softmax()])
print(softmax_model(test_images[:5]))
