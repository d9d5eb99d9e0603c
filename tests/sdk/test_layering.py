"""The shape of the code: the public surface is pinned, and the import graph has no cycles.

``licensing.__all__`` is the whole API an application sees; adding or dropping a name is a
decision, so this test must change with it. No module outside ``licensing/`` imports a private
module of it (``licensing._x``), except the two places named below that say why. Inside
``licensing/`` no runtime import cycle exists: imports inside functions count (a cycle hidden in
a function is still a cycle), imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import licensing
import licensing.wire

ROOT = Path(__file__).resolve().parents[2]

PUBLIC_API = {
    "Configuration", "LicenseManager", "LicenseID", "License", "LicenseTerms", "Feature", "LocalCheckResult",
    "CheckItem", "HybridResult", "ERROR_CODES", "__version__",
    # floating licenses: a workstation's seats from the floating server at its site
    "FloatingClient", "Lease", "Heartbeat", "SeatsReport", "SeatHolder", "FloatingTerms",
    # the error tree (licensing._errors), every class with its stable code
    "LicenseError", "UsageError", "ConfigurationError", "ConfigurationTamperedError", "LicenseFileError",
    "FileMissingError",
    "FileTooLargeError", "FileMalformedError", "WrongFileTypeError", "SignatureInvalidError",
    "UnknownSigningKeyError", "BindingError", "SignatureMismatchError", "ProductMismatchError",
    "RequestMismatchError", "ResponseReusedError", "GuardError", "GuardMissingError", "GuardTamperedError",
    "LicenseStateError", "NoLicenseError", "LicenseExpiredError", "LicenseNotStartedError", "LicenseDisabledError",
    "LicenseDeactivatedError", "FeatureNotFoundError", "FeatureExpiredError", "ConsumptionLimitError",
    "ClockTamperedError", "RefreshOutdatedError", "GracePeriodExpiredError", "StorageError", "StorageCorruptError",
    "StorageLockedError", "DatabaseUnavailableError", "OnlineError", "ServerUnreachableError", "ServerResponseError", "ServerAnswerMismatchError",
    "VendorRefusal",
    "MaxActivationsReachedError", "VendorLicenseExpiredError", "VendorLicenseDisabledError",
    "InvalidCredentialsError", "ProductConfigurationError", "FreeTierError", "OfflineNotSupportedError",
    "RequestReplayedError", "DeviceDisabledError", "LicenseNotFoundError", "DeviceNotFoundError",
    "ProductNotFoundError", "VendorInputError", "LeaseExpiredError", "FloatingServerUnreachableError",
    "FloatingError", "NoSeatAvailableError", "LeaseNotFoundError", "NotFloatingError", "FloatingOnlyError",
    "DeviceAlreadyActivatedError", "ReactivationLimitError", "TooManyAttemptsError",
}

#: modules outside licensing/ allowed to import private SDK modules, and why
PRIVATE_IMPORT_ALLOWED = {
    "tests/support/whitebox.py": "the tests' attacker who holds the machine key",
    "bench/bench_engine.py": "times reading the OS machine id, which has no public API",
}


def test_the_public_surface_is_exactly_the_pinned_names() -> None:
    assert set(licensing.__all__) == PUBLIC_API
    assert len(licensing.__all__) == len(set(licensing.__all__)), "a name is exported twice"
    for name in licensing.__all__:
        assert hasattr(licensing, name), name


def test_every_public_name_of_wire_exists() -> None:
    for name in licensing.wire.__all__:
        assert hasattr(licensing.wire, name), name
    assert not set(licensing.wire.__all__) & (PUBLIC_API - {"__version__"}), "wire repeats the application API"


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that can run: anywhere in the file except under ``if TYPE_CHECKING:``."""
    def visit(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from (n for n in child.orelse for n in visit(ast.Module(body=[n], type_ignores=[])))
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            yield from visit(child)
    yield from visit(tree)


def _imported_modules(path: Path) -> set[str]:
    """The modules a file imports, relative imports resolved; ``from pkg import sub`` names pkg.sub."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[:len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            is_module = any((ROOT / candidate.replace(".", "/")).with_suffix(suffix).exists() or
                            (ROOT / candidate.replace(".", "/") / "__init__.py").exists() for suffix in (".py",))
            found.add(candidate if is_module else base)
    return found


def test_nothing_outside_licensing_imports_a_private_module() -> None:
    offenders = []
    for path in _python_files("chatbot", "tests", "bench", "scripts"):
        relative = path.relative_to(ROOT).as_posix()
        private = sorted(m for m in _imported_modules(path)
                         if m.startswith("licensing.") and any(p.startswith("_") for p in m.split(".")[1:]))
        if private and relative not in PRIVATE_IMPORT_ALLOWED:
            offenders.append(f"{relative}: {', '.join(private)}")
    assert not offenders, "private SDK modules imported from outside:\n" + "\n".join(offenders)


@pytest.mark.parametrize("folder", ["licensing/issuing", "licensing/floating"])
def test_the_issuing_side_and_the_floating_server_use_only_the_public_sdk_and_wire(folder: str) -> None:
    offenders = []
    for path in _python_files(folder):
        private = sorted(m for m in _imported_modules(path)
                         if m.startswith("licensing._") or m == "licensing._version")
        if private:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(private)}")
    assert not offenders, "\n".join(offenders)


def test_the_floating_server_never_needs_the_vendors_side() -> None:
    """It runs at the customer's site, where neither the issuing side nor its extra is installed."""
    offenders = [f"{path.relative_to(ROOT)}: {sorted(bad)}" for path in _python_files("licensing/floating")
                 if (bad := {m for m in _imported_modules(path)
                             if m.startswith(("licensing.issuing", "chatbot", "sqlalchemy", "alembic", "fastapi"))})]
    assert not offenders, "\n".join(offenders)


def test_the_sdk_never_imports_the_issuing_side_the_floating_server_or_the_chatbot() -> None:
    for path in _python_files("licensing"):
        if {"issuing", "floating"} & set(path.relative_to(ROOT).parts):
            continue
        bad = {m for m in _imported_modules(path)
               if m.startswith(("licensing.issuing", "licensing.floating", "chatbot"))}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_licensing_has_no_runtime_import_cycle() -> None:
    modules = {_module_name(p): p for p in _python_files("licensing")}
    graph = {name: {m for m in _imported_modules(path) if m in modules and m != name}
             for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


SHELLS = {"chatbot/__main__.py", "chatbot/repl.py", "chatbot/transcript.py"}


def test_the_chatbot_engine_never_imports_a_ui_toolkit() -> None:
    """Shells → dialogue → understanding and handlers: only the shells may know Textual or prompt_toolkit."""
    offenders = []
    for path in _python_files("chatbot"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("chatbot/tui/") or relative in SHELLS:
            continue
        ui = sorted(m for m in _imported_modules(path) if m.split(".")[0] in ("textual", "prompt_toolkit"))
        if ui:
            offenders.append(f"{relative}: {', '.join(ui)}")
    assert not offenders, "\n".join(offenders)


def test_replies_are_plain_types_without_the_engine() -> None:
    """The shells type their code with chatbot.replies; it must not drag the SDK in with it."""
    imported = _imported_modules(ROOT / "chatbot" / "replies.py")
    assert not {m for m in imported if m.split(".")[0] in ("licensing", "textual", "prompt_toolkit")}
