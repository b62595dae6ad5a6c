"""GET /api/v1/leads: every filter, sort, stable pages with a total, facets, errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from leads_data import DEFAULT_ORDER, NOW, LeadSet
from sqlalchemy import update

from hunter.store.db import Database
from hunter.store.models import Company

URL = "/api/v1/leads"


def domains(client: TestClient, params: Any = None, **kwargs: Any) -> list[str]:
    response = client.get(URL, params=params, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] >= len(body["items"])
    return [item["domain"] for item in body["items"]]


def test_default_order_and_total(sales: TestClient, leads: LeadSet) -> None:
    body = sales.get(URL).json()
    assert body["total"] == len(DEFAULT_ORDER)
    assert body["page"] == 1
    assert body["page_size"] == 50
    assert body["pages"] == 1
    # Priority, then score descending, then domain (alfa and ege tie at P1 / 88).
    assert [i["domain"] for i in body["items"]] == list(DEFAULT_ORDER)
    assert body["facets"] is None


def test_item_fields(sales: TestClient, leads: LeadSet) -> None:
    items = {i["domain"]: i for i in sales.get(URL, params={"lang": "en"}).json()["items"]}
    alfa = items["alfa-insaat.com.tr"]
    assert alfa["name"] == "ALFA İNŞAAT A.Ş."
    assert alfa["priority"] == "P1"
    assert alfa["score"] == 88
    assert alfa["segment"] == "Migration"
    assert alfa["platform"] == "hosting"
    assert alfa["gateway"] is None
    assert alfa["tags"] == ["local-hosting", "security-risk", "no-dmarc"]
    assert alfa["complete"] is True
    assert alfa["needs_rescan"] is False
    assert alfa["scanned_at"].startswith(leads.scanned_at("alfa-insaat.com.tr").date().isoformat())
    assert alfa["favourite"] is False
    assert alfa["confidence"] == 0.9
    assert alfa["half_migrated"] is False
    assert alfa["city"] == "İSTANBUL"
    assert alfa["district"] == "Şişli"
    assert alfa["activity"] == "İnşaat"
    assert alfa["why"] == "hosting: a migration"  # the factor with the most points
    assert items["ege-mermer.com.tr"]["half_migrated"] is True
    assert items["cam-gida.com.tr"]["gateway"] == "proofpoint"
    rescan = items["firma-yok.com.tr"]
    assert rescan["complete"] is False
    assert rescan["needs_rescan"] is True
    assert rescan["priority"] is None
    never = items["gul-tarim.com.tr"]
    assert never["complete"] is None
    assert never["scanned_at"] is None
    assert never["why"] is None
    assert never["tags"] == ["sicak"]
    assert never["user_tags"] == ["sicak"]


def test_why_follows_lang_and_accept_language(sales: TestClient, leads: LeadSet) -> None:
    def why(params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> str:
        response = sales.get(URL, params={"page_size": 1, **(params or {})}, headers=headers)
        return str(response.json()["items"][0]["why"])

    assert why(params={"lang": "tr"}) == "hosting platformu: taşıma fırsatı"
    assert why(params={"lang": "en"}) == "hosting: a migration"
    assert why(headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.8"}) == "hosting platformu: taşıma fırsatı"
    assert why(headers={"Accept-Language": "en-GB,tr;q=0.5"}) == "hosting: a migration"
    assert why(headers={"Accept-Language": "de-DE"}) == "hosting: a migration"
    # An explicit lang wins over the header.
    assert why(params={"lang": "en"}, headers={"Accept-Language": "tr"}) == "hosting: a migration"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("istanbul", {"alfa-insaat.com.tr", "cam-gida.com.tr"}),  # finds "İSTANBUL" and "istanbul"
        ("İSTANBUL", {"alfa-insaat.com.tr", "cam-gida.com.tr"}),
        ("ISTANBUL", {"alfa-insaat.com.tr", "cam-gida.com.tr"}),
        ("çam", {"cam-gida.com.tr"}),
        ("CAM GIDA", {"cam-gida.com.tr"}),
        ("insaat alfa", {"alfa-insaat.com.tr"}),  # every word, any order
        ("şişli", {"alfa-insaat.com.tr"}),  # attributes are searched too
        ("sanliurfa", {"gul-tarim.com.tr"}),
        ("ege-mermer.com", {"ege-mermer.com.tr"}),  # the domain
        ("100%", set()),  # LIKE wildcards are literal
        ("a_b", set()),
        ("istanbul ankara", set()),
    ],
)
def test_turkish_aware_search(sales: TestClient, leads: LeadSet, q: str, expected: set[str]) -> None:
    assert set(domains(sales, {"q": q})) == expected


def test_multi_value_filters(sales: TestClient, leads: LeadSet) -> None:
    p1_p2 = ["alfa-insaat.com.tr", "ege-mermer.com.tr", "beta-tekstil.com.tr"]
    assert domains(sales, [("priority", "P1"), ("priority", "P2")]) == p1_p2
    assert domains(sales, {"priority": "p1,P2"}) == p1_p2  # comma-separated, any case
    assert domains(sales, {"priority": "none"}) == ["firma-yok.com.tr", "gul-tarim.com.tr"]
    assert domains(sales, [("priority", "P6"), ("priority", "none")]) == [
        "posta-yok.com.tr",
        "firma-yok.com.tr",
        "gul-tarim.com.tr",
    ]
    assert domains(sales, {"segment": "Existing"}) == ["cam-gida.com.tr", "delta-lojistik.com.tr"]
    assert domains(sales, [("platform", "m365"), ("platform", "google")]) == [
        "beta-tekstil.com.tr",
        "cam-gida.com.tr",
        "delta-lojistik.com.tr",
    ]
    assert domains(sales, {"gateway": "proofpoint"}) == ["cam-gida.com.tr"]
    assert "cam-gida.com.tr" not in domains(sales, {"gateway": "none"})
    assert domains(sales, {"segment": "Migration", "platform": "hosting"}) == ["alfa-insaat.com.tr"]


def test_tags_any_and_all(sales: TestClient, leads: LeadSet) -> None:
    any_ = domains(sales, [("tags", "no-dmarc"), ("tags", "google-workspace")])
    assert any_ == ["alfa-insaat.com.tr", "beta-tekstil.com.tr", "cam-gida.com.tr"]
    all_ = domains(sales, [("tags", "no-dmarc"), ("tags", "m365"), ("tags_mode", "all")])
    assert all_ == ["cam-gida.com.tr"]
    # A user tag on a lead that was never scanned (only in company_tags).
    assert domains(sales, {"tags": "sicak"}) == ["gul-tarim.com.tr"]
    assert domains(sales, {"tags": "sicak,no-mail"}) == ["posta-yok.com.tr", "gul-tarim.com.tr"]
    assert domains(sales, {"tags": "NO-DMARC"}) == ["alfa-insaat.com.tr", "cam-gida.com.tr"]
    assert domains(sales, {"tags": "nothing-has-this"}) == []


def test_score_range(sales: TestClient, leads: LeadSet) -> None:
    assert domains(sales, {"score_min": 60, "score_max": 80}) == ["beta-tekstil.com.tr", "cam-gida.com.tr"]
    assert domains(sales, {"score_min": 88}) == ["alfa-insaat.com.tr", "ege-mermer.com.tr"]
    assert domains(sales, {"score_max": 5}) == ["posta-yok.com.tr"]


def test_scanned_date_range(sales: TestClient, leads: LeadSet) -> None:
    def day(n: int) -> str:
        return (NOW - timedelta(days=n)).date().isoformat()

    since = day(3)
    assert domains(sales, {"scanned_from": since}) == [
        "alfa-insaat.com.tr",
        "ege-mermer.com.tr",
        "beta-tekstil.com.tr",
    ]
    # A date as the upper bound includes that whole day.
    until = day(10)
    assert domains(sales, {"scanned_to": until}) == [
        "cam-gida.com.tr",
        "delta-lojistik.com.tr",
        "posta-yok.com.tr",
    ]
    assert domains(sales, {"scanned_from": until, "scanned_to": until}) == ["cam-gida.com.tr"]
    moment = (NOW.replace(microsecond=0)).isoformat()
    assert domains(sales, {"scanned_from": moment}) == []


def test_scan_state_filters(sales: TestClient, leads: LeadSet) -> None:
    assert domains(sales, {"needs_rescan": "true"}) == ["firma-yok.com.tr"]
    assert domains(sales, {"complete": "false"}) == ["firma-yok.com.tr", "gul-tarim.com.tr"]
    assert len(domains(sales, {"complete": "true"})) == 6
    assert domains(sales, {"scanned": "false"}) == ["gul-tarim.com.tr"]
    assert "firma-yok.com.tr" not in domains(sales, {"needs_rescan": "false"})


def test_favourite_filter_is_per_user(sales: TestClient, bearer_client_for: Any, leads: LeadSet) -> None:
    assert sales.put("/api/v1/leads/beta-tekstil.com.tr/favourite").status_code == 200
    assert domains(sales, {"favourite": "true"}) == ["beta-tekstil.com.tr"]
    assert "beta-tekstil.com.tr" not in domains(sales, {"favourite": "false"})
    item = sales.get(URL, params={"favourite": "true"}).json()["items"][0]
    assert item["favourite"] is True
    other = bearer_client_for("sales", username="second-rep")
    assert domains(other, {"favourite": "true"}) == []


def test_reserved_referral_and_crm_status(sales: TestClient, db: Database, leads: LeadSet) -> None:
    with db.session() as session:
        session.execute(
            update(Company).where(Company.domain == "beta-tekstil.com.tr").values(crm_status="in_crm")
        )
        session.execute(
            update(Company).where(Company.domain == "ege-mermer.com.tr").values(referral_status="active")
        )
    assert domains(sales, {"crm_status": "in_crm"}) == ["beta-tekstil.com.tr"]
    assert "beta-tekstil.com.tr" not in domains(sales, {"crm_status": "none"})
    assert len(domains(sales, {"crm_status": "none"})) == len(DEFAULT_ORDER) - 1
    assert domains(sales, {"referral_status": "active"}) == ["ege-mermer.com.tr"]
    item = sales.get(URL, params={"referral_status": "active"}).json()["items"][0]
    assert item["referral_status"] == "active"
    assert item["crm_status"] is None


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("priority", list(DEFAULT_ORDER)),
        (
            "-score",
            [
                "alfa-insaat.com.tr",
                "ege-mermer.com.tr",
                "beta-tekstil.com.tr",
                "cam-gida.com.tr",
                "delta-lojistik.com.tr",
                "posta-yok.com.tr",
                "firma-yok.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
        (
            "score",
            [
                "posta-yok.com.tr",
                "delta-lojistik.com.tr",
                "cam-gida.com.tr",
                "beta-tekstil.com.tr",
                "alfa-insaat.com.tr",
                "ege-mermer.com.tr",
                "firma-yok.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
        ("domain", sorted(DEFAULT_ORDER)),
        ("-domain", sorted(DEFAULT_ORDER, reverse=True)),
        (
            "scanned",
            [
                "delta-lojistik.com.tr",
                "posta-yok.com.tr",
                "cam-gida.com.tr",
                "firma-yok.com.tr",
                "beta-tekstil.com.tr",
                "ege-mermer.com.tr",
                "alfa-insaat.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
        (
            "-scanned",
            [
                "alfa-insaat.com.tr",
                "ege-mermer.com.tr",
                "beta-tekstil.com.tr",
                "firma-yok.com.tr",
                "cam-gida.com.tr",
                "posta-yok.com.tr",
                "delta-lojistik.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
        (
            "platform",  # then the default order inside a platform; no platform last
            [
                "beta-tekstil.com.tr",
                "alfa-insaat.com.tr",
                "cam-gida.com.tr",
                "delta-lojistik.com.tr",
                "posta-yok.com.tr",
                "ege-mermer.com.tr",
                "firma-yok.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
        (
            "-priority",
            [
                "firma-yok.com.tr",
                "posta-yok.com.tr",
                "delta-lojistik.com.tr",
                "cam-gida.com.tr",
                "beta-tekstil.com.tr",
                "alfa-insaat.com.tr",
                "ege-mermer.com.tr",
                "gul-tarim.com.tr",
            ],
        ),
    ],
)
def test_sorts(sales: TestClient, leads: LeadSet, sort: str, expected: list[str]) -> None:
    assert domains(sales, {"sort": sort}) == expected


def test_sort_by_name(sales: TestClient, leads: LeadSet) -> None:
    names = [i["name"] for i in sales.get(URL, params={"sort": "name"}).json()["items"]]
    assert len(names) == len(DEFAULT_ORDER)
    # The database collation decides the finer points; these hold under any of them.
    assert names.index("Beta Tekstil") < names.index("Ege Mermer") < names.index("Posta Yok")
    reverse = [i["name"] for i in sales.get(URL, params={"sort": "-name"}).json()["items"]]
    assert reverse == names[::-1]


@pytest.mark.parametrize("sort", ["priority", "-score", "name", "scanned", "platform", "-domain"])
def test_pages_are_stable_and_complete(sales: TestClient, leads: LeadSet, sort: str) -> None:
    full = domains(sales, {"sort": sort, "page_size": 500})
    seen: list[str] = []
    for page in (1, 2, 3):
        body = sales.get(URL, params={"sort": sort, "page": page, "page_size": 3}).json()
        assert body["total"] == len(DEFAULT_ORDER)
        assert body["pages"] == 3
        seen += [i["domain"] for i in body["items"]]
    assert seen == full
    beyond = sales.get(URL, params={"page": 9, "page_size": 3}).json()
    assert beyond["items"] == []
    assert beyond["total"] == len(DEFAULT_ORDER)


def test_facets_ignore_their_own_filter(sales: TestClient, leads: LeadSet) -> None:
    body = sales.get(URL, params={"facets": "true", "priority": "P1", "q": "istanbul"}).json()
    assert [i["domain"] for i in body["items"]] == ["alfa-insaat.com.tr"]
    facets = body["facets"]
    # Priority counts ignore priority=P1 (to show the alternatives) but honour q.
    assert facets["priority"] == {"P1": 1, "P3": 1}
    assert list(facets["priority"]) == ["P1", "P3"]
    assert facets["segment"] == {"Migration": 1}
    assert facets["platform"] == {"hosting": 1}
    assert facets["status"] == {"complete": 1}
    everything = sales.get(URL, params={"facets": "true"}).json()["facets"]
    assert everything["priority"] == {"P1": 2, "P2": 1, "P3": 1, "P4": 1, "P6": 1, "none": 2}
    assert everything["status"] == {"complete": 6, "needs_rescan": 1, "not_scanned": 1}
    assert everything["gateway"] == {"none": 7, "proofpoint": 1}
    assert everything["platform"]["m365"] == 2
    assert "none" in everything["platform"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"priority": "P9"}, "unknown priority"),
        ({"segment": "Hot"}, "unknown segment"),
        ({"sort": "bogus"}, "unknown sort"),
        ({"sort": "-"}, "unknown sort"),
        ({"page_size": 501}, "less than or equal"),
        ({"page": 0}, "greater than or equal"),
        ({"score_min": 90, "score_max": 10}, "score_min"),
        ({"score_min": 101}, "less than or equal"),
        ({"scanned_from": "yesterday"}, "scanned_from"),
        ({"tags": "two words"}, "invalid tag"),
        ({"tags_mode": "some"}, "tags_mode"),
        ({"platform": "M365; DROP TABLE"}, "invalid platform"),
        ({"lang": "de"}, "lang"),
    ],
)
def test_invalid_parameters_are_422_problems(
    sales: TestClient, leads: LeadSet, params: dict[str, Any], needle: str
) -> None:
    response = sales.get(URL, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert needle in response.text
    assert "Traceback" not in response.text


def test_empty_database(sales: TestClient, db: Database) -> None:
    body = sales.get(URL, params={"facets": "true", "q": "istanbul"}).json()
    assert body["total"] == 0
    assert body["items"] == []
    assert body["pages"] == 1
    assert body["facets"]["priority"] == {}


def test_viewer_may_read(viewer: TestClient, leads: LeadSet) -> None:
    assert domains(viewer, {"page_size": 2}) == list(DEFAULT_ORDER[:2])


@pytest.mark.parametrize("page_size", [1, 2, 5, 7])
@pytest.mark.parametrize("params", [{}, {"complete": "false"}, {"tags": "sicak,no-mail"}, {"q": "com"}])
def test_default_order_pages_across_scanned_and_unscanned_leads(
    sales: TestClient, leads: LeadSet, page_size: int, params: dict[str, str]
) -> None:
    """The default order reads assessed leads first, then never-scanned ones: no seams."""
    full = domains(sales, {**params, "page_size": 500})
    assert full[-1] == "gul-tarim.com.tr"  # never scanned: last
    pages = -(-len(full) // page_size)
    seen: list[str] = []
    for page in range(1, pages + 1):
        seen += domains(sales, {**params, "page": page, "page_size": page_size})
    assert seen == full
