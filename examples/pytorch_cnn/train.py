"""A small CNN on scikit-learn's bundled 8x8 digits, in PyTorch, logging accuracy per epoch.

The seed scenario of HyperDrive's tutorial, on data that needs no download:
``--learning_rate``, ``--keep_probability`` (dropout keep rate) and ``--batch_size``.
"""

import argparse

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
args = parser.parse_args()

torch.manual_seed(0)
torch.set_num_threads(1)
run = Run.get_context()

X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
y = torch.tensor(y)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(1.0 - args.keep_probability), nn.Linear(32 * 2 * 2, 10),
)
optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for _epoch in range(args.epochs):
    model.train()
    order = torch.randperm(len(X_train))
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
