"""The API documentation works without internet: /docs and /redoc load every file from the server itself,
and each document they offer (native, Yiwise, Digelao) is served and is OpenAPI 3.1."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

PAGES = ["/docs", "/redoc", "/redoc/yiwise", "/redoc/digelao"]
DOCUMENTS = ["/openapi.json", "/docs/openapi/yiwise.json", "/docs/openapi/digelao.json"]


class Assets(HTMLParser):
    """Every URL a page loads: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", PAGES)
async def test_a_docs_page_loads_only_files_the_server_serves(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    parser = Assets()
    parser.feed(response.text)
    assert any(url.endswith(".js") for url in parser.urls), parser.urls
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    # Nothing in the page itself points at another host (a CDN, a font service, the online validator).
    assert not re.search(r"https?://", response.text), re.findall(r"https?://\S+", response.text)


async def test_swagger_ui_offers_the_native_and_both_dialect_documents(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    for url in DOCUMENTS:
        assert f'"{url}"' in page
    assert '"validatorUrl": null' in page


@pytest.mark.parametrize("url", DOCUMENTS)
async def test_every_document_is_served_as_openapi(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1") and doc["paths"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', response.text))
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])


async def test_the_dialect_documents_use_the_vendor_names(client: httpx.AsyncClient) -> None:
    yiwise = (await client.get("/docs/openapi/yiwise.json")).json()
    job = yiwise["components"]["schemas"]["RobotCallJob"]["properties"]
    assert {"dialogFlowId", "robotCount", "dailyStartTime"} <= set(job)
    assert "/apiOpen/v1/task/createTask" in yiwise["paths"]
    answer = yiwise["components"]["schemas"]["Answer_Page_TaskRow__"]["properties"]
    assert {"code", "data", "requestId", "resultMsg", "errorStackTrace"} == set(answer)
    digelao = (await client.get("/docs/openapi/digelao.json")).json()
    login = digelao["components"]["schemas"]["Login"]["properties"]
    assert {"api_access_id", "from", "sign", "timestamp"} == set(login)
    assert "/api/addJsonOfAsync" in digelao["paths"]


async def test_the_vendored_files_carry_their_licences(client: httpx.AsyncClient) -> None:
    for path in ("/docs-assets/swagger-ui/LICENSE", "/docs-assets/redoc/LICENSE"):
        response = await client.get(path)
        assert response.status_code == 200 and "licen" in response.text.lower(), path


async def test_the_native_document_shows_fields_examples_and_the_error_shape(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    create = doc["components"]["schemas"]["TaskCreate"]
    assert create["examples"][0]["line_ids"] and create["properties"]["script_id"]["description"]
    responses = doc["paths"]["/api/v1/tasks/{task_id}/start"]["post"]["responses"]
    for code in ("400", "401", "404", "409", "422"):
        example = responses[code]["content"]["application/json"]["example"]["error"]
        assert {"code", "message", "details"} <= set(example), code
    assert responses["409"]["content"]["application/json"]["example"]["error"]["state"] == "TERMINATE"
