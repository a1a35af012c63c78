"""The docs name real code: every `module.name` they cite in backticks, where the module is one of
Heart Link's, is defined there, every heartlink/…py path they give exists, and the README's layout
table lists every module."""
import ast
import re

from config import BASE_DIR

_DOCS = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").glob("*.md"))]
_CITED = re.compile(r"`([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?:\(\))?`")
_PATH = re.compile(r"heartlink/[a-z_/]+\.py")


def _defined_in(body):
    """Names a class body defines: its methods and its attributes."""
    names = {item.name for item in body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {target.id for item in body if isinstance(item, ast.Assign)
              for target in item.targets if isinstance(target, ast.Name)}
    return names | {item.target.id for item in body if isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)}


def _modules():
    """Module name -> names it defines at the top level (and, for classes, their methods)."""
    defined = {}
    for path in (BASE_DIR / "heartlink").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names[node.name] = set()
            elif isinstance(node, ast.ClassDef):
                names[node.name] = _defined_in(node.body)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update({target.id: set() for target in targets if isinstance(target, ast.Name)})
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update({(alias.asname or alias.name).split(".")[0]: set() for alias in node.names})
        name = path.stem if path.stem != "__init__" else path.parent.name
        defined.setdefault(name, {}).update(names)
    return defined


_FILE_ENDINGS = {"py", "js", "mjs", "md", "html", "css", "conf", "env", "txt", "json", "yaml", "toml", "service"}
_JS_EXPORT = re.compile(r"^export (?:async )?(?:function|const|let|class) (\w+)", re.M)


def _page_modules():
    """The page's modules (static/js) and what each exports: `api.upload` may name one of them."""
    return {path.stem: set(_JS_EXPORT.findall(path.read_text())) for path in (BASE_DIR / "static" / "js").rglob("*.js")}


def _columns():
    """Table name -> its columns: `rooms.last_seq` names a column."""
    from heartlink import models  # noqa: F401  (the tables)
    from heartlink.extensions import db

    return {name: set(table.columns.keys()) for name, table in db.metadata.tables.items()}


def _exists(module, name, member, modules, page, columns):
    if name in _FILE_ENDINGS:
        return True  # a file's name (`heartlink.conf`, `calls.py`), not code
    if module == "heartlink":  # a dotted module path, as in a logger's name: heartlink.live.writer
        return (BASE_DIR / "heartlink" / name / f"{member}.py").exists() if member else name in modules
    if name in columns.get(module, ()) or name in page.get(module, ()):
        return True
    return name in modules[module] and (not member or member in modules[module][name])


def test_every_function_the_docs_name_exists():
    modules, page, columns = _modules(), _page_modules(), _columns()
    missing = []
    for doc in _DOCS:
        for module, name, member in _CITED.findall(doc.read_text()):
            if module not in modules:
                continue  # not one of Heart Link's modules (a setting, a file name, another library)
            if not _exists(module, name, member, modules, page, columns):
                missing.append(f"{doc.name}: {module}.{name}{'.' + member if member else ''}")
    assert missing == []


def test_every_path_the_docs_give_exists():
    missing = [f"{doc.name}: {path}" for doc in _DOCS for path in _PATH.findall(doc.read_text())
               if not (BASE_DIR / path).exists()]
    assert missing == []


def test_the_readme_s_layout_table_lists_every_module():
    listed = set(re.findall(r"^\| `(heartlink/[a-z_/]+\.py)` \|", (BASE_DIR / "README.md").read_text(), re.M))
    modules = {str(path.relative_to(BASE_DIR)) for path in (BASE_DIR / "heartlink").rglob("*.py")
               if path.name != "__init__.py" or path.parent.name == "heartlink"}
    assert sorted(modules - listed) == []
