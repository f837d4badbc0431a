"""TensorFlow 2 quickstart for beginners: logits, a loss object called on arrays, and a nested Sequential.

Source: github.com/tensorflow/docs, site/en/tutorials/quickstart/beginner.ipynb, commit
01284fc39d29e7e78832c9fdf3fd177279ae132b (Apache 2.0; tensorflow.org/tutorials/quickstart/beginner).
Published: about 98 % test accuracy after 5 epochs. The notebook's code cells, in order.

Changed from the original: the imports only.
    import tensorflow as tf                    -> import tinynet as tf

What it asks of tinynet besides Keras's layers: ``tf.keras`` (tinynet as its own ``keras``),
``model(x)`` returning an array with a ``.numpy()`` method (as a TensorFlow tensor has),
``tf.nn.softmax``, a loss object called on arrays, and ``tf.keras.Sequential([model, Softmax()])``.

Run: python examples/keras_compat/run.py tf_quickstart_beginner.py [--quick]
"""

import tinynet as tf
print("TensorFlow version:", tf.__version__)

mnist = tf.keras.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential([
  tf.keras.layers.Flatten(input_shape=(28, 28)),
  tf.keras.layers.Dense(128, activation='relu'),
  tf.keras.layers.Dropout(0.2),
  tf.keras.layers.Dense(10)
])

predictions = model(x_train[:1]).numpy()
print(predictions)

tf.nn.softmax(predictions).numpy()

loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

loss_fn(y_train[:1], predictions).numpy()

model.compile(optimizer='adam',
              loss=loss_fn,
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=5)

model.evaluate(x_test,  y_test, verbose=2)

probability_model = tf.keras.Sequential([
  model,
  tf.keras.layers.Softmax()
])

probability_model(x_test[:5])
