"""base_url normalisation: every accepted spelling, never /wiki/wiki, context paths kept for Data Center."""

import pytest

from source_confluence.components import normalise_site_urls

CLOUD_SPELLINGS = [
    "yourcompany.atlassian.net",
    "https://yourcompany.atlassian.net",
    "https://yourcompany.atlassian.net/",
    "https://yourcompany.atlassian.net/wiki",
    "https://yourcompany.atlassian.net/wiki/",
    "https://yourcompany.atlassian.net/wiki/api/v2",
    "  https://yourcompany.atlassian.net/wiki  ",
]


@pytest.mark.parametrize("base_url", CLOUD_SPELLINGS)
def test_cloud_spellings_give_one_api_root(base_url: str) -> None:
    urls = normalise_site_urls(base_url, "cloud")
    assert urls["api_root"] == "https://yourcompany.atlassian.net/wiki/api/v2", f"{base_url!r} -> {urls['api_root']}"
    assert urls["origin"] == "https://yourcompany.atlassian.net", f"origin wrong for {base_url!r}"
    assert urls["site_base"] == "https://yourcompany.atlassian.net/wiki", f"site base wrong for {base_url!r}"
    assert "/wiki/wiki" not in urls["api_root"] + urls["site_base"] + urls["v1_api_root"], (
        f"/wiki/wiki built from {base_url!r}"
    )


@pytest.mark.parametrize(
    "base_url, api_root, site_base",
    [
        (
            "https://kb.example.com/confluence",
            "https://kb.example.com/confluence/rest/api",
            "https://kb.example.com/confluence",
        ),
        (
            "https://kb.example.com/confluence/",
            "https://kb.example.com/confluence/rest/api",
            "https://kb.example.com/confluence",
        ),
        (
            "https://kb.example.com/confluence/rest/api",
            "https://kb.example.com/confluence/rest/api",
            "https://kb.example.com/confluence",
        ),
        ("kb.example.com", "https://kb.example.com/rest/api", "https://kb.example.com"),
        (
            "https://yourcompany.atlassian.net/wiki",
            "https://yourcompany.atlassian.net/wiki/rest/api",
            "https://yourcompany.atlassian.net/wiki",
        ),
        (
            "http://127.0.0.1:8090/confluence",
            "http://127.0.0.1:8090/confluence/rest/api",
            "http://127.0.0.1:8090/confluence",
        ),
    ],
)
def test_data_center_keeps_context_path(base_url: str, api_root: str, site_base: str) -> None:
    urls = normalise_site_urls(base_url, "data_center")
    assert urls["api_root"] == api_root, f"Data Center API root for {base_url!r}"
    assert urls["site_base"] == site_base, f"Data Center site base for {base_url!r}"


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8123", "127.0.0.1:8123", "localhost:8123"])
def test_local_urls_keep_http_and_port(base_url: str) -> None:
    urls = normalise_site_urls(base_url, "cloud")
    assert urls["origin"].startswith("http://") and urls["origin"].endswith(":8123"), (
        f"local URL {base_url!r} -> {urls['origin']}"
    )
    assert urls["api_root"] == urls["origin"] + "/wiki/api/v2", f"local Cloud API root for {base_url!r}"


def test_cloud_with_data_center_path_probes_v1_under_given_path() -> None:
    urls = normalise_site_urls("https://kb.example.com/confluence", "cloud")
    assert urls["api_root"] == "https://kb.example.com/wiki/api/v2", "Cloud always reads v2 under /wiki"
    assert urls["v1_api_root"] == "https://kb.example.com/confluence/rest/api", (
        "check must probe v1 under the given path"
    )


@pytest.mark.parametrize("base_url", ["", "   ", "ftp://kb.example.com", "https://user:pw@kb.example.com"])
def test_unusable_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ValueError) as error:
        normalise_site_urls(base_url, "cloud")
    assert "pw" not in str(error.value), "a password in base_url leaked into the error"


def test_unknown_deployment_is_refused() -> None:
    with pytest.raises(ValueError, match="deployment"):
        normalise_site_urls("https://x.atlassian.net", "server")
