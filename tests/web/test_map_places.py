"""The map as someone who does not read coordinates uses it, in Chromium on a desktop and a
phone screen: place names and county lines at Sacramento, a place box that moves the map
and lists what is in view, filters that apply at once, and people who share only their
region drawn as the area they stand for, never as a pin. Screenshots go to
``var/artifacts/screenshots/map-places-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from graph.geo import public_place
from graph.model import LocationPrecision, Place
from tests.web.conftest import (
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    Site,
    open_page,
    screenshot,
    unexpected_errors,
    watch,
)

pytestmark = pytest.mark.slow

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SACRAMENTO_COUNTIES = ["Sacramento County", "Yolo County", "Placer County", "El Dorado County",
                       "Sutter County", "San Joaquin County", "Solano County"]  # fmt: skip
SACRAMENTO = (38.58, -121.49)


@pytest.fixture(params=sorted(SCREENS))
def screen(request: pytest.FixtureRequest, browser: Browser, site: Site) -> Iterator[Any]:
    """A fresh anonymous page on a desktop or a phone screen, with its console watched."""
    name: str = request.param
    context = browser.new_context(
        base_url=site.url, viewport=SCREENS[name],  # type: ignore[arg-type]
        is_mobile=name == "phone", has_touch=name == "phone",
    )  # fmt: skip
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    watched = watch(context.new_page())
    yield name, watched
    # An anonymous visitor's session check (GET /v1/account) answers 401, as it should.
    assert [e for e in unexpected_errors(watched.errors) if "401 (Unauthorized)" not in e] == []
    context.close()


def basemap_ready(page: Page) -> None:
    expect(page.locator("#map")).to_have_attribute("data-basemap", "ready")


def label(page: Page, kind: str, text: str) -> Any:
    return page.locator(f".map-label-{kind}").filter(has_text=text)


def shown_ids(page: Page, selector: str) -> list[str]:
    found: list[str] = page.locator(selector).evaluate_all(
        "els => els.flatMap(e => (e.dataset.ids || '').split(' ').filter(Boolean))"
    )
    return found


def test_sacramento_at_zoom_9_shows_towns_and_counties(screen: Any) -> None:
    name, watched = screen
    page = watched.page
    open_page(page, "/map?lat=38.6&lon=-121.4&zoom=9")
    basemap_ready(page)
    expect(label(page, "town", "Sacramento").first).to_be_visible()
    towns = page.locator(".map-label-town").all_inner_texts()
    assert "Sacramento" in towns
    assert {"Davis", "Elk Grove"} & set(towns), towns
    counties = set(page.locator(".map-label-county").all_inner_texts())
    assert counties & set(SACRAMENTO_COUNTIES), counties
    # The sources are named on the map, with their licences.
    attribution = page.locator(".leaflet-control-attribution")
    for source in ("Natural Earth", "US Census", "GeoNames (CC BY 4.0)"):
        expect(attribution).to_contain_text(source)
    # The map comes first, most of it on the first screen, the filters folded away (below
    # it on a phone).
    box = page.locator("#map").bounding_box()
    height = SCREENS[name]["height"]
    assert box is not None and box["y"] < height / 2, box
    filters = page.locator("details.map-filters")
    expect(filters).not_to_have_attribute("open", "")
    if name == "phone":
        assert box["y"] + box["height"] <= height + 40
        filters_box = filters.bounding_box()
        assert filters_box is not None and filters_box["y"] > box["y"]
    screenshot(page, f"map-places-sacramento-{name}")
    # What the first screen shows, as the visitor sees it before scrolling.
    page.screenshot(path=str(SCREENSHOTS / f"map-places-sacramento-{name}-first-screen.png"))


def test_the_place_box_moves_the_map_and_lists_what_is_in_view(screen: Any) -> None:
    name, watched = screen
    page = watched.page
    open_page(page, "/map")
    basemap_ready(page)
    box = page.get_by_role("combobox", name="Find a place")
    box.fill("Sacramento")
    expect(page.locator("#map-place-options option").first).to_have_attribute(
        "value", "Sacramento, California, United States"
    )
    box.press("Enter")
    expect(page.locator("#map")).to_have_attribute("data-zoom", "10")
    expect(page).to_have_url(re.compile(r"place=Sacramento"))
    expect(label(page, "town", "Sacramento").first).to_be_visible()
    url = page.url
    lat = float(url.split("lat=")[1].split("&")[0])
    lon = float(url.split("lon=")[1].split("&")[0])
    assert abs(lat - SACRAMENTO[0]) < 0.05 and abs(lon - SACRAMENTO[1]) < 0.05, url
    # The list beside the map names what is drawn, in the same order as the markers.
    listed = page.locator(".map-list-items li[data-id]")
    expect(listed.first).to_be_visible()
    in_order = page.locator(".leaflet-marker-icon[data-ids], path[data-ids]").evaluate_all(
        """els => els.map(e => [Number(e.dataset.lat), Number(e.dataset.lon),
                                 e.dataset.ids.split(' ')])"""
    )
    in_order.sort(key=lambda m: (-m[0], m[1]))
    drawn = [i for _, _, ids in in_order for i in sorted(ids)]
    ids = listed.evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids and set(ids) <= set(drawn)
    # Same order: the place each listed item belongs to never goes back up the map.
    where = {i: n for n, (_, _, group) in enumerate(in_order) for i in group}
    assert [where[i] for i in ids] == sorted(where[i] for i in ids)
    first = listed.first
    expect(first.locator("a")).to_have_attribute("href", re.compile(r"^/"))
    # Search near the place: the search page with its position filled in.
    near = page.get_by_role("link", name="Search near Sacramento")
    expect(near).to_have_attribute("href", re.compile(r"lat=38\.58&.*radius_km=50"))
    screenshot(page, f"map-places-place-box-{name}")
    # Filters apply at once, with no button to press.
    assert page.get_by_role("button", name="Update the map").count() == 0
    # Folded (the map comes first), saying what they show; open on request.
    expect(page.locator("details.map-filters summary")).to_contain_text(
        "people, initiatives, communities"
    )
    page.locator("details.map-filters summary").click()
    with page.expect_response(lambda r: "/v1/map" in r.url and "kind=person" not in r.url):
        page.get_by_role("checkbox", name="people").uncheck()
    expect(page).to_have_url(re.compile(r"^(?!.*kind=person)"))
    # An unknown place is said beside the box.
    box.fill("Xqzzyville")
    box.press("Enter")
    expect(page.locator(".map-place .field-error")).to_contain_text("No place called")


def region_person(site: Site) -> tuple[dict[str, Any], tuple[float, float]]:
    """A listed person who shares only their region, and the centre of their 1° cell."""
    for person in sorted(site.demo.listed_people(), key=lambda p: p["id"]):
        place = person.get("place") or {}
        if person.get("location_precision") == "region" and place.get("lat") is not None:
            shown = public_place(Place(**place), LocationPrecision.region)
            assert shown.lat is not None and shown.lon is not None
            return person, (shown.lat, shown.lon)
    raise AssertionError("the demo network has no listed person who shares only their region")


def test_a_region_precision_person_is_drawn_as_an_area(site: Site, screen: Any) -> None:
    name, watched = screen
    page = watched.page
    person, (lat, lon) = region_person(site)
    open_page(page, f"/map?kind=person&lat={lat}&lon={lon}&zoom=8")
    basemap_ready(page)
    area = page.locator(f'path[data-area=region][data-ids~="{person["id"]}"]')
    expect(area).to_have_count(1)
    assert float(area.get_attribute("data-lat") or 0) == lat
    # An area, about 110 km across: far bigger than a pin, and no pin for this person. The
    # map redraws its layers when a later view's data comes in, so the size is read in the
    # page, in one step, from whichever path is drawn at that moment.
    page.wait_for_function(
        """(id) => [...document.querySelectorAll('path[data-area=region]')]
            .filter((e) => (e.dataset.ids || '').split(' ').includes(id))
            .some((e) => {
                const r = e.getBoundingClientRect();
                return r.width > 100 && r.height > 100;
            })""",
        arg=person["id"],
    )
    assert page.locator(f'.leaflet-marker-icon[data-ids~="{person["id"]}"]').count() == 0
    # It opens with the keyboard and says who is somewhere in it, and how roughly.
    area.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup .map-popup")
    expect(popup).to_contain_text(person["name"])
    expect(popup).to_contain_text("about 110 km across")
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    # The list says the same.
    expect(page.locator(f'.map-list-items li[data-id="{person["id"]}"]')).to_contain_text(
        "Shown only roughly"
    )
    screenshot(page, f"map-places-region-area-{name}")


LAID_OUT = """() => {
    const pins = [...document.querySelectorAll('.leaflet-marker-icon[data-marker]')];
    const widths = pins.map((e) => e.getBoundingClientRect().width);
    return widths.length > 0 && widths.every((w) => w > 0) ? widths : null;
}"""
"""The markers' widths once every one is laid out (read in the same moment: the map may
draw its markers again, replacing them, between two separate reads)."""


def test_markers_are_big_enough_to_tap(screen: Any) -> None:
    name, watched = screen
    page = watched.page
    open_page(page, "/map?lat=38.6&lon=-121.4&zoom=9&kind=initiative&kind=community")
    pins = page.locator(".leaflet-marker-icon[data-marker]")
    expect(pins.first).to_be_visible()
    # Once the map has its data and has laid out every marker (a phone's map may be
    # drawn again as its size settles), none is smaller than a fingertip.
    expect(page.locator("#map")).to_have_attribute("data-points", re.compile(r"^[1-9]"))
    sizes = page.wait_for_function(LAID_OUT).json_value()
    assert min(sizes) >= 24, sizes
    if name == "desktop":
        screenshot(page, "map-places-pins")


OUTSIDE_THE_US = {
    "new-south-wales": ("lat=-33.0&lon=147.5&zoom=6", "New South Wales", {"Sydney", "Canberra"}),
    "sao-paulo": ("lat=-22.5&lon=-48.5&zoom=7", "São Paulo", {"Campinas", "São Paulo"}),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE_THE_US))
def test_other_countries_show_their_states_and_provinces(screen: Any, case: str) -> None:
    """Outside the US the first-level regions (Natural Earth admin-1) are drawn and named
    once zoomed in, beside the towns, and the place box finds them."""
    where, region, towns = OUTSIDE_THE_US[case]
    name, watched = screen
    page = watched.page
    open_page(page, f"/map?{where}")
    basemap_ready(page)
    expect(label(page, "region", region).first).to_be_visible()
    regions = page.locator(".map-label-region").all_inner_texts()
    assert region in regions, regions
    # Regions give way to the towns: the big ones are still named.
    assert towns & set(page.locator(".map-label-town").all_inner_texts())
    # No name is drawn over another.
    boxes = page.locator(".map-label .name").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })"
    )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1)
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).to_contain_text("Borders and regions: Natural Earth")
    screenshot(page, f"map-places-region-{case}-{name}")


def test_the_place_box_finds_a_province(screen: Any) -> None:
    _, watched = screen
    page = watched.page
    open_page(page, "/map")
    basemap_ready(page)
    box = page.get_by_role("combobox", name="Find a place")
    box.fill("Ontario")
    expect(page.locator("#map-place-options option").first).to_have_attribute(
        "value", "Ontario, Canada"
    )
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"place=Ontario%2C\+Canada"))
    # Fitted to its outline: the whole province, zoomed in enough for regions to show.
    expect(page.locator("#map")).to_have_attribute("data-zoom", re.compile(r"^[4-8]$"))
    expect(label(page, "region", "Ontario").first).to_be_visible()
    expect(page.get_by_role("link", name="Search near Ontario")).to_be_visible()
