"""SIMULATED greenhouse data for the anomaly detector of leafml's product story.

Nothing here was measured: it is a documented generator, seeded, so that a
demo and its tests run offline and give the same numbers every time.  What
it simulates is a small unheated-by-day, heated-by-night greenhouse in a
temperate spring, read by a temperature and humidity sensor (the HTS221 of
an Arduino Nano 33 BLE Sense), one reading every ``STEP_S`` seconds.

Weather, drawn per day
    outside mean temperature ~ N(11, 3) deg C, day-night swing U(4, 9) deg C
    (coldest 05:00, warmest 15:00), cloud cover U(0, 1) (dims the sun by up
    to 75 %, with passing clouds), outside relative humidity U(55, 90) %.
Greenhouse, integrated every step (explicit Euler)
    temperature relaxes to the outside one with a time constant of 2 h
    (0.3 h with the vents open) and gains up to 6 deg C/h of sun between
    06:00 and 18:00; a thermostat heats by 8 deg C/h below 16 deg C and
    stops above 16.5; vents open above 26 deg C and close below 24.
    Humidity is water vapour (g/m3): the plants transpire with the sun,
    morning irrigation at 07:00 adds an hour of extra vapour, and air
    exchange pulls it toward the outside air's vapour (3 h, 0.3 h vented);
    relative humidity is vapour over the saturation vapour density at the
    inside temperature, at most 100 % (the rest condenses).
Sensor
    Gaussian noise (0.05 deg C, 0.4 %RH), rounded to 0.01.
Faults, injected on some days of the test stretch (``FAULTS``)
    ``heater_failure``  the heater stops for the night (starting 19:00-02:00, 5-9 h)
    ``sensor_stuck``    both readings freeze at their last value (3-6 h)
    ``vent_open``       a vent is stuck open, by day (starting 08:00-16:00, 2-5 h)
    ``sensor_drift``    the temperature reading drifts up by 0.5 deg C/h and
                        the humidity down by 2 %RH/h (6-10 h)

The detector reads a window of the last ``WINDOW_STEPS`` readings of both
quantities, scaled by fixed constants (:func:`window_features`), and the
time of day; a window is anomalous when a fault is active at its last reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FAULTS", "STEP_S", "STEPS_PER_DAY", "WINDOW_STEPS", "GreenhouseData", "GreenhouseRecording",
    "greenhouse_data", "simulate", "window_features",
]

STEP_S = 120.0  # seconds between readings
STEPS_PER_DAY = int(86400 / STEP_S)
WINDOW_STEPS = 60  # two hours of readings per detector input
FAULTS = ("heater_failure", "sensor_stuck", "vent_open", "sensor_drift")
# Fixed scaling of the detector's inputs, the same on the device: (value - centre) / spread.
TEMPERATURE_SCALE = (20.0, 10.0)  # deg C
HUMIDITY_SCALE = (70.0, 20.0)  # %RH

_HOURS = STEP_S / 3600.0


@dataclass(frozen=True)
class GreenhouseRecording:
    """Simulated readings, one per ``STEP_S``; ``fault[i]`` is 0 (normal) or 1 + index into ``FAULTS``."""

    hour_of_day: np.ndarray  # float [steps], 0..24
    temperature_c: np.ndarray  # sensor reading, deg C
    humidity_rh: np.ndarray  # sensor reading, %RH
    outside_c: np.ndarray  # outside temperature (not read by the detector), deg C
    fault: np.ndarray  # int [steps]

    def __len__(self) -> int:
        return len(self.fault)


def _saturation_vapour(t_c: np.ndarray | float) -> np.ndarray | float:
    """Saturation water-vapour density (g/m3) at ``t_c`` deg C (a cubic fit valid from -10 to 40 deg C)."""
    return 5.018 + 0.32321 * t_c + 8.1847e-3 * t_c**2 + 3.1243e-4 * t_c**3


def _weather(n_days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outside temperature, sun (0..1) and outside relative humidity (%) for every step."""
    hours = (np.arange(n_days * STEPS_PER_DAY) * _HOURS) % 24
    day = np.arange(n_days * STEPS_PER_DAY) // STEPS_PER_DAY
    mean, swing = rng.normal(11.0, 3.0, n_days)[day], rng.uniform(4.0, 9.0, n_days)[day]
    # Coldest at 05:00, warmest at 15:00: a cosine peaking at 15:00.
    outside = mean + swing / 2 * np.cos(2 * np.pi * (hours - 15.0) / 24.0)
    outside += np.cumsum(rng.normal(0.0, 0.05, outside.size)) * 0.2  # slow weather wander
    cloud = rng.uniform(0.0, 1.0, n_days)[day]
    passing = np.clip(1.0 - cloud * rng.uniform(0.5, 1.0, outside.size // 5 + 1).repeat(5)[: outside.size], 0.25, 1.0)
    sun = np.clip(np.sin(np.pi * (hours - 6.0) / 12.0), 0.0, None) * passing
    return outside, sun, rng.uniform(55.0, 90.0, n_days)[day]


def _greenhouse(outside, sun, outside_rh, heater_off, vent_forced) -> tuple[np.ndarray, np.ndarray]:
    """True inside temperature (deg C) and relative humidity (%) under the controls and faults."""
    hours = (np.arange(outside.size) * _HOURS) % 24
    temperature, vapour = np.empty(outside.size), np.empty(outside.size)
    t, v = 16.0, 0.8 * _saturation_vapour(16.0)
    heating = venting = False
    for i in range(outside.size):
        heating = not heater_off[i] and (t < 16.0 or (heating and t < 16.5))
        venting = vent_forced[i] or t > 26.0 or (venting and t > 24.0)
        tau_heat, tau_air = (0.3, 0.3) if venting else (2.0, 3.0)
        t += _HOURS * ((outside[i] - t) / tau_heat + 6.0 * sun[i] + (8.0 if heating else 0.0))
        irrigation = 1.5 if 7.0 <= hours[i] < 8.0 else 0.0
        v_out = outside_rh[i] / 100.0 * _saturation_vapour(outside[i])
        v += _HOURS * ((v_out - v) / tau_air + 2.0 * sun[i] + 0.3 + irrigation)
        v = min(v, _saturation_vapour(t))  # condensation
        temperature[i], vapour[i] = t, v
    return temperature, 100.0 * vapour / _saturation_vapour(temperature)


def _faults(n_days: int, fault_days: int, rng: np.random.Generator) -> np.ndarray:
    """int [steps]: which fault is active (0: none) on the last ``fault_days`` days, one fault per day."""
    fault = np.zeros(n_days * STEPS_PER_DAY, dtype=np.int64)
    windows = {  # (earliest start hour, latest start hour, shortest, longest duration in hours)
        "heater_failure": (19.0, 26.0, 5.0, 9.0),
        "sensor_stuck": (0.0, 20.0, 3.0, 6.0),
        "vent_open": (8.0, 16.0, 2.0, 5.0),
        "sensor_drift": (0.0, 16.0, 6.0, 10.0),
    }
    for k, day in enumerate(range(n_days - fault_days, n_days)):
        name = FAULTS[k % len(FAULTS)]
        first, last, shortest, longest = windows[name]
        start = int((day * 24 + rng.uniform(first, last)) / _HOURS)
        stop = min(start + int(rng.uniform(shortest, longest) / _HOURS), fault.size)
        fault[start:stop] = FAULTS.index(name) + 1
    return fault


def simulate(n_days: int, seed: int, fault_days: int = 0) -> GreenhouseRecording:
    """``n_days`` of SIMULATED readings; faults on the last ``fault_days`` days (one per day, types in turn)."""
    if n_days < 1 or not 0 <= fault_days <= n_days:
        raise ValueError(f"need n_days >= 1 and 0 <= fault_days <= n_days, got {n_days} and {fault_days}")
    rng = np.random.default_rng(seed)
    outside, sun, outside_rh = _weather(n_days, rng)
    fault = _faults(n_days, fault_days, rng)
    code = {name: FAULTS.index(name) + 1 for name in FAULTS}
    temperature, humidity = _greenhouse(outside, sun, outside_rh, fault == code["heater_failure"], fault == code["vent_open"])
    temperature = temperature + rng.normal(0.0, 0.05, temperature.size)
    humidity = humidity + rng.normal(0.0, 0.4, humidity.size)
    drifting = fault == code["sensor_drift"]
    elapsed = np.zeros(fault.size)
    for i in np.flatnonzero(drifting):
        elapsed[i] = elapsed[i - 1] + _HOURS if drifting[i - 1] else _HOURS
    temperature, humidity = temperature + 0.5 * elapsed, humidity - 2.0 * elapsed
    for i in np.flatnonzero(fault == code["sensor_stuck"]):
        temperature[i], humidity[i] = temperature[i - 1], humidity[i - 1]
    hours = (np.arange(fault.size) * _HOURS) % 24
    return GreenhouseRecording(hours, np.round(temperature, 2), np.round(np.clip(humidity, 0, 100), 2), outside, fault)


def window_features(recording: GreenhouseRecording, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Detector inputs and labels: float32 [N, 2 * WINDOW_STEPS + 2] and the fault code at each window's end.

    Each row: the window's temperatures, then its humidities, each scaled as
    ``(value - centre) / spread`` (``TEMPERATURE_SCALE``, ``HUMIDITY_SCALE``),
    then sin and cos of the hour of day at the window's end.  Windows end
    every ``stride`` readings.
    """
    ends = np.arange(WINDOW_STEPS - 1, len(recording), stride)
    index = ends[:, None] - np.arange(WINDOW_STEPS)[::-1][None, :]
    temperature = (recording.temperature_c[index] - TEMPERATURE_SCALE[0]) / TEMPERATURE_SCALE[1]
    humidity = (recording.humidity_rh[index] - HUMIDITY_SCALE[0]) / HUMIDITY_SCALE[1]
    angle = 2 * np.pi * recording.hour_of_day[ends] / 24.0
    x = np.concatenate([temperature, humidity, np.sin(angle)[:, None], np.cos(angle)[:, None]], axis=1)
    return x.astype(np.float32), recording.fault[ends]


@dataclass(frozen=True)
class GreenhouseData:
    """SIMULATED detector inputs: normal windows to train and validate on, a test stretch with faults."""

    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    fault_test: np.ndarray  # 0 normal, else 1 + index into FAULTS

    @property
    def is_anomaly(self) -> np.ndarray:
        return self.fault_test != 0


def greenhouse_data(seed: int = 0, train_days: int = 28, val_days: int = 7, test_days: int = 24,
                    fault_days: int = 16, stride: int = 3) -> GreenhouseData:
    """Three independent SIMULATED stretches: normal training and validation days, and test days
    whose last ``fault_days`` each hold one fault.  Windows end every ``stride`` readings."""
    train = window_features(simulate(train_days, seed), stride)[0]
    val = window_features(simulate(val_days, seed + 1), stride)[0]
    x_test, fault = window_features(simulate(test_days, seed + 2, fault_days), stride)
    return GreenhouseData(train, val, x_test, fault)
