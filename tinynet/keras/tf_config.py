"""``tf.config`` and ``tf.test``'s device questions, answered honestly: tinynet computes on the CPU with NumPy.

``tf.config.list_physical_devices('GPU')`` is ``[]``, so the usual ``for gpu in gpus: ...`` block does nothing.
"""
from typing import NamedTuple

from ..core.checks import check_choice


class PhysicalDevice(NamedTuple):
    name: str
    device_type: str


CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")
DEVICE_TYPES = ("cpu", "gpu", "tpu")           # compared lower-cased: 'GPU' and 'gpu' alike


def list_physical_devices(device_type=None):
    """The devices tinynet computes on: one CPU; no GPU or TPU."""
    if device_type is None:
        return [CPU]
    kind = check_choice(device_type, "device_type", DEVICE_TYPES, "list_physical_devices")
    return [CPU] if kind == "cpu" else []


list_logical_devices = list_physical_devices


def set_visible_devices(devices, device_type=None):
    """Accepted for the CPU (the only device); tinynet cannot be given another one."""
    devices = devices if isinstance(devices, (list, tuple)) else [devices]
    if any(device != CPU for device in devices):
        raise ValueError(f"tinynet runs on the CPU only; it cannot use the devices {devices}.")


class experimental:  # noqa: N801  (tf.config.experimental)
    list_physical_devices = staticmethod(list_physical_devices)

    @staticmethod
    def set_memory_growth(device, enable):
        """There is no GPU memory to grow: only a GPU device would need this, and there is none."""
        raise ValueError(f"set_memory_growth applies to GPUs; tinynet has none (received device {device!r}).")


class test:  # noqa: N801  (tf.test's device questions)
    @staticmethod
    def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
        return False

    @staticmethod
    def is_built_with_cuda():
        return False

    @staticmethod
    def gpu_device_name():
        return ""
