"""Serve a local registry folder over HTTP as a Hugging Face Hub.

The real clients (`huggingface_hub.HfApi`, `hf_hub_download`, `snapshot_download`, `transformers`'
``from_pretrained`` and `datasets.load_dataset`) work against it unchanged once ``HF_ENDPOINT`` points at it. It
serves the folder layout of `hfsearch.hub.layout` and re-reads the folder on every request, so repositories added
after start-up are served at once. It is the Hub stand-in of the test-suite, and a way to share an air-gapped
registry on a LAN::

    python -m hfsearch.testing.hub_server /srv/registry --host 0.0.0.0 --port 8080
    HF_ENDPOINT=http://that-host:8080 hfsearch ...

Routes (``{kind}`` is ``models`` or ``datasets``; file routes of datasets are prefixed with ``/datasets``):

- ``GET /api/{kind}``: listing, with ``search``, ``author``, ``filter`` (repeatable; tags, library, task,
  ``dataset:<id>``, ``license:<id>``, language, model type), ``pipeline_tag``, ``num_parameters``
  (``min:6B,max:128B``), ``sort`` + ``direction``, ``limit``, ``full``, ``cardData``, ``config`` and ``expand``
  (repeatable).
- ``GET /api/{kind}/{org}/{name}`` and ``.../revision/{rev}``: repository info (``expand``, ``blobs``).
- ``GET /api/{kind}/{org}/{name}/tree/{rev}[/{path}]``: files and folders (``recursive``).
- ``POST /api/{kind}/{org}/{name}/paths-info/{rev}``: files and folders for a form field ``paths``.
- ``GET /api/{kind}/{org}/{name}/refs``: the single branch ``main``.
- ``GET``/``HEAD`` ``[/datasets]/{org}/{name}/resolve/{rev}/{path}``: file content, with ``Range``.
- ``GET /api/datasets/{org}/{name}/leaderboard``: the leaderboard of a benchmark dataset (one with an ``eval.yaml``),
  built from the models' ``.eval_results/*.yaml`` files (`hfsearch.hub.leaderboard`).
- Writes (`hfsearch.testing.hub_upload`): ``POST /api/repos/create``, ``/api/validate-yaml``,
  ``/api/{kind}/{org}/{name}/preupload/{rev}`` and ``.../commit/{rev}`` — what ``HfApi.create_repo``,
  ``create_commit`` and ``upload_folder`` call; they write into the registry folder.

Only ``main`` (or ``refs/heads/main``) and the current commit id are valid revisions. Errors carry the Hub's
``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) so that clients raise their usual
exceptions and fall back where they probe for optional files; any other route is a plain 404.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import parse_qs, unquote, urlsplit

from ..hub import layout
from ..hub.ids import repo_id_problem
from ..hub.leaderboard import NoLeaderboard, leaderboard
from .hub_common import HubRouteError as _HubError
from .hub_common import parameter_bounds, parse_range, search_tags
from .hub_upload import UploadRoutes

logger = logging.getLogger(__name__)

Kind = Literal["models", "datasets"]
Query = dict[str, list[str]]

#: Keys of a listing entry when neither ``expand`` nor ``full`` is given (as on the Hub).
_LIST_KEYS = ("_id", "id", "modelId", "likes", "private", "downloads", "tags", "pipeline_tag", "library_name")
#: Keys that ``full=true`` adds to a listing entry.
_FULL_KEYS = ("author", "sha", "lastModified", "gated", "disabled", "siblings")
#: Sort keys the Hub accepts that the registry has no value for, and the key used instead.
_SORT_ALIASES = {"trendingScore": "likes", "createdAt": "lastModified"}
_CHUNK = 1 << 20


class HubServer:
    """A Hugging Face Hub stand-in serving a local registry folder (see `hfsearch.hub.layout`).

    The socket is bound when the object is created, so `url` is known at once (``port=0`` picks a free port);
    `start` serves it from a daemon thread, `serve_forever` from the calling thread.

    Args:
        root (`str` or `Path`):
            The registry folder, holding ``models/<org>/<name>/`` and ``datasets/<org>/<name>/``.
        host (`str`, *optional*, defaults to `"127.0.0.1"`):
            The interface to listen on (``"0.0.0.0"`` to serve a LAN).
        port (`int`, *optional*, defaults to `0`):
            The port to listen on; `0` picks a free one.

    Example:

    ```python
    >>> from huggingface_hub import HfApi
    >>> from hfsearch.testing.hub_server import HubServer
    >>> with HubServer("/srv/registry") as server:
    ...     models = list(HfApi(endpoint=server.url).list_models(pipeline_tag="text-classification"))
    ...     server.requests[-1]["query"]
    {'pipeline_tag': ['text-classification']}
    ```
    """

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._httpd = _HTTPServer((host, port), self)

    @property
    def url(self) -> str:
        """The endpoint to use as ``HF_ENDPOINT``, e.g. ``"http://127.0.0.1:8080"``."""
        host, port = self._httpd.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the requests received so far: ``{"method", "path", "query", "authorized"}`` each, oldest first.

        ``path`` is percent-decoded; ``query`` maps every parameter to the list of its values; ``authorized`` says
        whether the request carried an ``Authorization`` header (its value is never kept).
        """
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self._requests.clear()

    def record(self, method: str, path: str, query: Query, authorized: bool = False) -> None:
        """Append one request to `requests` (called by the request handler)."""
        with self._lock:
            self._requests.append({"method": method, "path": path, "query": query, "authorized": authorized})

    def start(self) -> HubServer:
        """Serve from a daemon thread and return `self`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from the calling thread until the process is interrupted, then close the socket."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], hub: HubServer) -> None:
        self.hub = hub
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        segments = [unquote(s) for s in url.path.strip("/").split("/")]
        hub = self.server.hub
        hub.record(method, unquote(url.path), query, authorized=bool(self.headers.get("Authorization")))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
        try:
            _Routes(hub.root, self, method, query, body).route(segments)
        except _HubError as e:
            self._send_error(e, head=method == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug must reach the client as a 500, not as a dropped connection
            logger.exception("Hub stand-in failed on %s %s", method, self.path)
            self._send_error(_HubError(HTTPStatus.INTERNAL_SERVER_ERROR, repr(e)), head=method == "HEAD")

    def send_json(self, data: Any, *, head: bool = False, status: HTTPStatus = HTTPStatus.OK) -> None:
        """Answer `status` (200 by default) with `data` as JSON."""
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def _send_error(self, error: _HubError, *, head: bool) -> None:
        payload = json.dumps({"error": error.message}).encode()
        self.send_response(error.status)
        if error.code:
            self.send_header("X-Error-Code", error.code)
        self.send_header("X-Error-Message", error.message.encode("ascii", "replace").decode())
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not head:
            self.wfile.write(payload)


class _Routes(UploadRoutes):
    """The answer to one request: routing, and one method per Hub route (write routes: `UploadRoutes`)."""

    def __init__(self, root: Path, handler: _Handler, method: str, query: Query, body: bytes) -> None:
        self.root = root
        self.handler = handler
        self.method = method
        self.query = query
        self.body = body

    def route(self, segments: list[str]) -> None:
        """Answer the request for the percent-decoded path `segments`, or raise `_HubError`."""
        if self.route_upload(segments):
            return None
        if len(segments) >= 2 and segments[0] == "api" and segments[1] in ("models", "datasets"):
            kind = cast(Kind, segments[1])
            if len(segments) == 2 and self.method == "GET":
                return self.handler.send_json(self.listing(kind))
            if len(segments) >= 4:
                return self.api_repo(kind, f"{segments[2]}/{segments[3]}", segments[4:])
        elif len(segments) >= 5 and segments[0] == "datasets" and segments[3] == "resolve":
            return self.resolve("datasets", f"{segments[1]}/{segments[2]}", segments[4], segments[5:])
        elif len(segments) >= 4 and segments[2] == "resolve":
            return self.resolve("models", f"{segments[0]}/{segments[1]}", segments[3], segments[4:])
        raise _HubError(HTTPStatus.NOT_FOUND, f"No route for {self.method} /{'/'.join(segments)}.")

    # --- /api/{kind}/{org}/{name}/... -----------------------------------------------------------------------

    def api_repo(self, kind: Kind, repo_id: str, rest: list[str]) -> None:
        """The routes under ``/api/{kind}/{repo_id}``: info, tree, refs and paths-info."""
        folder = self.repo_folder(kind, repo_id)
        if self.method in ("GET", "HEAD") and (not rest or (len(rest) == 2 and rest[0] == "revision")):
            self.check_revision(folder, repo_id, rest[1] if rest else "main")
            info = self.info(kind, repo_id, folder)
            if self.flag("blobs"):
                info["siblings"] = [
                    {"rfilename": e["path"], "size": e["size"], "blobId": e["oid"]}
                    for e in self.entries(folder, layout.repo_files(folder))
                ]
            return self.handler.send_json(self.project(info, listing=False), head=self.method == "HEAD")
        if self.method == "GET" and len(rest) >= 2 and rest[0] == "tree":
            self.check_revision(folder, repo_id, rest[1])
            return self.handler.send_json(self.tree(folder, repo_id, "/".join(rest[2:])))
        if self.method == "GET" and kind == "datasets" and rest == ["leaderboard"]:
            base_only = self.query.get("base_model", ["true"])[-1].lower() not in ("false", "0")
            try:
                return self.handler.send_json(leaderboard(self.root, repo_id, base_model_only=base_only))
            except NoLeaderboard as exc:
                raise _HubError(HTTPStatus.NOT_FOUND, str(exc)) from None
        if self.method == "GET" and rest == ["refs"]:
            main = {"name": "main", "ref": "refs/heads/main", "targetCommit": layout.repo_sha(folder)}
            return self.handler.send_json({"branches": [main], "converts": [], "tags": [], "pullRequests": []})
        if self.method == "POST" and len(rest) == 2 and rest[0] == "paths-info":
            self.check_revision(folder, repo_id, rest[1])
            paths = parse_qs(self.body.decode(), keep_blank_values=True).get("paths", [])
            found = [p for p in (self.repo_path(folder, path) for path in paths) if p is not None and p != folder]
            return self.handler.send_json(self.entries(folder, found))
        raise _HubError(HTTPStatus.NOT_FOUND, f"No route for {self.method} /api/{kind}/{repo_id}/{'/'.join(rest)}.")

    def listing(self, kind: Kind) -> list[dict[str, Any]]:
        """``GET /api/{kind}``: the filtered, sorted, limited and projected repository infos."""
        infos = [self.info(kind, repo_id, folder) for repo_id, folder in layout.iter_repos(self.root, kind)]
        q = self.query
        searches = [s.lower() for s in q.get("search", []) if s]
        authors = {a.lower() for a in q.get("author", []) if a}
        pipeline_tags = set(q.get("pipeline_tag", []))
        filters = [f for f in q.get("filter", []) if f]
        bounds = parameter_bounds(q.get("num_parameters", [""])[0])

        def keep(info: dict[str, Any]) -> bool:
            total = (info.get("safetensors") or {}).get("total")
            tags = search_tags(info)
            return (
                all(s in info["id"].lower() for s in searches)
                and (not authors or info["author"].lower() in authors)
                and (not pipeline_tags or info.get("pipeline_tag") in pipeline_tags)
                and all(f in tags for f in filters)
                and (bounds is None or (total is not None and bounds[0] <= total <= bounds[1]))
            )

        kept = sorted((i for i in infos if keep(i)), key=lambda i: i["id"])
        sort = q.get("sort", [""])[0]
        if sort:
            key = _SORT_ALIASES.get(sort, sort)
            valued = [i for i in kept if i.get(key) is not None]
            valued.sort(key=lambda i: i[key], reverse=q.get("direction", ["-1"])[0] != "1")
            kept = valued + [i for i in kept if i.get(key) is None]
        limit = q.get("limit", [""])[0]
        if limit:
            if not limit.isdigit():
                raise _HubError(HTTPStatus.BAD_REQUEST, f"Invalid limit: {limit!r}.")
            kept = kept[: int(limit)]
        return [self.project(i, listing=True) for i in kept]

    def info(self, kind: Kind, repo_id: str, folder: Path) -> dict[str, Any]:
        """The complete info of a repository, as the Hub's info route returns it without ``expand``."""
        if kind == "datasets":
            info = layout.dataset_info_dict(repo_id, folder)
        else:
            info = layout.model_info_dict(repo_id, folder)
            info.update(
                author=repo_id.split("/")[0], lastModified=layout.last_modified(folder), gated=False, disabled=False
            )
        return {"_id": hashlib.sha1(f"{kind}/{repo_id}".encode()).hexdigest()[:24], **info}

    def project(self, info: dict[str, Any], *, listing: bool) -> dict[str, Any]:
        """The keys of `info` the query asks for: ``expand`` keys only when given, else the Hub's defaults."""
        expand = [e for e in self.query.get("expand", []) if e]
        if expand:
            keys: set[str] = {"_id", "id", *expand}
        elif not listing:
            return info
        else:
            keys = set(_LIST_KEYS)
            if self.flag("full"):
                keys.update(_FULL_KEYS)
            if self.flag("cardData"):
                keys.add("cardData")
            if self.flag("config"):
                keys.add("config")
        return {k: v for k, v in info.items() if k in keys}

    def tree(self, folder: Path, repo_id: str, path: str) -> list[dict[str, Any]]:
        """``GET .../tree/{rev}/{path}``: the entries below `path`, direct children unless ``recursive``."""
        base = self.repo_path(folder, path)
        if base is None or not base.is_dir():
            raise _HubError(HTTPStatus.NOT_FOUND, f"{path!r} is not a folder of {repo_id}.", "EntryNotFound")
        children = base.rglob("*") if self.flag("recursive") else base.iterdir()
        return self.entries(folder, sorted(p for p in children if not _is_hidden(p.relative_to(folder))))

    @staticmethod
    def entries(folder: Path, paths: list[Path]) -> list[dict[str, Any]]:
        """Tree entries (``type``, ``path``, ``oid``, and ``size`` for files) of `paths` inside `folder`."""
        out: list[dict[str, Any]] = []
        for p in paths:
            rel = p.relative_to(folder).as_posix()
            if p.is_dir():
                tree = hashlib.sha1()
                for f in layout.repo_files(p):
                    tree.update(f"{f.relative_to(p).as_posix()}\0{layout.file_oid(f)}\n".encode())
                out.append({"type": "directory", "path": rel, "oid": tree.hexdigest(), "size": 0})
            else:
                out.append({"type": "file", "path": rel, "oid": layout.file_oid(p), "size": p.stat().st_size})
        return out

    # --- /{repo}/resolve/{rev}/{path} ------------------------------------------------------------------------

    def resolve(self, kind: Kind, repo_id: str, revision: str, path_segments: list[str]) -> None:
        """``GET``/``HEAD`` of a file, honouring a single ``Range``."""
        if self.method not in ("GET", "HEAD"):
            raise _HubError(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.method} is not allowed on files.")
        folder = self.repo_folder(kind, repo_id)
        sha = self.check_revision(folder, repo_id, revision)
        path = "/".join(path_segments)
        file = self.repo_path(folder, path)
        if file is None or not file.is_file():
            raise _HubError(HTTPStatus.NOT_FOUND, f"{path!r} does not exist in {repo_id}.", "EntryNotFound")
        size = file.stat().st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        byte_range = parse_range(self.handler.headers.get("Range"), size)
        if byte_range is not None:
            status = HTTPStatus.PARTIAL_CONTENT
            start, end = byte_range
        length = end - start + 1
        h = self.handler
        h.send_response(status)
        h.send_header("X-Repo-Commit", sha)
        h.send_header("ETag", f'"{layout.file_oid(file)}"')
        h.send_header("Accept-Ranges", "bytes")
        h.send_header("Content-Type", mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        h.send_header("Content-Length", str(length))
        if status == HTTPStatus.PARTIAL_CONTENT:
            h.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        h.end_headers()
        if self.method == "GET":
            with file.open("rb") as fh:
                fh.seek(start)
                while length > 0:
                    chunk = fh.read(min(_CHUNK, length))
                    if not chunk:
                        break
                    h.wfile.write(chunk)
                    length -= len(chunk)

    # --- helpers --------------------------------------------------------------------------------------------

    def repo_folder(self, kind: Kind, repo_id: str) -> Path:
        """The folder of `repo_id`, or a ``RepoNotFound`` error."""
        rel = Path(repo_id)
        if repo_id_problem(repo_id) is not None or len(rel.parts) != 2:
            folder = None
        else:
            folder = layout.repo_dir(self.root, repo_id, kind)
        if folder is None or _is_hidden(rel) or not folder.is_dir():
            noun = "Dataset" if kind == "datasets" else "Model"
            raise _HubError(HTTPStatus.NOT_FOUND, f"{noun} {repo_id} does not exist.", "RepoNotFound")
        return folder

    @staticmethod
    def check_revision(folder: Path, repo_id: str, revision: str) -> str:
        """The commit id of the repository if `revision` names it (``main`` or the id), else ``RevisionNotFound``."""
        sha = layout.repo_sha(folder)
        if revision not in ("main", "refs/heads/main", sha):
            raise _HubError(HTTPStatus.NOT_FOUND, f"Invalid rev id: {revision} for {repo_id}.", "RevisionNotFound")
        return sha

    @staticmethod
    def repo_path(folder: Path, path: str) -> Path | None:
        """The file or folder `path` inside the repository, or `None` if absent, hidden or outside it."""
        rel = Path(path.strip("/"))
        if ".." in rel.parts or _is_hidden(rel):
            return None
        target = folder / rel
        return target if target.exists() else None

    def flag(self, name: str) -> bool:
        """Whether the boolean query parameter `name` is set (``true``, ``True``, ``1`` or empty)."""
        values = self.query.get(name)
        return values[-1].lower() in ("", "1", "true") if values else False


def _is_hidden(rel: Path) -> bool:
    return layout.is_hidden(rel)


def main(argv: list[str] | None = None) -> None:
    """``python -m hfsearch.testing.hub_server ROOT [--host H] [--port P]``: serve in the foreground."""
    parser = argparse.ArgumentParser(
        prog="python -m hfsearch.testing.hub_server", description="Serve a local registry folder as a Hugging Face Hub."
    )
    parser.add_argument(
        "root", type=Path, help="registry folder holding models/<org>/<name>/ and datasets/<org>/<name>/"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a folder")
    server = HubServer(args.root, host=args.host, port=args.port)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
