"""A model used as one layer of another, as in Keras: ``Sequential([model, layers.Softmax()])``.

The TensorFlow tutorials end this way: train a model that outputs logits, then wrap it
with a softmax to get probabilities. The inner model's layers and weights are shared,
not copied: fitting the outer model trains them, and the inner model sees the change.
"""
from ..layers.base import Layer


class ModelLayer(Layer):
    """The layer ``Sequential.add(model)`` adds for a model: forward and backward are the inner model's.

        forward:   y = model.forward(x)
        backward:  dx = model.backward(dout)   (each inner layer fills its weights' grads)
    """

    def __init__(self, model):
        self.model = model  # first: Layer.__init__ resets state_updates, which are the inner layers'
        input_shape = model.input_shape[1:] if model.input_shape is not None else None
        super().__init__(name=model.name, input_shape=input_shape)
        self.class_name = type(model).__name__  # what summary() shows: "sequential (Sequential)"
        if model.built:
            self.built, self.output_shape = True, model.output_shape

    def build(self, input_shape):
        if not self.model.built:
            self.model.build((None,) + tuple(input_shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(self.model.output_shape[1:])

    def forward(self, x, training=False):
        return self.model.forward(x, training=training)

    def backward(self, dout):
        return self.model.backward(dout, input_gradient=self.needs_input_gradient)

    @property
    def weights(self):
        return self.model.weights

    @property
    def trainable_weights(self):
        return self.model.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return self.model.non_trainable_weights if self.trainable else self.model.weights

    @property
    def state_updates(self):
        return [update for layer in self.model.layers for update in getattr(layer, "state_updates", ())]

    @state_updates.setter
    def state_updates(self, value):
        for layer in self.model.layers:
            layer.state_updates = list(value)

    def count_params(self):
        return self.model.count_params()

    def get_weights(self):
        return self.model.get_weights()

    def set_weights(self, weights):
        self.model.set_weights(weights)

    def get_config(self):
        raise NotImplementedError(
            f"Model '{self.model.name}' is nested in another model, and tinynet cannot yet write a nested model's "
            "architecture (save / to_json). Save the inner model itself (its weights are the trained ones), and "
            "wrap it again after loading: Sequential([tinynet.load_model(path), layers.Softmax()]).")
