"""China's map datums: WGS-84 (GPS, Telegram) into GCJ-02 (Amap) and BD-09 (Baidu).

Mainland maps must publish in GCJ-02, an obfuscated offset of WGS-84 of a few hundred metres;
Baidu adds its own offset on top (BD-09). The formulas are the well-known public ones (as in the
eviltransform and coordtransform projects), accurate to about a metre. Outside a box around
China there is no offset: the point is returned as it is.
"""

from __future__ import annotations

import math

_A = 6378245.0  # the semi-major axis of the Krasovsky 1940 ellipsoid GCJ-02 is based on
_EE = 0.00669342162296594323  # its first eccentricity, squared
_X_PI = math.pi * 3000.0 / 180.0

Point = tuple[float, float]  # (latitude, longitude), in degrees


def out_of_china(latitude: float, longitude: float) -> bool:
    """True outside the rough box (lon 73.66–135.05, lat 3.86–53.55) where GCJ-02 applies."""
    return not (73.66 < longitude < 135.05 and 3.86 < latitude < 53.55)


def _shift_latitude(x: float, y: float) -> float:
    shift = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    shift += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    shift += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    shift += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return shift


def _shift_longitude(x: float, y: float) -> float:
    shift = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    shift += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    shift += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    shift += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return shift


def wgs84_to_gcj02(latitude: float, longitude: float) -> Point:
    """A GPS point as Amap (and every mainland map but Baidu) places it."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    x, y = longitude - 105.0, latitude - 35.0
    radians = latitude / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radians) ** 2
    root = math.sqrt(magic)
    d_lat = _shift_latitude(x, y) * 180.0 / ((_A * (1 - _EE)) / (magic * root) * math.pi)
    d_lon = _shift_longitude(x, y) * 180.0 / (_A / root * math.cos(radians) * math.pi)
    return latitude + d_lat, longitude + d_lon


def gcj02_to_bd09(latitude: float, longitude: float) -> Point:
    """A GCJ-02 point as Baidu places it."""
    radius = math.hypot(longitude, latitude) + 0.00002 * math.sin(latitude * _X_PI)
    angle = math.atan2(latitude, longitude) + 0.000003 * math.cos(longitude * _X_PI)
    return radius * math.sin(angle) + 0.006, radius * math.cos(angle) + 0.0065


def wgs84_to_bd09(latitude: float, longitude: float) -> Point:
    """A GPS point as Baidu places it (through GCJ-02; outside China, unchanged)."""
    if out_of_china(latitude, longitude):
        return latitude, longitude
    return gcj02_to_bd09(*wgs84_to_gcj02(latitude, longitude))
