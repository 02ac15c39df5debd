"""The write routes of the Hub stand-in: what ``HfApi.create_repo`` and ``HfApi.create_commit`` call.

Measured from the installed ``huggingface_hub`` (2.4): ``create_repo`` posts ``/api/repos/create``; ``create_commit``
posts the README's text to ``/api/validate-yaml``, asks ``/api/{kind}/{repo}/preupload/{rev}`` how to send each file
(the stand-in always answers ``"regular"``: contents travel base64-encoded inside the commit, no LFS or Xet
storage is needed), then posts the commit to ``/api/{kind}/{repo}/commit/{rev}`` as NDJSON (a ``header`` line, then
one ``file`` / ``deletedFile`` / ``deletedFolder`` line per operation). The repository's folder in the registry is
written at once, so the real client reads a pushed repository back (``hf_hub_download``, ``load_dataset``).

Every write needs an ``Authorization`` header (any token is accepted); the token is never recorded, logged or echoed.
Only the ``main`` branch exists: pull requests (``create_pr``) and LFS pointers are refused with a clear error.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import tempfile
import threading
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..hub import layout
from .hub_common import HubRouteError

#: Hidden per-repository file holding what the stand-in remembers about a repository it created (visibility).
REPO_META = ".hub_repo.json"
_KINDS = {"model": "models", "dataset": "datasets", None: "models"}
_write_lock = threading.Lock()


class UploadRoutes:
    """Mixin of the stand-in's request handler (`hfsearch.testing.hub_server`) for the write routes.

    The host class provides `root`, `handler` (with ``headers`` and ``send_json``), `method`, `query` and `body`.
    """

    root: Path
    handler: Any
    method: str
    query: dict[str, list[str]]
    body: bytes

    @staticmethod
    def fail(status: HTTPStatus, message: str, code: str | None = None) -> HubRouteError:
        """The error answered to the client (the caller raises it)."""
        return HubRouteError(status, message, code)

    def route_upload(self, segments: list[str]) -> bool:
        """Answer a write route and return ``True``, or return ``False`` when `segments` name none."""
        if self.method != "POST" or len(segments) < 2 or segments[0] != "api":
            return False
        if segments[1:] == ["repos", "create"]:
            self.create_repo()
        elif segments[1:] == ["validate-yaml"]:
            self.validate_yaml()
        elif len(segments) == 6 and segments[1] in ("models", "datasets") and segments[4] in ("preupload", "commit"):
            kind, repo_id, action, revision = segments[1], f"{segments[2]}/{segments[3]}", segments[4], segments[5]
            folder = self.writable_repo(kind, repo_id, revision)
            if action == "preupload":
                self.preupload(folder)
            else:
                self.commit(kind, repo_id, folder)
        else:
            return False
        return True

    # --- routes ---------------------------------------------------------------------------------------------------

    def create_repo(self) -> None:
        """``POST /api/repos/create`` with ``{"name", "organization", "type", "visibility"}``."""
        self.require_token()
        payload = self.json_body()
        repo_type = payload.get("type")
        if repo_type not in _KINDS:
            raise self.fail(HTTPStatus.BAD_REQUEST, f"The Hub stand-in cannot create {repo_type} repositories.")
        name, org = str(payload.get("name") or ""), str(payload.get("organization") or "")
        if not org:
            raise self.fail(HTTPStatus.BAD_REQUEST, "Give the repository as NAMESPACE/NAME (the stand-in has no user).")
        repo_id = f"{org}/{name}"
        kind = _KINDS[repo_type]
        self.check_repo_id(repo_id)
        folder = layout.repo_dir(self.root, repo_id, kind)
        url = f"{self.base_url()}/{'datasets/' if kind == 'datasets' else ''}{repo_id}"
        with _write_lock:
            if folder.exists():  # the Hub's conflict answer carries the url too (create_repo(exist_ok=True) reads it)
                message = f"You already created this {repo_type or 'model'} repo"
                return self.handler.send_json({"error": message, "url": url}, status=HTTPStatus.CONFLICT)
            folder.mkdir(parents=True)
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            (folder / REPO_META).write_text(json.dumps({"private": private}))
        self.handler.send_json({"url": url, "name": repo_id, "id": repo_id})

    def validate_yaml(self) -> None:
        """``POST /api/validate-yaml``: the README's front matter must be a YAML mapping."""
        content = str(self.json_body().get("content") or "")
        errors = []
        if content.startswith("---"):
            end = content.find("\n---", 3)
            try:
                meta = yaml.safe_load(content[3:end] if end > 0 else "")
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "the metadata block must be a YAML mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"invalid YAML: {str(exc).splitlines()[0]}"})
        self.handler.send_json(
            {"errors": errors, "warnings": []}, status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK
        )

    def preupload(self, folder: Path) -> None:
        """``POST .../preupload/{rev}``: every file goes as a regular blob; ``oid`` is set for files already there."""
        files = self.json_body().get("files")
        if not isinstance(files, list):
            raise self.fail(HTTPStatus.BAD_REQUEST, "preupload expects {'files': [...]}.")
        answer = []
        for item in files:
            path = self.safe_path(str((item or {}).get("path", "")))
            existing = folder / path
            oid = layout.file_oid(existing) if existing.is_file() else None
            answer.append({"path": path, "uploadMode": "regular", "shouldIgnore": False, "oid": oid})
        self.handler.send_json({"files": answer})

    def commit(self, kind: str, repo_id: str, folder: Path) -> None:
        """``POST .../commit/{rev}`` (NDJSON): apply every operation, all or nothing, and answer the new commit."""
        if self.query.get("create_pr"):
            raise self.fail(HTTPStatus.BAD_REQUEST, "The Hub stand-in has no pull requests; commit to main.")
        try:
            lines = [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise self.fail(HTTPStatus.BAD_REQUEST, "The commit payload is not NDJSON.") from None
        if not lines or lines[0].get("key") != "header":
            raise self.fail(HTTPStatus.BAD_REQUEST, "The commit payload must start with a header line.")
        writes: dict[str, bytes] = {}
        deletes: list[tuple[str, bool]] = []
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            path = self.safe_path(str(value.get("path", "")))
            if key == "file":
                if value.get("encoding") != "base64":
                    raise self.fail(HTTPStatus.BAD_REQUEST, f"Unsupported encoding for {path}.")
                try:
                    writes[path] = base64.b64decode(value.get("content", ""), validate=True)
                except (binascii.Error, ValueError):
                    raise self.fail(HTTPStatus.BAD_REQUEST, f"Invalid base64 content for {path}.") from None
            elif key in ("deletedFile", "deletedFolder"):
                deletes.append((path, key == "deletedFolder"))
            elif key == "lfsFile":
                raise self.fail(HTTPStatus.BAD_REQUEST, "The Hub stand-in stores regular files only (no LFS).")
            else:
                raise self.fail(HTTPStatus.BAD_REQUEST, f"Unknown commit operation {key!r}.")
        with _write_lock:
            parent = lines[0].get("value", {}).get("parentCommit")
            if parent and parent != layout.repo_sha(folder):
                raise self.fail(HTTPStatus.PRECONDITION_FAILED, f"{repo_id} has moved on since commit {parent}.")
            for path, is_folder in deletes:
                target = folder / path
                if not (target.is_dir() if is_folder else target.is_file()):
                    raise self.fail(
                        HTTPStatus.NOT_FOUND, f"A file with this name doesn't exist: {path}", "EntryNotFound"
                    )
            for path, is_folder in deletes:
                shutil.rmtree(folder / path) if is_folder else (folder / path).unlink()
            for path, content in writes.items():
                _write_atomically(folder / path, content)
            sha = layout.repo_sha(folder)
        prefix = "datasets/" if kind == "datasets" else ""
        self.handler.send_json(
            {
                "success": True,
                "commitOid": sha,
                "commitUrl": f"{self.base_url()}/{prefix}{repo_id}/commit/{sha}",
                "pullRequestUrl": None,
            }
        )

    # --- helpers --------------------------------------------------------------------------------------------------

    def require_token(self) -> None:
        """Refuse a write without ``Authorization: Bearer <token>`` (any token passes; none is ever recorded)."""
        scheme, _, token = str(self.handler.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self.fail(HTTPStatus.UNAUTHORIZED, "Invalid credentials in Authorization header")

    def writable_repo(self, kind: str, repo_id: str, revision: str) -> Path:
        """The folder of an existing repository to write to, after the token and revision checks."""
        self.require_token()
        self.check_repo_id(repo_id)
        folder = layout.repo_dir(self.root, repo_id, kind)
        if not folder.is_dir():
            noun = "Dataset" if kind == "datasets" else "Model"
            raise self.fail(HTTPStatus.NOT_FOUND, f"{noun} {repo_id} does not exist.", "RepoNotFound")
        if revision not in ("main", "refs/heads/main"):
            raise self.fail(HTTPStatus.BAD_REQUEST, f"The Hub stand-in only writes to main, not {revision!r}.")
        return folder

    def check_repo_id(self, repo_id: str) -> None:
        parts = PurePosixPath(repo_id).parts
        if len(parts) != 2 or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise self.fail(HTTPStatus.BAD_REQUEST, f"Invalid repository id {repo_id!r}.")

    def safe_path(self, path: str) -> str:
        """`path` as a clean repository-relative POSIX path, or a 400 error."""
        rel = PurePosixPath(path)
        if not path or rel.is_absolute() or ".." in rel.parts or str(rel) in ("", ".") or rel.name == REPO_META:
            raise self.fail(HTTPStatus.BAD_REQUEST, f"Invalid path in repository: {path!r}.")
        return rel.as_posix()

    def json_body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except json.JSONDecodeError:
            raise self.fail(HTTPStatus.BAD_REQUEST, "The request body is not JSON.") from None
        if not isinstance(data, dict):
            raise self.fail(HTTPStatus.BAD_REQUEST, "The request body must be a JSON object.")
        return data

    def base_url(self) -> str:
        return f"http://{self.handler.headers.get('Host') or '127.0.0.1'}"


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
