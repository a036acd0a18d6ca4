"""Uploaded stacks: written only inside a private directory of the stacks root, or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import stacks
from tests.server.conftest import stack_text

TYPES_ONLY = stacks.types(stacks.LOG)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "path",
    [
        "../escape.yaml",
        "/tmp/escape.yaml",
        "a/../../escape.yaml",
        "a\\..\\escape.yaml",
        "a//b.yaml",
        "./stack.yaml",
        "nul\x00.yaml",
        "x/" * 30 + "deep.yaml",
        "",
        "a/./b",
    ],
)
def test_a_path_leaving_the_upload_is_refused_and_nothing_is_written(
    client: TestClient, operator: dict[str, str], stacks_root: Path, tmp_path: Path, path: str
) -> None:
    """400 naming the path; no file is written anywhere, and nothing is staged."""
    body = {"stack.yaml": stack_text(), path: "types: {}"}
    answer = client.post("/api/stage", json=body, headers=operator)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["kind"] == "usage_error"
    assert not stacks_root.exists() or files_under(stacks_root) == set()
    assert not (tmp_path / "escape.yaml").exists() and not Path("/tmp/escape.yaml").exists()
    assert client.get("/api/diff", headers=operator).json() == {"changes": {}}


def test_a_directory_upload_lands_in_its_own_private_directory(
    client: TestClient, operator: dict[str, str], stacks_root: Path
) -> None:
    """Multipart files named by their paths are written 0600 in a new 0700 directory, and a
    stack there includes its types from a subdirectory."""
    main = "include: [types/all.yaml]\n" + stacks.resources(stacks.NODES)
    files = [
        ("files", ("stack.yaml", main.encode(), "application/yaml")),
        ("files", ("types/all.yaml", TYPES_ONLY.encode(), "application/yaml")),
    ]
    answer = client.post("/api/stage", files=files, headers=operator)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["changes"]) == {"node1", "node2"}
    (upload,) = list(stacks_root.iterdir())
    assert files_under(upload) == {"stack.yaml", "types/all.yaml"}
    assert upload.stat().st_mode & 0o777 == 0o700
    assert (upload / "stack.yaml").stat().st_mode & 0o777 == 0o600
    again = client.post("/api/stage", files=files, headers=operator)
    assert again.status_code == 200 and len(list(stacks_root.iterdir())) == 2


def test_an_include_reaching_outside_the_upload_is_refused(
    client: TestClient, operator: dict[str, str], tmp_path: Path
) -> None:
    """A stack including ../ (a file that does exist there) is a 400 include error."""
    (tmp_path / "outside.yaml").write_text(TYPES_ONLY, encoding="utf-8")
    main = "include: [../../outside.yaml]\n" + stacks.resources(stacks.NODES)
    answer = client.post("/api/stage", json={"stack.yaml": main}, headers=operator)
    assert answer.status_code == 400
    assert answer.json()["error"]["kind"] == "include_error"


def test_the_stack_file_is_chosen_by_name_or_refused(
    client: TestClient, operator: dict[str, str]
) -> None:
    """?stack= picks the file; without it two files and no stack.yaml is 400 naming stack."""
    body = {"main.yaml": stack_text(), "other.yaml": "types: {}"}
    unnamed = client.post("/api/stage", json=body, headers=operator)
    assert unnamed.status_code == 400 and unnamed.json()["error"]["param"] == "stack"
    named = client.post("/api/stage?stack=main.yaml", json=body, headers=operator)
    assert named.status_code == 200, named.text
    missing = client.post("/api/stage?stack=nope.yaml", json=body, headers=operator)
    assert missing.status_code == 400


def test_bodies_that_are_not_files_or_too_large_are_refused(
    client: TestClient, operator: dict[str, str]
) -> None:
    """Not JSON, a JSON list, non-text values, too many files, and a huge body: all 4xx."""
    post = client.post
    assert (
        post(
            "/api/stage", content=b"{", headers={**operator, "content-type": "application/json"}
        ).status_code
        == 400
    )
    assert post("/api/stage", json=["a"], headers=operator).status_code == 400
    assert post("/api/stage", json={"a.yaml": 1}, headers=operator).status_code == 400
    many = {f"f{i}.yaml": "" for i in range(1001)}
    assert post("/api/stage", json=many, headers=operator).status_code == 400
    huge = post("/api/stage", content=b"x" * (40 * 1024 * 1024), headers=operator)
    assert huge.status_code == 413


def test_a_malformed_stack_is_400_and_stages_nothing(
    client: TestClient, operator: dict[str, str]
) -> None:
    """A YAML error names file, line and column; the staged log stays empty."""
    answer = client.post("/api/stage", json={"stack.yaml": "resources: [\n"}, headers=operator)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["kind"] == "stack_syntax_error" and "stack.yaml" in error["message"]
    assert client.get("/api/diff", headers=operator).json() == {"changes": {}}
