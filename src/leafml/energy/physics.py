"""The physics of a battery-powered sensor node, as small pure functions.

Every quantity is in SI units named by its suffix (``_j``, ``_w``, ``_s``,
``_a``, ``_v``) or spelled out (``_mah``, ``_kwh``, ``_per_day``), so a
formula can be checked by reading it. Nothing here knows about files,
boards or radios: the simulator feeds these functions the figures.
"""

from __future__ import annotations

SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.0
# Mean Gregorian month; self-discharge is quoted per month.
DAYS_PER_MONTH = 365.2425 / 12.0
JOULES_PER_KWH = 3.6e6
COULOMBS_PER_MAH = 3.6
BYTES_PER_GB = 1e9


def power_w(voltage_v: float, current_a: float) -> float:
    """Electrical power (W) drawn at ``current_a`` (A) from ``voltage_v`` (V)."""
    return voltage_v * current_a


def energy_j(power_w: float, time_s: float) -> float:
    """Energy (J) of a constant ``power_w`` (W) held for ``time_s`` (s)."""
    return power_w * time_s


def average_power_w(j_per_day: float) -> float:
    """Average power (W) of a daily energy ``j_per_day`` (J/day)."""
    return j_per_day / SECONDS_PER_DAY


def battery_energy_j(capacity_mah: float, voltage_v: float) -> float:
    """Nominal energy (J) of a battery of ``capacity_mah`` (mAh) at ``voltage_v`` (V)."""
    return capacity_mah * COULOMBS_PER_MAH * voltage_v


def self_discharge_j_per_day(nominal_j: float, percent_per_month: float) -> float:
    """Energy (J/day) lost by self-discharge of ``percent_per_month`` (% of nominal per month).

    Linear in time and taken on the nominal energy: a first-order model;
    real cells lose more when warm and less as they empty.
    """
    return nominal_j * percent_per_month / 100.0 / DAYS_PER_MONTH


def battery_life_days(usable_j: float, drain_j_per_day: float) -> float:
    """Days (d) until ``usable_j`` (J) is spent at ``drain_j_per_day`` (J/day, > 0)."""
    if drain_j_per_day <= 0:
        raise ValueError(f"a battery life needs a positive daily drain, got {drain_j_per_day} J/day")
    return usable_j / drain_j_per_day


def solar_j_per_day(panel_w: float, sun_hours_per_day: float, charger_efficiency: float) -> float:
    """Energy (J/day) stored from a panel of ``panel_w`` (W at full sun).

    ``sun_hours_per_day`` are peak-sun-equivalent hours (h/day): the day's
    insolation divided by the 1 kW/m^2 at which panels are rated.
    ``charger_efficiency`` (0-1) is the share of the panel's energy that
    reaches the battery.
    """
    return panel_w * sun_hours_per_day * 3600.0 * charger_efficiency


def kwh(joules: float) -> float:
    """Joules (J) as kilowatt-hours (kWh)."""
    return joules / JOULES_PER_KWH


def kg_co2e(energy_kwh: float, grid_gco2e_per_kwh: float) -> float:
    """Emissions (kg CO2e) of ``energy_kwh`` (kWh) at a grid intensity (g CO2e/kWh)."""
    return energy_kwh * grid_gco2e_per_kwh / 1000.0


def network_j(byte_count: float, network_kwh_per_gb: float) -> float:
    """Energy (J) of moving ``byte_count`` bytes through networks at ``network_kwh_per_gb`` (kWh/GB)."""
    return byte_count / BYTES_PER_GB * network_kwh_per_gb * JOULES_PER_KWH
