"""Places as others may know them, and distances between them.

A person chooses how precisely others may place them (``location_precision``).
:func:`public_place` is the only view of a person's place that leaves the store for
anyone but the person and admins; distances, radius filters and sort orders are
computed from it, so none of them reveals more than the chosen precision.
"""

from __future__ import annotations

import math

from graph.model import LocationPrecision, Place

GRID_DEGREES: dict[LocationPrecision, float] = {
    LocationPrecision.city: 0.1,  # about 11 km
    LocationPrecision.region: 1.0,  # about 110 km
}
EARTH_RADIUS_KM = 6371.0088
DISTANCE_BANDS_KM = (10, 50, 200, 1000)


def _snap(value: float, step: float, limit: float) -> float:
    return min(round((math.floor(value / step) + 0.5) * step, 4), limit)


def public_place(place: Place, precision: LocationPrecision) -> Place:
    """The place coarsened to ``precision``.

    ``exact``: as given. ``city``: coordinates snapped to the centre of a 0.1° cell.
    ``region``: snapped to a 1° cell, and the place name dropped. ``country``: only the
    country and world region.
    """
    if precision is LocationPrecision.exact:
        return place
    if precision is LocationPrecision.country:
        return Place(country=place.country, region=place.region)
    step = GRID_DEGREES[precision]
    lat = lon = None
    if place.lat is not None and place.lon is not None:
        lat, lon = _snap(place.lat, step, 90.0), _snap(place.lon, step, 180.0)
    name = place.name if precision is LocationPrecision.city else None
    return Place(name=name, country=place.country, region=place.region, lat=lat, lon=lon)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_band(km: float) -> str:
    """A readable band for a distance: 'within 10 km', ..., 'over 1000 km'."""
    for limit in DISTANCE_BANDS_KM:
        if km <= limit:
            return f"within {limit} km"
    return f"over {DISTANCE_BANDS_KM[-1]} km"
