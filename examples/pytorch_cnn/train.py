"""A small CNN on scikit-learn's bundled 8x8 digits, in PyTorch, logging accuracy per epoch.

The seed scenario of HyperDrive's tutorial, on data that needs no download:
``--learning_rate``, ``--keep_probability`` (dropout keep rate) and ``--batch_size``.
It trains on the GPU when CUDA is available (``--device cpu`` to refuse it), else on the CPU,
and tags the run with the device it used. In a sweep with ``resources_per_trial: {gpu: 1}``
hypersweep sets ``CUDA_VISIBLE_DEVICES`` to the trial's own GPU(s), which the trial then sees
as ``cuda:0``..; that is why no device index is chosen here.
"""

import argparse
import os

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from hypersweep import Run

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.01)
parser.add_argument("--keep_probability", type=float, default=0.8)
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--device", default=None,
                    help="cpu, cuda or cuda:N (default: cuda when available, else cpu)")
args = parser.parse_args()

if args.device is None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
else:
    try:
        device = torch.device(args.device)
    except RuntimeError as error:
        parser.error(f"--device {args.device}: {error}")
    seen = torch.cuda.device_count()
    if device.type == "cuda" and (device.index or 0) >= seen:
        # Under hypersweep a trial's GPUs are numbered from 0 (CUDA_VISIBLE_DEVICES).
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        parser.error(f"--device {args.device}: this process sees {seen} CUDA device(s)"
                     + (f" (CUDA_VISIBLE_DEVICES={visible})" if visible is not None else ""))
if device.type == "cuda" and device.index is None:
    # "cuda" means the current device, the first of the trial's own.
    device = torch.device("cuda", torch.cuda.current_device())

torch.manual_seed(0)  # seeds CUDA's generators too
# One thread per trial, as before, so concurrent trials do not oversubscribe the cores; when
# hypersweep gives a trial cores (resources_per_trial: {cpu: N}) it sets OMP_NUM_THREADS=N,
# which torch has already read at import, so that count is kept.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(1)
# cudnn.benchmark stays off: the convolutions are tiny, so autotuning each new batch shape
# costs more than it saves, and it would make equal trials give different accuracies.
run = Run.get_context()
name = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
print(f"device: {device}{name}", flush=True)
run.tag("device", str(device))

X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
y = torch.tensor(y)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
# The whole data set is 1,797 small images: it goes to the device once, so every batch is
# cut from tensors already there (on the CPU .to() returns the same tensors).
X_train, X_test, y_train, y_test = (t.to(device) for t in (X_train, X_test, y_train, y_test))

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(1.0 - args.keep_probability), nn.Linear(32 * 2 * 2, 10),
).to(device)  # made on the CPU first, so its initial weights do not depend on the device
optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for _epoch in range(args.epochs):
    model.train()
    # Drawn on the CPU (the same order on every device), then sent where the data is.
    order = torch.randperm(len(X_train)).to(device)
    for start in range(0, len(order), args.batch_size):
        batch = order[start:start + args.batch_size]
        optimizer.zero_grad()
        loss_fn(model(X_train[batch]), y_train[batch]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    run.log("accuracy", accuracy)
run.complete()
