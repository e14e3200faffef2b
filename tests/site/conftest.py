"""Fixtures for the tests of the built site: a local HTTP server and headless Chromium."""

import pytest
from site_browser import (
    SITE,
    SiteServer,
    launch_chromium,
    open_page,
    require_site,
    site_missing_message,
    site_pages,
)


@pytest.fixture(scope="session")
def server():
    message = site_missing_message()
    if message:
        pytest.fail(message)
    srv = SiteServer(SITE)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", params=site_pages())
def loaded(request, browser, server):
    """Each page of the site, loaded once for the read-only checks of a test module.

    Module-scoped and parametrized, so pytest runs all of a module's tests of one page
    together and loads each page once per module. Pages are found in the built site.
    """
    require_site(request.param)
    visit = open_page(browser, server, request.param)
    yield visit
    visit.page.context.close()


@pytest.fixture
def visit_page(browser, server):
    """open_page(...) for one test, closing its browser context afterwards."""
    visits = []

    def _open(page_path, **options):
        visit = open_page(browser, server, page_path, **options)
        visits.append(visit)
        return visit

    yield _open
    for visit in visits:
        visit.page.context.close()
