"""hypersweep: hyperparameter sweeps with Azure ML HyperDrive semantics, on your own machine.

Names are loaded on first use, so a training script's ``from hypersweep import Run`` stays
cheap (it does not import numpy, scipy or SQLAlchemy).

Examples
--------
>>> from hypersweep import RandomParameterSampling, choice, uniform
>>> sampling = RandomParameterSampling({"lr": uniform(0.01, 0.1), "bs": choice(16, 32)}, seed=1)
>>> len(sampling.preview(3))
3
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "ConfigError": "hypersweep.errors",
    "StoreError": "hypersweep.errors",
    # search space
    "SearchSpace": "hypersweep.space",
    "Expression": "hypersweep.space",
    "ExponentWarning": "hypersweep.space",
    "choice": "hypersweep.space",
    "randint": "hypersweep.space",
    "uniform": "hypersweep.space",
    "quniform": "hypersweep.space",
    "loguniform": "hypersweep.space",
    "qloguniform": "hypersweep.space",
    "normal": "hypersweep.space",
    "qnormal": "hypersweep.space",
    "lognormal": "hypersweep.space",
    "qlognormal": "hypersweep.space",
    # sampling
    "RandomParameterSampling": "hypersweep.sampling",
    "GridParameterSampling": "hypersweep.sampling",
    "BayesianParameterSampling": "hypersweep.sampling",
    "TPEParameterSampling": "hypersweep.sampling",
    # early termination
    "NoTerminationPolicy": "hypersweep.policies",
    "BanditPolicy": "hypersweep.policies",
    "MedianStoppingPolicy": "hypersweep.policies",
    "TruncationSelectionPolicy": "hypersweep.policies",
    "AshaPolicy": "hypersweep.policies",
    "HyperbandPolicy": "hypersweep.policies",
    # sweeps
    "Workspace": "hypersweep.api.workspace",
    "Experiment": "hypersweep.api.workspace",
    "ScriptRunConfig": "hypersweep.api.config",
    "HyperDriveConfig": "hypersweep.api.config",
    "PrimaryMetricGoal": "hypersweep.api.config",
    "HyperDriveRun": "hypersweep.api.sweep_run",
    "Run": "hypersweep.api.run",
    # function trials
    "tune": "hypersweep.api.tune",
    "Sweep": "hypersweep.api.function_sweep",
    "TrialCanceled": "hypersweep.functions.trial",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from hypersweep.api.config import (
        HyperDriveConfig as HyperDriveConfig,
    )
    from hypersweep.api.config import (
        PrimaryMetricGoal as PrimaryMetricGoal,
    )
    from hypersweep.api.config import (
        ScriptRunConfig as ScriptRunConfig,
    )
    from hypersweep.api.function_sweep import (
        Sweep as Sweep,
    )
    from hypersweep.api.run import (
        Run as Run,
    )
    from hypersweep.api.sweep_run import (
        HyperDriveRun as HyperDriveRun,
    )
    from hypersweep.api.tune import (
        tune as tune,
    )
    from hypersweep.api.workspace import (
        Experiment as Experiment,
    )
    from hypersweep.api.workspace import (
        Workspace as Workspace,
    )
    from hypersweep.errors import (
        ConfigError as ConfigError,
    )
    from hypersweep.errors import (
        StoreError as StoreError,
    )
    from hypersweep.functions.trial import (
        TrialCanceled as TrialCanceled,
    )
    from hypersweep.policies import (
        AshaPolicy as AshaPolicy,
    )
    from hypersweep.policies import (
        BanditPolicy as BanditPolicy,
    )
    from hypersweep.policies import (
        HyperbandPolicy as HyperbandPolicy,
    )
    from hypersweep.policies import (
        MedianStoppingPolicy as MedianStoppingPolicy,
    )
    from hypersweep.policies import (
        NoTerminationPolicy as NoTerminationPolicy,
    )
    from hypersweep.policies import (
        TruncationSelectionPolicy as TruncationSelectionPolicy,
    )
    from hypersweep.sampling import (
        BayesianParameterSampling as BayesianParameterSampling,
    )
    from hypersweep.sampling import (
        GridParameterSampling as GridParameterSampling,
    )
    from hypersweep.sampling import (
        RandomParameterSampling as RandomParameterSampling,
    )
    from hypersweep.sampling import (
        TPEParameterSampling as TPEParameterSampling,
    )
    from hypersweep.space import (
        ExponentWarning as ExponentWarning,
    )
    from hypersweep.space import (
        Expression as Expression,
    )
    from hypersweep.space import (
        SearchSpace as SearchSpace,
    )
    from hypersweep.space import (
        choice as choice,
    )
    from hypersweep.space import (
        lognormal as lognormal,
    )
    from hypersweep.space import (
        loguniform as loguniform,
    )
    from hypersweep.space import (
        normal as normal,
    )
    from hypersweep.space import (
        qlognormal as qlognormal,
    )
    from hypersweep.space import (
        qloguniform as qloguniform,
    )
    from hypersweep.space import (
        qnormal as qnormal,
    )
    from hypersweep.space import (
        quniform as quniform,
    )
    from hypersweep.space import (
        randint as randint,
    )
    from hypersweep.space import (
        uniform as uniform,
    )
