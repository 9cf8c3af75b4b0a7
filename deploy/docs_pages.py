"""The combined documentation pages of the one entry point: one Swagger UI over the four services' OpenAPI documents
and the AsyncAPI document as HTML. The gateway of `make run` serves them; `--write` renders them for nginx."""

from __future__ import annotations

import argparse
import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ASYNCAPI_YAML = ROOT / "deploy" / "asyncapi.yaml"
NGINX_HTML = ROOT / "deploy" / "nginx" / "html"
SERVICES = ("kyc", "incidents", "traceability", "scoring")

# A document's paths are the service's own; "Try it out" must call them under the entry point's prefix, so the page
# names that prefix as the document's server when it loads the document (one page for the gateway and for nginx).
_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Assay — API documentation</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs-assets/favicon-32x32.png">
<style>
  body {{ margin: 0; font-family: sans-serif; }}
  header {{ display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #1b1b1b; color: #fff; }}
  header a {{ color: #9cf; }}
  header select {{ font-size: 1em; padding: .2em; }}
</style>
</head>
<body>
<header>
  <strong>Assay</strong>
  <label>Service <select id="service" aria-label="service">{options}</select></label>
  <a href="/asyncapi">Events (AsyncAPI)</a>
  <a href="/asyncapi.yaml">asyncapi.yaml</a>
</header>
<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script>
const services = {services};
function withPrefix(response) {{
  const prefix = Object.keys(services).map((s) => "/" + s).find((p) => response.url.endsWith(p + "/openapi.json"));
  if (prefix && response.ok && typeof response.text === "string") {{
    const spec = JSON.parse(response.text);
    spec.servers = [{{url: prefix, description: "through the entry point"}}];
    response.text = JSON.stringify(spec);
    response.data = response.text;
    response.body = spec;
    response.obj = spec;
  }}
  return response;
}}
const select = document.getElementById("service");
const ui = SwaggerUIBundle({{
  url: services[select.value],
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  persistAuthorization: true,
  responseInterceptor: withPrefix,
}});
select.addEventListener("change", () => {{
  ui.specActions.updateUrl(services[select.value]);
  ui.specActions.download(services[select.value]);
}});
</script>
</body>
</html>
"""


def swagger_page(services: Iterable[str] = SERVICES) -> str:
    """One Swagger UI (the assets the services bundle, under /docs-assets/) with a choice of service; each document
    is fetched through the entry point at /<service>/openapi.json."""
    names = list(services)
    options = "".join(f'<option value="{html.escape(n)}">{html.escape(n)}</option>' for n in names)
    return _SWAGGER_PAGE.format(options=options, services=json.dumps({n: f"/{n}/openapi.json" for n in names}))


def asyncapi_page(document: Mapping[str, Any]) -> str:
    """The AsyncAPI document as one static HTML page: servers, channels with their messages, payload schemas."""
    info = document.get("info", {})
    components = document.get("components", {})
    messages, schemas = components.get("messages", {}), components.get("schemas", {})
    parts = [
        f"<h1>{_e(info.get('title', 'Events'))} <small>{_e(info.get('version', ''))}</small></h1>",
        f"<p>{_e(info.get('description', ''))}</p>",
        '<p><a href="/docs">API documentation</a> · <a href="/asyncapi.yaml">asyncapi.yaml</a></p>',
        "<h2>Servers</h2><ul>",
        *(
            f"<li><b>{_e(name)}</b>: <code>{_e(s.get('host', ''))}</code> ({_e(s.get('protocol', ''))}) "
            f"{_e(s.get('description', ''))}</li>"
            for name, s in document.get("servers", {}).items()
        ),
        "</ul><h2>Channels</h2>",
    ]
    for channel in document.get("channels", {}).values():
        parts.append(f'<section class="channel"><h3><code>{_e(channel.get("address", ""))}</code></h3>')
        parts.append(f"<p>{_e(channel.get('description', ''))}</p><ul>")
        for name in channel.get("messages", {}):
            summary = messages.get(name, {}).get("summary", "")
            parts.append(f'<li><a href="#message-{_e(name)}">{_e(name)}</a> {_e(summary)}</li>')
        parts.append("</ul></section>")
    parts.append("<h2>Messages</h2>")
    for name, message in messages.items():
        payload = _ref_name(message.get("payload", {}))
        parts.append(
            f'<section class="message" id="message-{_e(name)}"><h3>{_e(name)}</h3>'
            f"<p>{_e(message.get('summary', ''))} · <code>{_e(message.get('contentType', ''))}</code> · "
            f"key: {_e(message.get('bindings', {}).get('kafka', {}).get('key', {}).get('description', ''))}</p>"
            f"<p>Payload: {_type_link(message.get('payload', {}))}</p>"
        )
        if payload in schemas:
            parts.append(_properties_table(schemas[payload]))
        parts.append("</section>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        parts.append(f'<section class="schema" id="schema-{_e(name)}"><h3>{_e(name)}</h3>')
        parts.append(f"<p>{_e(schema.get('description', ''))}</p>{_properties_table(schema)}</section>")
    return _ASYNCAPI_PAGE.format(title=_e(info.get("title", "Events")), body="\n".join(parts))


_ASYNCAPI_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} — AsyncAPI</title>
<style>
  body {{ font-family: sans-serif; max-width: 70em; margin: 1em auto; padding: 0 1em; line-height: 1.4; }}
  table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
  th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }}
  section {{ border-top: 1px solid #eee; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _ref_name(schema: Mapping[str, Any]) -> str:
    return str(schema.get("$ref", "")).rpartition("/")[2]


def _type_link(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        name = _ref_name(schema)
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " | ".join(_type_link(s) for s in schema[combinator])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_link(schema.get('items', {}))}"
    detail = schema.get("format") or ("one of " + ", ".join(map(str, schema["enum"])) if "enum" in schema else "")
    return _e(f"{kind} ({detail})" if detail else kind)


def _properties_table(schema: Mapping[str, Any]) -> str:
    properties = schema.get("properties", {})
    if not properties:
        return f"<p>{_type_link(schema)}</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{_type_link(prop)}</td><td>{'yes' if name in required else ''}"
        f"</td><td>{_e(prop.get('description', ''))}</td></tr>"
        for name, prop in properties.items()
    )
    return f"<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>{rows}</table>"


def load_asyncapi(path: Path = ASYNCAPI_YAML) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def rendered_for_nginx() -> dict[str, str]:
    """The static files nginx serves under /: the docs page and the AsyncAPI page (the yaml is mounted as is)."""
    return {"index.html": swagger_page(), "asyncapi.html": asyncapi_page(load_asyncapi())}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.docs_pages", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write the pages under {NGINX_HTML}")
    args = parser.parse_args()
    if args.write:
        NGINX_HTML.mkdir(parents=True, exist_ok=True)
        for name, text in rendered_for_nginx().items():
            (NGINX_HTML / name).write_text(text)
            print(f"wrote {NGINX_HTML / name}")
    else:
        print(swagger_page())


if __name__ == "__main__":
    main()
