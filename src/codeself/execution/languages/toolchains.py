"""Where the compilers and runtimes are, what the sandbox view must show of them, and a cache.

Why resolved here, in the parent: the sandbox view holds only /usr, /bin, /lib* and the Python
installation, and has an empty /etc, so every tool is named by its real path (no
/etc/alternatives symlinks), and a toolchain kept elsewhere (rustup's, under root's home,
which the sandbox user could not read anyway) is bound read-only into the view at its own
path. The cache directory holds what trusted code builds once per machine (C++'s precompiled
header, the harness runtimes); it is bound read-only too, so programs use it, never change it.

A missing toolchain is a one-line reason (`missing`), never a silent skip.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass

NATIVE_LANGUAGES = ("cpp", "java", "js", "rust")
JAVATUPLES_JAR = "/usr/share/java/javatuples.jar"  # Debian's libjavatuples-java
JAVATUPLES_MISSING = "javatuples is not installed (Debian: apt-get install libjavatuples-java)"
RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime")


@dataclass(frozen=True)
class Toolchain:
    """Real paths of one language's tools; `view_dirs`: directories the view must add."""

    language: str
    tools: dict[str, str]
    view_dirs: tuple[str, ...] = ()
    version: str = ""


def _real(name: str) -> str | None:
    found = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
    return os.path.realpath(found) if found else None


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr).strip() else ""


@functools.lru_cache(maxsize=None)
def toolchain(language: str) -> Toolchain | str:
    """The language's toolchain, or a one-line reason why it is unavailable."""
    if language == "js":
        node = _real("node")
        return Toolchain("js", {"node": node}, version=_version([node, "--version"])) if node else \
            "JavaScript needs node (Debian: apt-get install nodejs)"
    if language == "cpp":
        tools = {name: _real(name) for name in ("g++", "nm", "objcopy")}  # nm, objcopy: binutils, as g++'s ld
        return Toolchain("cpp", tools, version=_version([tools["g++"], "--version"])) \
            if all(tools.values()) else "C++ needs g++ and binutils (Debian: apt-get install g++)"
    if language == "java":
        return _java()
    if language == "rust":
        return _rust()
    return f"no toolchain for language {language!r}"


def _java() -> Toolchain | str:
    javac, java = _real("javac"), _real("java")
    if not javac or not java:
        return "Java needs javac and java 17 (Debian: apt-get install openjdk-17-jdk-headless)"
    # optional: without it, only the tasks that use its classes cannot run (java.py)
    jar = os.path.realpath(JAVATUPLES_JAR)
    return Toolchain("java", {"javac": javac, "java": java, "javatuples": jar if os.path.isfile(jar) else ""},
                     tuple(_java_conf_dirs(java)), version=_version([java, "-version"]))


def _java_conf_dirs(java: str) -> list[str]:
    """Directories outside /usr that the JDK's conf/ files point into (Debian: /etc/java-17-openjdk)."""
    conf = os.path.join(os.path.dirname(os.path.dirname(java)), "conf")
    found = {os.path.dirname(os.path.realpath(os.path.join(root, name)))
             for root, _dirs, files in os.walk(conf) for name in files}
    return sorted(path for path in found if not path.startswith("/usr/"))


def _rust() -> Toolchain | str:
    rustc = shutil.which("rustc") or next((path for path in (os.path.expanduser("~/.cargo/bin/rustc"),)
                                           if os.path.isfile(path)), None)
    if not rustc:
        return "Rust needs rustc (rustup, or Debian: apt-get install rustc)"
    try:
        sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True,
                                 timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"Rust: rustc --print sysroot failed ({error})"
    real, linker = os.path.join(sysroot, "bin", "rustc"), _real("cc")
    if not os.path.isfile(real) or not linker:
        return "Rust needs rustc's sysroot and a C linker (cc)"
    if not sysroot.startswith("/usr/") and not any(sysroot.startswith(d + "/") for d in _rustup_dirs()):
        return f"Rust: the toolchain {sysroot} is outside /usr and rustup's toolchains; the sandbox cannot show it"
    return Toolchain("rust", {"rustc": real, "cc": linker}, version=_version([real, "--version"]))


@functools.lru_cache(maxsize=None)
def fast_link() -> tuple[str, ...]:
    """gcc's flag for binutils' gold linker when installed: it links a sample's program in a
    fraction of the time (C++: 0.018 s of CPU against 0.048; rustc's link step 0.016 s against
    0.038, a whole Rust compile 0.071 s of CPU against 0.081); else none."""
    return ("-fuse-ld=gold",) if _real("ld.gold") else ()


def _rustup_dirs() -> list[str]:
    home = os.environ.get("RUSTUP_HOME") or os.path.expanduser("~/.rustup")
    toolchains = os.path.realpath(os.path.join(home, "toolchains"))
    return [toolchains] if os.path.isdir(toolchains) else []


class Unavailable(ValueError):
    """A task this machine cannot run (a library its tests need is not installed): the result
    is a sandbox_error saying so, never a verdict on the candidate."""


def missing(language: str) -> str:
    """"" when the language can run here, else why not (one line)."""
    found = toolchain(language)
    return found if isinstance(found, str) else ""


def missing_javatuples() -> str:
    """"" when Java tasks that use javatuples' classes can run here, else why not (one line)."""
    found = toolchain("java")
    if isinstance(found, str):
        return found
    return "" if found.tools["javatuples"] else JAVATUPLES_MISSING


def cache_dir() -> str:
    """The per-machine directory of trusted build products (created world-readable)."""
    root = os.environ.get("CODESELF_LANGUAGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "codeself", "languages")
    real = os.path.realpath(root)
    if real == "/tmp" or real.startswith("/tmp/"):
        raise Unavailable(f"the language cache {real} is under /tmp, which the sandbox replaces with its own: "
                         "set CODESELF_LANGUAGE_CACHE elsewhere")
    os.makedirs(real, mode=0o755, exist_ok=True)
    os.chmod(real, 0o755)
    return real


def view_dirs() -> list[str]:
    """Directories every worker's view adds (read-only): the cache, rustup's toolchains, what
    the JDK's configuration points to. Cheap (no tool is run): every Executor asks at start."""
    try:
        dirs = [cache_dir()]
    except ValueError:  # a cache under /tmp: Python still runs; the adapters say why they cannot
        dirs = []
    dirs.extend(_rustup_dirs())
    java = _real("java")
    if java:
        dirs.extend(_java_conf_dirs(java))
    return list(dict.fromkeys(dirs))


def fingerprint(*parts: str) -> str:
    """A short content hash naming a cache entry (tool versions, flags, sources)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def runtime_source(name: str) -> bytes:
    """A harness runtime file shipped in this package (runtime/)."""
    with open(os.path.join(RUNTIME_DIR, name), "rb") as handle:
        return handle.read()
