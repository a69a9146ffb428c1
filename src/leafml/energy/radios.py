"""Radio energy: what one message costs on BLE, LoRa, Wi-Fi and NB-IoT.

A message is modelled as a fixed cost per connection (waking the radio,
joining or advertising, protocol overhead, receive windows) plus a cost per
payload byte. Both numbers carry their source; where the figure is derived,
the source shows the arithmetic. A scenario may replace either with its own
measurement.

LoRa is derived from the Semtech time-on-air formula (`lora_time_on_air_s`)
so its per-byte cost follows the spreading factor rather than a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from leafml.targets import Figure

__all__ = ["RADIOS", "RadioProfile", "lora_time_on_air_s"]


@dataclass(frozen=True)
class RadioProfile:
    """Default energy of one message on one radio technology."""

    technology: str
    description: str
    energy_per_connection_j: Figure
    energy_per_byte_j: Figure

    def message_j(self, payload_bytes: float) -> float:
        """Energy (J) of one message carrying ``payload_bytes`` bytes."""
        return self.energy_per_connection_j.value + payload_bytes * self.energy_per_byte_j.value


def lora_time_on_air_s(
    payload_bytes: int,
    spreading_factor: int = 7,
    bandwidth_hz: float = 125e3,
    coding_rate: int = 1,
    preamble_symbols: int = 8,
    explicit_header: bool = True,
    crc: bool = True,
) -> float:
    """Time on air (s) of one LoRa packet of ``payload_bytes`` bytes (PHY payload).

    Semtech SX1276/77/78/79 datasheet, section 4.1.1.7 "Time on air" (the
    same formula as application note AN1200.13): symbol time 2^SF/BW, a
    preamble of (n + 4.25) symbols, and 8 + max(ceil((8PL - 4SF + 28 +
    16CRC - 20IH) / (4(SF - 2DE))) (CR + 4), 0) payload symbols, with DE
    (low data rate optimisation) on when a symbol lasts more than 16 ms.
    ``coding_rate`` is 1..4 for 4/5..4/8.
    """
    symbol_s = 2.0**spreading_factor / bandwidth_hz
    low_data_rate = 1 if symbol_s > 16e-3 else 0
    numerator = 8 * payload_bytes - 4 * spreading_factor + 28 + 16 * int(crc) - 20 * int(not explicit_header)
    blocks = math.ceil(numerator / (4 * (spreading_factor - 2 * low_data_rate)))
    payload_symbols = 8 + max(blocks * (coding_rate + 4), 0)
    return (preamble_symbols + 4.25) * symbol_s + payload_symbols * symbol_s


# --- LoRa: SX1276 on EU868 LoRaWAN, SF7 BW125 (DR5), class A ------------------
_LORA_V = 3.3  # SX1276 datasheet typical conditions, VDD = 3.3 V
_LORA_TX_A = 29e-3  # +13 dBm on RFO_HF, the datasheet row nearest EU868's 14 dBm limit
_LORA_RX_A = 11e-3
_LORAWAN_OVERHEAD_BYTES = 13  # MHDR 1 + FHDR 7 (no FOpts) + FPort 1 + MIC 4
# Class A opens two receive windows after every uplink; with no downlink each
# closes after a few symbols: RX1 at SF7 (1.024 ms symbols), RX2 at EU868's
# default DR0 = SF12 (32.768 ms symbols).
_LORA_RX_S = 6 * 1.024e-3 + 6 * 32.768e-3
_LORA_OVERHEAD_TX_S = lora_time_on_air_s(_LORAWAN_OVERHEAD_BYTES)
_LORA_BYTE_S = (lora_time_on_air_s(_LORAWAN_OVERHEAD_BYTES + 56) - _LORA_OVERHEAD_TX_S) / 56

_SX1276_SOURCE = (
    "Semtech SX1276/77/78/79 datasheet, Table 6 'Power Consumption Specification': IDDT, "
    "transmit at +13 dBm on RFO_HF, 29 mA typ at VDD 3.3 V (modules wired only to PA_BOOST "
    "draw more: 87 mA at +17 dBm in the same table); quoted from the datasheet as remembered, "
    "not re-checked against the PDF when this was written"
)

_BLE_SOURCE = (
    "Measured by msfujino, Seeed Studio forum thread 'System_ON_Sleep of XIAO BLE', post 31: "
    "XIAO nRF52840 Sense at 3.00 V on the 3V3 pin (PPK2), DC/DC on, 8 bytes of manufacturer "
    "data broadcast in 10 advertising events every 10 s averaged 20 uA against about 4 uA "
    "asleep, so one message costs (20 - 4) uA x 3.00 V x 10 s = 0.48 mJ. A connection "
    "instead of a broadcast averaged 261 uA in the same test"
)

RADIOS: dict[str, RadioProfile] = {
    "ble": RadioProfile(
        "ble",
        "Bluetooth LE broadcast from an nRF52840: each message repeated in 10 advertising events",
        Figure(0.48e-3, "measured", _BLE_SOURCE),
        Figure(
            10 * 3 * 8e-6 * 4.8e-3 * 3.0,
            "datasheet",
            "Derived: every payload byte goes out 10 events x 3 advertising channels x 8 us (1 Mbit/s "
            "PHY) at 4.8 mA and 3.0 V = 3.5 uJ. nRF52840 Product Specification v1.11, radio "
            "current TX at 0 dBm with DC/DC, 4.8 mA typ (secondary citation of that table)",
        ),
    ),
    "lora": RadioProfile(
        "lora",
        "LoRaWAN class A uplink on an SX1276, EU868 SF7 BW125 (DR5), no downlink",
        Figure(
            _LORA_V * (_LORA_TX_A * _LORA_OVERHEAD_TX_S + _LORA_RX_A * _LORA_RX_S),
            "assumption",
            f"Derived: {_LORAWAN_OVERHEAD_BYTES} bytes of LoRaWAN header and MIC on air for "
            f"{_LORA_OVERHEAD_TX_S * 1e3:.1f} ms (lora_time_on_air_s) at 29 mA, plus the two class A "
            f"receive windows closing after 6 symbols each ({_LORA_RX_S * 1e3:.0f} ms at an assumed 11 mA "
            f"receive current), all at 3.3 V. {_SX1276_SOURCE}",
        ),
        Figure(
            _LORA_V * _LORA_TX_A * _LORA_BYTE_S,
            "datasheet",
            f"Derived: {_LORA_BYTE_S * 1e3:.3f} ms on air per payload byte at SF7 BW125 CR 4/5 "
            f"(lora_time_on_air_s, averaged over 56 bytes) at 29 mA and 3.3 V. {_SX1276_SOURCE}",
        ),
    ),
    "wifi": RadioProfile(
        "wifi",
        "Wi-Fi from an ESP32 waking from deep sleep: join with a static IP and publish over MQTT",
        Figure(
            0.543,
            "measured",
            "Measured by glenn20, GitHub glenn20/upy-esp32-experiments, ESPNowvsWifiEnergyUsage/README.md: "
            "ESP32 waking from deep sleep, connecting to Wi-Fi with a static IP and sending one MQTT "
            "message took 774 ms and 108.6 mC at the board's 5 V input, 0.543 J (with DHCP and an "
            "HTTP POST: 2928 ms, 341.3 mC, 1.71 J)",
        ),
        Figure(
            0.594 / 2.5e6,
            "assumption",
            "Derived: ESP32 Series Datasheet, RF power consumption table, TX 802.11n MCS7 at +14 dBm "
            "180 mA at 3.3 V (0.594 W; quoted from a reproduction of that table), divided by an "
            "assumed 20 Mbit/s of TCP goodput (2.5 MB/s): 0.24 uJ per byte",
        ),
    ),
    "nbiot": RadioProfile(
        "nbiot",
        "NB-IoT uplink from a u-blox SARA-N211 leaving power-saving mode for one report",
        Figure(
            3.6 * (0.220 * 1.0 + 0.046 * 2.0 + 0.006 * 20.0),
            "assumption",
            "Derived: u-blox SARA-N2 data sheet currents at 3.6 V (quoted by Exelonix's NB|EASY "
            "manual): TX at +23 dBm 220 mA, RX 46 mA, connected and idle 6 mA; assumed 1 s of "
            "transmission (random access, repetitions), 2 s of reception and a 20 s RRC inactivity "
            "timer before release. Michelinakis et al., 'Dissecting Energy Consumption of NB-IoT "
            "Devices Empirically', IEEE Internet of Things Journal 8, 1224-1242, 2021, found that connected-state time set "
            "by the network, not packet size, dominates the energy of a report",
        ),
        Figure(
            3.6 * 0.220 / 2500.0,
            "assumption",
            "Derived: 220 mA at 3.6 V while transmitting (u-blox SARA-N2 data sheet, TX +23 dBm) "
            "over an assumed 20 kbit/s uplink (2500 B/s): 0.32 mJ per byte",
        ),
    ),
}
