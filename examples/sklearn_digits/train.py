"""Train a linear classifier on scikit-learn's bundled digits, logging accuracy per epoch.

Runs alone (``python train.py --alpha 0.001``) or as a trial of a sweep: the same script,
unchanged, as on Azure ML.
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hypersweep import Run

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1e-4)
parser.add_argument("--loss", default="hinge")
parser.add_argument("--eta0", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

run = Run.get_context()
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = SGDClassifier(alpha=args.alpha, loss=args.loss, learning_rate="constant",
                      eta0=args.eta0, random_state=0)
classes = np.unique(y)
for _epoch in range(args.epochs):
    model.partial_fit(X_train, y_train, classes=classes)
    run.log("accuracy", float(model.score(X_test, y_test)))
run.complete()
