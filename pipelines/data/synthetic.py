"""A simulated plant for when the shared data sets are absent (``latentwatch demo --synthetic``): a few assets whose
sensors are driven by a few latent process variables, with noise, a daily cycle and injected faults of known kind,
sensor and time.

Per asset, three latent variables: the load (a daily cycle plus a slow random walk back to its mean), the ambient
temperature (a daily cycle, later in the day, plus its own slow variation) and a fast process disturbance. Each of
the eight sensors reads a fixed mix of them (two through a nonlinearity), in its own units, with each asset's gains
a little different, plus white noise. Every run starts with ``normal_days`` of fault-free rows (the training and
each asset's own normal) followed by ``test_days`` in which the asset's faults are injected at labelled rows.

Fault kinds, each on one sensor, in units of that sensor's standard deviation over the normal period:
- step: a constant offset for the fault's span;
- drift: an offset growing linearly from 0 to its magnitude over the span;
- stuck: the sensor repeats the value it read at the fault's first row;
- spike_burst: about a third of the span's rows get a spike of either sign.

Deterministic given ``PlantSpec`` (its seed included): the clean signals and the fault plan come from separate
random streams, so ``make_plant(spec, inject=False)`` is the same plant without its faults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SENSORS = (
    "flow",
    "pressure",
    "motor_current",
    "motor_temp",
    "bearing_vibration",
    "inlet_temp",
    "outlet_temp",
    "power",
)
FAULT_KINDS = ("step", "drift", "stuck", "spike_burst")
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY_S = 86_400

# sensor = offset + MIX @ (load, ambient, disturbance) + NONLINEAR * load**2; units: m3/h, bar, A, degC, mm/s, degC,
# degC, kW
_OFFSET = np.array([5.0, 1.0, 8.0, 35.0, 0.8, 12.0, 14.0, 2.0])
_MIX = np.array(
    [
        [60.0, 0.0, 6.0],
        [3.0, 0.0, 0.6],
        [10.0, 0.0, 1.5],
        [12.0, 6.0, 0.5],
        [0.6, 0.0, 0.25],
        [0.0, 9.0, 0.0],
        [6.0, 8.5, 0.3],
        [5.0, 0.0, 0.8],
    ]
)
_NONLINEAR = np.array([0.0, 1.5, 12.0, 0.0, 0.9, 0.0, 0.0, 18.0])
# kind: (rows as a fraction of a day, magnitude in normal-period standard deviations); a stuck sensor shows only once
# the plant has moved away from where it stuck, so it lasts longest
_FAULT_SHAPES = {"step": (0.08, 3.0), "drift": (0.17, 4.0), "stuck": (0.25, 0.0), "spike_burst": (0.02, 6.0)}


@dataclass(frozen=True)
class PlantSpec:
    assets: int = 4
    period_s: int = 60
    normal_days: float = 1.0
    test_days: float = 2.0
    faults_per_asset: int = 2
    noise: float = 0.15  # white noise, as a fraction of each sensor's clean standard deviation
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "assets": self.assets >= 1,
            "period_s": self.period_s >= 1,
            "normal_days": self.normal_days > 0,
            "test_days": self.test_days > 0,
            "faults_per_asset": 0 <= self.faults_per_asset <= len(FAULT_KINDS),
            "noise": self.noise >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"PlantSpec: invalid {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}")

    @property
    def normal_rows(self) -> int:
        return int(round(self.normal_days * DAY_S / self.period_s))

    @property
    def test_rows(self) -> int:
        return int(round(self.test_days * DAY_S / self.period_s))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fault:
    """One injected fault: rows [start, end) of the asset's run, on one sensor."""

    kind: str
    sensor: str
    start: int
    end: int
    magnitude: float  # in the sensor's normal-period standard deviations (0 for stuck)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlantRun:
    """One asset's run: values float64 [n, 8] (SENSORS order), anomaly / changepoint int64 0/1 [n], timestamps
    datetime64[s] [n]; the first ``normal_rows`` are fault-free."""

    name: str
    values: np.ndarray
    anomaly: np.ndarray
    changepoint: np.ndarray
    timestamps: np.ndarray
    normal_rows: int
    faults: tuple[Fault, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _ar1(rng: np.random.Generator, n: int, phi: float, std: float) -> np.ndarray:
    """A stationary AR(1) series with this autocorrelation and standard deviation."""
    e = rng.normal(0.0, std * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, std)
    for i in range(1, n):  # one short loop per asset at build time; a C recursion would need scipy
        out[i] = phi * out[i - 1] + e[i]
    return out


def _clean(rng: np.random.Generator, n: int, period_s: int) -> np.ndarray:
    day = np.arange(n) * period_s / DAY_S
    load = 0.6 + 0.25 * np.sin(2 * np.pi * (day - 0.3)) + _ar1(rng, n, 0.995, 0.04)
    ambient = 0.5 * np.sin(2 * np.pi * (day - 0.4)) + _ar1(rng, n, 0.998, 0.08)
    disturbance = _ar1(rng, n, 0.9, 0.3)
    z = np.column_stack([load, ambient, disturbance])
    gains = 1.0 + rng.normal(0.0, 0.08, len(SENSORS))
    out: np.ndarray = _OFFSET + gains * (z @ _MIX.T + np.outer(load**2, _NONLINEAR))
    return out


def _plan_faults(rng: np.random.Generator, asset: int, spec: PlantSpec) -> list[Fault]:
    """Each asset's faults: kinds in turn (asset i starts at kind i, so 4 assets with 2 faults see each kind twice),
    one per equal slice of the test period, starting somewhere in the slice's middle third, each on its own sensor."""
    n_slice = spec.test_rows // max(1, spec.faults_per_asset)
    rows_per_day = DAY_S / spec.period_s
    sensors = rng.permutation(len(SENSORS))
    out = []
    for j in range(spec.faults_per_asset):
        kind = FAULT_KINDS[(asset + j) % len(FAULT_KINDS)]
        frac, magnitude = _FAULT_SHAPES[kind]
        length = max(5, int(round(frac * rows_per_day)))
        lo = spec.normal_rows + j * n_slice + n_slice // 3
        start = int(rng.integers(lo, max(lo + 1, lo + n_slice // 3 - length)))
        end = min(start + length, spec.normal_rows + spec.test_rows)
        out.append(Fault(kind, SENSORS[int(sensors[j])], start, end, magnitude))
    return out


def _inject(values: np.ndarray, fault: Fault, sd: np.ndarray, rng: np.random.Generator) -> None:
    c = SENSORS.index(fault.sensor)
    span = slice(fault.start, fault.end)
    n = fault.end - fault.start
    if fault.kind == "step":
        values[span, c] += fault.magnitude * sd[c]
    elif fault.kind == "drift":
        values[span, c] += fault.magnitude * sd[c] * np.arange(1, n + 1) / n
    elif fault.kind == "stuck":
        values[span, c] = values[fault.start, c]
    elif fault.kind == "spike_burst":
        hit = rng.random(n) < 1 / 3
        hit[0] = True  # the burst starts where its label does
        values[span, c] += np.where(hit, rng.choice([-1.0, 1.0], n) * fault.magnitude * sd[c], 0.0)
    else:
        raise ValueError(f"unknown fault kind {fault.kind!r}; choose from {list(FAULT_KINDS)}")


def make_plant(spec: PlantSpec = PlantSpec(), inject: bool = True) -> list[PlantRun]:
    """The plant's runs, one per asset ("pump-1", ...); ``inject=False``: the same signals without the faults."""
    n = spec.normal_rows + spec.test_rows
    signal_seeds, fault_seeds = np.random.SeedSequence(spec.seed).spawn(2)
    signal_rngs = [np.random.default_rng(s) for s in signal_seeds.spawn(spec.assets)]
    fault_rngs = [np.random.default_rng(s) for s in fault_seeds.spawn(spec.assets)]
    ts = (np.datetime64(START_MS // 1000, "s") + np.arange(n) * spec.period_s).astype("datetime64[s]")
    runs = []
    for a in range(spec.assets):
        clean = _clean(signal_rngs[a], n, spec.period_s)
        sd_clean = clean[: spec.normal_rows].std(axis=0)
        values = clean + signal_rngs[a].normal(0.0, 1.0, clean.shape) * spec.noise * sd_clean
        sd = values[: spec.normal_rows].std(axis=0)
        faults = _plan_faults(fault_rngs[a], a, spec)
        anomaly, changepoint = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        for f in faults:
            if inject:
                _inject(values, f, sd, fault_rngs[a])
            anomaly[f.start : f.end] = 1
            changepoint[f.start] = 1
        runs.append(PlantRun(f"pump-{a + 1}", values, anomaly, changepoint, ts, spec.normal_rows, tuple(faults)))
    return runs
