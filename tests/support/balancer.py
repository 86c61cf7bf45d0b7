"""HAProxy run from the shipped example configuration (examples/deploy/haproxy.cfg) with ports of our own: by the
replicas' test and by bench.replicas."""

import shutil
import subprocess
from pathlib import Path

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "haproxy.cfg"


def start_haproxy(folder: Path, front: int, stats: int, replicas: list[int]) -> subprocess.Popen[bytes]:
    """HAProxy in the foreground, listening on `front` (and its statistics on `stats`), balancing over the two
    replica ports given (the same port twice: one replica behind the same balancer)."""
    text = CONFIG.read_text()
    for example in ("127.0.0.1:8080", "127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8404"):
        assert example in text, f"the example configuration no longer has {example}"
    text = (text.replace("127.0.0.1:8080", f"127.0.0.1:{front}").replace("127.0.0.1:8001", f"127.0.0.1:{replicas[0]}")
            .replace("127.0.0.1:8002", f"127.0.0.1:{replicas[1]}").replace("127.0.0.1:8404", f"127.0.0.1:{stats}"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "haproxy.cfg"
    config.write_text(text)
    return subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=(folder / "haproxy.log").open("ab"))
