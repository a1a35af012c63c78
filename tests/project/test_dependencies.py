"""The pins a deployment installs: requirements.txt holds every runtime package, each at one
version with its hashes, exactly the direct ones of pyproject.toml and nothing for tests;
requirements-dev.txt holds the same plus the tools; this environment is what it pins."""
import re
import tomllib
from importlib import metadata

from config import BASE_DIR

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def _name(requirement):
    return re.split(r"[\[=<>]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _pins(filename):
    """{package: (version, number of hashes)} of a pip-compile --generate-hashes file."""
    pins, current = {}, None
    for line in (BASE_DIR / filename).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = _name(match.group(1))
            pins[current] = [match.group(2), 0]
        elif line.strip().startswith("--hash=sha256:"):
            pins[current][1] += 1
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{filename}: not a pin, a hash or a comment: {line!r}")
    return {name: tuple(pin) for name, pin in pins.items()}


def _direct(extra=None):
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {_name(requirement): requirement.split("==")[1] for requirement in listed}


def test_requirements_txt_pins_the_runtime_with_hashes_and_nothing_for_tests():
    runtime = _pins("requirements.txt")
    assert all(hashes >= 1 for _version, hashes in runtime.values())
    for name, version in _direct().items():
        assert runtime[name][0] == version, name
    assert not set(_direct("dev")) - set(_direct()) & set(runtime)  # no pytest, ruff, playwright …
    assert not (BASE_DIR / "requirements.lock").exists()


def test_the_dev_pins_are_the_runtime_pins_plus_the_tools_and_are_what_is_installed():
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert {name: pin[0] for name, pin in runtime.items()} == {name: dev[name][0] for name in runtime}
    for name, version in _direct("dev").items():
        assert dev[name][0] == version, name
    for name, (version, _hashes) in dev.items():
        assert metadata.version(name) == version, name


def test_the_image_installs_requirements_txt_with_its_hashes():
    dockerfile = (BASE_DIR / "deploy" / "Dockerfile").read_text()
    assert "COPY requirements.txt ./" in dockerfile
    assert "pip install --no-cache-dir --require-hashes -r requirements.txt" in dockerfile
