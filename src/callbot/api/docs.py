"""The API documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), served with their front-end files
from the package (vendored from the npm registry by `scripts/vendor_api_docs.sh`), so they work on a server
without internet. Besides the native document, each vendor dialect has its own OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from callbot.api.dialects.digelao.schemas import openapi_document as digelao_openapi
from callbot.api.dialects.yiwise.schemas import openapi_document as yiwise_openapi

ASSETS = "/docs-assets"
# The pages may load nothing from another host: ReDoc, for one, shows a logo from its CDN, which this blocks
# (and the page's CSS hides). Inline scripts and styles are the pages' own; ReDoc's search runs in a blob worker.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:"
)
VENDOR = Path(__file__).parent / "static" / "vendor"

# (name shown, document URL, builder); the native document is FastAPI's own /openapi.json.
DIALECT_DOCUMENTS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "yiwise": ("Yiwise v1 dialect (/apiOpen/v1)", yiwise_openapi),
    "digelao": ("Digelao dialect (/api/{name})", digelao_openapi),
}


def _documents(app: FastAPI) -> list[tuple[str, str]]:
    """(name, URL) of every document, the native one first."""
    native = app.openapi_url or "/openapi.json"
    return [("callbot native API (/api/v1)", native)] + [
        (title, f"/docs/openapi/{key}.json") for key, (title, _) in DIALECT_DOCUMENTS.items()
    ]


def swagger_page(app: FastAPI) -> str:
    urls = [{"name": name, "url": url} for name, url in _documents(app)]
    config = {
        "urls": urls,
        "urls.primaryName": urls[0]["name"],
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "layout": "StandaloneLayout",
        # No badge from the online validator: the page must not call out.
        "validatorUrl": None,
    }
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(app.title)} — API docs</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-ui/swagger-ui-standalone-preset.js"></script>
<script>
const config = {json.dumps(config)};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
"""


def redoc_page(app: FastAPI, which: str) -> str:
    documents = _documents(app)
    keys = ["native", *DIALECT_DOCUMENTS]
    chosen = keys.index(which)
    links = " · ".join(
        f'<a href="/redoc{"" if key == "native" else "/" + key}"{" aria-current=page" if i == chosen else ""}>'
        f"{escape(name)}</a>"
        for i, (key, (name, _)) in enumerate(zip(keys, documents, strict=True))
    )
    spec_url = documents[chosen][1]
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(app.title)} — {escape(documents[chosen][0])}</title>
<link rel="icon" type="image/png" href="{ASSETS}/swagger-ui/favicon-32x32.png">
<style>body {{ margin: 0; font-family: sans-serif; }}
nav {{ padding: 8px 16px; border-bottom: 1px solid #ddd; }}
img[src^="http"] {{ display: none; }}</style>
</head>
<body>
<nav>{links}</nav>
<div id="redoc"></div>
<script src="{ASSETS}/redoc/redoc.standalone.js"></script>
<script>Redoc.init({json.dumps(spec_url)}, {{}}, document.getElementById("redoc"));</script>
</body>
</html>
"""


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


def mount_docs(app: FastAPI) -> None:
    """`/docs`, `/redoc` (and `/redoc/<dialect>`), `/docs/openapi/<dialect>.json` and the pages' files. The app is
    created with `docs_url=None, redoc_url=None` so FastAPI's CDN-loading pages are not served."""
    app.mount(ASSETS, StaticFiles(directory=VENDOR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(swagger_page(app))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(redoc_page(app, "native"))

    for key, (_, build) in DIALECT_DOCUMENTS.items():
        _add_dialect(app, key, build)


def _add_dialect(app: FastAPI, key: str, build: Callable[[str], dict[str, Any]]) -> None:
    document = build(app.version)

    async def openapi() -> JSONResponse:
        return JSONResponse(document)

    async def redoc() -> HTMLResponse:
        return _page(redoc_page(app, key))

    app.add_api_route(f"/docs/openapi/{key}.json", openapi, include_in_schema=False)
    app.add_api_route(f"/redoc/{key}", redoc, include_in_schema=False)
