"""The repository the tool works in: its root, catalogue, template engine and schema."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from ametrika_gitops.config.schema import load_validator
from ametrika_gitops.errors import AmetrikaError, RepositoryError
from ametrika_gitops.render.catalog import CATALOG, Catalog, load_catalog
from ametrika_gitops.render.engine import Engine

ACCOUNTS = "accounts"


@dataclass(frozen=True)
class Project:
    root: Path
    catalog: Catalog
    engine: Engine
    validator: jsonschema.Draft202012Validator
    root_relative: bool = False  # show paths from the root (a revision read from git)

    def shown(self, path: Path) -> str:
        if self.root_relative:
            try:
                return path.resolve().relative_to(self.root).as_posix()
            except ValueError:
                pass
        return display_path(path)

    @classmethod
    def open(cls, root: Path) -> Project:
        root = root.resolve()
        return cls(root, load_catalog(root), Engine(root), load_validator(root))


def find_root(start: Path) -> Path:
    """The nearest folder, from ``start`` upwards, that holds templates/catalog.yaml."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG).is_file():
            return folder
    raise RepositoryError(
        f"no ametrika-gitops repository here: no {CATALOG} in {here} or above; "
        "run the command inside the repository, or pass --root DIR"
    )


def display_path(path: Path) -> str:
    """Paths are shown relative to the working directory when they are under it."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return os.path.normpath(str(absolute))


def account_files(paths: tuple[Path, ...], root: Path) -> list[Path]:
    """The account files named by ``paths`` (files, or folders of *.yaml), else accounts/."""
    if not paths:
        folder = root / ACCOUNTS
        if not folder.is_dir():
            raise AmetrikaError(f"no {ACCOUNTS}/ folder in {root}; create it, or name files")
        paths = (folder,)
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
        elif p.exists():
            files.append(p)
        else:
            raise AmetrikaError(f"{p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique
