"""Links to a place on a map, on the map service the desk chose (MINSHENG_MAP_LINKS).

Telegram gives WGS-84 points. OpenStreetMap takes them as they are; Amap and Baidu, the maps
that open in mainland China (Google Maps does not), take GCJ-02 and BD-09, so the point is
converted first (bot.china_coordinates).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from bot.china_coordinates import wgs84_to_bd09, wgs84_to_gcj02

MapService = Literal["osm", "amap", "baidu"]
MAP_SERVICES: tuple[MapService, ...] = ("osm", "amap", "baidu")
ZOOM = 17  # streets and house numbers


def map_link(latitude: float, longitude: float, service: MapService, title: str) -> str:
    """A web link that opens the service's map with a marker on the point, named `title`."""
    # The services' URI APIs: https://lbs.amap.com/api/uri-api/guide/mobile-web/point and
    # https://lbsyun.baidu.com/index.php?title=uri/api/web
    if service == "amap":
        lat, lon = wgs84_to_gcj02(latitude, longitude)
        query = {"position": f"{lon:.6f},{lat:.6f}", "name": title, "coordinate": "gaode"}
        return "https://uri.amap.com/marker?" + urlencode(query, safe=",")
    if service == "baidu":
        lat, lon = wgs84_to_bd09(latitude, longitude)
        query = {
            "location": f"{lat:.6f},{lon:.6f}",
            "title": title,
            "content": title,
            "coord_type": "bd09ll",
            "output": "html",
            "src": "webapp.minsheng.desk",  # who links, as Baidu asks
        }
        return "https://api.map.baidu.com/marker?" + urlencode(query, safe=",")
    lat_text, lon_text = f"{latitude:.6f}", f"{longitude:.6f}"
    query = {"mlat": lat_text, "mlon": lon_text}
    return f"https://www.openstreetmap.org/?{urlencode(query)}#map={ZOOM}/{lat_text}/{lon_text}"
