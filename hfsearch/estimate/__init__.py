"""Label-free accuracy estimators that use a labeled held-out slice of the candidate's source data.

Pure numpy functions over logits in the model's label space (see `hfsearch.estimate.base` for the conventions):

- `atc`: Average Thresholded Confidence (Garg et al., ICLR 2022), ``"maxconf"`` or ``"negentropy"`` score;
- `doc`: Difference of Confidences (Guillory et al., ICCV 2021);
- `aline`: Agreement-on-the-line, ALine-S and ALine-D (Baek et al., NeurIPS 2022), for >= 3 models sharing
  one labeled in-distribution slice;
- `fit_temperature` / `softmax`: scalar temperature scaling (Guo et al., ICML 2017).

Each raises `EstimatorUnavailable` (one-line ``reason``) when the inputs do not allow an estimate.

```python
>>> import numpy as np
>>> from hfsearch.estimate import atc, doc
>>> rng = np.random.default_rng(0)
>>> zs, ys, zt = rng.normal(size=(200, 3)) * 3, rng.integers(0, 3, 200), rng.normal(size=(100, 3))
>>> 0.0 <= atc(zs, ys, zt).value <= 1.0 and 0.0 <= doc(zs, ys, zt).value <= 1.0
True
```
"""

from __future__ import annotations

from .aline import ALineResult, aline
from .atc import ATC_SCORES, ATCResult, atc, atc_threshold
from .base import MIN_SOURCE_ROWS, EstimatorUnavailable
from .calibration import fit_temperature, log_softmax, softmax
from .doc import DoCResult, doc

__all__ = [
    "ATC_SCORES",
    "ATCResult",
    "ALineResult",
    "DoCResult",
    "EstimatorUnavailable",
    "MIN_SOURCE_ROWS",
    "aline",
    "atc",
    "atc_threshold",
    "doc",
    "fit_temperature",
    "log_softmax",
    "softmax",
]
