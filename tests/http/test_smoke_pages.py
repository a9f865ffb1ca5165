def test_every_page_renders_for_the_owner(browser):
    for path in ["/", "/clients", "/clients/new", "/catalog", "/catalog/new", "/settings", "/users", "/account"]:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.text[:500])
