"""Default figures for the cloud side of edge versus cloud, and for carbon.

Each is a typical published value or a stated assumption; a scenario's
``[cloud]`` table may replace any of them, and ``leafml simulate
--grid-gco2-per-kwh`` the grid intensity.
"""

from __future__ import annotations

from leafml.targets import Figure

__all__ = [
    "DEFAULT_ENERGY_PER_CLOUD_INFERENCE",
    "DEFAULT_GRID_INTENSITY",
    "DEFAULT_NETWORK_INTENSITY",
    "DEFAULT_PUE",
]

DEFAULT_ENERGY_PER_CLOUD_INFERENCE = Figure(
    0.01,
    "assumption",
    "Assumption: a model as small as a TinyML one, served from a shared CPU server, costs about "
    "1 ms of one core of a server drawing about 10 W per core (request handling, not the model, "
    "dominates): 0.01 J of IT energy per inference. Larger cloud models cost far more per "
    "inference (Luccioni, Jernite and Strubell, 'Power Hungry Processing: Watts Driving the Cost "
    "of AI Deployment?', ACM FAccT 2024, measured task-specific models on an A100 GPU)",
)

DEFAULT_PUE = Figure(
    1.10,
    "measured",
    "Google's most recently published power usage effectiveness when CNBC reported it "
    "(13 April 2022), 1.10 for the second quarter of 2021, from Google's data-centre efficiency "
    "page; the industry average is far higher: 1.57 in the Uptime Institute 2021 Data Center Survey",
)

DEFAULT_NETWORK_INTENSITY = Figure(
    0.06 / 2**4,
    "assumption",
    "Aslan, Mayers, Koomey and France, 'Electricity Intensity of Internet Data Transmission: "
    "Untangling the Estimates', Journal of Industrial Ecology 22(4), 2018: 0.06 kWh/GB for core "
    "and fixed-line access networks in 2015, halving about every 2 years; extrapolated here to "
    "2023 (four halvings, 0.00375 kWh/GB). Radio access and gateways are not included",
)

DEFAULT_GRID_INTENSITY = Figure(
    481.0,
    "measured",
    "Ember, Global Electricity Review 2024 data: world average emissions intensity of "
    "electricity generation in 2023, 481 g CO2e/kWh (as charted by Statista from Ember, "
    "3 July 2024). Ember's intensities are life-cycle figures",
)
